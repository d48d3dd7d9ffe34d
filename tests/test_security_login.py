"""Sign-in throttling (django-axes): a user name and address pair is locked after failed sign-ins."""
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

PASSWORD = "correct-horse-battery-7"


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return 3


@pytest.fixture
def users(db):
    return (User.objects.create_user("alice", password=PASSWORD),
            User.objects.create_user("bob", password=PASSWORD))


def sign_in(client, username, password, ip="10.1.2.3"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_it_handles_a_wrong_password_below_the_limit_as_a_normal_refusal(client, users, limit):
    for _ in range(limit - 1):
        response = sign_in(client, "alice", "wrong")
        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302 and response.url == "/"


def test_it_rejects_even_the_right_password_once_locked_out(client, users, limit):
    for _ in range(limit):
        last = sign_in(client, "alice", "wrong")
    assert last.status_code == 429
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed sign-ins" in text
    assert "alice" in text and "after 3 failed attempts" in text
    assert "15 minutes" in text
    assert "_auth_user_id" not in client.session


def test_it_handles_another_user_and_another_address_as_unaffected(client, users, limit):
    for _ in range(limit):
        sign_in(client, "alice", "wrong")
    assert sign_in(Client(), "bob", PASSWORD).status_code == 302
    assert sign_in(Client(), "alice", PASSWORD, ip="10.9.9.9").status_code == 302


def test_it_handles_the_end_of_the_cool_off(client, users, limit):
    for _ in range(limit):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", PASSWORD).status_code == 429
    # The cool-off counts from the last failure: move it back beyond LOGIN_LOCKOUT_MINUTES.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_it_handles_a_successful_sign_in_as_a_reset_of_the_count(client, users, limit):
    for _ in range(limit - 1):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    client.logout()
    for _ in range(limit - 1):
        assert sign_in(client, "alice", "wrong").status_code == 200
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_it_handles_api_tokens_and_sessions_without_throttling(client, users, token, limit):
    """Token and session authentication never go through the password backends."""
    for _ in range(limit):
        sign_in(client, "alice", "wrong", ip="127.0.0.1")
    from rest_framework.test import APIClient

    api = APIClient(REMOTE_ADDR="127.0.0.1")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/services/").status_code == 200
    signed_in = Client(REMOTE_ADDR="127.0.0.1")
    signed_in.force_login(users[0])
    assert signed_in.get("/api/v1/services/").status_code == 200


def test_it_rejects_a_bad_throttling_setting():
    import os
    import subprocess
    import sys

    from django.conf import settings

    env = {**os.environ, "LOGIN_FAILURE_LIMIT": "0"}
    found = subprocess.run([sys.executable, "-c", "import webapp.settings"], env=env, cwd=settings.BASE_DIR,
                           capture_output=True, text=True)
    assert found.returncode != 0
    assert "LOGIN_FAILURE_LIMIT must be at least 1" in found.stderr
