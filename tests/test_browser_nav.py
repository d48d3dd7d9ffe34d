"""The main navigation keeps every item in sight: the top bar is at most 1240 px wide whatever the
screen, so the items must fit in it at laptop widths too (a hidden item cannot be found)."""
import pytest

from tests.browser_helpers import make_user, sign_in  # sets DJANGO_ALLOW_ASYNC_UNSAFE first

pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.django_db(transaction=True)

ITEMS = ["Dashboard", "Services", "Interactions", "Teams", "Criteria", "Topology", "Flows", "Decisions",
         "Plans", "Rules", "Probes", "Alerts", "Imports", "Reports"]

# What the navigation shows of each item, and whether the item overflows the bar it scrolls in.
MEASURE = """
() => {
  const nav = document.querySelector("nav.nav");
  const box = nav.getBoundingClientRect();
  const links = [...nav.querySelectorAll("a.nav-link")].map((link) => {
    const own = link.getBoundingClientRect();
    return {text: link.textContent.trim(), inside: own.left >= box.left - 0.5 && own.right <= box.right + 0.5};
  });
  return {links, overflow: nav.scrollWidth - nav.clientWidth};
}
"""


@pytest.mark.parametrize("width", [1280, 1440, 1920])
def test_it_shows_every_navigation_item_at_laptop_and_desktop_widths(page, live_server, width):
    make_user("nadia-staff-user", staff=True)  # a long name and the staff tag take the most room
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, "nadia-staff-user")
    page.goto("/topology/")
    measured = page.evaluate(MEASURE)
    assert [link["text"] for link in measured["links"]] == ITEMS
    assert measured["overflow"] <= 0, f"the navigation overflows by {measured['overflow']} px at {width} px"
    assert [link["text"] for link in measured["links"] if not link["inside"]] == []


def test_it_marks_the_plans_item_on_plan_pages(page, live_server):
    make_user("pia", staff=True)
    sign_in(page, live_server.url, "pia")
    page.goto("/plans/")
    current = page.locator('nav.nav a[aria-current="page"]')
    assert current.count() == 1
    assert current.inner_text() == "Plans"


def test_it_keeps_api_documentation_and_sign_out_in_the_user_menu(page, live_server):
    make_user("uma", staff=True)
    sign_in(page, live_server.url, "uma")
    page.goto("/services/")
    sign_out = page.get_by_role("button", name="Sign out")
    assert not sign_out.is_visible()
    page.locator("summary.username").click()
    assert page.get_by_role("link", name="API documentation").get_attribute("href") == "/api/docs/"
    sign_out.click()
    page.wait_for_url("**/accounts/login/**")
    page.goto("/services/")
    assert "/accounts/login/" in page.url
