"""The Content-Security-Policy holds in a real Chromium: every main page of the demo system loads
with the enforced policy (no inline scripts, handlers or style attributes) and with no CSP violation
and no JavaScript error, and the vendored libraries still draw (Plotly charts, Mermaid diagrams,
svg-pan-zoom on the topology, htmx polling). The Swagger UI at /api/docs/ has its own, still
script-strict, policy.
"""
import re
from datetime import timedelta

import pytest

from tests.browser_helpers import sign_in  # sets DJANGO_ALLOW_ASYNC_UNSAFE first

pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.django_db(transaction=True)

# Every securitypolicyviolation event of the page, kept where the test can read it. Init scripts are
# injected by the browser itself, so the policy does not apply to this one.
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline")
    + " at " + (event.sourceFile || "") + ":" + event.lineNumber + " " + (event.sample || ""));
});
"""


def probe_history():
    """Two hours of results for a demo probe, so that its page draws its charts."""
    from django.utils import timezone

    from probes.engine.spec import Outcome, ProbeResult
    from probes.models import Probe
    from probes.rollups import probe_rollups_update
    from probes.services import probe_results_record

    probe = Probe.objects.order_by("id").first()
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=2)
    for index in range(24):
        at = start + timedelta(minutes=5 * index)
        for location in probe.locations:
            probe_results_record(location=location, slot=at, results=[ProbeResult(
                key=str(probe.id), outcome=Outcome.DOWN if index == 20 else Outcome.UP, latency_ms=10 + index,
                started_at=at, finished_at=at, values={}, error="")])
    probe_rollups_update(now=timezone.now())
    return probe


def demo_flow():
    from core.actors import actor_for_cli
    from topology.flows import flow_save
    from topology.models import Flow, Interaction, Team

    found = Flow.objects.order_by("id").first()
    if found is not None:
        return found
    interaction = Interaction.objects.select_related("source").order_by("id").first()
    return flow_save(actor=actor_for_cli(), flow=None, slug="csp-flow", name="CSP flow", description="",
                     team=Team.objects.order_by("id").first(),
                     steps=[{"interaction": f"{interaction.source.name}/{interaction.name}", "label": ""}])


def main_pages() -> list[str]:
    from decisions.models import CustomRule, Decision
    from notifications.models import Channel
    from topology.models import Interaction, Service, Team

    pages = ["/", "/services/", "/interactions/", "/teams/", "/criteria/", "/topology/", "/flows/",
             "/decisions/", "/rules/", "/rules/new/", "/probes/", "/imports/", "/drift/", "/reports/",
             "/notifications/", "/register/", "/flows/new/", "/decisions/new/"]
    service = Service.objects.filter(interactions__isnull=False).order_by("name").first()
    interaction = Interaction.objects.select_related("source").filter(source=service).order_by("name").first()
    pages += [service.get_absolute_url(), interaction.get_absolute_url(),
              Team.objects.order_by("slug").first().get_absolute_url(), demo_flow().get_absolute_url(),
              probe_history().get_absolute_url(), f"/services/{service.name}/probes/new/"]
    pages.append(f"/reports/preview/?team={Team.objects.order_by('slug').first().slug}")
    for model in (Decision, CustomRule, Channel):
        found = model.objects.order_by("pk").first()
        if found is not None:
            pages.append(found.get_absolute_url())
    assert Channel.objects.exists(), "the demo has notification channels"
    return pages


INLINE_CODE = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|\shx-on|javascript:",
                         re.IGNORECASE)


def visit(page, url: str) -> list[str]:
    """Open url; the inline code in its HTML, the CSP violations, failed loads and console errors."""
    problems = []

    def on_console(message):
        # A failed load is reported below with its address.
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console {message.type}: {message.text}")
        elif "Content Security Policy" in message.text:
            problems.append(f"console {message.type}: {message.text}")

    def on_response(response):
        # Chromium asks for /favicon.ico by itself on pages without an icon link (the report preview).
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            problems.append(f"{response.status} for {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    response = page.goto(url, wait_until="networkidle")
    page.wait_for_timeout(250)
    page.remove_listener("console", on_console)
    page.remove_listener("response", on_response)
    assert response.status == 200, f"{url}: {response.status}"
    assert "script-src 'self'" in response.headers.get("content-security-policy", ""), url
    problems += [f"inline code in the HTML: {found!r}" for found in INLINE_CODE.findall(response.text())]
    problems += [f"violation: {text}" for text in page.evaluate("window.__cspViolations")]
    return [f"{url}: {problem}" for problem in problems]


def test_it_handles_every_main_page_under_the_policy(page, live_server, live_demo):
    page.context.add_init_script(WATCH)
    sign_in(page, live_server.url, "dora")
    pages = main_pages()
    problems = []
    for url in pages:
        problems += visit(page, url)
        if url == "/":
            page.locator("[data-chart] .main-svg").first.wait_for()
        elif url == "/topology/":
            page.locator(".topo-svg svg .svg-pan-zoom_viewport").first.wait_for()
        elif url.startswith("/flows/") and url not in ("/flows/", "/flows/new/"):
            page.locator("[data-rendered=true] svg").first.wait_for()
        elif "/probes/" in url and not url.endswith("/new/") and url != "/probes/":
            assert page.locator(".probe-chart .main-svg").count() >= 2
    assert not problems, "\n".join(problems)
    assert len(pages) >= 25


def test_it_handles_the_bars_and_refusals_that_left_their_inline_code(page, live_server, live_demo):
    """Widths once in style="" come from data-width; htmx swaps once in hx-on come from data-swap-statuses."""
    page.context.add_init_script(WATCH)
    sign_in(page, live_server.url, "dora")
    assert visit(page, "/") == []
    widths = page.eval_on_selector_all("[data-width]", "els => els.map(e => [e.dataset.width, e.style.width])")
    assert widths and all(style == f"{width}%" for width, style in widths), widths
    # A refusal (422: no such user) is swapped into the Members section in place, as before.
    assert visit(page, "/teams/commerce/") == []
    page.fill("#id_member-username", "nobody-here")
    page.locator("#members").get_by_role("button", name="Add member").click()
    page.locator("#members .errorlist, #members .message-error").first.wait_for()
    assert "nobody-here" in page.inner_text("#members")
    assert page.url.endswith("/teams/commerce/")
    assert page.evaluate("window.__cspViolations") == []


def test_it_handles_the_swagger_ui_under_its_own_policy(page, live_server, live_demo):
    page.context.add_init_script(WATCH)
    sign_in(page, live_server.url, "dora")
    # drf-spectacular's template has a <style> block, allowed on this page (webapp/urls.py); scripts are not.
    problems = [problem for problem in visit(page, "/api/docs/") if not problem.endswith("HTML: '<style'")]
    page.locator(".swagger-ui .info .title").first.wait_for()
    page.locator(".opblock").first.wait_for()
    assert not problems, "\n".join(problems)
    policy = page.request.get("/api/docs/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
