"""API tokens: hashed at rest, shown once, prefix visible, revocable, last use recorded, optional expiry."""
import ast
import inspect
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from core.actors import actor_for_cli
from core.errors import Invalid
from topology import authentication, services
from topology.models import ApiToken, AuditEvent
from topology.selectors import actor_for_user
from topology.services import token_create, token_digest, token_revoke


def bearer(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_it_handles_a_token_as_a_digest_at_rest_with_its_prefix_visible(team):
    token, raw = token_create(actor=actor_for_cli(), team=team, name="ci")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == token_digest(raw) and len(stored.digest) == 64
    assert stored.prefix == raw[:10] and raw.startswith("sb_")
    # 32 random bytes: high enough entropy that a lookup by digest needs no constant-time comparison.
    assert len(raw) >= 3 + 43
    assert all(raw not in str(value) for value in ApiToken.objects.values_list().get())


def test_it_handles_secrets_without_equality_comparisons():
    """The token path compares no secret with == or !=: it looks the digest up."""
    for module in (authentication, services):
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
                names = {getattr(n, "id", getattr(n, "attr", "")) for n in ast.walk(node)}
                assert not names & {"raw", "digest", "token_digest", "secret"}, ast.unparse(node)


def test_it_handles_the_new_token_as_shown_once(as_maintainer, team):
    response = as_maintainer.post(f"/teams/{team.slug}/tokens/", {"name": "deploy"}, follow=True)
    assert response.status_code == 200
    raw = response.context["new_token"]["value"]
    assert raw.encode() in response.content
    again = as_maintainer.get(f"/teams/{team.slug}/")
    assert raw.encode() not in again.content
    assert ApiToken.objects.get(name="deploy").prefix.encode() in again.content
    assert bearer(raw).get("/api/v1/services/").status_code == 200


def test_it_rejects_a_revoked_token_with_401(token, maintainer):
    token_revoke(actor=actor_for_user(user=maintainer), token=ApiToken.objects.get())
    response = bearer(token).get("/api/v1/services/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Unknown or revoked token."


def test_it_handles_last_use_as_recorded(token):
    assert ApiToken.objects.get().last_used_at is None
    assert bearer(token).get("/api/v1/services/").status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


def test_it_handles_a_token_that_has_not_expired_yet(team):
    token, raw = token_create(actor=actor_for_cli(), team=team, name="ci", expires_in_days=30)
    assert timedelta(days=29, hours=23) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert bearer(raw).get("/api/v1/services/").status_code == 200
    event = AuditEvent.objects.get(object_type="token", action="create")
    assert "expires_at" in event.changes


def test_it_rejects_an_expired_token_with_401_and_says_so(team):
    token, raw = token_create(actor=actor_for_cli(), team=team, name="ci", expires_in_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(raw).get("/api/v1/services/")
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert "expired" in detail and token.prefix in detail and "team page" in detail
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert ApiToken.objects.get().last_used_at is None


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_it_rejects_an_expiry_out_of_range(team, days):
    with pytest.raises(Invalid):
        token_create(actor=actor_for_cli(), team=team, name="ci", expires_in_days=days)
    assert not ApiToken.objects.exists()


def test_it_handles_an_expiry_set_on_the_team_page(as_maintainer, team):
    response = as_maintainer.post(f"/teams/{team.slug}/tokens/", {"name": "deploy", "expires_in_days": "7"},
                                  follow=True)
    token = ApiToken.objects.get(name="deploy")
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert b'name="expires_in_days"' in response.content
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(hours=1))
    page = as_maintainer.get(f"/teams/{team.slug}/").content.decode()
    assert ">expired</span>" in page


def test_it_rejects_a_bad_expiry_on_the_team_page(as_maintainer, team):
    response = as_maintainer.post(f"/teams/{team.slug}/tokens/", {"name": "deploy", "expires_in_days": "0"},
                                  follow=True)
    assert not ApiToken.objects.exists()
    assert b"Expires in: a whole number of days" in response.content


def test_it_handles_an_expiry_from_the_command_line(team):
    out, err = StringIO(), StringIO()
    call_command("create_token", "--team", team.slug, "--name", "ci", "--expires-in-days", "10", stdout=out, stderr=err)
    token = ApiToken.objects.get()
    assert timedelta(days=9) < token.expires_at - timezone.now() <= timedelta(days=10)
    assert "expires" in err.getvalue()
    assert bearer(out.getvalue().strip().splitlines()[-1]).get("/api/v1/services/").status_code == 200


def test_it_rejects_a_bad_expiry_from_the_command_line(team):
    with pytest.raises(CommandError, match="--expires-in-days"):
        call_command("create_token", "--team", team.slug, "--name", "ci", "--expires-in-days", "0",
                     stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()
