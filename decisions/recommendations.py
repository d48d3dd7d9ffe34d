"""Recommendations in the database: the current ruleset, stored results, overrides, re-evaluation.

Reads and writes around the pure engine in decisions/rules/.
"""
import logging

from celery import current_app
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.utils import timezone

from core.severity import SEVERITIES, SEVERITY_RANK
from topology.models import RECOMMENDATION_COLUMNS, Interaction, InteractionTarget
from topology.overview_services import registry_changed
from topology.selectors import interaction_list

from .choices import DecisionKind, DecisionStatus, RunStatus
from .models import CustomRule, Decision, EvaluationRun
from .rules import Question, RuleSpec, Ruleset, evaluate, ruleset_build
from .rules.engine import questions_of, tie_questions, tradeoffs_of

log = logging.getLogger(__name__)

REFRESH_BATCH = 500
REFRESH_TASK = "decisions.tasks.recommendations_refresh"  # sent by name: the tasks module imports this one
SUMMARY_FIELDS = ("style", "pattern", "protocol", "broker", "confidence", "mismatch", "ruleset_version")

_compiled: dict[str, Ruleset] = {}


def custom_rule_spec(rule: CustomRule) -> RuleSpec:
    return RuleSpec(id=rule.slug, decides=rule.decides, condition=rule.condition, effects=rule.effects,
                    cites=rule.cites, sentence=rule.explanation, origin="custom")


def ruleset_current() -> Ruleset:
    """Built-in rules plus the enabled custom rules; compiled once per version in each process."""
    specs = [custom_rule_spec(rule) for rule in CustomRule.objects.filter(enabled=True).order_by("slug")]
    key = repr([spec.__dict__ for spec in specs])
    if key not in _compiled:
        if len(_compiled) > 8:
            _compiled.clear()
        _compiled[key] = ruleset_build(specs)
    return _compiled[key]


def question_of(*, source: str, targets: tuple[str, ...], criteria: dict, declared_style: str,
                target_count: int | None = None) -> Question:
    return Question(criteria=criteria, targets=targets, source=source, declared_style=declared_style,
                    target_count=target_count)


STORED_OMITS = ("tradeoffs", "questions")  # derived again on reading: the same for many interactions


def recommendation_fields(result: dict) -> dict:
    """The Interaction columns that store one engine result."""
    mismatch = result["mismatch"]
    return {
        "recommendation": {key: value for key, value in result.items() if key not in STORED_OMITS},
        "recommended_at": timezone.now(),
        "ruleset_version": result["ruleset_version"],
        "recommended_pattern": result["pattern"],
        "mismatch": mismatch["severity"] if mismatch else "",
    }


def recommendation_expand(stored: dict, *, criteria: dict) -> dict:
    """A stored recommendation with its trade-offs and open questions put back ({} stays {})."""
    if not stored:
        return {}
    return {**stored, "tradeoffs": tradeoffs_of(stored["pattern"]),
            "questions": questions_of(criteria, stored["confidence"], first=tie_questions(stored.get("ties")))}


def recommendation_summary(result: dict) -> dict:
    return {key: result.get(key) for key in SUMMARY_FIELDS}


def accepted_override_links():
    """Links from accepted override decisions to the interactions they settle (deliberate deviations)."""
    return Decision.interactions.through.objects.filter(
        decision__status=DecisionStatus.ACCEPTED, decision__kind=DecisionKind.OVERRIDE)


def interactions_overridden(*, interaction_ids) -> set[int]:
    """Which of these interactions an accepted override decision settles."""
    links = accepted_override_links().filter(interaction_id__in=list(interaction_ids))
    return set(links.values_list("interaction_id", flat=True))


# --- re-evaluation -----------------------------------------------------------------------------


def evaluation_run_start(*, reason: str) -> EvaluationRun:
    """Queue a re-evaluation of every interaction once the current transaction commits."""
    run = EvaluationRun.objects.create(ruleset_version=ruleset_current().version, reason=reason[:200],
                                       total=Interaction.objects.count())
    transaction.on_commit(lambda: current_app.tasks[REFRESH_TASK].delay(run.id))
    return run


def recommendations_stale_count(*, version: str) -> int:
    return Interaction.objects.filter(~Q(ruleset_version=version)).count()


def evaluation_run_if_stale(*, reason: str) -> EvaluationRun | None:
    """Start a run when interactions are on an older ruleset (e.g. after an upgrade) and none is going."""
    version = ruleset_current().version
    busy = EvaluationRun.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists()
    if busy or not recommendations_stale_count(version=version):
        return None
    return evaluation_run_start(reason=reason)


def recommendations_refresh(*, run_id: int) -> EvaluationRun:
    """Re-evaluate every interaction not yet on the current ruleset version, in batches."""
    claimed = EvaluationRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now())
    run = EvaluationRun.objects.get(pk=run_id)
    if not claimed:
        return run  # another worker has it, or it already ran (a redelivered task)
    try:
        ruleset = ruleset_current()
        EvaluationRun.objects.filter(pk=run_id).update(
            ruleset_version=ruleset.version, total=Interaction.objects.count(), done=0)
        # Stop when the rules change under us: the run queued by that change takes over.
        while _refresh_batch(ruleset, run_id) and ruleset_current().version == ruleset.version:
            pass
    except Exception as exc:  # the run must end in a visible state, whatever happened
        log.exception("re-evaluation %s failed", run_id)
        EvaluationRun.objects.filter(pk=run_id).update(status=RunStatus.FAILED, error=str(exc)[:2000],
                                                       finished_at=timezone.now())
    else:
        EvaluationRun.objects.filter(pk=run_id).update(status=RunStatus.DONE, finished_at=timezone.now(),
                                                       done=F("total"))
    return EvaluationRun.objects.get(pk=run_id)


def _refresh_batch(ruleset: Ruleset, run_id: int) -> int:
    stale = list(
        Interaction.objects.filter(~Q(ruleset_version=ruleset.version)).select_related("source")
        .order_by("id")[:REFRESH_BATCH]
    )
    if not stale:
        return 0
    names = _target_names([item.id for item in stale])
    changed = 0
    for item in stale:
        result = evaluate(ruleset, question_of(source=item.source.name, targets=names.get(item.id, ()),
                                               criteria=item.criteria, declared_style=item.style))
        changed += _changed(item.recommendation, result)
        for name, value in recommendation_fields(result).items():
            setattr(item, name, value)
    with transaction.atomic():
        Interaction.objects.bulk_update(stale, list(RECOMMENDATION_COLUMNS))
        registry_changed()  # mismatches between teams may have changed
        EvaluationRun.objects.filter(pk=run_id).update(done=F("done") + len(stale), changed=F("changed") + changed)
    return len(stale)


def _target_names(interaction_ids: list[int]) -> dict[int, tuple[str, ...]]:
    names: dict[int, list[str]] = {}
    links = InteractionTarget.objects.filter(interaction_id__in=interaction_ids).order_by("interaction_id", "position")
    for interaction_id, name in links.values_list("interaction_id", "service__name"):
        names.setdefault(interaction_id, []).append(name)
    return {key: tuple(value) for key, value in names.items()}


def _changed(before: dict, after: dict) -> bool:
    """Whether what is recommended changed: the pattern, protocol or broker, a tie, or the mismatch."""
    keys = ("pattern", "protocol", "broker")
    severity = lambda result: (result.get("mismatch") or {}).get("severity")  # noqa: E731
    tied = lambda result: {k: v.get("options") for k, v in (result.get("ties") or {}).items()}  # noqa: E731
    return (any(before.get(key) != after.get(key) for key in keys) or severity(before) != severity(after)
            or tied(before) != tied(after))


def proposed_custom_specs(proposed: CustomRule) -> list[RuleSpec]:
    """The custom rules as they would be with `proposed` saved: the other enabled ones, plus it if enabled."""
    others = [custom_rule_spec(rule) for rule in CustomRule.objects.filter(enabled=True).exclude(slug=proposed.slug)]
    custom = others + ([custom_rule_spec(proposed)] if proposed.enabled else [])
    return sorted(custom, key=lambda spec: spec.id)


def rules_preview(*, custom: list[RuleSpec], limit: int = 100) -> dict:
    """Which interactions would change recommendation under another set of custom rules."""
    proposed = ruleset_build(custom)
    current = ruleset_current()
    changes, count = [], 0
    items = Interaction.objects.select_related("source").order_by("source__name", "name")
    for start in range(0, items.count(), REFRESH_BATCH):
        batch = list(items[start:start + REFRESH_BATCH])
        names = _target_names([item.id for item in batch])
        for item in batch:
            question = question_of(source=item.source.name, targets=names.get(item.id, ()),
                                   criteria=item.criteria, declared_style=item.style)
            before, after = evaluate(current, question), evaluate(proposed, question)
            if _changed(before, after):
                count += 1
                if len(changes) < limit:
                    changes.append({"interaction": f"{item.source.name}/{item.name}", "id": item.id,
                                    "before": recommendation_summary(before), "after": recommendation_summary(after)})
    return {"ruleset_version": proposed.version, "changed": count, "changes": changes}



# --- reads for pages ---------------------------------------------------------------------------


def recommendation_matrix() -> dict:
    """Declared style x recommended pattern, with the number of interactions in each cell."""
    rows = Interaction.objects.values_list("style", "recommended_pattern").annotate(n=Count("id")).order_by()
    matrix: dict[str, dict[str, int]] = {}
    for declared, pattern, count in rows:
        matrix.setdefault(declared or "undecided", {})[pattern or "not evaluated"] = count
    return matrix


def mismatches_worst_first(*, limit: int = 20) -> list[Interaction]:
    """Interactions whose declared style differs from the recommendation, error first."""
    rank = Case(*[When(mismatch=severity, then=Value(SEVERITY_RANK[severity])) for severity in SEVERITIES],
                default=Value(0), output_field=IntegerField())
    return list(
        interaction_list().exclude(mismatch="").annotate(rank=rank)
        .order_by("-rank", "source__name", "name")[:limit]
    )


def mismatch_counts() -> dict[str, int]:
    counts = dict(Interaction.objects.exclude(mismatch="").values_list("mismatch").annotate(n=Count("id")).order_by())
    return {severity: counts.get(severity, 0) for severity in SEVERITIES}
