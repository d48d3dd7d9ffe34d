"""Rules that learn from overrides: how often each rule fired and was overridden, the flag, and a
custom rule drafted from the overrides' common answers."""
import pytest

from core.actors import actor_for_cli
from decisions.overrides import rule_overrides
from decisions.services import decision_create
from tests.factories import register, rest, service_doc
from topology.models import Interaction

DEFER = {"can_defer": True, "operation": "command", "needs_immediate_response": False, "external_clients": False}


@pytest.fixture
def overridden(team):
    """Four interactions where the rules say queue; three were kept synchronous by accepted overrides."""
    register(*[service_doc(f"s{n}", interactions=[rest("send", f"t{n}", criteria=DEFER)]) for n in range(4)])
    for n in range(3):
        decision_create(actor=actor_for_cli(), title=f"Keep s{n} synchronous", status="accepted", kind="override",
                        chosen_style="rest", justification=f"The partner API of s{n} has no broker.", team=team,
                        interactions=[Interaction.objects.get(source__name=f"s{n}")])


def test_it_counts_where_a_rule_fired_and_was_overridden_and_flags_it(overridden):
    stats = rule_overrides()
    fired_everywhere = [rule for rule, found in stats.items() if found.fired == 4]
    assert fired_everywhere, stats
    found = stats[fired_everywhere[0]]
    assert (found.overridden, found.flagged) == (3, True)
    assert found.justifications[0] == ("ADR-0001", "The partner API of s0 has no broker.")


def test_it_drafts_a_custom_rule_from_the_overrides_common_answers(overridden):
    found = next(found for found in rule_overrides().values() if found.flagged)
    draft = found.draft
    assert draft["effects"] == "request-response=4" and draft["decides"] == "pattern"
    assert 'operation == "command"' in draft["condition"] and "can_defer == true" in draft["condition"]


def test_it_shows_the_counts_on_the_rules_page_and_prefills_the_draft(overridden, client, staff):
    client.force_login(staff)
    page = client.get("/rules/").content.decode()
    assert "often overridden" in page and "Draft a rule from these overrides" in page
    rule = next(rule for rule, found in rule_overrides().items() if found.flagged)
    form = client.get(f"/rules/new/?from={rule}").content.decode()
    assert "request-response=4" in form and f"{rule}-overridden" in form


def test_it_leaves_rules_without_overrides_unflagged(team):
    register(service_doc("a", interactions=[rest("send", "b", criteria=DEFER)]))
    assert not any(found.flagged or found.overridden for found in rule_overrides().values())
