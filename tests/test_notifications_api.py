"""The notifications API and pages: who may read and write channels, windows and mutes; input
checked with pointers and nothing written when refused; secrets never shown back; test sends."""
import json
from datetime import timedelta

import pytest
import yaml
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from core.actors import actor_for_cli
from notifications import events as outbox
from notifications.models import Attempt, Channel, Delivery, Event, MaintenanceWindow, ProbeMute
from probes.models import Probe
from tests.conftest import member
from tests.factories import register, service_doc
from tests.http_receiver import Receiver
from tests.notification_helpers import webhook
from topology.choices import TeamRole
from topology.models import AuditEvent, Team

URL = "/api/v1/channels/"
GOOD = {"team": "commerce", "name": "oncall", "kind": "webhook", "url": "https://hooks.example.test/T0/secret-path",
        "secret": "0123456789abcdef-secret", "events": ["probe.down", "probe.up"]}


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    monkeypatch.setattr(outbox, "deliveries_queue", lambda *, delivery_ids: None)


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def counts():
    return (Channel.objects.count(), AuditEvent.objects.count(), MaintenanceWindow.objects.count(),
            ProbeMute.objects.count())


def test_it_lets_a_maintainer_add_a_channel_and_never_shows_the_secret(maintainer):
    response = post(api(maintainer), URL, GOOD)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["has_secret"] and "secret" not in body and body["team"] == "commerce" and body["can_write"]
    assert body["url"] == GOOD["url"] and body["page"].endswith(f"/notifications/channels/{body['id']}/")
    assert AuditEvent.objects.get(object_type="channel").changes["secret"] == [None, "set"]


def test_it_lets_a_team_token_add_a_channel(ci):
    assert post(ci, URL, GOOD).status_code == 201


@pytest.mark.parametrize("who", ["viewer", "other-maintainer", "anonymous", "other-token"])
def test_it_refuses_callers_who_do_not_maintain_the_team_and_writes_nothing(who, team, other_team):
    if who == "anonymous":
        client = api()
    elif who == "other-token":
        from core.actors import actor_for_cli as cli
        from topology.services import token_create

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=cli(), team=other_team, name='x')[1]}")
    else:
        team_of, role = (team, TeamRole.VIEWER) if who == "viewer" else (other_team, TeamRole.MAINTAINER)
        client = api(member(team_of, "someone", role))
    before = counts()
    response = post(client, URL, GOOD)
    assert response.status_code in (401, 403), response.content
    assert counts() == before


def test_it_keeps_system_wide_channels_for_staff(maintainer, staff):
    system = {**GOOD, "team": None, "name": "everything"}
    assert post(api(maintainer), URL, system).status_code == 403
    assert post(api(staff), URL, system).status_code == 201
    assert Channel.objects.get().team is None


@pytest.mark.parametrize("change, pointer", [
    ({"kind": "pager"}, "/kind"),
    ({"url": "ftp://x.test/"}, "/url"),
    ({"url": "http://169.254.169.254/latest/meta-data/"}, "/url"),
    ({"url": "http://[fe80::1]/hook"}, "/url"),
    ({"url": "http://2852039166/latest/meta-data/"}, "/url"),  # 169.254.169.254 written as a number
    ({"events": ["probe.down", "probe.sideways"]}, "/events/1"),
    ({"events": []}, "/events"),
    ({"secret": "short"}, "/secret"),
    ({"name": "On Call!"}, "/name"),
    ({"min_severity": "fatal"}, "/min_severity"),
    ({"chain_depth": 0}, "/chain_depth"),
    ({"colour": "red"}, "/colour"),
    ({"team": "nobody"}, "/team"),
    ({"kind": "email", "url": "", "secret": "", "addresses": ["ops@example.com", "not an address"]}, "/addresses/1"),
])
def test_it_rejects_bad_channels_with_a_pointer_and_writes_nothing(maintainer, change, pointer):
    before = counts()
    response = post(api(maintainer), URL, {**GOOD, **change})
    assert response.status_code == 422, response.json()
    assert pointer in [error["pointer"] for error in response.json()["errors"]]
    assert counts() == before


def test_it_rejects_a_body_that_is_not_an_object(maintainer):
    response = post(api(maintainer), URL, ["oncall"])
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == ""


def test_it_rejects_a_second_channel_of_the_same_name(maintainer):
    post(api(maintainer), URL, GOOD)
    response = post(api(maintainer), URL, GOOD)
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/name"


def test_it_shows_channels_to_members_with_the_url_cut_for_viewers(maintainer, viewer, other_team):
    post(api(maintainer), URL, GOOD)
    listed = api(viewer).get(URL).json()["results"]
    assert [c["name"] for c in listed] == ["oncall"]
    assert listed[0]["url"] == "https://hooks.example.test/…" and not listed[0]["can_write"]
    outsider = member(other_team, "olga", TeamRole.MAINTAINER)
    assert api(outsider).get(URL).json()["results"] == []
    assert api(outsider).get(f"{URL}{listed[0]['id']}/").status_code == 404


def test_it_changes_a_channel_keeping_or_removing_its_secret(maintainer):
    channel_id = post(api(maintainer), URL, GOOD).json()["id"]
    changed = api(maintainer).patch(f"{URL}{channel_id}/", json.dumps({"events": ["probe.down"], "secret": ""}),
                                    content_type="application/json")
    assert changed.status_code == 200 and changed.json()["events"] == ["probe.down"] and changed.json()["has_secret"]
    removed = api(maintainer).patch(f"{URL}{channel_id}/", json.dumps({"secret": None}), content_type="application/json")
    assert removed.status_code == 200 and not removed.json()["has_secret"]
    moved = api(maintainer).patch(f"{URL}{channel_id}/", json.dumps({"team": "identity"}),
                                  content_type="application/json")
    assert moved.status_code == 422 and moved.json()["errors"][0]["pointer"] == "/team"


def test_it_lets_viewers_read_but_not_change_or_delete(maintainer, viewer):
    channel_id = post(api(maintainer), URL, GOOD).json()["id"]
    before = counts()
    assert api(viewer).patch(f"{URL}{channel_id}/", json.dumps({"enabled": False}),
                             content_type="application/json").status_code == 403
    assert api(viewer).delete(f"{URL}{channel_id}/").status_code == 403
    assert api(viewer).post(f"{URL}{channel_id}/test/").status_code == 403
    assert counts() == before and Attempt.objects.count() == 0
    assert api(maintainer).delete(f"{URL}{channel_id}/").status_code == 204 and not Channel.objects.exists()


def test_it_sends_a_test_and_lists_the_log(maintainer):
    with Receiver() as receiver:
        channel_id = post(api(maintainer), URL, {**GOOD, "url": receiver.url}).json()["id"]
        sent = api(maintainer).post(f"{URL}{channel_id}/test/")
    assert sent.status_code == 200 and sent.json()["ok"] and sent.json()["status_code"] == 200
    assert receiver.requests[0].headers["x-switchboard-event"] == "test"
    log = api(maintainer).get(f"{URL}{channel_id}/log/").json()
    assert log["count"] == 1 and log["results"][0]["event_type"] == "test"


def test_it_lists_events_with_their_deliveries_and_resends_a_failed_one(team, maintainer, viewer):
    channel = webhook(team, "http://127.0.0.1:9/hook")
    event = outbox.event_write(type="probe.down", summary="orders/api is down", url="", details={},
                               teams=["commerce"], service="orders")
    delivery = event.deliveries.get()
    events = api(viewer).get("/api/v1/notifications/events/?type=probe.down").json()["results"]
    assert [e["id"] for e in events] == [str(event.id)] and events[0]["deliveries"][0]["status"] == "pending"
    assert api(viewer).get("/api/v1/notifications/events/?type=probe.up").json()["results"] == []
    assert api(maintainer).post(f"/api/v1/notifications/deliveries/{delivery.pk}/resend/").status_code == 409
    Delivery.objects.filter(pk=delivery.pk).update(status="failed")
    assert api(viewer).post(f"/api/v1/notifications/deliveries/{delivery.pk}/resend/").status_code == 403
    resent = api(maintainer).post(f"/api/v1/notifications/deliveries/{delivery.pk}/resend/")
    assert resent.status_code == 202 and resent.json()["status"] == "pending" and resent.json()["attempts"] == 0
    assert channel.pk


def test_it_plans_a_maintenance_window_over_the_teams_services(maintainer, other_team):
    register(service_doc("orders"), service_doc("login", team="identity"))
    start = timezone.now() + timedelta(hours=1)
    body = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
            "services": ["orders"], "reason": "database upgrade"}
    created = post(api(maintainer), "/api/v1/maintenance-windows/", body)
    assert created.status_code == 201 and created.json()["services"] == ["orders"] and not created.json()["active"]
    assert post(api(maintainer), "/api/v1/maintenance-windows/", {**body, "services": ["login"]}).status_code == 403
    for change, pointer in [({"ends_at": start.isoformat()}, "/ends_at"), ({"services": ["nope"]}, "/services/0"),
                            ({"starts_at": "tomorrow"}, "/starts_at"), ({"starts_at": "2026-12-05T02:00:00"}, "/starts_at")]:
        refused = post(api(maintainer), "/api/v1/maintenance-windows/", {**body, **change})
        assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == pointer, (change, refused.json())
    assert MaintenanceWindow.objects.count() == 1


def test_it_mutes_and_unmutes_a_probe(maintainer, viewer):
    register(service_doc("orders", probes=[{"name": "api", "type": "tcp", "target": "127.0.0.1:9"}]))
    created = post(api(maintainer), "/api/v1/probe-mutes/", {"probe": "orders/api", "reason": "known"})
    assert created.status_code == 201 and created.json()["probe"] == "orders/api" and created.json()["until"] is None
    assert post(api(viewer), "/api/v1/probe-mutes/", {"probe": "orders/api"}).status_code == 403
    assert post(api(maintainer), "/api/v1/probe-mutes/", {"probe": "orders/nope"}).json()["errors"][0]["pointer"] == "/probe"
    assert post(api(maintainer), "/api/v1/probe-mutes/", {"probe": "orders/api", "until": "soon"}).status_code == 422
    assert api(viewer).delete(f"/api/v1/probe-mutes/{created.json()['id']}/").status_code == 403
    assert api(maintainer).delete(f"/api/v1/probe-mutes/{created.json()['id']}/").status_code == 204
    assert not ProbeMute.objects.exists() and Probe.objects.count() == 1


def test_it_shows_the_page_and_adds_a_channel_from_the_form(maintainer, client):
    client.force_login(maintainer)
    assert client.get("/notifications/").status_code == 200
    response = client.post("/notifications/", {"team": maintainer.teams.get().pk, "name": "mail", "kind": "email",
                                               "addresses": "ops@example.com, lead@example.com",
                                               "events": ["probe.down"], "min_severity": "warning", "chain_depth": 3,
                                               "enabled": "on"})
    channel = Channel.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/notifications/channels/{channel.pk}/"
    assert channel.addresses == ["ops@example.com", "lead@example.com"]
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"Send test" in page.content


def test_it_puts_refusals_back_on_the_form_fields(maintainer, client):
    client.force_login(maintainer)
    response = client.post("/notifications/", {"team": maintainer.teams.get().pk, "name": "hook", "kind": "webhook",
                                               "url": "http://169.254.169.254/", "events": ["probe.down"],
                                               "min_severity": "warning", "chain_depth": 3})
    assert response.status_code == 422 and b"refused by the target policy" in response.content
    assert not Channel.objects.exists()


def test_it_hides_channel_pages_from_other_teams(maintainer, other_team, client):
    channel = webhook(maintainer.teams.get(), "http://127.0.0.1:9/hook")
    client.force_login(member(other_team, "olga", TeamRole.MAINTAINER))
    assert client.get(f"/notifications/channels/{channel.pk}/").status_code == 404
    assert client.post(f"/notifications/channels/{channel.pk}/delete/").status_code == 404
    assert Channel.objects.exists()


def test_it_documents_the_api_in_the_schema(admin):
    schema = yaml.safe_load(admin.get("/api/schema/").content)
    for path in ("/api/v1/channels/", "/api/v1/channels/{id}/test/", "/api/v1/notifications/events/",
                 "/api/v1/notifications/deliveries/{id}/resend/", "/api/v1/maintenance-windows/", "/api/v1/probe-mutes/"):
        assert path in schema["paths"], path


def test_it_shows_an_event_of_two_teams_to_members_of_both(team, other_team, viewer):
    outsider = member(other_team, "olga", TeamRole.VIEWER)
    event = outbox.event_write(type="finding.new", summary="a cycle", url="", details={},
                               teams=["identity", "commerce"], service="login")
    for user in (viewer, outsider):
        listed = api(user).get("/api/v1/notifications/events/?team=commerce").json()["results"]
        assert [e["id"] for e in listed] == [str(event.id)]
    stranger = member(Team.objects.create(slug="data", name="Data"), "dan", TeamRole.VIEWER)
    assert api(stranger).get("/api/v1/notifications/events/").json()["results"] == []


def test_it_plans_a_window_and_mutes_a_probe_from_the_page(maintainer, viewer, client):
    register(service_doc("orders", probes=[{"name": "api", "type": "tcp", "target": "127.0.0.1:9"}]))
    client.force_login(maintainer)
    start = timezone.localtime() + timedelta(hours=1)
    orders = maintainer.teams.get().services.get(name="orders")
    added = client.post("/notifications/windows/", {"services": [orders.pk], "reason": "upgrade",
                                                    "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
                                                    "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")})
    assert added.status_code == 302 and MaintenanceWindow.objects.get().reason == "upgrade"
    backwards = client.post("/notifications/windows/", {"services": [orders.pk], "starts_at": "2026-12-05T10:00",
                                                        "ends_at": "2026-12-05T09:00"})
    assert backwards.status_code == 422 and b"must be after starts_at" in backwards.content
    muted = client.post("/notifications/mutes/", {"probe": Probe.objects.get().pk, "reason": "known"})
    assert muted.status_code == 302 and ProbeMute.objects.get().reason == "known"
    client.force_login(viewer)
    window, mute = MaintenanceWindow.objects.get(), ProbeMute.objects.get()
    assert client.post(f"/notifications/windows/{window.pk}/delete/").status_code == 403
    assert client.post(f"/notifications/mutes/{mute.pk}/delete/").status_code == 403
    client.force_login(maintainer)
    assert client.post(f"/notifications/windows/{window.pk}/delete/").status_code == 302
    assert client.post(f"/notifications/mutes/{mute.pk}/delete/").status_code == 302
    assert not MaintenanceWindow.objects.exists() and not ProbeMute.objects.exists()
