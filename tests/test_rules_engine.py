"""The rules engine: pure code, no database. The six public examples come first."""
import pytest

from decisions.rules import Question, RuleError, RuleSpec, evaluate, ruleset_build
from decisions.rules.engine import builtin_specs, condition_compile, names_joined, sentence_render

RULES = ruleset_build()


def ask(criteria, targets=("b",), source="a", declared=""):
    return evaluate(RULES, Question(criteria=criteria, targets=tuple(targets), source=source, declared_style=declared))


def cited(result, decides="pattern"):
    return {reason["cites"] for reason in result["reasons"] if reason["decides"] == decides and reason["effect"] > 0}


def test_it_recommends_pubsub_for_user_registration_notifications():
    result = ask({"can_defer": True, "operation": "notification"}, targets=("welcome-mailer", "data-init"),
                 source="accounts")
    assert (result["style"], result["pattern"]) == ("async", "pub-sub")
    assert {"§5.3", "§4.3"} <= cited(result)
    assert any("§2.2" in r["text"] for r in result["reasons"])
    assert any("welcome-mailer and data-init" in r["text"] for r in result["reasons"])
    assert result["protocol"] is None and result["broker"] == "kafka"


def test_it_recommends_sync_rest_for_a_product_page_reading_prices():
    result = ask({"needs_immediate_response": True, "operation": "read", "external_clients": True},
                 targets=("pricing",), source="storefront-web")
    assert (result["style"], result["pattern"], result["protocol"]) == ("sync", "request-response", "rest")
    assert {"§5.1", "§5.2"} <= cited(result)
    assert "§3.2" in cited(result, "protocol")
    assert result["broker"] is None


def test_it_recommends_grpc_for_an_internal_latency_sensitive_call():
    result = ask({"needs_immediate_response": True, "external_clients": False, "latency_budget_ms": 20,
                  "peak_rps": 3000}, targets=("pricing",), source="orders")
    assert (result["style"], result["protocol"]) == ("sync", "grpc")
    assert "§5.1" in cited(result) and "§3.3" in cited(result, "protocol")
    assert any("20 ms" in r["text"] for r in result["reasons"])


def test_it_recommends_a_queue_for_bursty_deferrable_thumbnail_jobs():
    result = ask({"can_defer": True, "bursty_traffic": True, "operation": "command"}, targets=("thumbnailer",))
    assert (result["style"], result["pattern"], result["broker"]) == ("async", "queue", "rabbitmq")
    assert {"§5.3", "§5.5", "§4.4"} <= cited(result)
    assert any("§4.7" in r["text"] for r in result["reasons"])


def test_it_recommends_hybrid_when_the_caller_needs_confirmation_and_others_must_learn():
    result = ask({"needs_immediate_response": True, "operation": "command"},
                 targets=("payment", "shipping", "invoicing", "loyalty"), source="orders")
    assert (result["pattern"], result["style"], result["protocol"]) == ("hybrid", "sync", "rest")
    assert "§5.0" in cited(result)
    assert result["broker"] == "kafka"
    assert {t["style"] for t in result["tradeoffs"]} == {"sync", "async"}


@pytest.mark.parametrize("declared", ["rest", "grpc"])
def test_it_flags_sync_declared_on_a_deferrable_one_to_many_notification(declared):
    result = ask({"can_defer": True, "operation": "notification", "eventual_consistency_ok": True},
                 targets=("shipping", "invoicing"), declared=declared)
    assert result["mismatch"]["severity"] in ("warning", "error")
    assert "pub-sub" in result["mismatch"]["reason"]


def test_it_reports_no_mismatch_when_the_declared_style_agrees():
    result = ask({"can_defer": True, "operation": "notification"}, targets=("b", "c"), declared="pubsub")
    assert result["mismatch"] is None


def test_it_gives_a_low_confidence_recommendation_with_questions_when_nothing_is_known():
    result = ask({})
    assert result["confidence"] < 0.3
    assert result["pattern"] == "request-response"
    assert len(result["questions"]) == 11  # competing_consumers joined the criteria in ruleset version 2
    assert result["questions"][0]["key"] == "needs_immediate_response"
    assert result["reasons"] and result["reasons"][0]["cites"] == "§3.4"


def test_it_makes_one_to_many_without_criteria_pubsub_with_low_confidence():
    result = ask({}, targets=("b", "c", "d"))
    assert result["pattern"] == "pub-sub" and result["confidence"] < 0.3 and result["questions"]


def test_it_grades_the_mismatch_by_confidence():
    weak = ask({"can_defer": True}, targets=("b",), declared="rest")
    strong = ask({"can_defer": True, "requires_decoupling": True, "bursty_traffic": True,
                  "needs_immediate_response": False}, targets=("b",), declared="rest")
    assert weak["mismatch"]["severity"] in ("info", "warning")
    assert strong["mismatch"]["severity"] == "error"
    assert strong["confidence"] > weak["confidence"]


def test_it_notes_pubsub_declared_where_a_queue_fits():
    result = ask({"can_defer": True, "bursty_traffic": True, "operation": "command"}, declared="pubsub")
    assert result["mismatch"]["severity"] in ("info", "warning") and "queue" in result["mismatch"]["reason"]


def test_it_gives_every_recommendation_a_reason_with_a_criterion_id():
    import itertools

    keys = ("needs_immediate_response", "can_defer", "requires_decoupling", "eventual_consistency_ok")
    for values in itertools.product([None, True, False], repeat=len(keys)):
        for operation, targets in itertools.product([None, "read", "write", "command", "notification"], [1, 2, 5]):
            criteria = {k: v for k, v in zip(keys, values) if v is not None}
            if operation:
                criteria["operation"] = operation
            result = evaluate(RULES, Question(criteria=criteria, target_count=targets))
            supporting = [r for r in result["reasons"] if r["decides"] == "pattern" and r["effect"] >= 0]
            assert supporting and all(r["cites"].startswith("§") for r in result["reasons"])


def test_it_lists_every_option_score_and_orders_reasons_by_weight():
    result = ask({"needs_immediate_response": True, "operation": "read", "can_defer": False})
    assert set(result["scores"]["pattern"]) == {"request-response", "pub-sub", "queue", "hybrid"}
    effects = [r["effect"] for r in result["reasons"] if r["decides"] == "pattern"]
    assert effects == sorted(effects, reverse=True)


def test_it_marks_broker_reasons_and_mitigations_as_beyond_the_document():
    result = ask({"can_defer": True, "operation": "notification"}, targets=("b", "c"))
    brokers = [r for r in result["reasons"] if r["decides"] == "broker"]
    assert brokers and all(r["beyond_document"] for r in brokers)
    assert all(r["beyond_document"] is False for r in result["reasons"] if r["decides"] == "pattern")
    assert all(t["mitigations_beyond_document"] for t in result["tradeoffs"])


def test_it_memoises_by_facts_but_names_each_interaction():
    first = ask({"can_defer": True}, targets=("x",), source="one")
    second = ask({"can_defer": True}, targets=("y",), source="two")
    assert first["pattern"] == second["pattern"]
    assert "one" in " ".join(r["text"] for r in first["reasons"])
    assert "two" in " ".join(r["text"] for r in second["reasons"])


def test_it_adds_custom_rules_and_changes_the_version():
    custom = RuleSpec(id="pci-sync", decides="pattern", condition='operation == "command" and targets == 1',
                      effects={"request-response": 10}, cites="§5.1", sentence="House rule for {source}.",
                      origin="custom")
    rules = ruleset_build([custom])
    assert rules.version != RULES.version and rules.version.startswith(RULES.version + "+")
    result = evaluate(rules, Question(criteria={"operation": "command", "can_defer": True}, targets=("b",), source="a"))
    assert result["pattern"] == "request-response"
    assert result["reasons"][0]["text"] == "House rule for a." and result["reasons"][0]["origin"] == "custom"


@pytest.mark.parametrize("condition,position,fragment", [
    ("can_defer == and", 13, "syntax error"),
    ("colour == 'red'", 0, "unknown fact 'colour'"),
    ("targets >", 9, "syntax error"),
    ("", 0, "empty"),
])
def test_it_rejects_bad_conditions_with_a_position(condition, position, fragment):
    with pytest.raises(RuleError) as caught:
        condition_compile(condition, rule_id="r")
    assert caught.value.position == position and fragment in caught.value.message


@pytest.mark.parametrize("effects,fragment", [
    ({"kafka": 1}, "not an option of pattern"),
    ({"queue": "lots"}, "must be a number"),
    ({}, "at least one"),
])
def test_it_rejects_bad_effects(effects, fragment):
    spec = RuleSpec(id="r", decides="pattern", condition="true", effects=effects, cites="§5.1", sentence="x")
    with pytest.raises(RuleError, match=fragment):
        ruleset_build([spec])


def test_it_does_not_fire_a_condition_that_cannot_be_evaluated():
    spec = RuleSpec(id="r", decides="pattern", condition="latency_budget_ms < 10", effects={"queue": 50},
                    cites="§5.5", sentence="x", origin="custom")
    result = evaluate(ruleset_build([spec]), Question(criteria={}, targets=("b",)))
    assert result["pattern"] != "queue"


def test_it_fills_only_plain_placeholders():
    assert sentence_render("{source} {source.__class__} {unknown}", {"source": "a"}) == "a {source.__class__} {unknown}"


def test_it_joins_names_readably():
    assert names_joined(("a",)) == "a"
    assert names_joined(("a", "b")) == "a and b"
    assert names_joined(("a", "b", "c", "d", "e")) == "a, b, c and 2 more"


def test_it_cites_a_known_criterion_in_every_builtin_rule():
    from topology.criteria import SECTIONS

    known = {point for section in SECTIONS for point, _ in section.points}
    assert all(spec.cites in known for spec in builtin_specs())


def test_it_lets_a_custom_rule_read_the_declared_style():
    custom = RuleSpec(id="grpc-teams", decides="pattern", condition='declared_style == "grpc"',
                      effects={"request-response": 50}, cites="§3.3", sentence="{source} standardised on gRPC.",
                      origin="custom")
    rules = ruleset_build([custom])
    question = dict(criteria={"can_defer": True, "operation": "notification"}, targets=("b", "c"), source="a")
    assert evaluate(rules, Question(**question, declared_style="grpc"))["pattern"] == "request-response"
    assert evaluate(rules, Question(**question, declared_style="rest"))["pattern"] == "pub-sub"


def test_it_names_the_services_in_a_memoised_mismatch():
    criteria = {"can_defer": True, "operation": "notification", "eventual_consistency_ok": True}
    first = ask(criteria, targets=("b", "c"), source="alpha", declared="rest")
    second = ask(criteria, targets=("d", "e"), source="beta", declared="rest")
    assert "alpha" in first["mismatch"]["reason"] and "beta" in second["mismatch"]["reason"]
    assert "{source}" not in second["mismatch"]["reason"]
