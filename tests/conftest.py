import os

import pytest
from django.contrib.auth.models import User

from topology.choices import TeamRole
from topology.models import Team, TeamMembership
from topology.actors import actor_for_cli
from topology.services import token_create

# Playwright's sync API runs an event loop in the test thread; the ORM calls made next to it are
# synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are created in many tests; the real hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def team(db):
    return Team.objects.create(slug="commerce", name="Commerce")


@pytest.fixture
def other_team(db):
    return Team.objects.create(slug="identity", name="Identity")


def member(team, username, role):
    user = User.objects.create_user(username, password="pw-" + username)
    TeamMembership.objects.create(team=team, user=user, role=role)
    return user


@pytest.fixture
def maintainer(team):
    return member(team, "maria", TeamRole.MAINTAINER)


@pytest.fixture
def viewer(team):
    return member(team, "victor", TeamRole.VIEWER)


@pytest.fixture
def staff(db):
    return User.objects.create_user("root", password="pw-root", is_staff=True)


@pytest.fixture
def token(team):
    """A raw API token of the commerce team."""
    return token_create(actor=actor_for_cli(), team=team, name="ci")[1]
