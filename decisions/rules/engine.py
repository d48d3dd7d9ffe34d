"""The rules engine: criteria of one interaction -> a recommended communication style, with reasons.

Pure Python, no ORM. Rules are data (builtin.yaml plus custom rules); each condition is compiled once
with rule-engine. Evaluations are memoised by the facts they read, since many interactions share a
criteria vector; only the sentences, which name the services, are written per interaction.
"""
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import rule_engine
import yaml

from topology.criteria import BOOL, CHOICE, CRITERIA, CRITERIA_BY_KEY

PATTERNS = ("request-response", "pub-sub", "queue", "hybrid")
PROTOCOLS = ("rest", "grpc")
BROKERS = ("kafka", "rabbitmq", "nats", "pulsar")
OPTIONS = {"pattern": PATTERNS, "protocol": PROTOCOLS, "broker": BROKERS}
STYLE_OF_PATTERN = {"request-response": "sync", "hybrid": "sync", "pub-sub": "async", "queue": "async"}
FAMILY_OF_DECLARED = {"rest": "sync", "grpc": "sync", "pubsub": "async", "queue": "async"}
PATTERN_OF_DECLARED = {"pubsub": "pub-sub", "queue": "queue"}
DECLARED_STYLES = tuple(FAMILY_OF_DECLARED)

FACT_NAMES = (*CRITERIA_BY_KEY, "targets", "answered", "declared_style", "pattern")
CRITERION_KEYS = tuple(CRITERIA_BY_KEY)
MAX_CONDITION = 1000
CONFIDENCE_SCALE = 4.0  # a margin of 4 points between the top two options gives ~0.63
FULL_COVERAGE = 3  # answered criteria needed for full confidence
ERROR_AT, WARNING_AT = 0.65, 0.35
MEMO_LIMIT = 100_000
# Ties are shown as ties (result["ties"]); the pattern still names one of the tied options, so that the
# protocol and broker can be chosen: one target favours the simplest call, several one event for all.
# Between publish/subscribe and a queue an event comes first: one consumer today does not make a job.
ONE_TO_ONE_PREFERENCE = ("request-response", "pub-sub", "queue", "hybrid")
ONE_TO_MANY_PREFERENCE = ("pub-sub", "hybrid", "request-response", "queue")
PREFERENCES = {"protocol": ("rest", "grpc")}
# Answers tried for a numeric criterion when looking for the question that breaks a tie.
PROBE_VALUES = {"latency_budget_ms": (20, 50, 200, 1000), "peak_rps": (10, 1000, 5000, 20000)}

BUILTIN_PATH = Path(__file__).with_name("builtin.yaml")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class RuleError(ValueError):
    """A rule that cannot be compiled: says which rule, why, and at which character."""

    def __init__(self, rule_id: str, message: str, position: int | None = None, field_name: str = "condition"):
        super().__init__(message)
        self.rule_id, self.message, self.position, self.field = rule_id, message, position, field_name


@dataclass(frozen=True)
class RuleSpec:
    id: str
    decides: str
    condition: str
    effects: dict
    cites: str
    sentence: str
    beyond_document: bool = False
    origin: str = "builtin"


@dataclass(frozen=True)
class CompiledRule:
    spec: RuleSpec
    rule: rule_engine.Rule
    reads: tuple[str, ...] = ()  # the facts the condition names: its result depends on nothing else
    pure: bool = True  # False when it uses a builtin such as $now, whose value changes over time


@dataclass(frozen=True)
class Tradeoff:
    cites: str
    drawback: str
    mitigations: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    """What the engine is asked about one interaction."""

    criteria: dict
    targets: tuple[str, ...] = ()
    target_count: int | None = None
    source: str = ""
    declared_style: str = ""

    @property
    def count(self) -> int:
        return self.target_count if self.target_count is not None else max(len(self.targets), 1)


@dataclass
class Decision:
    """The rule firings for one facts vector: shared by every interaction with those facts."""

    scores: dict
    fired: dict  # decides -> [(rule spec, effect on each option)]
    pattern: str
    protocol: str | None
    broker: str | None
    margin: float  # between the best option (all the tied ones, in a tie) and the next
    ties: dict = field(default_factory=dict)  # decides -> the options sharing the top score (two or more)


@dataclass
class Ruleset:
    version: str
    rules: tuple[CompiledRule, ...]
    _memo: dict = field(default_factory=dict, repr=False)  # facts -> Prepared
    _conditions: dict = field(default_factory=dict, repr=False)  # (rule, values of the facts it reads) -> bool
    _groups: dict = field(default_factory=dict, repr=False)
    _decisions: dict = field(default_factory=dict, repr=False)  # facts but the declared style -> Decision

    @cached_property
    def reads_declared(self) -> bool:
        return any("declared_style" in rule.reads for rule in self.rules)

    def by_decides(self, decides: str) -> tuple[CompiledRule, ...]:
        found = self._groups.get(decides)
        if found is None:
            found = self._groups[decides] = tuple(rule for rule in self.rules if rule.spec.decides == decides)
        return found


# --- building rulesets -------------------------------------------------------------------------


def _context() -> rule_engine.Context:
    types = {name: rule_engine.DataType.UNDEFINED for name in FACT_NAMES}
    return rule_engine.Context(default_value=None, type_resolver=rule_engine.type_resolver_from_dict(types))


def condition_compile(condition: str, *, rule_id: str = "") -> rule_engine.Rule:
    """Compile one condition, or raise RuleError with the position of the problem."""
    if not isinstance(condition, str) or not condition.strip():
        raise RuleError(rule_id, "the condition is empty", 0)
    if len(condition) > MAX_CONDITION:
        raise RuleError(rule_id, f"the condition is longer than {MAX_CONDITION} characters", MAX_CONDITION)
    try:
        return rule_engine.Rule(condition, context=_context())
    except rule_engine.errors.RuleSyntaxError as exc:
        position = exc.token.lexpos if exc.token is not None else len(condition)
        raise RuleError(rule_id, f"syntax error at character {position}", position) from None
    except rule_engine.errors.SymbolResolutionError as exc:
        known = ", ".join(FACT_NAMES)
        position = condition.find(exc.symbol_name)
        raise RuleError(rule_id, f"unknown fact {exc.symbol_name!r}; known facts: {known}", position) from None
    except rule_engine.errors.EngineError as exc:
        raise RuleError(rule_id, f"invalid condition: {exc.message}", None) from None


def spec_check(spec: RuleSpec) -> None:
    """Check everything but the condition's syntax; raise RuleError naming the field."""
    options = OPTIONS.get(spec.decides)
    if options is None:
        raise RuleError(spec.id, f"decides must be one of {', '.join(OPTIONS)}", field_name="decides")
    if not isinstance(spec.effects, dict) or not spec.effects:
        raise RuleError(spec.id, "effects must map at least one option to a number", field_name="effects")
    for option, weight in spec.effects.items():
        if option not in options:
            raise RuleError(spec.id, f"{option!r} is not an option of {spec.decides}; options: {', '.join(options)}",
                            field_name="effects")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not -100 <= weight <= 100:
            raise RuleError(spec.id, f"the effect on {option} must be a number from -100 to 100", field_name="effects")


def rule_compile(spec: RuleSpec) -> CompiledRule:
    spec_check(spec)
    rule = condition_compile(spec.condition, rule_id=spec.id)
    reads = tuple(name for name in FACT_NAMES if re.search(rf"\b{name}\b", spec.condition))
    return CompiledRule(spec=spec, rule=rule, reads=reads, pure="$" not in spec.condition)


def _version(base: str, specs: list[RuleSpec]) -> str:
    custom = [spec for spec in specs if spec.origin != "builtin"]
    if not custom:
        return base
    payload = json.dumps([spec.__dict__ for spec in custom], sort_keys=True, default=str)
    return f"{base}+{hashlib.sha256(payload.encode()).hexdigest()[:8]}"


@lru_cache(maxsize=1)
def builtin_data() -> dict:
    return yaml.safe_load(BUILTIN_PATH.read_text())


def builtin_specs() -> list[RuleSpec]:
    return [RuleSpec(**rule) for rule in builtin_data()["rules"]]


@lru_cache(maxsize=1)
def _tradeoffs() -> dict[str, tuple[Tradeoff, ...]]:
    return {
        style: tuple(Tradeoff(item["cites"], item["drawback"], tuple(item["mitigations"])) for item in items)
        for style, items in builtin_data()["tradeoffs"].items()
    }


def ruleset_build(custom: list[RuleSpec] = ()) -> Ruleset:
    """The built-in rules plus custom ones (disabled ones left out by the caller)."""
    specs = [*builtin_specs(), *custom]
    version = _version(f"b{builtin_data()['version']}", specs)
    return Ruleset(version=version, rules=tuple(rule_compile(spec) for spec in specs))


# --- evaluating --------------------------------------------------------------------------------


def facts_of(question: Question) -> dict:
    facts = {key: question.criteria.get(key) for key in CRITERIA_BY_KEY}
    answered = sum(value is not None for value in facts.values())
    return {**facts, "targets": question.count, "answered": answered, "declared_style": question.declared_style or None}


def _fire(ruleset: Ruleset, decides: str, facts: dict) -> list[CompiledRule]:
    return [rule for rule in ruleset.by_decides(decides) if _matches(ruleset, rule, facts)]


def _matches(ruleset: Ruleset, rule: CompiledRule, facts: dict) -> bool:
    """A condition's result, remembered by the values of the few facts it reads."""
    if not rule.pure:
        return _match(rule, facts)
    key = (rule.spec.id, *(facts[name] for name in rule.reads))
    return _remembered(ruleset._conditions, key, lambda: _match(rule, facts))


def _remembered(store: dict, key, compute):
    """store[key], computed on first use; a full store starts afresh rather than growing without end."""
    found = store.get(key)
    if found is None:
        if len(store) >= MEMO_LIMIT:
            store.clear()
        found = store[key] = compute()
    return found


def _match(rule: CompiledRule, facts: dict) -> bool:
    try:
        return bool(rule.rule.matches(facts))
    except rule_engine.errors.EvaluationError:
        return False  # a condition that cannot be evaluated on these facts does not fire


def _scores(decides: str, fired: list[CompiledRule]) -> dict:
    scores = dict.fromkeys(OPTIONS[decides], 0.0)
    for rule in fired:
        for option, weight in rule.spec.effects.items():
            scores[option] += weight
    return scores


def _best(scores: dict, preference: tuple[str, ...]) -> tuple[str, float, tuple[str, ...]]:
    """The top-scoring option, its margin over the next score below it, and every option sharing the top.

    In a tie the chosen option is the earliest of the tied ones in preference, and the margin is that of
    the tied options together over the next (0 when every option is tied)."""
    top = max(scores.values())
    winners = [option for option, score in scores.items() if score == top]
    ordered = [option for option in preference if option in winners] + [o for o in winners if o not in preference]
    below = [score for score in scores.values() if score < top]
    return ordered[0], top - max(below) if below else 0.0, tuple(ordered)


def _key(question: Question) -> tuple:
    criteria = question.criteria
    return (*(criteria.get(key) for key in CRITERION_KEYS), question.count)


def prepared_for(ruleset: Ruleset, question: Question) -> "Prepared":
    """Everything about a recommendation that depends only on the facts (memoised on the ruleset)."""
    if ruleset.reads_declared:
        return _prepare(ruleset, facts_of(question))  # rare: a custom rule reads the declared style
    return _remembered(ruleset._memo, _key(question), lambda: _prepare(ruleset, facts_of(question)))


def decide(ruleset: Ruleset, facts: dict) -> Decision:
    fired_pattern = _fire(ruleset, "pattern", facts)
    pattern_scores = _scores("pattern", fired_pattern)
    pattern, margin, tied_patterns = _best(pattern_scores, _preference("pattern", facts))
    phase_two = {**facts, "pattern": pattern}
    fired_protocol = _fire(ruleset, "protocol", phase_two)
    fired_broker = _fire(ruleset, "broker", phase_two)
    protocol_scores, broker_scores = _scores("protocol", fired_protocol), _scores("broker", fired_broker)
    ties = {"pattern": tied_patterns}
    protocol = broker = None
    if STYLE_OF_PATTERN[pattern] == "sync":
        protocol, _, ties["protocol"] = _best(protocol_scores, _preference("protocol", phase_two))
    if pattern != "request-response":
        broker, _, ties["broker"] = _best(broker_scores, _preference("broker", phase_two))
    return Decision(
        scores={"pattern": pattern_scores, "protocol": protocol_scores, "broker": broker_scores},
        fired={"pattern": fired_pattern, "protocol": fired_protocol, "broker": fired_broker},
        pattern=pattern, protocol=protocol, broker=broker, margin=margin,
        ties={decides: options for decides, options in ties.items() if len(options) > 1},
    )


def _preference(decides: str, facts: dict) -> tuple[str, ...]:
    if decides == "pattern":
        return ONE_TO_MANY_PREFERENCE if facts["targets"] > 1 else ONE_TO_ONE_PREFERENCE
    if decides == "broker":
        return ("rabbitmq",) if facts["pattern"] == "queue" else ("kafka",)
    return PREFERENCES[decides]


def tie_breaker(ruleset: Ruleset, facts: dict, decides: str, options: tuple[str, ...]) -> dict | None:
    """The unanswered criterion whose answer would separate the tied options most, and where each answer leads.

    Each possible answer (yes/no, each choice, a few typical numbers) is tried on the rules that decide
    the tie; a criterion scores the mean, over its answers, of the gap it opens between the tied
    options (for two, the gap between them; for more, the mean gap of each pair). None when no answer
    separates them."""
    best = None
    for criterion in CRITERIA:
        if facts[criterion.key] is not None:
            continue
        values = ((True, False) if criterion.kind == BOOL else criterion.choices if criterion.kind == CHOICE
                  else PROBE_VALUES.get(criterion.key, ()))
        answers, gaps = [], []
        for value in values:
            tried = {**facts, criterion.key: value, "answered": facts["answered"] + 1}
            scores = _scores(decides, _fire(ruleset, decides, tried))
            ranked = sorted(options, key=lambda option: -scores[option])
            pairs = [(a, b) for i, a in enumerate(options) for b in options[i + 1:]]
            gaps.append(sum(abs(scores[a] - scores[b]) for a, b in pairs) / len(pairs))
            ahead = scores[ranked[0]] > scores[ranked[1]]
            answers.append({"answer": value, "leads_to": ranked[0] if ahead else None})
        score = (sum(gaps) / len(gaps), max(gaps)) if gaps else (0, 0)
        if score[1] > 0 and (best is None or score > best[0]):
            best = (score, criterion, answers)
    if best is None:
        return None
    _, criterion, answers = best
    return {"key": criterion.key, "question": criterion.question, "cites": criterion.cites, "answers": answers}


def confidence_of(margin: float, answered: int) -> float:
    """How sure the engine is: 1 - e^(-margin/4), scaled down while fewer than three criteria are answered."""
    certainty = 1 - math.exp(-max(margin, 0) / CONFIDENCE_SCALE)
    coverage = 0.4 + 0.6 * min(1.0, answered / FULL_COVERAGE)
    return round(certainty * coverage, 2)


@dataclass
class Prepared:
    """A recommendation with the names of the services still to be filled in."""

    base: dict
    reasons: list[tuple[dict, str]]  # (reason without its text, text with {source}/{targets} left)
    texts: list[dict] = field(repr=False, default_factory=list)  # the reasons with those texts
    mismatches: dict = field(repr=False, default_factory=dict)  # declared style -> (severity, reason) or None

    def mismatch(self, declared: str) -> tuple[str, str] | None:
        if declared not in self.mismatches:
            found = mismatch_of(declared, self.base, self.texts)
            self.mismatches[declared] = (found["severity"], found["reason"]) if found else None
        return self.mismatches[declared]


def _decision_for(ruleset: Ruleset, facts: dict) -> Decision:
    """Rule firings do not depend on the declared style unless a custom rule reads it."""
    key = tuple(facts[name] for name in FACT_NAMES if name not in ("pattern", "declared_style"))
    key = (*key, facts["declared_style"]) if ruleset.reads_declared else key
    return _remembered(ruleset._decisions, key, lambda: decide(ruleset, facts))


def _prepare(ruleset: Ruleset, facts: dict) -> Prepared:
    decision = _decision_for(ruleset, facts)
    confidence = confidence_of(decision.margin, facts["answered"])
    words = _fact_words(facts, decision.pattern)
    reasons = _reasons(decision, words, facts)
    ties = {}
    for decides, options in decision.ties.items():
        tried = facts if decides == "pattern" else {**facts, "pattern": decision.pattern}
        ties[decides] = {"options": list(options), "question": tie_breaker(ruleset, tried, decides, options)}
    base = {
        "style": STYLE_OF_PATTERN[decision.pattern], "pattern": decision.pattern, "protocol": decision.protocol,
        "broker": decision.broker, "confidence": confidence, "ties": ties, "scores": decision.scores,
        "tradeoffs": tradeoffs_of(decision.pattern),
        "questions": questions_of({k: facts[k] for k in CRITERION_KEYS}, confidence, first=tie_questions(ties)),
        "ruleset_version": ruleset.version,
    }
    return Prepared(base=base, reasons=[({k: v for k, v in r.items() if k != "text"}, r["text"]) for r in reasons],
                    texts=reasons)


def tie_questions(ties: dict) -> tuple[str, ...]:
    """The criteria that would break the ties of a result, pattern first."""
    keys = [(tie.get("question") or {}).get("key") for tie in (ties or {}).values()]
    return tuple(dict.fromkeys(key for key in keys if key))


def evaluate(ruleset: Ruleset, question: Question) -> dict:
    """The recommendation for one interaction, as plain data (what the API and pages show)."""
    prepared = prepared_for(ruleset, question)
    source, targets = question.source or "the caller", names_joined(question.targets) or "the target"

    def named(text: str) -> str:
        return text.replace("{source}", source).replace("{targets}", targets)

    result = dict(prepared.base)
    result["reasons"] = [{**skeleton, "text": named(text)} for skeleton, text in prepared.reasons]
    mismatch = prepared.mismatch(question.declared_style or "")
    result["mismatch"] = {"severity": mismatch[0], "reason": named(mismatch[1])} if mismatch else None
    return result


def _fact_words(facts: dict, pattern: str) -> dict:
    """Placeholder values known from the facts; {source} and {targets} are left for each interaction."""
    words = {key: _number(value) for key, value in facts.items() if value is not None}
    words.update(source="{source}", targets="{targets}", target_count=str(facts["targets"]), pattern=pattern)
    return words


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def names_joined(names: tuple[str, ...], limit: int = 3) -> str:
    names = list(names)
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + (names[-1] if names else "")


def sentence_render(template: str, words: dict) -> str:
    """Fill {placeholders}; only plain names are replaced, so a template cannot reach anything else."""
    return PLACEHOLDER.sub(lambda match: words.get(match.group(1), match.group(0)), template)


def _supported(effects: dict, chosen: str, tied: tuple[str, ...]) -> tuple[str, float, list[str]]:
    """The option a rule argues for (its largest positive effect; the chosen or a tied option first when it
    gives them as much), that effect, and the other options it gives as much. A rule with no positive
    effect argues against the option it takes most from."""
    positive = {option: weight for option, weight in effects.items() if weight > 0}
    if not positive:
        if chosen in effects:
            return chosen, effects[chosen], []
        worst = min(effects, key=lambda option: effects[option])
        return worst, effects[worst], []
    top = max(positive.values())
    best = [option for option, weight in positive.items() if weight == top]
    first = next((option for option in (chosen, *tied) if option in best), best[0])
    return first, top, [option for option in best if option != first]


def _reasons(decision: Decision, words: dict, facts: dict) -> list[dict]:
    """Each fired rule's reason, shown under the option it argues for ("supports", with its "effect" on
    that option); "rests_on" names the answered criteria its condition reads ([] for a default, or a rule
    that only reads the number of targets)."""
    chosen = {"pattern": decision.pattern, "protocol": decision.protocol, "broker": decision.broker}
    answered = {key for key in CRITERION_KEYS if facts.get(key) is not None}
    reasons = []
    for decides, rules in decision.fired.items():
        if chosen[decides] is None:
            continue
        tied = decision.ties.get(decides, ())
        for rule in rules:
            supports, effect, also = _supported(rule.spec.effects, chosen[decides], tied)
            reasons.append({
                "rule": rule.spec.id, "decides": decides, "cites": rule.spec.cites,
                "effect": effect, "supports": supports, "also": also, "effects": dict(rule.spec.effects),
                "rests_on": [name for name in rule.reads if name in answered],
                "text": sentence_render(rule.spec.sentence, words), "beyond_document": rule.spec.beyond_document,
                "origin": rule.spec.origin,
            })
    leaders = {decision.pattern, *decision.ties.get("pattern", ())}
    if not any(r["decides"] == "pattern" and r["effect"] > 0 and r["supports"] in leaders for r in reasons):
        reasons.append(_fallback_reason(decision.pattern, words))
    return sorted(reasons, key=lambda r: _reason_order(r, decision, chosen))


def _reason_order(reason: dict, decision: Decision, chosen: dict) -> tuple:
    """Pattern, protocol, broker; within each the chosen option's reasons, then a tied option's, then the
    others' by their score; the strongest first."""
    decides, supports = reason["decides"], reason["supports"]
    tied = decision.ties.get(decides, ())
    rank = 0 if supports == chosen[decides] else 1 + tied.index(supports) if supports in tied else 10
    score = decision.scores[decides].get(supports, 0)
    return ({"pattern": 0, "protocol": 1, "broker": 2}[decides], rank, -score, supports, -reason["effect"])


def _fallback_reason(pattern: str, words: dict) -> dict:
    if pattern == "request-response":
        text, cites = "Nothing known points away from a plain synchronous call, the simplest model to build and debug.", "§3.4"
    else:
        text, cites = f"Nothing known settles it; {words['target_count']} targets make this one-to-many.", "§2.2"
    return {"rule": "default", "decides": "pattern", "cites": cites, "effect": 0, "supports": pattern, "also": [],
            "effects": {}, "rests_on": [], "text": text, "beyond_document": False, "origin": "builtin"}


def tradeoffs_of(pattern: str) -> list[dict]:
    """The drawbacks of a pattern's style(s) from the document, with mitigations."""
    styles = ["sync", "async"] if pattern == "hybrid" else [STYLE_OF_PATTERN[pattern]]
    return [
        {"style": style, "cites": item.cites, "drawback": item.drawback, "mitigations": list(item.mitigations),
         "mitigations_beyond_document": True}
        for style in styles for item in _tradeoffs()[style]
    ]


def questions_of(criteria: dict, confidence: float, first: tuple[str, ...] = ()) -> list[dict]:
    """The unanswered criteria as questions, those that would break a tie (`first`) first; when the
    recommendation is firm and most criteria are answered, only those."""
    unanswered = [c for c in CRITERIA if criteria.get(c.key) is None]
    leading = [c for key in first for c in unanswered if c.key == key]
    if confidence >= 0.5 and len(unanswered) < len(CRITERIA) - FULL_COVERAGE:
        unanswered = leading
    ordered = leading + [c for c in unanswered if c not in leading]
    return [{"key": c.key, "question": c.question, "cites": c.cites} for c in ordered]


def severity_of(confidence: float) -> str:
    return "error" if confidence >= ERROR_AT else "warning" if confidence >= WARNING_AT else "info"


def _against(reasons: list[dict], decides: str, recommended: str, declared: str) -> list[dict]:
    """The reasons resting on an answered criterion that score the recommended option above the declared one,
    strongest first. Defaults (a rule reading no answered criterion, the tie-break order) never count."""
    found = [r for r in reasons if r["decides"] == decides and r.get("rests_on")
             and r.get("effects", {}).get(recommended, 0) > r.get("effects", {}).get(declared, 0)]
    return sorted(found, key=lambda r: r["effects"].get(declared, 0) - r["effects"].get(recommended, 0))


def mismatch_of(declared: str, result: dict, reasons: list[dict]) -> dict | None:
    """How the declared style differs from the recommendation, and how much that matters.

    A declared choice is flagged only when some answered criterion argues against it: a declared option
    that ties with the recommended one, or one that only the defaults score lower, is no mismatch. The
    severity grows with the recommendation's confidence (in a tie, that of the tied options together)."""
    if not declared:
        return None
    family, pattern = FAMILY_OF_DECLARED[declared], result["pattern"]
    ties = result.get("ties") or {}
    declared_pattern = PATTERN_OF_DECLARED.get(declared, "request-response")
    leaders = (ties.get("pattern") or {}).get("options") or [pattern]
    if declared_pattern not in leaders and not (family == "sync" and "hybrid" in leaders and pattern != "hybrid"):
        against = _against(reasons, "pattern", pattern, declared_pattern)
        if not against:
            return None
        confidence = result["confidence"]
        because = f"{against[0]['text']} ({against[0]['cites']})"
        named = " or ".join(leaders)  # in a tie, every tied option
        if pattern == "hybrid":
            if family == "sync":
                return {"severity": "info", "reason": f"Declared {declared}; the others should also get an event "
                                                      f"(hybrid, §5.0). {because}"}
            return {"severity": severity_of(confidence), "reason": f"Declared {declared}, but the caller needs an "
                                                                    f"answer now (hybrid, §5.0). {because}"}
        if family != result["style"]:
            label = {"sync": "a synchronous call", "async": "asynchronous messaging"}[result["style"]]
            return {"severity": severity_of(confidence),
                    "reason": f"Declared {declared}, but the criteria point to {label} ({named}, confidence "
                              f"{confidence:.2f}). {because}"}
        if family == "async":
            return {"severity": "warning" if confidence >= ERROR_AT else "info",
                    "reason": f"Declared {declared}, but {named} fits better. {because}"}
    protocol = result.get("protocol")
    if family == "sync" and protocol and declared != protocol:
        if declared in ((ties.get("protocol") or {}).get("options") or ()):
            return None
        against = _against(reasons, "protocol", protocol, declared)
        if against:
            return {"severity": "info", "reason": f"Declared {declared}; {protocol} fits better. "
                                                  f"{against[0]['text']} ({against[0]['cites']})"}
    return None
