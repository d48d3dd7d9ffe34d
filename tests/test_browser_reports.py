"""Reports in Chromium: ask for a PDF on the Reports page, watch its progress, download it; a real
Celery worker renders it. Screenshots: var/screenshots/reports_page, report_progress, report_done."""
import subprocess

from tests.browser_helpers import screenshot, sign_in  # sets DJANGO_ALLOW_ASYNC_UNSAFE first
from reports.models import Report


def test_it_asks_for_a_team_report_watches_it_and_downloads_the_pdf(page, live_server, live_demo, report_worker,
                                                                     tmp_path):
    sign_in(page, live_server.url, "dora")
    page.get_by_role("link", name="Reports").click()
    page.get_by_label("One team").check()
    page.get_by_label("Team", exact=True).select_option("commerce")
    screenshot(page, "reports_page")
    page.get_by_role("button", name="Ask for the PDF").click()
    progress = page.locator("#report-progress")
    page.wait_for_url(f"{live_server.url}/reports/*/")
    assert "Team commerce" in progress.inner_text()
    screenshot(page, "report_progress")
    download_button = page.get_by_role("link", name="Download PDF")
    download_button.wait_for(timeout=120_000)
    assert "done" in progress.inner_text() and "pages" in progress.inner_text()
    screenshot(page, "report_done")
    with page.expect_download() as waiting:
        download_button.click()
    saved = tmp_path / waiting.value.suggested_filename
    waiting.value.save_as(saved)
    text = subprocess.run(["pdftotext", str(saved), "-"], capture_output=True, check=True).stdout.decode()
    assert "Team commerce" in text and "storefront-web" in text and "§" in text
    assert Report.objects.get().requested_by == "dora"

