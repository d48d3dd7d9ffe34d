"""The topology page in a real Chromium: the inline SVG with pan and zoom, the view controls, the
findings panel's "Show" links, and a system of about 1,000 services whose teams are drawn as folders
that open on a click. Screenshots go to var/screenshots/ for a person to look at.
"""
import re

import pytest

from tests.browser_helpers import make_user, screenshot, sign_in  # sets DJANGO_ALLOW_ASYNC_UNSAFE first

from topology.render import drawings_forget

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.django_db(transaction=True)

CHAIN = "storefront-web,orders,payment,fraud-screening"
CHAIN_PEN = "#1f5fd1"  # topology.rendering.CHAIN_PEN


def ready(page):
    """The diagram is drawn and svg-pan-zoom has settled on its first view."""
    expect(page.locator("#topology-canvas")).to_have_attribute("data-ready", "true")


def zoom_state(page) -> dict:
    return page.evaluate("({zoom: topologyZoom.getZoom(), pan: topologyZoom.getPan()})")


def node(page, title: str):
    return page.locator("#topology-diagram g.node").filter(has=page.locator(f"xpath=./*[local-name()='title'][.='{title}']"))


def test_it_draws_the_demo_with_pan_and_zoom(page, live_server, live_demo):
    sign_in(page, live_server.url, "dora")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Topology").click()
    page.wait_for_url("**/topology/")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Topology")).to_have_attribute(
        "aria-current", "page")
    ready(page)
    svg = page.locator("#topology-diagram > svg")
    expect(svg).to_be_visible()
    expect(page.locator("#topology-diagram g.node")).to_have_count(20)  # 16 services, 3 channels, the legend
    expect(node(page, "storefront-web")).to_be_visible()
    screenshot(page, "topology_demo")

    first = zoom_state(page)
    page.get_by_role("button", name="Zoom in").click()
    assert zoom_state(page)["zoom"] > first["zoom"]
    page.get_by_role("button", name="Zoom out").click()
    page.get_by_role("button", name="Zoom out").click()
    assert zoom_state(page)["zoom"] < first["zoom"]
    page.get_by_role("button", name="Reset").click()
    reset = zoom_state(page)
    assert reset["zoom"] == pytest.approx(first["zoom"]) and reset["pan"] == pytest.approx(first["pan"])

    # Dragging pans and does not follow a link, even when it starts on a service. The canvas is as
    # tall as the window: scrolled to, as a person would, before the drag.
    page.locator(".topo-diagram-card").evaluate("card => card.scrollIntoView({block: 'start'})")
    box = node(page, "orders").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 60, steps=8)
    page.mouse.up()
    after = zoom_state(page)
    assert after["pan"]["x"] != pytest.approx(first["pan"]["x"])
    assert page.url.endswith("/topology/")
    page.get_by_role("button", name="Fit").click()

    # The mouse wheel zooms the diagram where it points.
    before = zoom_state(page)["zoom"]
    page.mouse.move(box["x"], box["y"])
    page.mouse.wheel(0, -300)
    page.wait_for_function(f"topologyZoom.getZoom() > {before}")

    # A plain click on a service opens its page.
    node(page, "payment").locator("a").first.click()
    page.wait_for_url("**/services/payment/")


def test_the_controls_show_a_focus_and_a_blast_radius(page, live_server, live_demo):
    sign_in(page, live_server.url, "dora")
    page.goto("/topology/")
    controls = page.get_by_role("form", name="Choose the view")
    controls.get_by_label("Focus on").fill("orders")
    controls.get_by_label("Hops around it").select_option("2")
    controls.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/topology/\?focus=orders&hops=2$"))  # empty fields left out
    ready(page)
    expect(page.locator("#topology-note")).to_contain_text("services within 2 hops of orders")
    expect(node(page, "orders")).to_be_visible()
    expect(node(page, "client")).to_have_count(0)
    screenshot(page, "topology_focus")

    page.get_by_role("link", name="Clear view").click()
    page.wait_for_url(re.compile(r"/topology/$"))
    controls.get_by_label("Blast radius of").fill("payment")
    controls.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/topology/\?blast=payment$"))
    ready(page)
    note = page.locator("#topology-note")
    expect(note).to_contain_text("the blast radius of payment")
    expect(note.locator(".topo-key-failing")).to_have_text("2 fail with it")
    expect(note.locator(".topo-key-delayed")).to_have_text("3 only delayed")
    expect(node(page, "storefront-web").locator("path, polygon").first).to_have_attribute("fill", "#fbdcdc")
    expect(node(page, "shipping").locator("path, polygon").first).to_have_attribute("fill", "#fff1cc")
    expect(node(page, "accounts")).to_have_count(0)
    screenshot(page, "topology_blast_radius")

    # A bad name is named on the page, with the controls still there to correct it.
    controls.get_by_label("Blast radius of").fill("nope")
    controls.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("no service named 'nope'")
    expect(controls.get_by_label("Blast radius of")).to_have_attribute("aria-invalid", "true")


def test_a_findings_show_link_highlights_the_chain(page, live_server, live_demo):
    sign_in(page, live_server.url, "dora")
    page.goto("/topology/")
    ready(page)
    panel = page.locator(".topo-findings")
    finding = panel.locator(".finding", has_text="3 synchronous calls in a row")
    expect(finding.get_by_role("link", name="§3.5")).to_have_attribute("href", "/criteria/#s3-5")
    finding.get_by_role("link", name="Show").click()
    page.wait_for_url(re.compile(r"/topology/\?chain=" + CHAIN + "$"))
    ready(page)
    expect(page.locator("#topology-note")).to_contain_text("storefront-web → orders → payment → fraud-screening")
    highlighted = page.locator(f"#topology-diagram g.edge path[stroke='{CHAIN_PEN}']")
    expect(highlighted).to_have_count(3)
    expect(panel.locator(".finding.is-shown")).to_have_count(2)  # the chain and its availability
    expect(page.get_by_label("Highlight a sync chain")).to_have_value(CHAIN)

    # The fan-out finding focuses its caller.
    panel.locator(".finding", has_text="calls 2 services synchronously").get_by_role("link", name="Show").click()
    page.wait_for_url(re.compile(r"/topology/\?focus=orders$"))
    screenshot(page, "topology_findings_show")


def test_the_dashboard_and_the_service_page_list_findings(page, live_server, live_demo):
    sign_in(page, live_server.url, "dora")
    card = page.locator("#topology-findings")
    expect(card.locator(".finding")).to_have_count(3)
    expect(card.get_by_role("link", name="Open the topology")).to_have_attribute("href", "/topology/")
    card.scroll_into_view_if_needed()
    screenshot(page, "dashboard_topology_findings")

    page.goto("/services/payment/")
    box = page.locator("#service-topology")
    expect(box.locator(".finding")).to_have_count(2)
    screenshot(page, "service_page_topology_findings")
    box.get_by_role("link", name="Blast radius").click()
    page.wait_for_url(re.compile(r"/topology/\?blast=payment$"))
    page.go_back()
    box.get_by_role("link", name="Neighbourhood").click()
    page.wait_for_url(re.compile(r"/topology/\?focus=payment&hops=2$"))
    ready(page)


# --- about 1,000 services ---------------------------------------------------------------------


def thousand_services(teams: int = 20, per_team: int = 50) -> None:
    """20 teams of 50: each service calls the next of its team, every fifth one calls into the next
    team, and every tenth publishes to the team after that."""
    from core.actors import actor_for_cli
    from topology.manifest import InteractionSpec, ServiceSpec
    from topology.models import Team
    from topology.registration import registration_apply

    slugs = [f"team-{index:02d}" for index in range(teams)]
    Team.objects.bulk_create([Team(slug=slug, name=f"Team {index}") for index, slug in enumerate(slugs)])
    specs = []
    for t, slug in enumerate(slugs):
        for index in range(per_team):
            calls = []
            if index + 1 < per_team:
                calls.append(InteractionSpec(name="next", targets=(f"{slug}-{index + 1:02d}",), style="rest"))
            if index % 5 == 0:
                calls.append(InteractionSpec(name="across", targets=(f"{slugs[(t + 1) % teams]}-{index + 2:02d}",),
                                             style="grpc"))
            if index % 10 == 0:
                calls.append(InteractionSpec(name="events", targets=(f"{slugs[(t + 2) % teams]}-{index:02d}",),
                                             style="pubsub", channel=f"{slug}.events", broker="kafka"))
            specs.append(ServiceSpec(name=f"{slug}-{index:02d}", team=slug, interactions=tuple(calls)))
    for start in range(0, len(specs), 500):
        registration_apply(specs=specs[start:start + 500], actor=actor_for_cli())
    drawings_forget()


def test_a_thousand_services_collapse_into_teams_that_open_on_a_click(page, live_server):
    thousand_services()
    from tests.test_topology_api import unwell

    unwell(("down", "degraded"))  # team-00-00 and team-00-01
    make_user("dora", staff=True)
    sign_in(page, live_server.url, "dora")
    page.goto("/topology/")
    ready(page)
    expect(page.locator(".topo-collapsed-note")).to_contain_text("More than 150 services")
    expect(page.locator("#topology-diagram g.node")).to_have_count(21)  # 20 team folders and the legend
    expect(page.locator("h2", has_text="Diagram")).to_contain_text("1,000 services")
    # Fitted to the canvas, the graph of folders is drawn large enough to read its 14pt labels.
    assert page.evaluate("topologyZoom.getSizes().realZoom") >= 0.6
    screenshot(page, "topology_1000_collapsed")

    expect(node(page, "team:team-00")).to_contain_text("1 down · 1 degraded")
    folder = node(page, "team:team-03")
    expect(folder).to_contain_text("50 services")
    folder.locator("a").first.click()
    page.wait_for_url(re.compile(r"/topology/\?expand=team-03#opened-team-03$"))
    ready(page)
    expect(node(page, "team-03-00")).to_be_visible()
    expect(node(page, "team:team-03")).to_have_count(0)
    expect(page.locator("#topology-note")).to_contain_text("teams opened: team-03")
    cluster = page.locator("#topology-diagram g.cluster", has_text="team-03")
    inside = cluster.bounding_box()
    canvas = page.locator("#topology-canvas").bounding_box()
    assert inside["y"] < canvas["y"] + canvas["height"] and inside["y"] + 40 > canvas["y"]  # zoomed to it
    screenshot(page, "topology_1000_team_expanded")

    # Another folder adds itself to `expand` and keeps the view's other parameters; × closes a team.
    page.goto("/topology/?chain=team-03-00,team-03-01,team-03-02&expand=team-07")
    ready(page)
    expect(page.locator("#topology-note")).to_contain_text("team-03-00 → team-03-01 → team-03-02")
    expect(page.locator(f"#topology-diagram g.edge path[stroke='{CHAIN_PEN}']")).to_have_count(2)
    page.get_by_role("button", name="Fit").click()  # the first view showed the chain, up close
    node(page, "team:team-10").locator("a").first.click()
    page.wait_for_url(re.compile(
        r"/topology/\?chain=team-03-00,team-03-01,team-03-02&expand=team-07,team-10#opened-team-10$"))
    ready(page)
    expect(node(page, "team-10-49")).to_have_count(1)
    page.locator(".topo-collapse[aria-label='Collapse team-07']").click()
    page.wait_for_url(re.compile(r"/topology/\?chain=team-03-00,team-03-01,team-03-02&expand=team-10$"))
    expect(node(page, "team:team-07")).to_have_count(1)


def hub_and_far_team() -> None:
    """Team home (hub, h1: hub calls h1), team far (f0..f9: hub calls each), team near (n0, called by h1)."""
    from core.actors import actor_for_cli
    from topology.manifest import InteractionSpec, ServiceSpec
    from topology.models import Team
    from topology.registration import registration_apply

    Team.objects.bulk_create([Team(slug=slug, name=slug.title()) for slug in ("home", "far", "near")])
    calls = tuple(InteractionSpec(name=f"call-f{i}", targets=(f"f{i}",), style="rest") for i in range(10))
    specs = [ServiceSpec(name="hub", team="home", interactions=(
                 InteractionSpec(name="call-h1", targets=("h1",), style="grpc"), *calls)),
             ServiceSpec(name="h1", team="home", interactions=(
                 InteractionSpec(name="call-n0", targets=("n0",), style="rest"),)),
             ServiceSpec(name="n0", team="near")]
    specs += [ServiceSpec(name=f"f{i}", team="far") for i in range(10)]
    registration_apply(specs=specs, actor=actor_for_cli())
    drawings_forget()


def test_a_focus_view_marks_the_focus_in_the_middle_and_opens_a_folded_team_on_a_click(page, live_server):
    hub_and_far_team()
    make_user("dora", staff=True)
    sign_in(page, live_server.url, "dora")
    page.goto("/topology/?focus=hub&hops=2")
    ready(page)
    expect(page.locator("#topology-note")).to_contain_text("other teams folded: 1 folder")
    focus = page.locator("#topology-diagram g#focus")
    expect(focus).to_have_count(1)
    expect(focus.locator("path, polygon").first).to_have_attribute("fill", "#1f5fd1")
    expect(focus.locator("text").first).to_have_attribute("font-weight", "bold")
    box, canvas = focus.bounding_box(), page.locator("#topology-canvas").bounding_box()
    middle = (box["x"] + box["width"] / 2 - canvas["x"], box["y"] + box["height"] / 2 - canvas["y"])
    assert canvas["width"] / 3 < middle[0] < canvas["width"] * 2 / 3, middle  # in the middle of the canvas
    assert canvas["height"] / 4 < middle[1] < canvas["height"] * 3 / 4, middle
    expect(node(page, "n0")).to_have_count(1)  # a team with one service in the view keeps it
    folder = node(page, "team:far")
    expect(folder).to_contain_text("10 services")
    expect(node(page, "f3")).to_have_count(0)
    screenshot(page, "topology_focus_folded")

    folder.locator("a").first.click()
    page.wait_for_url(re.compile(r"/topology/\?focus=hub&hops=2&expand=far#opened-far$"))
    ready(page)
    expect(node(page, "f3")).to_have_count(1)
    expect(node(page, "team:far")).to_have_count(0)
    expect(page.locator("#topology-note")).to_contain_text("teams opened: far")
    expect(page.locator("#topology-diagram g#focus")).to_have_count(1)
