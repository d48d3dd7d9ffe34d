"""Mermaid diagrams in a real Chromium: every diagram the app makes must parse with the vendored
mermaid.js (`await mermaid.parse(text)` on a flow page), and the flow pages must draw them.

The texts come from topology.mermaid on the demo system (each service as an entry, the flowchart of
the whole system and of each team, a saved flow) and from plain data with awkward names: spaces,
quotes, semicolons, #, %, non-ASCII, emoji and very long names. Service names in the registry are
slugs, but labels, titles, channels and interaction names reach the text too.
"""
from html import unescape

import pytest

from tests.browser_helpers import screenshot, sign_in  # sets DJANGO_ALLOW_ASYNC_UNSAFE first

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.django_db(transaction=True)

PARSE_ALL = """async (texts) => {
  const results = [];
  for (const text of texts) {
    try { results.push((await mermaid.parse(text)) ? "ok" : "falsy"); }
    catch (error) { results.push(String((error && error.message) || error)); }
  }
  return results;
}"""
AWKWARD = [
    "with spaces", "dash-and-dash", 'double "quoted"', "it's", "semi;colon", "hash #1", "100% sure",
    "Zahlungsdienst ü", "服务", "rocket 🚀 launch", "x" * 300, "arrow -> and ->> and -->> and --x",
    "colon: here", "brackets [a] (b) {c} <d>", "pipe | bar", "end", "amp & entity &lt; #quot;", "back`tick",
    "%%{init: {}}%%", "note right of p1", "a\nnew line",
]
FLOW_STEPS = ["storefront-web/place-order | PlaceOrder", "orders/authorize-payment", "payment/screen-payment",
              "orders/order-placed | OrderPlaced", "orders/order-cancelled"]


def saved_flow():
    from core.actors import actor_for_cli
    from topology.flows import flow_save
    from topology.models import Team

    steps = [{"interaction": key.split(" | ")[0], "label": key.partition(" | ")[2]} for key in FLOW_STEPS]
    return flow_save(actor=actor_for_cli(), flow=None, slug="checkout", name="Checkout: pay, then tell everyone",
                     description="From the basket to the shipping note.", team=Team.objects.get(slug="commerce"),
                     steps=steps)


def parse_all(page, texts: list[str]) -> dict[str, str]:
    """{text: "ok" or mermaid's error} for each text, parsed by the page's mermaid.js."""
    results = page.evaluate(PARSE_ALL, texts)
    return {text: result for text, result in zip(texts, results)}


def failures(results: dict[str, str]) -> dict[str, str]:
    return {text: result for text, result in results.items() if result != "ok"}


def awkward_diagrams() -> list[str]:
    from topology.graph import Link, Node, Topology
    from topology.mermaid import Step, flowchart, sequence_diagram

    texts = []
    for name in AWKWARD:
        nodes = {name: Node(name=name, team=name), "plain": Node(name="plain", team="t"),
                 "ghost " + name: Node(name="ghost " + name)}
        links = [Link(source=name, target="plain", interaction=name, style="rest"),
                 Link(source="plain", target=name, interaction="x", style="pubsub", channel=name, broker="kafka"),
                 Link(source="plain", target="ghost " + name, interaction=name, style="queue", channel=name),
                 Link(source=name, target="ghost " + name, interaction=name, style="")]
        texts.append(flowchart(Topology(nodes=nodes, links=links)))
        steps = [Step(source=name, targets=("plain", name + " 2"), interaction=name, style="rest", label=name),
                 Step(source="plain", targets=(name,), interaction="call", style="grpc"),
                 Step(source=name, targets=("plain", "ghost"), interaction=name, style="pubsub", channel=name,
                      broker="nats", label=name),
                 Step(source="plain", targets=(name,), interaction=name, style="queue", channel="", broker="other"),
                 Step(source=name, targets=(name + " 2",), interaction=name, style="")]
        texts.append(sequence_diagram(steps, title=name))
    return texts


def test_every_diagram_the_app_makes_parses_with_the_vendored_mermaid(page, live_server, live_demo):
    from topology.flows import flow_steps, flow_list
    from topology.mermaid import flow_from_entry, flowchart, sequence_diagram
    from topology.rendering import View, view_select
    from topology.graph_selectors import topology_load

    flow = saved_flow()
    sign_in(page, live_server.url, "dora")
    page.goto(f"/flows/{flow.slug}/")  # a real page that loads mermaid.min.js
    expect(page.locator(".mermaid-box svg")).to_be_visible()
    assert page.evaluate("typeof mermaid.parse") == "function"

    topology = topology_load()
    derived = {name: sequence_diagram(flow_from_entry(topology, name), title=f"From {name}") for name in topology.nodes}
    assert len(derived) == 16 and sum("->>" in text for text in derived.values()) == 7  # 7 services call out
    teams = sorted({node.team for node in topology.nodes.values() if node.team})
    charts = [flowchart(topology)] + [flowchart(view_select(topology, View(team=team))) for team in teams]
    saved = sequence_diagram(flow_steps(flow_list().get(slug=flow.slug)), title=flow.name)
    assert saved.count("->>") >= 8 and "title Checkout#59;" not in saved  # ':' stays, ';' would not

    assert failures(parse_all(page, list(derived.values()))) == {}
    assert failures(parse_all(page, charts)) == {}
    assert failures(parse_all(page, [saved])) == {}
    # and the check is real: mermaid refuses a broken text
    broken = ["sequenceDiagram\n    p1->>: oops ->> ->>\n    participant", 'flowchart LR\n    a["x" --> ]]']
    assert "ok" not in parse_all(page, broken).values()


def test_awkward_names_and_labels_make_valid_diagrams(page, live_server, live_demo):
    saved_flow()
    sign_in(page, live_server.url, "dora")
    page.goto("/flows/checkout/")
    expect(page.locator(".mermaid-box svg")).to_be_visible()
    texts = awkward_diagrams()
    assert len(texts) == 2 * len(AWKWARD)
    assert failures(parse_all(page, texts)) == {}

    # Drawn, the entity codes come back as the characters they stand for.
    from topology.mermaid import Step, sequence_diagram

    words = ['double "quoted"', "semi;colon", "hash #1", "100% sure", "Zahlungsdienst ü", "服务", "rocket 🚀 launch"]
    text = sequence_diagram([Step(source=word, targets=("plain",), interaction=word, label=word) for word in words],
                            title="it's # 1; 100%")
    drawn = page.evaluate("async (text) => (await mermaid.render('awkward', text)).svg", text)
    for word in [*words, "it's # 1; 100%"]:
        assert word in unescape(drawn), word


def test_the_flow_page_draws_its_sequence_diagram(page, live_server, live_demo):
    flow = saved_flow()
    sign_in(page, live_server.url, "dora")
    page.goto("/flows/")
    page.get_by_role("link", name=flow.name).click()
    page.wait_for_url(f"**/flows/{flow.slug}/")
    box = page.locator(".mermaid-box")
    expect(box).to_have_attribute("data-rendered", "true")
    svg = box.locator("svg")
    expect(svg).to_be_visible()
    expect(svg).to_contain_text("storefront-web")
    expect(svg).to_contain_text("Kafka: orders.placed")
    expect(svg).to_contain_text('publish "OrderPlaced"')  # the entity codes come out as quotes
    expect(page.locator(".flow-steps tbody tr")).to_have_count(len(FLOW_STEPS))
    expect(page.get_by_role("link", name="authorize-payment")).to_have_attribute(
        "href", "/services/orders/interactions/authorize-payment/")
    page.get_by_text("Mermaid source").click()
    expect(page.locator("#mermaid-source")).to_contain_text("sequenceDiagram")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied").or_(page.get_by_role("button", name="Press Ctrl+C"))).to_be_visible()
    download = page.locator(".flow-diagram-card .card-header").get_by_role("link", name="Download .mmd")
    expect(download).to_have_attribute("href", f"/api/v1/diagrams/sequence/?flow={flow.slug}")
    text = page.request.get(f"/api/v1/diagrams/sequence/?flow={flow.slug}").text()
    assert text == page.locator("#mermaid-source").text_content()
    screenshot(page, "flow_page")


def test_the_sequence_derived_from_the_storefront_is_drawn(page, live_server, live_demo):
    sign_in(page, live_server.url, "dora")
    page.goto("/services/storefront-web/")
    page.get_by_role("link", name="Sequence from here").click()
    page.wait_for_url("**/flows/derive/?entry=storefront-web")
    svg = page.locator(".mermaid-box svg")
    expect(svg).to_be_visible()
    expect(svg).to_contain_text("fraud-screening")
    expect(svg).to_contain_text("RabbitMQ: thumbnails.jobs")
    screenshot(page, "flow_derived_storefront_web")
    fit = page.get_by_role("button", name="Fit to width")
    expect(fit).to_be_visible()  # twelve participants do not fit the page at a readable size
    fit.click()
    expect(fit).to_have_attribute("aria-pressed", "true")
    width = page.evaluate("document.querySelector('.mermaid-box svg').getBoundingClientRect().width")
    assert width <= page.evaluate("document.querySelector('.mermaid-box').clientWidth")
    screenshot(page, "flow_derived_storefront_web_fitted")

    page.get_by_label("Entry service").fill("nope")
    page.get_by_role("button", name="Draw").click()
    expect(page.get_by_role("alert")).to_contain_text("No service is named 'nope'")


def test_a_diagram_that_cannot_be_drawn_shows_a_readable_error(page, live_server, live_demo):
    flow = saved_flow()

    def broken(route):
        response = route.fetch()
        body = response.text().replace(">sequenceDiagram\n", ">sequenceDiagramm\n", 1)  # no such diagram type
        route.fulfill(response=response, body=body)

    page.route(f"**/flows/{flow.slug}/", broken)
    sign_in(page, live_server.url, "dora")
    page.goto(f"/flows/{flow.slug}/")
    error = page.locator(".mermaid-box .diagram-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("The diagram could not be drawn.")
    expect(error.locator("pre")).not_to_be_empty()  # mermaid's own words
    expect(page.locator(".mermaid-box")).to_have_attribute("data-rendered", "error")
    expect(page.locator("body > [id^='dmermaid']")).to_have_count(0)  # no stray render left behind
    screenshot(page, "flow_page_render_error")
