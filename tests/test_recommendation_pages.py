"""Recommendation pages without a browser: the interaction page, the what-if partial, the rules pages,
the re-evaluation progress, the dashboard chart, the service page column and the criteria originals."""
import json
import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings

from decisions.charts import declared_vs_recommended
from decisions.choices import DecisionKind, DecisionStatus, RunStatus
from topology.criteria import ORIGINAL, SECTIONS
from decisions.models import CustomRule, Decision, EvaluationRun
from decisions.rule_forms import condition_pointer, effects_parse
from topology.models import AuditEvent, Interaction

from .factories import register, rest, service_doc

NOTIFY = rest("order-cancelled", "shipping", "invoicing",
              criteria={"can_defer": True, "operation": "notification", "eventual_consistency_ok": True})
PRICES = rest("read-prices", "pricing",
              criteria={"needs_immediate_response": True, "operation": "read", "external_clients": True})
PAGE = "/services/orders/interactions/order-cancelled/"
WHAT_IF = PAGE + "what-if/"
RULE = {"slug": "notify-by-call", "title": "Notifications stay calls", "decides": "pattern",
        "condition": 'operation == "notification" and targets > 1', "effects": "request-response=20",
        "cites": "§5.1", "explanation": "House rule: {source} keeps calling {targets} directly.", "enabled": "on"}


@pytest.fixture
def shop(team, other_team):
    register(service_doc("orders", interactions=[NOTIFY, PRICES]))


@pytest.fixture
def as_staff(client, staff):
    client.force_login(staff)
    return client


def text_of(response) -> str:
    """The page's visible text, tags removed and whitespace collapsed."""
    html = re.sub(r"<script.*?</script>", " ", response.content.decode(), flags=re.S)
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))
    return re.sub(r"\s+([).,:])", r"\1", re.sub(r"\(\s+", "(", text))


def override(interaction_name: str) -> Decision:
    decision = Decision.objects.create(number=7, title="Keep REST", status=DecisionStatus.ACCEPTED,
                                       kind=DecisionKind.OVERRIDE, chosen_style="rest")
    decision.interactions.add(Interaction.objects.get(name=interaction_name))
    return decision


# --- interaction page --------------------------------------------------------------------------


def test_it_shows_the_stored_recommendation_on_the_interaction_page(as_viewer, shop):
    response = as_viewer.get(PAGE)
    assert response.status_code == 200
    page, html = text_of(response), response.content.decode()
    assert "Recommended: asynchronous publish/subscribe on Kafka" in page
    assert 'class="rec-meter rec-meter-high" role="meter"' in html and 'aria-valuenow="89"' in html
    assert "The declared style goes against the criteria" in page and "rec-mismatch-error" in html
    # Reasons in order, each with a link to its criterion; broker reasons are beyond the document.
    assert page.index("Publish/subscribe gives every subscriber a copy") < page.index("Kafka keeps events")
    assert 'href="/criteria/#s4-3"' in html and 'href="/criteria/#s5-3"' in html
    assert "beyond the document" in page
    # Scores of every option, trade-offs with mitigations, and the what-if form posting to its view.
    for option in ("request-response", "pub-sub", "queue", "hybrid", "kafka", "rabbitmq", "nats", "pulsar"):
        assert f">{option}</span>" in html or f"</span>{option}</span>" in html
    assert "Make consumers idempotent" in page and "Mitigations" in page
    assert f'hx-post="{WHAT_IF}"' in html and 'hx-trigger="change, submit' in html
    assert 'name="criteria_needs_immediate_response"' in html


def test_it_shows_a_deliberate_deviation_instead_of_a_mismatch(as_viewer, shop):
    override("order-cancelled")
    page = text_of(as_viewer.get(PAGE))
    assert "Deliberate deviation (ADR-0007)" in page
    assert "The declared style goes against the criteria" not in page


def test_it_says_when_an_interaction_is_not_evaluated_yet(as_viewer, shop):
    Interaction.objects.filter(name="read-prices").update(recommendation={}, recommended_pattern="", mismatch="")
    page = text_of(as_viewer.get("/services/orders/interactions/read-prices/"))
    assert "Not evaluated yet" in page


def test_it_lists_open_questions_with_links_when_few_criteria_are_answered(as_viewer, shop):
    register(service_doc("orders", interactions=[NOTIFY, PRICES, rest("ping", "pricing")]))
    response = as_viewer.get("/services/orders/interactions/ping/")
    assert "Open questions" in text_of(response)
    assert 'href="#id_criteria_needs_immediate_response"' in response.content.decode()


# --- what-if -----------------------------------------------------------------------------------


def test_it_answers_a_what_if_without_storing_anything(as_viewer, shop):
    before = Interaction.objects.get(name="order-cancelled").recommendation
    events = AuditEvent.objects.count()
    response = as_viewer.post(WHAT_IF, {"style": "rest", "criteria_needs_immediate_response": "yes",
                                        "criteria_operation": "notification", "criteria_can_defer": "yes"})
    assert response.status_code == 200
    page = text_of(response)
    assert "Recommended: hybrid: a synchronous REST call, plus an event on Kafka for the others" in page
    assert "What-if result" in page and "changed" in page and "Now recommended: asynchronous publish/subscribe" in page
    assert "<html" not in response.content.decode()  # a partial
    assert Interaction.objects.get(name="order-cancelled").recommendation == before
    assert AuditEvent.objects.count() == events


def test_it_shows_the_same_recommendation_for_the_stored_answers(as_viewer, shop):
    answers = {"criteria_can_defer": "yes", "criteria_operation": "notification",
               "criteria_eventual_consistency_ok": "yes"}
    response = as_viewer.post(WHAT_IF, {"style": "rest", **answers})
    page = text_of(response)
    assert "Recommended: asynchronous publish/subscribe on Kafka" in page and "same as now" in page
    assert "The declared style goes against the criteria" in page


def test_it_keeps_a_deliberate_deviation_only_for_the_declared_style(as_viewer, shop):
    override("order-cancelled")
    answers = {"criteria_operation": "notification", "criteria_can_defer": "yes"}
    assert "Deliberate deviation" in text_of(as_viewer.post(WHAT_IF, {**answers, "style": "rest"}))
    assert "Deliberate deviation" not in text_of(as_viewer.post(WHAT_IF, {**answers, "style": "grpc"}))


@pytest.mark.parametrize("data,message", [
    ({"criteria_operation": "sing"}, "Select a valid choice"),
    ({"criteria_latency_budget_ms": "-5"}, "greater than or equal to 0"),
    ({"criteria_latency_budget_ms": "1.5"}, "whole number"),
    ({"criteria_peak_rps": "1e400"}, "Enter a number"),
    ({"criteria_peak_rps": "lots"}, "Enter a number"),
    ({"criteria_needs_immediate_response": "maybe"}, "Select a valid choice"),
    ({"style": "carrier-pigeon"}, "Select a valid choice"),
])
def test_it_refuses_bad_what_if_answers_with_422(as_viewer, shop, data, message):
    response = as_viewer.post(WHAT_IF, data)
    assert response.status_code == 422
    page = text_of(response)
    assert "These answers cannot be evaluated" in page and message in page


def test_it_guards_the_what_if_endpoint(client, as_viewer, shop):
    assert as_viewer.get(WHAT_IF).status_code == 405
    assert as_viewer.post("/services/orders/interactions/nothing/what-if/", {}).status_code == 404
    client.logout()
    response = client.post(WHAT_IF, {})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- service page and dashboard ----------------------------------------------------------------


def test_it_shows_the_recommended_pattern_and_mismatch_on_the_service_page(as_viewer, shop):
    html = as_viewer.get("/services/orders/").content.decode()
    assert ">Recommended</th>" in html
    assert "rec-badge-async" in html and "rec-sev-error" in html
    override("order-cancelled")
    html = as_viewer.get("/services/orders/").content.decode()
    assert "deliberate · ADR-0007" in html and "rec-sev-error" not in html


def test_it_draws_declared_vs_recommended_on_the_dashboard(as_viewer, shop):
    response = as_viewer.get("/")
    html = response.content.decode()
    found = re.search(r'<script id="declared-vs-recommended-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the chart's figure is in a json_script element"
    figure = json.loads(json.loads(found.group(1)))
    assert {trace["name"] for trace in figure["data"]} == {"request-response", "pub-sub"}
    assert "/static/vendor/plotly/plotly.min.js" in html and "/static/js/charts.js" in html
    page = text_of(response)
    assert "Declared vs recommended" in page and "orders/order-cancelled" in page
    assert f'href="{PAGE}#recommendation"' in html


def test_it_builds_the_chart_from_the_matrix_alone():
    figure = json.loads(declared_vs_recommended({"rest": {"request-response": 6, "pub-sub": 1},
                                                 "undecided": {"not evaluated": 2}, "pubsub": {"pub-sub": 2}}))
    bars = {trace["name"]: trace for trace in figure["data"]}
    assert list(bars) == ["request-response", "pub-sub", "not evaluated"]
    assert bars["pub-sub"]["y"] == ["REST", "pub/sub", "undecided"] and bars["pub-sub"]["x"] == [1, 2, 0]
    assert bars["pub-sub"]["customdata"] == ["differs", "agrees", "no style declared yet"]
    assert figure["layout"]["barmode"] == "stack"
    empty = json.loads(declared_vs_recommended({}))
    assert empty["data"] == [] and empty["layout"]["annotations"][0]["text"] == "No interactions yet"


# --- criteria page -----------------------------------------------------------------------------


def test_it_shows_the_original_sentence_of_every_point(as_viewer):
    html = as_viewer.get("/criteria/").content.decode()
    points = [point for section in SECTIONS for point, _ in section.points]
    assert set(ORIGINAL) == set(points)
    assert html.count('<blockquote class="point-original') == len(points)
    assert "客户端与服务端在时间上是耦合的，必须同时在线才能完成交互。" in html
    assert "<strong>REST/HTTP</strong>: 基于HTTP/1.1或HTTP/2" in html  # the seed's emphasis, as markup
    assert "当客户端需要<strong>立即获得</strong>操作结果时" in html


def test_it_copies_the_originals_exactly_from_the_seed():
    seed = Path(settings.BASE_DIR).parent / "shared" / "seed" / "communication-styles.zh.md"
    if not seed.exists():
        pytest.skip("the seed document is not beside the repository")
    text = seed.read_text(encoding="utf-8")
    assert [point for point, original in ORIGINAL.items() if original not in text] == []


# --- rules pages -------------------------------------------------------------------------------


def test_it_lists_built_in_and_custom_rules(as_viewer, shop):
    CustomRule.objects.create(slug="house-rule", title="House", decides="pattern", condition="true",
                              effects={"queue": 1}, cites="§4.4", explanation="x")
    response = as_viewer.get("/rules/")
    page, html = text_of(response), response.content.decode()
    assert response.status_code == 200
    for rule_id in ("needs-answer-now", "rest-is-the-standard", "kafka-for-events", "house-rule"):
        assert f'id="rule-{rule_id}"' in html
    assert "Pattern rules" in page and "Broker rules" in page and "beyond the document" in page
    assert "needs_immediate_response == true" in page and "request-response +4" in page
    assert "New rule" not in page  # only administrators change the rules
    assert "No re-evaluation has run yet" in page


@pytest.mark.parametrize("method,url", [
    ("get", "/rules/new/"), ("post", "/rules/new/"), ("post", "/rules/preview/"),
    ("get", "/rules/house-rule/"), ("post", "/rules/house-rule/"), ("post", "/rules/house-rule/preview/"),
    ("post", "/rules/house-rule/delete/"),
])
def test_it_lets_only_administrators_change_rules(as_viewer, shop, method, url):
    CustomRule.objects.create(slug="house-rule", title="House", decides="pattern", condition="true",
                              effects={"queue": 1}, explanation="x")
    assert getattr(as_viewer, method)(url, RULE).status_code == 403
    assert CustomRule.objects.get().title == "House"


def test_it_previews_a_rule_without_saving(as_staff, shop):
    response = as_staff.post("/rules/preview/", RULE)
    assert response.status_code == 200
    page = text_of(response)
    assert "1 interaction would get a different recommendation" in page
    assert "orders/order-cancelled" in page and f'href="{PAGE}"' in response.content.decode()
    assert "Nothing has been saved" in page
    assert not CustomRule.objects.exists() and not EvaluationRun.objects.exists()


def test_it_points_at_the_character_where_a_condition_fails(as_staff, shop):
    response = as_staff.post("/rules/preview/", {**RULE, "condition": "operation == and"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="condition-problem" hx-swap-oob="true"' in html
    assert "Line 1, character 14:" in text_of(response)
    assert "operation == and\n<span class=\"rule-caret-mark\">" + " " * 13 + "^</span>" in html
    response = as_staff.post("/rules/new/", {**RULE, "condition": "colour == 1"})
    assert response.status_code == 200 and not CustomRule.objects.exists()
    page = text_of(response)
    assert "unknown fact 'colour'" in page and "Line 1, character 1:" in page


def test_it_creates_a_rule_and_shows_the_re_evaluation(as_staff, shop):
    response = as_staff.post("/rules/new/", RULE)
    rule = CustomRule.objects.get()
    run = EvaluationRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/rules/?run={run.pk}"
    assert (rule.slug, rule.effects, rule.enabled) == ("notify-by-call", {"request-response": 20}, True)
    assert rule.written_by == "root"
    page = as_staff.get(response["Location"])
    html = page.content.decode()
    assert f'hx-get="/rules/evaluations/{run.pk}/" hx-trigger="every 2s"' in html
    assert "Rule notify-by-call saved" in text_of(page)


def test_it_edits_and_deletes_a_rule(as_staff, shop):
    as_staff.post("/rules/new/", RULE)
    page = as_staff.get("/rules/notify-by-call/")
    assert page.status_code == 200 and "request-response=20" in page.content.decode()
    changed = {**RULE, "slug": "renamed", "effects": "request-response=5\nqueue=-1"}
    response = as_staff.post("/rules/notify-by-call/", changed)
    assert response.status_code == 302
    rule = CustomRule.objects.get()
    assert rule.slug == "notify-by-call" and rule.effects == {"request-response": 5, "queue": -1}
    preview = as_staff.post("/rules/notify-by-call/preview/", {**RULE, "enabled": ""})
    assert preview.status_code == 200 and "No interaction" in text_of(preview)  # 5 is too little to change anything
    response = as_staff.post("/rules/notify-by-call/delete/")
    assert response.status_code == 302 and not CustomRule.objects.exists()
    assert EvaluationRun.objects.count() == 3


def test_it_refuses_a_reserved_or_taken_slug_and_bad_effects(as_staff, shop):
    page = text_of(as_staff.post("/rules/new/", {**RULE, "slug": "new"}))
    assert "'new' is reserved" in page
    as_staff.post("/rules/new/", RULE)
    assert "already exists" in text_of(as_staff.post("/rules/new/", RULE))
    page = text_of(as_staff.post("/rules/new/", {**RULE, "slug": "other", "effects": "kafka=2"}))
    assert "'kafka' is not an option of pattern" in page
    assert CustomRule.objects.count() == 1


def test_it_polls_the_progress_of_a_run_until_it_ends(as_viewer, shop):
    run = EvaluationRun.objects.create(ruleset_version="b1", total=4, done=1, status=RunStatus.RUNNING,
                                       reason="rule x created")
    html = as_viewer.get(f"/rules/evaluations/{run.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in html and 'aria-valuenow="25"' in html and "1 of 4 interactions" in html
    EvaluationRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE, done=4, changed=2)
    html = as_viewer.get(f"/rules/evaluations/{run.pk}/").content.decode()
    assert "hx-trigger" not in html and 'aria-valuenow="100"' in html and "changed" in html
    EvaluationRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error="database went away")
    assert "database went away" in as_viewer.get(f"/rules/evaluations/{run.pk}/").content.decode()
    assert as_viewer.get("/rules/evaluations/999/").status_code == 404


def test_it_says_when_no_worker_takes_a_queued_run(as_viewer, shop):
    run = EvaluationRun.objects.create(ruleset_version="b1", total=2)
    assert "Waiting for a background worker" in text_of(as_viewer.get(f"/rules/evaluations/{run.pk}/"))


# --- form helpers (pure) -----------------------------------------------------------------------


def test_it_parses_effects_as_lines_or_json():
    assert effects_parse("request-response=5\n\n queue : -1.5 \nhybrid=−2") == {
        "request-response": 5, "queue": -1.5, "hybrid": -2}
    assert effects_parse('{"kafka": 2}') == {"kafka": 2}
    for bad in ("request-response", "queue=many", "", "{nope"):
        with pytest.raises(Exception):
            effects_parse(bad)


def test_it_puts_the_caret_under_the_character_on_its_line():
    assert condition_pointer("a == 1 and\nb ==", 15) == {
        "position": 15, "line_number": 2, "column": 5, "line": "b ==", "caret": "    ^"}
    assert condition_pointer("x", None) is None and condition_pointer("x", -1) is None
    assert condition_pointer("abc", 99)["caret"] == "   ^"
