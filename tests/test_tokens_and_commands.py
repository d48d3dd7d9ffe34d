"""API token lifecycle and the bootstrap commands."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from core.actors import actor_for_cli
from topology.models import ApiToken, AuditEvent, Service, Team
from core.errors import Forbidden
from topology.services import token_create, token_revoke
from topology.selectors import actor_for_user


def bearer(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_it_stores_only_a_digest_and_a_visible_prefix(team):
    token, raw = token_create(actor=actor_for_cli(), team=team, name="ci")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw.startswith("sb_") and len(raw) > 40
    assert stored.prefix == raw[:10]
    assert raw not in (stored.digest, stored.prefix, stored.name)
    assert AuditEvent.objects.filter(object_type="token", object_key="commerce/ci", action="create").exists()


def test_it_records_last_use_at_most_once_a_minute(token):
    client = bearer(token)
    assert client.get("/api/v1/services/").status_code == 200
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    client.get("/api/v1/services/")
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=5))
    client.get("/api/v1/services/")
    assert ApiToken.objects.get().last_used_at > first


def test_it_rejects_a_revoked_token(token, maintainer):
    stored = ApiToken.objects.get()
    assert token_revoke(actor=actor_for_user(user=maintainer), token=stored) is True
    assert token_revoke(actor=actor_for_user(user=maintainer), token=stored) is False
    response = bearer(token).get("/api/v1/services/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_it_rejects_a_viewer_creating_or_revoking_tokens(team, viewer, token):
    actor = actor_for_user(user=viewer)
    with pytest.raises(Forbidden):
        token_create(actor=actor, team=team, name="mine")
    with pytest.raises(Forbidden):
        token_revoke(actor=actor, token=ApiToken.objects.get())


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer \u00e9t\u00e9"])
def test_it_rejects_malformed_authorization_headers(team, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode().decode("latin-1"))
    assert client.get("/api/v1/services/").status_code == 401


def test_it_creates_a_team_and_a_token_from_the_command_line(db):
    call_command("create_team", "payments", "--name", "Payments", stdout=StringIO())
    out = StringIO()
    call_command("create_token", "--team", "payments", "--name", "ci", stdout=out, stderr=StringIO())
    raw = out.getvalue().strip().splitlines()[-1]
    assert Team.objects.get(slug="payments").name == "Payments"
    body = "apiVersion: switchboard/v1\nkind: Service\nmetadata: {name: ledger, team: payments}\n"
    response = bearer(raw).post("/api/v1/registrations/", data=body, content_type="application/yaml")
    assert response.status_code == 201
    assert Service.objects.get(name="ledger").written_by == "token payments/ci"


@pytest.mark.parametrize("args,message", [
    (["create_team", "Bad Slug"], "team slug"),
    (["create_token", "--team", "nope", "--name", "ci"], "does not exist"),
])
def test_it_rejects_bad_command_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command(*args, stdout=StringIO(), stderr=StringIO())


def test_it_rejects_a_duplicate_token_name(team, token):
    with pytest.raises(CommandError, match="already has a token"):
        call_command("create_token", "--team", "commerce", "--name", "ci", stdout=StringIO(), stderr=StringIO())


def test_it_loads_the_demo_once(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("load_demo", "--if-empty", stdout=StringIO())
    registered = Service.objects.filter(team__isnull=False)
    assert registered.count() >= 15
    assert set(Team.objects.values_list("slug", flat=True)) == {"commerce", "identity", "platform"}
    accounts = Service.objects.get(name="accounts").interactions.get(name="user-registered")
    assert sorted(accounts.targets.values_list("name", flat=True)) == ["data-init", "welcome-mailer"]
    assert Service.objects.get(name="loyalty").is_placeholder
    credentials = (tmp_path / "demo-credentials.txt").read_text()
    assert "maria" in credentials and oct((tmp_path / "demo-credentials.txt").stat().st_mode)[-3:] == "600"
    events = AuditEvent.objects.count()
    call_command("load_demo", "--if-empty", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())
    assert AuditEvent.objects.count() == events
