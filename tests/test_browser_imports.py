"""Imports in Chromium: upload a Backstage catalog, read the preview, confirm; the services are there.
Screenshots: var/screenshots/imports_preview, imports_done."""
from tests.browser_helpers import make_team, make_user, screenshot, sign_in  # sets DJANGO_ALLOW_ASYNC_UNSAFE first
from tests.test_imports_parsers import CATALOG
from topology.models import Interaction, Service


def test_it_uploads_a_catalog_previews_it_and_imports_it(page, live_server, transactional_db, tmp_path):
    make_team("commerce", "Commerce")
    make_team("identity", "Identity")
    make_user("dora", staff=True)
    catalog = tmp_path / "catalog-info.yaml"
    catalog.write_text(CATALOG)
    sign_in(page, live_server.url, "dora")
    page.get_by_role("link", name="Imports").click()
    page.get_by_label("Backstage catalog").check()
    page.set_input_files("#id_file", str(catalog))
    page.get_by_label("Team of what the files do not own").select_option("commerce")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview")
    preview.wait_for()
    assert "would create 5" in preview.inner_text() and "storefront" in preview.inner_text()
    assert not Service.objects.exists()
    screenshot(page, "imports_preview")
    page.get_by_role("button", name="Import it").click()
    page.wait_for_url(f"{live_server.url}/imports/")
    assert "Imported catalog-info.yaml" in page.locator(".messages, .message-success").first.inner_text()
    assert Interaction.objects.filter(source__name="storefront", name="orders-api", style="rest").exists()
    screenshot(page, "imports_done")
