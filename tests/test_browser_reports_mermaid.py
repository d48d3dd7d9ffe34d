"""The Mermaid bundle in a real Chromium: every ```mermaid block of the exported Markdown (whole system,
one team, one service) and every .mmd of the zip must parse with the vendored mermaid.js, as must a
folded flowchart of a large system; and the pages offer the downloads.

The harness (parse_all, failures, a saved flow) is the one of tests/test_browser_diagrams.py.
"""
import io
import re
import zipfile

import pytest

from tests.browser_helpers import screenshot, sign_in  # sets DJANGO_ALLOW_ASYNC_UNSAFE first
from tests.test_browser_diagrams import AWKWARD, failures, parse_all, saved_flow

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.django_db(transaction=True)

REPORT_URL, ZIP_URL = "/api/v1/exports/mermaid/", "/api/v1/exports/mermaid.zip"
SCOPES = {"whole system": "", "team commerce": "?team=commerce", "orders and neighbours within 2 hops":
          "?service=orders&hops=2"}
FENCED = re.compile(r"^(`{3,})mermaid\n(.*?)^\1$", flags=re.M | re.S)


def mermaid_blocks(markdown: str) -> list[str]:
    return [found.group(2) for found in FENCED.finditer(markdown)]


def on_a_page_with_mermaid(page, live_server) -> None:
    sign_in(page, live_server.url, "dora")
    page.goto("/flows/checkout/")  # a real page that loads mermaid.min.js
    expect(page.locator(".mermaid-box svg")).to_be_visible()


def folded_charts() -> list[str]:
    """Folded flowcharts of a hand-made system with awkward team and service names, each team kept once."""
    from topology.graph import Link, Node, Topology
    from topology.mermaid import flowchart, folded_flowchart

    nodes = {f"{team} {n}": Node(name=f"{team} {n}", team=team, health=("down", "", "degraded")[n % 3])
             for team in AWKWARD[:8] for n in range(3)}
    nodes["ghost"] = Node(name="ghost")
    names = sorted(nodes)
    links = [Link(source=name, target=names[(index + 4) % len(names)], interaction=f"i{index}",
                  style=("rest", "pubsub", "", "queue")[index % 4], channel=f"ch {index % 3}", mismatch="warning")
             for index, name in enumerate(names)]
    topology = Topology(nodes=nodes, links=links)
    empty = flowchart(Topology(nodes={}))  # a team without services
    return [empty] + [folded_flowchart(topology, keep=keep)[0] for keep in (None, *AWKWARD[:8])]


def test_it_parses_every_mermaid_block_and_file_of_the_bundle(page, live_server, live_demo):
    saved_flow()
    on_a_page_with_mermaid(page, live_server)
    texts = {}
    for label, query in SCOPES.items():
        response = page.request.get(REPORT_URL + query)
        assert response.ok and response.headers["content-type"] == "text/markdown; charset=utf-8"
        markdown = response.text()
        assert markdown.startswith(f"# Switchboard report: {label}\n")
        blocks = mermaid_blocks(markdown)
        assert blocks[0].startswith("flowchart LR") and len(blocks) >= 2, label  # the topology and a flow at least
        assert any(block.startswith("sequenceDiagram\n    title Checkout") for block in blocks), label
        texts |= {f"{label} block {index}": block for index, block in enumerate(blocks)}
        archive = zipfile.ZipFile(io.BytesIO(page.request.get(ZIP_URL + query).body()))
        files = [name for name in archive.namelist() if name.endswith(".mmd")]
        assert "diagrams/topology.mmd" in files and "diagrams/flow-checkout.mmd" in files
        texts |= {f"{label} {name}": archive.read(name).decode() for name in files}
    assert len(texts) >= 16
    results = parse_all(page, list(texts.values()))
    assert {label: results[text] for label, text in texts.items() if results[text] != "ok"} == {}
    folded = folded_charts()
    assert all("flowchart LR" in text and ' -.->|"' in text for text in folded[1:])
    assert failures(parse_all(page, folded)) == {}


def test_it_offers_on_each_page_the_mermaid_report_of_what_it_shows(page, live_server, live_demo):
    sign_in(page, live_server.url, "dora")
    page.goto("/topology/?focus=orders&hops=2")
    downloads = page.locator(".topo-downloads")
    report = downloads.get_by_role("link", name="Mermaid report")
    expect(report).to_have_attribute("href", f"{REPORT_URL}?service=orders&hops=2")
    zipped = downloads.get_by_role("link", name="Mermaid zip")
    expect(zipped).to_have_attribute("href", f"{ZIP_URL}?service=orders&hops=2")
    downloads.scroll_into_view_if_needed()
    screenshot(page, "reports_topology_downloads")
    with page.expect_download() as download:
        report.click()
    assert download.value.suggested_filename == "switchboard-report.md"
    assert open(download.value.path(), encoding="utf-8").read().startswith(
        "# Switchboard report: orders and neighbours within 2 hops\n")

    page.goto("/topology/?team=identity")
    expect(page.locator(".topo-downloads").get_by_role("link", name="Mermaid report")).to_have_attribute(
        "href", f"{REPORT_URL}?team=identity")
    page.goto("/topology/")
    expect(page.locator(".topo-downloads").get_by_role("link", name="Mermaid zip")).to_have_attribute("href", ZIP_URL)

    page.goto("/teams/commerce/")
    actions = page.locator(".page-actions")
    for name, url in (("Mermaid report", REPORT_URL), ("Mermaid zip", ZIP_URL)):
        expect(actions.get_by_role("link", name=name)).to_have_attribute("href", f"{url}?team=commerce")
    screenshot(page, "reports_team_downloads")
    page.goto("/services/payment/")
    actions = page.locator(".page-actions")
    for name, url in (("Mermaid report", REPORT_URL), ("Mermaid zip", ZIP_URL)):
        expect(actions.get_by_role("link", name=name)).to_have_attribute("href", f"{url}?service=payment")
    screenshot(page, "reports_service_downloads")
