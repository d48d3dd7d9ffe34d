"""Topology and flow pages without a browser: the diagram page and its views, errors (400) and a
missing Graphviz (503), findings on the dashboard and the service page, and the flow pages with their
permissions. Query counts stay the same as the data grows."""
import re
from html import unescape

import pytest
from django.contrib.auth.models import User

from core.actors import actor_for_cli
from topology.flow_forms import FlowForm
from topology.manifest import InteractionSpec, ServiceSpec
from topology.models import AuditEvent, Flow, Team
from topology.registration import registration_apply
from topology.render import drawings_forget

CHAIN = "storefront-web,orders,payment,fraud-screening"
STEPS = "accounts/user-registered | UserRegistered\n\nclient/request\n"


def signed_in(client, username):
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def as_admin(demo, client):
    """The test client (not conftest's API client `admin`) signed in as the demo's admin."""
    return signed_in(client, "admin")


def text(response) -> str:
    return unescape(response.content.decode())


def big_system(teams=4, per_team=40):
    """teams x per_team services (more than the 150 that collapse teams): a sync chain inside each
    team and one call from each team to the next."""
    slugs = [f"team-{index}" for index in range(teams)]
    Team.objects.bulk_create([Team(slug=slug, name=slug.title()) for slug in slugs])
    specs = []
    for t, slug in enumerate(slugs):
        for index in range(per_team):
            name = f"{slug}-svc-{index:02d}"
            calls = []
            if index + 1 < per_team:
                calls.append(InteractionSpec(name="next", targets=(f"{slug}-svc-{index + 1:02d}",), style="rest"))
            if index == 0:
                calls.append(InteractionSpec(name="across", targets=(f"{slugs[(t + 1) % teams]}-svc-05",), style="grpc"))
            specs.append(ServiceSpec(name=name, team=slug, interactions=tuple(calls)))
    registration_apply(specs=specs, actor=actor_for_cli())
    drawings_forget()


# --- the topology page -------------------------------------------------------------------------


def test_it_draws_the_whole_topology_inline_with_downloads_and_findings(as_admin):
    response = as_admin.get("/topology/")
    assert response.status_code == 200
    body = text(response)
    diagram = body[body.index('id="topology-diagram"'):]
    assert diagram.split(">", 1)[1].lstrip().startswith("<svg")  # no XML prolog or doctype inlined
    assert "<?xml" not in body and "<!DOCTYPE svg" not in body
    assert 'xlink:href="/services/storefront-web/"' in body and 'target="_top"' in body
    assert 'href="/api/v1/topology/?format=png"' in body and 'href="/api/v1/diagrams/flowchart/"' in body
    assert "svg-pan-zoom.min.js" in body and 'data-zoom="fit"' in body
    findings = body[body.index('class="card topo-findings"'):]
    assert f'href="/topology/?chain={CHAIN}"' in findings
    assert 'href="/criteria/#s3-5"' in findings and 'href="/criteria/#s5-3"' in findings
    assert 'href="/topology/?focus=orders"' in findings  # the fan-out finding focuses its caller
    assert "topo-note" not in body  # no view is active


def test_it_shows_a_view_with_its_note_and_downloads_of_the_same_view(as_admin):
    body = text(as_admin.get("/topology/?focus=orders&hops=2&chain=" + CHAIN))
    assert "services within 2 hops of" in body and "highlighted" in body
    assert 'href="/api/v1/topology/?format=svg&focus=orders&hops=2&chain=' + CHAIN + '"' in body
    assert 'href="/api/v1/diagrams/flowchart/?focus=orders&hops=2&chain=' + CHAIN + '"' in body
    assert re.search(r'<li class="finding is-info is-shown">\s*<div class="finding-head">', body)
    assert 'value="orders"' in body and '<option value="2" selected>' in body
    assert f'<option value="{CHAIN}" selected>' in body


def test_it_shows_the_blast_radius_with_counts(as_admin):
    body = text(as_admin.get("/topology/?blast=payment"))
    assert "the blast radius of" in body
    assert "2 fail with it" in body and "3 only delayed" in body  # storefront-web, orders; shipping...
    assert 'xlink:href="/services/loyalty/"' in body and 'xlink:href="/services/accounts/"' not in body


@pytest.mark.parametrize("query,field", [
    ("focus=nope", "focus"), ("blast=nope", "blast"), ("team=nobody", "team"), ("hops=9&focus=orders", "hops"),
    ("hops=x", "hops"), ("chain=orders,nope", "chain"),
])
def test_it_names_a_bad_parameter_with_status_400(as_admin, query, field):
    response = as_admin.get("/topology/?" + query)
    assert response.status_code == 400
    body = text(response)
    assert "This view cannot be shown" in body and f"<code>{field}</code>" in body
    assert "<svg" not in body.split("This view cannot be shown")[1]
    assert 'aria-invalid="true"' in body


def test_it_explains_a_missing_graphviz_with_status_503(as_admin, no_graphviz):
    drawings_forget()
    response = as_admin.get("/topology/?focus=orders")
    assert response.status_code == 503
    body = text(response)
    assert "The diagram cannot be drawn right now" in body and "Graphviz is not installed" in body
    assert 'href="/api/v1/topology/?format=dot&focus=orders"' in body and "finding-list" in body


def test_it_needs_sign_in(demo, client):
    response = client.get("/topology/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_collapsed_teams_link_to_themselves_added_to_expand_keeping_the_view(db, client, staff):
    big_system()
    client.force_login(staff)
    body = text(client.get("/topology/"))
    assert "More than 150 services" in body
    assert 'xlink:href="?expand=team-1#opened-team-1"' in body
    assert 'xlink:href="/services/team-1-svc-00/"' not in body  # inside its folder

    body = text(client.get("/topology/?expand=team-1"))
    assert 'xlink:href="/services/team-1-svc-00/"' in body
    assert 'xlink:href="?expand=team-1,team-2#opened-team-2"' in body
    assert 'href="?"' in body  # the × that collapses team-1 again

    body = text(client.get("/topology/?team=team-1&expand=team-2"))  # 40 + neighbours: not collapsed
    assert "More than 150 services" not in body

    body = text(client.get("/topology/?chain=team-0-svc-00,team-1-svc-05&expand=team-3"))
    # the chain's services are drawn as themselves beside their teams' folders (not whole teams opened);
    # the folders keep the chain and add themselves
    assert 'xlink:href="/services/team-0-svc-00/"' in body and 'xlink:href="/services/team-1-svc-05/"' in body
    assert 'xlink:href="/services/team-0-svc-01/"' not in body  # the rest of team-0 stays in its folder
    assert 'xlink:href="?chain=team-0-svc-00,team-1-svc-05&expand=team-3,team-0#opened-team-0"' in body
    assert 'xlink:href="?chain=team-0-svc-00,team-1-svc-05&expand=team-3,team-2#opened-team-2"' in body
    assert 'data-zoom-to="team-0-svc-00,team-1-svc-05"' in body
    assert 'title="Collapse team-3 again"' in body and 'title="Collapse team-0 again"' not in body


def test_the_topology_page_makes_as_many_queries_with_more_services(as_admin, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(path):
        as_admin.get(path)  # warm: the topology of this stamp is loaded once per process
        with CaptureQueriesContext(connection) as captured:
            assert as_admin.get(path).status_code == 200
        return len(captured)

    small = count("/topology/?focus=orders")
    big_system(teams=3, per_team=20)
    assert count("/topology/?focus=orders") == small
    # the data stamp is one statement of index lookups; loading the changed topology adds three queries
    with django_assert_max_num_queries(20):
        as_admin.get("/topology/")


# --- findings on the dashboard and the service page ----------------------------------------------


def test_the_dashboard_lists_the_worst_findings_and_links_to_the_topology(as_admin):
    body = text(as_admin.get("/"))
    card = body[body.index('id="topology-findings"'):]
    card = card[:card.index("</section>")]
    assert "Topology findings" in card and 'href="/topology/"' in card
    assert card.count('class="finding ') == 3
    assert f'href="/topology/?chain={CHAIN}"' in card and 'href="/criteria/#s3-5"' in card


def test_the_service_page_shows_its_findings_and_topology_links(as_admin):
    body = text(as_admin.get("/services/payment/"))
    box = body[body.index('id="service-topology"'):]
    box = box[:box.index("</section>")]
    assert 'href="/topology/?focus=payment&hops=2"' in box and "Neighbourhood" in box
    assert 'href="/topology/?blast=payment"' in box and "Blast radius" in box
    assert 'href="/flows/derive/?entry=payment"' in box and "Sequence from here" in box
    assert box.count('class="finding ') == 2  # the chain and its availability
    assert "No topology findings" in text(as_admin.get("/services/accounts/"))


# --- flows ---------------------------------------------------------------------------------------


def test_the_flow_list_offers_drawing_from_an_entry_service(as_admin):
    Flow.objects.create(slug="empty", name="Empty flow")
    body = text(as_admin.get("/flows/"))
    assert 'action="/flows/derive/"' in body and '<option value="storefront-web">' in body
    assert 'href="/flows/empty/"' in body and 'href="/flows/new/"' in body
    assert "This flow has no steps left" in text(as_admin.get("/flows/empty/"))  # its interactions were deleted


def test_it_derives_a_sequence_from_an_entry_service(as_admin):
    response = as_admin.get("/flows/derive/?entry=client")
    assert response.status_code == 200
    body = text(response)
    assert "sequenceDiagram" in body and "title From client" in body
    assert 'href="/api/v1/diagrams/sequence/?entry=client&depth=6"' in body
    assert "mermaid.min.js" in body and "diagrams.js" in body
    assert 'href="/services/client/interactions/request/"' in body
    assert "calls or publishes to nothing" in text(as_admin.get("/flows/derive/?entry=fraud-screening"))


@pytest.mark.parametrize("query", ["", "entry=nope", "entry=client&depth=40", "entry=client&depth=x"])
def test_it_refuses_a_bad_entry_with_status_400(as_admin, query):
    response = as_admin.get("/flows/derive/?" + query)
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode() and "sequenceDiagram" not in response.content.decode()


def test_a_maintainer_writes_a_flow_and_sees_it_drawn(demo, client):
    signed_in(client, "ivan")
    form = text(client.get("/flows/new/"))
    team = Team.objects.get(slug="identity")
    choices = form.split('name="team"')[1].split("</select>")[0]
    assert f'<option value="{team.pk}" selected>Identity</option>' in choices and "Commerce" not in choices
    response = client.post("/flows/new/", {"slug": "signup", "name": "Sign-up", "description": "",
                                           "team": team.pk, "steps": STEPS})
    assert response.status_code == 302 and response["Location"] == "/flows/signup/"
    flow = Flow.objects.get(slug="signup")
    assert [(s.interaction.name, s.label) for s in flow.steps.order_by("position")] == [
        ("user-registered", "UserRegistered"), ("request", "")]
    body = text(client.get("/flows/signup/"))
    assert "title Sign-up" in body and "publish #quot;UserRegistered#quot;" in body
    assert 'href="/api/v1/diagrams/sequence/?flow=signup"' in body
    assert 'href="/flows/signup/edit/"' in body and 'href="/flows/signup/delete/"' in body
    assert AuditEvent.objects.filter(object_type="flow", object_key="signup").exists()

    edit = text(client.get("/flows/signup/edit/"))
    assert "accounts/user-registered | UserRegistered\nclient/request</textarea>" in edit


def test_bad_steps_are_named_by_their_line(demo, client):
    signed_in(client, "ivan")
    team = Team.objects.get(slug="identity")
    steps = "accounts/user-registered\n\nnope/nothing\nno-slash | label\n"
    response = client.post("/flows/new/", {"slug": "Bad Slug", "name": "x", "team": team.pk, "steps": steps})
    assert response.status_code == 200
    body = text(response)
    assert "Line 3: 'nope/nothing' is not an interaction" in body
    assert "Line 4: 'no-slash' is not an interaction" in body
    assert "slug 'Bad Slug' must be 1-63 lower-case letters" in body
    assert Flow.objects.count() == 0


def test_form_errors_map_pointers_to_fields():
    form = FlowForm({"slug": "a", "name": "A", "steps": "x/y\n\n  \nz/w"}, teams=Team.objects.none(), allow_no_team=True)
    form.is_valid()
    form.add_save_errors([{"pointer": "/steps/1/interaction", "message": "bad"}, {"pointer": "/slug", "message": "taken"},
                          {"pointer": "/steps", "message": "too many"}, {"pointer": "/other", "message": "odd"}])
    assert form.errors["steps"] == ["Line 4: bad", "too many"]
    assert form.errors["slug"] == ["taken"] and form.non_field_errors() == ["odd"]


def test_viewers_read_flows_but_cannot_write_them(demo, client):
    registration = Flow.objects.create(slug="signup", name="Sign-up", team=Team.objects.get(slug="identity"))
    signed_in(client, "victor")  # a viewer of every team
    assert client.get("/flows/signup/").status_code == 200
    assert 'href="/flows/signup/edit/"' not in client.get("/flows/signup/").content.decode()
    assert 'href="/flows/new/"' not in client.get("/flows/").content.decode()
    assert client.get("/flows/new/").status_code == 403
    assert client.get("/flows/signup/edit/").status_code == 403
    assert client.post("/flows/signup/delete/").status_code == 403
    signed_in(client, "maria")  # a maintainer, of another team
    assert client.post("/flows/signup/edit/", {"slug": "signup", "name": "Mine", "steps": "client/request"}).status_code == 403
    assert Flow.objects.get(pk=registration.pk).name == "Sign-up"


def test_writers_delete_a_flow_after_confirming(demo, client):
    Flow.objects.create(slug="signup", name="Sign-up", team=Team.objects.get(slug="identity"))
    signed_in(client, "ivan")
    assert "Delete flow Sign-up?" in text(client.get("/flows/signup/delete/"))
    response = client.post("/flows/signup/delete/")
    assert response.status_code == 302 and response["Location"] == "/flows/"
    assert not Flow.objects.exists()
    assert client.get("/flows/signup/").status_code == 404


def test_staff_may_keep_a_flow_without_a_team(as_admin):
    response = as_admin.post("/flows/new/", {"slug": "ops", "name": "Ops", "team": "", "steps": "client/request"})
    assert response.status_code == 302
    assert Flow.objects.get(slug="ops").team is None


def test_flow_pages_make_as_many_queries_with_more_flows(as_admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(path):
        as_admin.get(path)  # warm: the topology of this stamp is loaded once per process
        with CaptureQueriesContext(connection) as captured:
            assert as_admin.get(path).status_code == 200
        return len(captured)

    as_admin.post("/flows/new/", {"slug": "one", "name": "One", "team": "", "steps": "client/request"})
    list_one, detail_one = count("/flows/"), count("/flows/one/")
    for index in range(5):
        as_admin.post("/flows/new/", {"slug": f"more-{index}", "name": "More", "team": "",
                                      "steps": "client/request\nservice-a/query-dependency\naccounts/user-registered"})
    as_admin.post("/flows/one/edit/", {"slug": "one", "name": "One", "team": "",
                                       "steps": "client/request\nservice-a/query-dependency\norders/order-placed"})
    assert count("/flows/") == list_one
    assert count("/flows/one/") == detail_one


def test_it_offers_narrower_views_instead_of_drawing_one_too_large(db, client, staff):
    big_system(teams=3, per_team=100)
    client.force_login(staff)
    body = text(client.get("/topology/?team=team-1"))
    assert "This view is too large to read: 102 services, 102 nodes" in body
    assert 'id="topology-diagram"' not in body and "<svg" not in body.split('id="topology-too-large"')[1].split("</div>")[0]
    assert 'href="?team=team-1&alone=1">team team-1 alone, without its neighbours</a>' in body
    assert "100 nodes, still too large" in body and 'id="topo-narrow-focus"' in body
    body = text(client.get("/topology/?team=team-1&draw=all"))
    assert "This view is too large" not in body and 'id="topology-diagram"' in body and "<svg" in body
    body = text(client.get("/topology/?focus=team-1-svc-50&hops=6"))  # 13 services along the chain
    assert "This view is too large" not in body and 'id="focus"' in body


def test_it_lists_the_findings_of_the_view_and_counts_the_others(as_admin):
    whole = text(as_admin.get("/topology/"))
    assert "involve services outside this view" not in whole
    body = text(as_admin.get("/topology/?focus=catalog"))
    listed = body.split('id="topology-findings-title"')[1]
    assert "storefront-web → orders → payment → fraud-screening" not in listed  # a chain through others
    outside = re.search(r"(\d+) findings? involve services outside this view", listed)
    assert outside and int(outside.group(1)) > 0
    assert 'href="/topology/">the whole list</a>' in listed


def test_it_offers_no_channel_toggle_above_a_view_too_large_to_draw(db, client, staff):
    big_system(teams=3, per_team=100)
    registration_apply(specs=[ServiceSpec(name="team-1-events", team="team-1", interactions=(
        InteractionSpec(name="changed", targets=("team-1-svc-01",), style="pubsub", channel="team-1.changed",
                        broker="kafka"),))], actor=actor_for_cli())
    drawings_forget()
    client.force_login(staff)
    drawn = text(client.get("/topology/?team=team-1&draw=all"))
    assert "1 topic or queue with one producer and one consumer drawn as labelled dashed lines" in drawn
    refused = text(client.get("/topology/?team=team-1"))
    assert "This view is too large to read" in refused and "topo-channel-toggle" not in refused
