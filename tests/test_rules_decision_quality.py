"""Decision quality: an event is not a job, a tie is shown as a tie, a reason sits under the option it
supports, and only an answered criterion makes a mismatch (docs/rules.md, "How an event differs from a
job", "Ties", "Mismatch"). The engine cases need no database; the last tests go through the API, the
interaction page and the re-evaluation of stored recommendations."""
import itertools

import pytest
from django.core.management import call_command

from decisions.rules import Question, evaluate, ruleset_build
from topology.models import Interaction

from .factories import register, rest, service_doc

RULES = ruleset_build()
TIE = "tie"
BOOLS = ("needs_immediate_response", "can_defer", "requires_decoupling", "bursty_traffic",
         "eventual_consistency_ok", "competing_consumers")


def ask(criteria, targets=1, declared=""):
    return evaluate(RULES, Question(criteria=criteria, target_count=targets, source="a", declared_style=declared))


def tied(result, decides="pattern"):
    return (result["ties"].get(decides) or {}).get("options", [])


# Each case: criteria + number of targets -> the pattern expected (or a tie of the options listed), and why.
CASES = [
    ("notification to one subscriber", {"operation": "notification", "can_defer": True}, 1, "pub-sub",
     "§4.3: the publisher does not know who listens; one subscriber today does not make it a job"),
    ("notification, nothing else known", {"operation": "notification"}, 1, "pub-sub",
     "§4.3: the kind of operation alone says it is news, not work"),
    ("notification to one subscriber, in bursts", {"operation": "notification", "can_defer": True,
                                                    "bursty_traffic": True}, 1, "pub-sub",
     "§4.7: any broker buffers peaks; bursts do not turn an event into a job"),
    ("notification to three subscribers", {"operation": "notification", "can_defer": True}, 3, "pub-sub",
     "§4.3, §5.3: several downstream systems must be notified"),
    ("notification read by a pool of instances", {"operation": "notification", "can_defer": True,
                                                  "competing_consumers": True}, 1, "pub-sub",
     "§4.3: the pool reads the topic as one consumer group; other subscribers still get a copy"),
    ("notification, decoupled, to one subscriber", {"operation": "notification", "requires_decoupling": True,
                                                    "eventual_consistency_ok": True}, 1, "pub-sub",
     "§4.3: decoupling favours any broker; the operation decides which pattern"),
    ("command that can wait", {"operation": "command", "can_defer": True}, 1, "queue",
     "§4.4: a command is a job one worker does once"),
    ("command the caller does not wait for", {"operation": "command", "needs_immediate_response": False}, 1,
     "queue", "§4.4: fire-and-forget commands are work items"),
    ("command for a pool of workers", {"operation": "command", "can_defer": True, "competing_consumers": True}, 1,
     "queue", "§4.4: competing workers share the jobs"),
    ("thumbnail jobs in bursts", {"operation": "command", "can_defer": True, "bursty_traffic": True}, 1, "queue",
     "§4.4, §4.7: jobs buffered for a pool of workers"),
    ("deferrable work for a pool, operation unknown", {"can_defer": True, "competing_consumers": True}, 1, "queue",
     "§4.4: the answer about competing workers decides"),
    ("deferrable, every subscriber gets a copy", {"can_defer": True, "competing_consumers": False}, 1, "pub-sub",
     "§4.3: no pool shares the messages"),
    ("deferrable, nothing else known", {"can_defer": True}, 1, (TIE, ["pub-sub", "queue"]),
     "one target says nothing about event or job: a tie, broken by competing_consumers"),
    ("deferrable write", {"operation": "write", "can_defer": True}, 1, (TIE, ["pub-sub", "queue"]),
     "a deferred write may be news or work: a tie"),
    ("deferrable, in bursts", {"can_defer": True, "bursty_traffic": True}, 1, (TIE, ["pub-sub", "queue"]),
     "§4.7: both buffer bursts: a tie"),
    ("deferrable command to three services", {"operation": "command", "can_defer": True}, 3,
     (TIE, ["pub-sub", "queue"]), "§4.4 says job, §5.3 says several systems learn of it: a tie"),
    ("deferrable, two targets", {"can_defer": True}, 2, "pub-sub", "§5.3: several downstream systems"),
    ("read now", {"needs_immediate_response": True, "operation": "read"}, 1, "request-response",
     "§5.1, §5.2: a query wants its answer now"),
    ("confirmed command, others must learn", {"needs_immediate_response": True, "operation": "command"}, 3,
     "hybrid", "§5.0: answer now and publish an event for the others"),
]


@pytest.mark.parametrize("criteria,targets,expected,why", [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_it_tells_an_event_from_a_job(criteria, targets, expected, why):
    result = ask(criteria, targets)
    if isinstance(expected, tuple):
        assert tied(result) == expected[1], why
        assert result["pattern"] == expected[1][0] and result["style"] == "async", why
    else:
        assert (result["pattern"], tied(result)) == (expected, []), why


@pytest.mark.parametrize("targets", [1, 2, 4])
def test_it_never_makes_a_notification_a_queue_whatever_else_is_answered(targets):
    for values in itertools.product([None, True, False], repeat=len(BOOLS)):
        criteria = {key: value for key, value in zip(BOOLS, values) if value is not None}
        result = ask({**criteria, "operation": "notification"}, targets)
        assert result["pattern"] != "queue" and "queue" not in tied(result), criteria


def test_it_never_lets_one_target_alone_make_a_queue():
    """Without an answer about the operation or competing workers, a queue never beats publish/subscribe."""
    for values in itertools.product([None, True, False], repeat=5):
        criteria = {key: value for key, value in zip(BOOLS[:5], values) if value is not None}
        scores = ask(criteria, 1)["scores"]["pattern"]
        assert scores["queue"] <= scores["pub-sub"], criteria


def test_it_drops_the_rule_that_made_one_consumer_a_queue_and_bumps_the_version():
    ids = {rule.spec.id for rule in RULES.rules}
    assert "one-worker-per-job" not in ids and {"work-for-a-pool", "every-subscriber-a-copy"} <= ids
    assert RULES.version == "b2"


# --- ties ------------------------------------------------------------------------------------------


def test_it_shows_a_tie_with_the_question_that_breaks_it():
    result = ask({"can_defer": True})
    tie = result["ties"]["pattern"]
    assert tie["options"] == ["pub-sub", "queue"]
    assert tie["question"]["key"] == "competing_consumers" and tie["question"]["cites"] == "§4.4"
    assert {a["answer"]: a["leads_to"] for a in tie["question"]["answers"]} == {True: "queue", False: "pub-sub"}
    assert result["questions"][0]["key"] == "competing_consumers"
    # The tie is of the asynchronous options together: confidence is theirs over the next option.
    assert 0 < result["confidence"] < 0.35


def test_it_breaks_the_tie_as_the_question_says():
    assert ask({"can_defer": True, "competing_consumers": True})["pattern"] == "queue"
    assert ask({"can_defer": True, "competing_consumers": False})["pattern"] == "pub-sub"


def test_it_shows_a_protocol_tie_and_asks_a_question_that_favours_one():
    result = ask({"needs_immediate_response": True, "operation": "read", "external_clients": False})
    tie = result["ties"]["protocol"]
    assert result["pattern"] == "request-response" and tie["options"] == ["rest", "grpc"]
    assert any(a["leads_to"] == "grpc" for a in tie["question"]["answers"])


def test_it_shows_no_tie_when_one_option_leads():
    assert ask({"operation": "notification", "can_defer": True}, 2)["ties"] == {}


def test_it_shows_everything_tied_when_nothing_is_known_and_asks_first_what_the_caller_needs():
    result = ask({})
    assert result["ties"]["pattern"]["options"] == ["request-response", "pub-sub", "queue", "hybrid"]
    assert result["ties"]["pattern"]["question"]["key"] == "needs_immediate_response"
    assert result["confidence"] == 0


# --- reasons under the option they support ----------------------------------------------------------


def test_it_lists_a_reason_for_publish_subscribe_under_it_when_a_queue_is_chosen():
    result = ask({"can_defer": True, "competing_consumers": True}, 2)
    assert result["pattern"] == "queue"
    several = next(r for r in result["reasons"] if r["rule"] == "several-downstream")
    assert (several["supports"], several["effect"]) == ("pub-sub", 3)
    pool = next(r for r in result["reasons"] if r["rule"] == "work-for-a-pool")
    assert (pool["supports"], pool["effect"]) == ("queue", 4)
    # The chosen option's reasons come first, then the others'.
    order = [r["supports"] for r in result["reasons"] if r["decides"] == "pattern"]
    assert order.index("queue") < order.index("pub-sub")


def test_it_shows_a_reason_for_two_options_under_the_chosen_one_with_the_other_as_also():
    reason = next(r for r in ask({"operation": "command", "can_defer": True})["reasons"] if r["rule"] == "can-defer")
    assert (reason["supports"], reason["effect"], reason["also"]) == ("queue", 2, ["pub-sub"])


def test_it_never_lists_a_reason_with_no_effect_on_its_option_but_the_default():
    for values in itertools.product([None, True, False], repeat=4):
        for operation, targets in itertools.product([None, "read", "write", "command", "notification"], [1, 3]):
            criteria = {k: v for k, v in zip(BOOLS[:3] + ("competing_consumers",), values) if v is not None}
            if operation:
                criteria["operation"] = operation
            for reason in ask(criteria, targets)["reasons"]:
                if reason["rule"] == "default":
                    continue
                assert reason["effect"] == reason["effects"][reason["supports"]] != 0, (criteria, reason)
                assert reason["effect"] == max(reason["effects"].values()) or reason["effect"] < 0


# --- mismatches: only an answered criterion argues against a declared choice -----------------------


@pytest.mark.parametrize("criteria,targets,declared,expected,why", [
    ({"needs_immediate_response": True, "operation": "read", "external_clients": False}, 1, "grpc", None,
     "internal call: REST and gRPC tie, so the declared gRPC is fine"),
    ({"needs_immediate_response": True, "operation": "read", "latency_budget_ms": 80}, 1, "grpc", None,
     "only the default (REST is the standard) favours REST"),
    ({"needs_immediate_response": True, "operation": "read", "external_clients": True}, 1, "grpc", "info",
     "browsers call it: an answer argues for REST"),
    ({"needs_immediate_response": True, "external_clients": False, "latency_budget_ms": 20}, 1, "rest", "info",
     "a tight budget argues for gRPC"),
    ({}, 1, "pubsub", None, "nothing answered: defaults never make a mismatch"),
    ({}, 3, "rest", None, "the number of targets alone is not an answer"),
    ({"can_defer": True}, 1, "pubsub", None, "pub-sub ties with a queue"),
    ({"can_defer": True}, 1, "queue", None, "a queue ties with pub-sub"),
    ({"operation": "command", "can_defer": True, "bursty_traffic": True}, 1, "pubsub", "warning",
     "a deferred command is a job"),
    ({"operation": "notification", "can_defer": True}, 1, "queue", "info", "a notification is not a job"),
    ({"can_defer": True}, 1, "rest", "info", "work that can wait argues for a broker, weakly"),
    ({"can_defer": True, "requires_decoupling": True, "bursty_traffic": True, "needs_immediate_response": False}, 1,
     "rest", "error", "four answers argue for a broker, tied between pub-sub and queue"),
])
def test_it_flags_a_declared_choice_only_when_an_answer_argues_against_it(criteria, targets, declared, expected, why):
    mismatch = ask(criteria, targets, declared)["mismatch"]
    assert (mismatch or {}).get("severity") == expected, (why, mismatch)


def test_it_says_which_answer_argues_against_the_declared_protocol():
    result = ask({"needs_immediate_response": True, "external_clients": True}, 1, "grpc")
    assert result["mismatch"]["reason"].startswith("Declared grpc; rest fits better. Browsers or third parties")


# --- through the API, the page and the stored recommendations -----------------------------------------


WORK = rest("resize", "thumbnailer", criteria={"can_defer": True})
INTERNAL = {"name": "quote", "to": ["pricing"], "style": "grpc",
            "criteria": {"needs_immediate_response": True, "operation": "read", "latency_budget_ms": 80}}
SHARED = rest("sync-stock", "inventory", "search",
              criteria={"can_defer": True, "competing_consumers": True, "needs_immediate_response": False})


@pytest.fixture
def shop(team):
    register(service_doc("orders", interactions=[WORK, INTERNAL, SHARED]))


def test_the_api_returns_the_tie_and_its_question(ci, shop):
    item = Interaction.objects.get(name="resize")
    body = ci.get(f"/api/v1/interactions/{item.pk}/").json()["recommendation"]
    assert body["ties"]["pattern"]["options"] == ["pub-sub", "queue"]
    assert body["questions"][0]["key"] == "competing_consumers"
    evaluated = ci.post("/api/v1/recommendations/evaluate/", {"criteria": {"can_defer": True}, "targets": 1},
                        format="json").json()
    assert evaluated["ties"]["pattern"]["question"]["key"] == "competing_consumers"


def test_the_stored_grpc_call_with_only_the_default_against_it_has_no_mismatch(shop):
    item = Interaction.objects.get(name="quote")
    assert item.mismatch == "" and item.recommendation["mismatch"] is None


def test_the_interaction_page_shows_the_tie_and_the_question(as_viewer, shop):
    html = as_viewer.get("/services/orders/interactions/resize/").content.decode()
    assert "A tie: publish/subscribe or message queue" in html
    assert 'class="rec-tie' in html and 'href="#id_criteria_competing_consumers"' in html
    assert "yes → message queue" in html and "no → publish/subscribe" in html


def test_the_interaction_page_lists_reasons_under_the_option_they_support(as_viewer, shop):
    html = as_viewer.get("/services/orders/interactions/sync-stock/").content.decode()
    assert 'data-supports="queue">Why message queue' in html
    assert 'data-supports="pub-sub">For publish/subscribe' in html
    assert html.index("Each message from orders is a job") < html.index('data-supports="pub-sub"')
    assert html.index('data-supports="pub-sub"') < html.index("services (inventory and search) must learn of it")


def test_a_version_bump_marks_stored_recommendations_stale_and_the_refresh_renews_them(shop):
    Interaction.objects.update(ruleset_version="b1", recommendation={"pattern": "queue", "mismatch": None})
    call_command("refresh_recommendations")
    item = Interaction.objects.get(name="resize")
    assert item.ruleset_version == "b2" and item.recommendation["ties"]["pattern"]["options"] == ["pub-sub", "queue"]
