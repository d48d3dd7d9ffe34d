"""Team members managed on the team page and through the API: who may do what, the last-maintainer
rule, validation with field names and pointers, the audit trail, and one browser walk-through.

The cast (tests/conftest.py): commerce is the team; maria maintains it, victor views it; root is
staff; the commerce token is CI's. Added here: otto maintains identity (another team), zed belongs to
no team.
"""
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.actors import actor_for_cli
from core.errors import Forbidden
from topology.models import AuditEvent, TeamMembership
from topology.selectors import actor_for_token
from topology.services import team_member_add, token_create

from .conftest import member

MEMBERS = "/api/v1/teams/commerce/members/"


@pytest.fixture
def other_maintainer(other_team):
    return member(other_team, "otto", "maintainer")


@pytest.fixture
def zed(db):
    return User.objects.create_user("zed", password="pw-zed")


@pytest.fixture
def cast(maintainer, viewer, staff, other_maintainer, zed, token):
    """Everyone at once: maria, victor, root, otto, zed and the commerce token."""
    return {"maintainer": maintainer, "viewer": viewer, "staff": staff, "other_maintainer": other_maintainer,
            "token": token}


def api_as(cast, who) -> APIClient:
    client = APIClient()
    if who == "token":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {cast['token']}")
    elif who != "anonymous":
        client.force_login(cast[who])
    return client


def state() -> tuple:
    """Every membership, who is staff, and how many users and audit events there are: what a denied or
    invalid request must not move."""
    memberships = sorted(TeamMembership.objects.values_list("team__slug", "user__username", "role"))
    staff = sorted(User.objects.filter(is_staff=True).values_list("username", flat=True))
    return memberships, staff, User.objects.count(), AuditEvent.objects.count()


def membership_events():
    return list(AuditEvent.objects.filter(object_type="membership").order_by("id"))


def pointers(response) -> dict:
    return {error["pointer"]: error["message"] for error in response.json()["errors"]}


WRITES = {
    "add": lambda client: client.post(MEMBERS, {"username": "zed", "role": "viewer"}, format="json"),
    "change": lambda client: client.patch(MEMBERS + "victor/", {"role": "maintainer"}, format="json"),
    "remove": lambda client: client.delete(MEMBERS + "victor/"),
}


# --- API: reading ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["staff", "maintainer", "other_maintainer", "viewer", "token"])
def test_it_handles_listing_the_members_for_every_signed_in_caller(cast, who):
    response = api_as(cast, who).get(MEMBERS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["username"], row["role"]) for row in rows] == [("maria", "maintainer"), ("victor", "viewer")]
    assert set(rows[0]) == {"username", "full_name", "role", "since"}


def test_it_handles_since_from_the_audit_trail(cast):
    api_as(cast, "maintainer").post(MEMBERS, {"username": "zed", "role": "viewer"}, format="json")
    rows = {row["username"]: row for row in api_as(cast, "viewer").get(MEMBERS).json()["results"]}
    added = AuditEvent.objects.get(object_type="membership", object_key="commerce/zed")
    assert rows["zed"]["since"] is not None and rows["zed"]["since"].startswith(added.at.strftime("%Y-%m-%dT%H:%M"))
    assert rows["maria"]["since"] is None  # written directly by the fixture, outside the audit trail


@pytest.mark.parametrize("method,url", [("get", MEMBERS), ("post", MEMBERS), ("patch", MEMBERS + "victor/"),
                                        ("delete", MEMBERS + "victor/")])
def test_it_rejects_anonymous_api_calls(cast, method, url):
    before = state()
    response = getattr(api_as(cast, "anonymous"), method)(url, {"username": "zed", "role": "viewer"}, format="json")
    assert response.status_code == 401
    assert state() == before


def test_it_rejects_an_unknown_team_or_a_user_who_is_not_a_member(cast):
    client = api_as(cast, "maintainer")
    before = state()
    assert client.get("/api/v1/teams/nope/members/").status_code == 404
    assert client.post("/api/v1/teams/nope/members/", {"username": "zed", "role": "viewer"}).status_code == 404
    for url in ("/api/v1/teams/nope/members/victor/", MEMBERS + "zed/"):
        assert client.patch(url, {"role": "viewer"}, format="json").status_code == 404
        assert client.delete(url).status_code == 404
    assert state() == before


# --- API: writing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["maintainer", "staff"])
def test_it_handles_adding_changing_and_removing_a_member_over_the_api(cast, who):
    client = api_as(cast, who)
    actor = cast[who].username

    response = client.post(MEMBERS, {"username": "zed", "role": "viewer"}, format="json")
    assert response.status_code == 201
    assert response.json()["username"] == "zed" and response.json()["role"] == "viewer"
    assert response.json()["since"] is not None

    response = client.patch(MEMBERS + "zed/", {"role": "maintainer"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "maintainer"
    assert TeamMembership.objects.get(team__slug="commerce", user__username="zed").role == "maintainer"

    assert client.delete(MEMBERS + "zed/").status_code == 204
    assert not TeamMembership.objects.filter(user__username="zed").exists()
    assert User.objects.filter(username="zed").exists()  # the account stays

    events = membership_events()
    assert [(e.action, e.object_key, e.changes) for e in events] == [
        ("create", "commerce/zed", {"role": [None, "viewer"]}),
        ("update", "commerce/zed", {"role": ["viewer", "maintainer"]}),
        ("delete", "commerce/zed", {"role": ["maintainer", None]}),
    ]
    assert {(e.actor, e.via, e.team_slug, e.user_id) for e in events} == {(actor, "api", "commerce", cast[who].pk)}


def test_it_handles_a_patch_that_changes_nothing_without_an_audit_event(cast):
    client = api_as(cast, "maintainer")
    before = state()
    assert client.patch(MEMBERS + "victor/", {"role": "viewer"}, format="json").json()["role"] == "viewer"
    assert client.patch(MEMBERS + "victor/", {}, format="json").status_code == 200
    assert state() == before


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("who", ["viewer", "other_maintainer", "token"])
def test_it_rejects_api_writes_by_callers_who_do_not_maintain_the_team(cast, who, write):
    before = state()
    response = WRITES[write](api_as(cast, who))
    assert response.status_code == 403
    assert "may not change" in response.json()["detail"]
    assert state() == before


def test_it_rejects_a_team_token_writing_members_even_of_its_own_team(cast, team):
    """Tokens read members and never write them: a CI credential must not hand out access."""
    response = WRITES["add"](api_as(cast, "token"))
    assert "API tokens only read them" in response.json()["detail"]
    token, _ = token_create(actor=actor_for_cli(), team=team, name="deploy")
    with pytest.raises(Forbidden):
        team_member_add(actor=actor_for_token(token=token), team=team, username="zed", role="viewer")


def test_it_rejects_a_refused_caller_before_looking_at_the_body(cast):
    response = api_as(cast, "viewer").post(MEMBERS, {"role": "staff"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["maintainer", "staff"])
def test_it_rejects_removing_or_demoting_the_last_maintainer(cast, who):
    client = api_as(cast, who)
    before = state()
    response = client.patch(MEMBERS + "maria/", {"role": "viewer"}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == ("maria is the last maintainer of commerce, so they cannot be made a viewer: "
                                         "make another member a maintainer first")
    response = client.delete(MEMBERS + "maria/")
    assert response.status_code == 409
    assert "last maintainer of commerce" in response.json()["detail"]
    assert state() == before


def test_it_handles_demoting_a_maintainer_when_another_one_remains(cast):
    client = api_as(cast, "maintainer")
    assert client.patch(MEMBERS + "victor/", {"role": "maintainer"}, format="json").status_code == 200
    assert client.patch(MEMBERS + "maria/", {"role": "viewer"}, format="json").status_code == 200
    # maria is a viewer now, so she may no longer change members; victor, the last maintainer, stays.
    assert client.delete(MEMBERS + "victor/").status_code == 403
    assert api_as(cast, "staff").delete(MEMBERS + "victor/").status_code == 409


@pytest.mark.parametrize("body,expected", [
    ({}, {"/username": "This field is required.", "/role": "This field is required."}),
    ({"username": "zed", "role": "staff"}, {"/role": '"staff" is not a valid choice.'}),
    ({"username": "nobody", "role": "viewer"}, {"/username": "there is no user named 'nobody'"}),
    ({"username": "ZED", "role": "viewer"}, {"/username": "there is no user named 'ZED'; did you mean 'zed'?"}),
    ({"username": "victor", "role": "maintainer"},
     {"/username": "victor is already a member of commerce (viewer); change their role instead"}),
    ({"username": "", "role": "viewer"}, {"/username": "This field may not be blank."}),
])
def test_it_rejects_invalid_member_bodies_with_pointers(cast, body, expected):
    before = state()
    response = api_as(cast, "maintainer").post(MEMBERS, body, format="json")
    assert response.status_code == 422
    assert response.json()["detail"] == "the request is invalid"
    assert pointers(response) == expected
    assert state() == before


def test_it_rejects_escalating_anyone_to_staff(cast):
    client = api_as(cast, "maintainer")
    before = state()
    response = client.post(MEMBERS, {"username": "zed", "role": "staff", "is_staff": True}, format="json")
    assert response.status_code == 422 and set(pointers(response)) == {"/role"}
    response = client.patch(MEMBERS + "victor/", {"role": "staff", "is_staff": True}, format="json")
    assert response.status_code == 422 and set(pointers(response)) == {"/role"}
    response = client.patch(MEMBERS + "victor/", {"role": "maintainer", "is_staff": True}, format="json")
    assert response.status_code == 200
    assert not User.objects.get(username="victor").is_staff  # only the role in the team changed
    assert state()[1] == before[1]


def test_it_handles_documenting_the_member_endpoints_with_their_refusals(db):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    collection, item = paths["/api/v1/teams/{slug}/members/"], paths["/api/v1/teams/{slug}/members/{username}/"]
    assert set(collection) == {"get", "post"} and set(item) == {"patch", "delete"}
    assert set(collection["get"]["responses"]) == {"200", "401", "404"}
    assert set(collection["post"]["responses"]) == {"201", "400", "401", "403", "404", "422"}
    assert set(item["patch"]["responses"]) == {"200", "400", "401", "403", "404", "409", "422"}
    assert set(item["delete"]["responses"]) == {"204", "401", "403", "404", "409"}


def test_it_handles_each_member_answer_as_the_schema_documents_it(cast):
    """Every status the member endpoints answer with is documented, and its JSON fits the documented shape."""
    import json

    import jsonschema

    def nullable(node):  # OpenAPI 3.0's `nullable: true` as JSON Schema
        if isinstance(node, list):
            return [nullable(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: nullable(value) for key, value in node.items()}
        return {"anyOf": [node, {"type": "null"}]} if node.pop("nullable", False) else node

    staff = api_as(cast, "staff")
    document = json.loads(staff.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    components = nullable(document["components"])
    item = MEMBERS + "{username}/"
    answers = [
        ("GET", MEMBERS, staff.get(MEMBERS)),
        ("GET", MEMBERS, api_as(cast, "anonymous").get(MEMBERS)),
        ("POST", MEMBERS, staff.post(MEMBERS, {"username": "zed", "role": "viewer"}, format="json")),
        ("POST", MEMBERS, staff.post(MEMBERS, {"username": "zed", "role": "staff"}, format="json")),
        ("POST", MEMBERS, staff.post(MEMBERS, "{", content_type="application/json")),
        ("POST", MEMBERS, api_as(cast, "token").post(MEMBERS, {"username": "zed", "role": "viewer"}, format="json")),
        ("PATCH", item, staff.patch(MEMBERS + "zed/", {"role": "maintainer"}, format="json")),
        ("PATCH", item, staff.patch(MEMBERS + "nobody/", {"role": "maintainer"}, format="json")),
        ("DELETE", item, staff.delete(MEMBERS + "zed/")),
        ("DELETE", item, staff.delete(MEMBERS + "maria/")),
    ]
    assert [answer.status_code for _, _, answer in answers] == [200, 401, 201, 422, 400, 403, 200, 404, 204, 409]
    for method, path, answer in answers:
        template = path.replace("commerce", "{slug}")
        responses = document["paths"][template][method.lower()]["responses"]
        assert str(answer.status_code) in responses, f"{method} {template} does not document {answer.status_code}"
        if answer.status_code != 204:
            schema = responses[str(answer.status_code)]["content"]["application/json"]["schema"]
            jsonschema.validate(answer.json(), {**nullable(schema), "components": components})


# --- Pages ----------------------------------------------------------------------------------------

def page_as(client, cast, who):
    if who != "anonymous":
        client.force_login(cast[who])
    return client


PAGE_WRITES = {
    "add": ("/teams/commerce/members/", {"member-username": "zed", "member-role": "viewer"}),
    "change": ("/teams/commerce/members/victor/role/", {"role": "maintainer"}),
    "remove": ("/teams/commerce/members/victor/remove/", {}),
}


@pytest.mark.parametrize("who,manages", [("staff", True), ("maintainer", True), ("other_maintainer", False),
                                         ("viewer", False)])
def test_it_handles_showing_the_members_to_everyone_who_may_see_the_team(client, cast, who, manages):
    response = page_as(client, cast, who).get("/teams/commerce/")
    assert response.status_code == 200
    assert [(m.user.username, m.role) for m in response.context["members"]] == [("maria", "maintainer"),
                                                                                ("victor", "viewer")]
    body = response.content.decode()
    assert 'id="members"' in body and "<th scope=\"col\">Since</th>" in body
    assert ('action="/teams/commerce/members/"' in body) is manages
    assert ('aria-label="Role of victor"' in body) is manages
    assert ('action="/teams/commerce/members/victor/remove/"' in body) is manages


def test_it_handles_adding_changing_and_removing_a_member_on_the_page(client, cast):
    client = page_as(client, cast, "maintainer")
    response = client.post(*PAGE_WRITES["add"])
    assert response.status_code == 302 and response["Location"] == "/teams/commerce/#members"
    page = client.get("/teams/commerce/").content.decode()
    assert "zed added to Commerce as viewer." in page

    response = client.post("/teams/commerce/members/zed/role/", {"role": "maintainer"}, follow=True)
    assert "zed is now a maintainer of Commerce." in response.content.decode()
    response = client.post("/teams/commerce/members/zed/remove/", follow=True)
    assert "zed removed from Commerce." in response.content.decode()

    events = membership_events()
    assert [(e.action, e.changes, e.actor, e.via) for e in events] == [
        ("create", {"role": [None, "viewer"]}, "maria", "ui"),
        ("update", {"role": ["viewer", "maintainer"]}, "maria", "ui"),
        ("delete", {"role": ["maintainer", None]}, "maria", "ui"),
    ]
    history = list(response.context["history"])
    assert [(e.object_type, e.object_key) for e in history[:3]] == [("membership", "commerce/zed")] * 3


@pytest.mark.parametrize("write", PAGE_WRITES)
@pytest.mark.parametrize("who", ["viewer", "other_maintainer"])
def test_it_rejects_page_writes_by_users_who_do_not_maintain_the_team(client, cast, who, write):
    before = state()
    response = page_as(client, cast, who).post(*PAGE_WRITES[write])
    assert response.status_code == 403
    assert "may not change the members of team &#x27;commerce&#x27;" in response.content.decode()
    assert state() == before


@pytest.mark.parametrize("write", PAGE_WRITES)
def test_it_rejects_anonymous_page_writes(client, cast, write):
    before = state()
    response = client.post(*PAGE_WRITES[write])
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert state() == before


@pytest.mark.parametrize("data,field,message", [
    ({"member-username": "nobody", "member-role": "viewer"}, "username", "there is no user named &#x27;nobody&#x27;"),
    ({"member-username": "victor", "member-role": "viewer"}, "username",
     "victor is already a member of commerce (viewer); change their role instead"),
    ({"member-username": "zed", "member-role": "staff"}, "role", "Select a valid choice. staff is not one of the"),
    ({"member-username": "", "member-role": "viewer"}, "username", "This field is required."),
])
def test_it_rejects_unknown_usernames_duplicates_and_bad_roles_on_the_page(client, cast, data, field, message):
    before = state()
    response = page_as(client, cast, "maintainer").post("/teams/commerce/members/", data)
    assert response.status_code == 422
    assert list(response.context["member_form"].errors) == [field]
    assert message in response.content.decode()
    assert state() == before


def test_it_rejects_removing_or_demoting_the_last_maintainer_on_the_page(client, cast):
    client = page_as(client, cast, "maintainer")
    before = state()
    response = client.post("/teams/commerce/members/maria/role/", {"role": "viewer"})
    assert response.status_code == 409
    assert ("The role of maria was not changed: maria is the last maintainer of commerce, so they cannot be made a "
            "viewer: make another member a maintainer first.") in response.content.decode()
    response = client.post("/teams/commerce/members/maria/remove/")
    assert response.status_code == 409
    assert ("maria is the last maintainer of commerce, so they cannot be removed: make another member a maintainer "
            "first.") in response.content.decode()
    assert client.post("/teams/commerce/members/maria/role/", {"role": "staff"}).status_code == 422
    assert state() == before


def test_it_rejects_a_page_write_for_someone_who_is_not_a_member(client, cast):
    client = page_as(client, cast, "maintainer")
    assert client.post("/teams/commerce/members/zed/remove/").status_code == 404
    assert client.post("/teams/nope/members/", PAGE_WRITES["add"][1]).status_code == 404
    assert client.get("/teams/commerce/members/").status_code == 405


def test_it_handles_htmx_member_changes_in_place(client, cast):
    client = page_as(client, cast, "maintainer")
    response = client.post(*PAGE_WRITES["add"], HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="members"' in body and "zed added to Commerce as viewer." in body
    assert 'id="history" hx-swap-oob="true"' in body and "commerce/zed" in body

    response = client.post("/teams/commerce/members/maria/remove/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 409 and "<html" not in body and 'hx-swap-oob' not in body
    assert "maria is the last maintainer of commerce, so they cannot be removed" in body

    response = client.post("/teams/commerce/members/", {"member-username": "nobody", "member-role": "viewer"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "there is no user named" in response.content.decode()


def test_it_handles_an_htmx_refusal_in_place(client, cast):
    response = page_as(client, cast, "viewer").post(*PAGE_WRITES["remove"], HTTP_HX_REQUEST="true")
    assert response.status_code == 403 and "<html" not in response.content.decode()
    assert "victor may not change the members" in response.content.decode()


def test_it_handles_many_members_in_constant_page_queries(client, cast, team):
    client = page_as(client, cast, "maintainer")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/teams/commerce/").status_code == 200
        return len(captured)

    small = queries()
    for index in range(20):
        user = User.objects.create_user(f"user{index}")
        team_member_add(actor=actor_for_cli(), team=team, username=user.username, role="viewer")
    assert queries() == small


# --- Browser --------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_it_handles_adding_a_member_and_changing_their_role_in_the_browser(page, live_server):
    expect = pytest.importorskip("playwright.sync_api").expect

    from tests.browser_helpers import make_team, make_user, screenshot, sign_in

    team = make_team("payments", "Payments", "Money in, money out.")
    make_user("maya", team=team, role="maintainer")
    make_user("pat", team=team, role="viewer")
    make_user("zoe")
    base = live_server.url
    sign_in(page, base, "maya")

    page.goto(f"{base}/teams/payments/")
    members = page.locator("#members")
    members.get_by_label("Username").fill("zoe")
    members.get_by_label("Role", exact=True).select_option("viewer")
    members.get_by_role("button", name="Add member").click()
    expect(members.locator(".message-success")).to_have_text("zoe added to Payments as viewer.")
    row = members.locator("tbody tr", has_text="zoe")
    expect(row.get_by_label("Role of zoe", exact=True)).to_have_value("viewer")
    expect(page.locator("#history")).to_contain_text("payments/zoe")

    row.get_by_label("Role of zoe", exact=True).select_option("maintainer")
    row.get_by_role("button", name="Change the role of zoe").click()
    expect(members.locator(".message-success")).to_have_text("zoe is now a maintainer of Payments.")
    expect(members.locator("tbody tr", has_text="zoe").get_by_label("Role of zoe", exact=True)).to_have_value("maintainer")
    assert TeamMembership.objects.get(team=team, user__username="zoe").role == "maintainer"
    assert [e.changes for e in membership_events()] == [{"role": [None, "viewer"]}, {"role": ["viewer", "maintainer"]}]

    screenshot(page, "test_it_handles_adding_a_member_and_changing_their_role_in_the_browser")

    members.get_by_label("Username").fill("nobody")
    members.get_by_role("button", name="Add member").click()
    expect(members.locator(".errorlist")).to_contain_text("there is no user named 'nobody'")
    expect(members.get_by_label("Username")).to_have_value("nobody")
    screenshot(page, "test_it_handles_adding_a_member_and_changing_their_role_in_the_browser-error")
