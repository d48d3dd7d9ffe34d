"""PDF reports: the job (queued, running with progress, done or failed with what to do), the PDF
itself (read back with pdftotext and drawn with pdftoppm), the API, the pages, retention."""
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from core.actors import actor_for_cli
from reports import services
from reports.job_selectors import report_state
from reports.models import Report, ReportFile
from reports.pdf import PdfError, heading_pages, pdf_print
from reports.scopes import ReportScope
from topology.render import drawings_forget

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (make test installs it)")


def pdf_text(content: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()


def rendered(scope: ReportScope = ReportScope()) -> Report:
    """A report of `scope`, rendered here and now (the task's work, without a broker)."""
    report = Report.objects.create(scope_kind=scope.kind, scope_team=scope.team, scope_service=scope.service,
                                   scope_hops=scope.hops, requested_by="tester", requested_via="cli")
    services.report_render(report_id=report.pk)
    report.refresh_from_db()
    return report


def test_it_renders_the_demo_report_with_every_chapter(demo, tmp_path, monkeypatch):
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)  # as in a worker: Playwright's loop is no excuse
    report = rendered()
    assert report.status == "done", report.error
    content = bytes(ReportFile.objects.get(report=report).content)
    text = pdf_text(content)
    for words in ("Whole system", "storefront-web", "media-thumbnailer", "Recommendations", "§4.3",
                  "orders tells others that something happened", "Findings", "Flows", "Probes", "Decisions"):
        assert words in text
    assert "page 1 of" in text and report.pages == text.count("\f") and report.size == len(content)
    assert report.progress == 100 and report.ruleset_version and not report.error  # every diagram was drawn
    contents = text.split("\f")[1]
    assert [line.split()[-1] for line in contents.splitlines() if line.strip().startswith("Recommendations")] != [""]
    pages = subprocess.run(["pdftoppm", "-r", "30", "-png", "-", str(tmp_path / "page")], input=content, check=True)
    assert pages.returncode == 0 and len(list(tmp_path.glob("page-*.png"))) == report.pages


def test_it_renders_a_team_and_a_service_scope(demo):
    team = rendered(ReportScope(kind="team", team="identity"))
    service = rendered(ReportScope(kind="service", service="orders", hops=1))
    team_text = pdf_text(bytes(team.file.content))
    service_text = pdf_text(bytes(service.file.content))
    assert "Team identity" in team_text and "accounts" in team_text and "storefront-web" not in team_text
    assert "Orders and neighbours within 1 hop" in service_text and "payment" in service_text
    assert "client" not in service_text.split("Topology")[1].split("Findings")[0]


def test_it_fails_a_report_when_chromium_is_missing(demo, settings):
    settings.CHROMIUM_PATH = "/nonexistent/chromium"
    report = rendered()
    assert report.status == "failed" and "Chromium was not found at /nonexistent/chromium" in report.error
    assert not ReportFile.objects.exists()


def test_it_stops_a_page_that_never_says_it_is_ready(tmp_path, settings):
    page = tmp_path / "report.html"
    page.write_text("<html><body><p>Never ready</p></body></html>")
    # In a thread of its own, as the render task runs it: the browser tests' Playwright may own this one's loop.
    with ThreadPoolExecutor(max_workers=1) as pool, pytest.raises(PdfError) as refused:
        pool.submit(pdf_print, html_file=page, chromium=settings.CHROMIUM_PATH, seconds=3, header="<span></span>",
                    footer="<span></span>").result()
    assert "took longer than 3 s" in str(refused.value), str(refused.value)


def test_it_numbers_the_contents_from_where_the_headings_landed():
    texts = ["cover", "Contents\nSummary   \nTopology  ", "Summary\nfigures", "Topology\n", "more", "Probes"]
    assert heading_pages(texts, ["Summary", "Topology", "Probes", "Missing"]) == ["3", "4", "6", ""]


def test_it_fails_the_report_when_the_broker_does_not_answer(db, monkeypatch, django_capture_on_commit_callbacks):
    from celery import current_app

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(current_app.tasks[services.RENDER_TASK], "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        report = services.report_request(actor=actor_for_cli(), scope=ReportScope())
    report.refresh_from_db()
    assert report.status == "failed" and "The task broker did not answer" in report.error
    assert "CELERY_BROKER_URL" in report.error


def test_it_shows_a_report_no_worker_took_as_failed_and_never_renders_it_late(db, settings):
    report = Report.objects.create(requested_by="tester", requested_via="cli")
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - timedelta(seconds=settings.REPORT_QUEUE_SECONDS + 1))
    report.refresh_from_db()
    state = report_state(report)
    assert state.status == "failed" and "No worker took this report" in state.error
    services.report_render(report_id=report.pk)  # a worker that turns up late
    assert Report.objects.get(pk=report.pk).status == "queued"
    assert services.report_retention_apply()["untaken"] == 1
    assert Report.objects.get(pk=report.pk).status == "failed"


def test_it_renders_a_redelivered_report_once(demo, monkeypatch):
    report = rendered()
    calls = []
    monkeypatch.setattr(services, "_printed", lambda report: calls.append(report))
    services.report_render(report_id=report.pk)
    assert calls == [] and Report.objects.get(pk=report.pk).status == "done"


def test_it_prunes_old_pdfs_and_keeps_the_record(demo, settings):
    report = rendered()
    later = timezone.now() + timedelta(days=settings.REPORT_RETENTION_DAYS, minutes=1)
    assert services.report_retention_apply(now=later)["pruned"] == 1
    report.refresh_from_db()
    assert report.pruned_at and not ReportFile.objects.filter(report=report).exists()
    client = APIClient()
    client.force_login(User.objects.get(username="admin"))
    response = client.get(f"/api/v1/reports/{report.pk}/download/")
    assert response.status_code == 410 and "removed" in response.json()["detail"]


# --- API ------------------------------------------------------------------------------------------


def test_it_queues_a_report_through_the_api(admin, django_capture_on_commit_callbacks, monkeypatch):
    from celery import current_app

    sent = []
    monkeypatch.setattr(current_app.tasks[services.RENDER_TASK], "apply_async",
                        lambda args, **options: sent.append((args, options)))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/api/v1/reports/", {"scope": "team", "team": "commerce"}, format="json")
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued" and job["progress"] == 0 and job["download"] is None
    assert job["scope"] == {"scope": "team", "team": "commerce", "service": "", "hops": 1, "label": "team commerce"}
    assert job["url"].endswith(f"/api/v1/reports/{job['id']}/") and job["requested_by"] == "admin"
    assert sent == [([job["id"]], {"queue": "celery", "retry": False})]
    assert admin.get(job["url"]).json()["status"] == "queued"
    assert admin.get("/api/v1/reports/").json()["results"][0]["id"] == job["id"]
    assert admin.get(f"/api/v1/reports/{job['id']}/download/").status_code == 409


@pytest.mark.parametrize(("body", "pointer"), [
    ({"scope": "galaxy"}, "/scope"),
    ({"scope": "team"}, "/team"),
    ({"scope": "team", "team": "nope"}, "/team"),
    ({"scope": "service", "service": "orders", "hops": 9}, "/hops"),
    ({"scope": "system", "team": "commerce"}, "/team"),
])
def test_it_rejects_a_bad_scope_and_writes_nothing(admin, body, pointer):
    response = admin.post("/api/v1/reports/", body, format="json")
    assert response.status_code == 422
    assert pointer in [error["pointer"] for error in response.json()["errors"]]
    assert not Report.objects.exists()


def test_it_rejects_a_body_that_is_not_an_object(admin):
    response = admin.post("/api/v1/reports/", [1, 2], format="json")
    assert response.status_code in (400, 422) and not Report.objects.exists()


def test_it_refuses_reports_to_anonymous_callers(db):
    assert APIClient().post("/api/v1/reports/", {}, format="json").status_code in (401, 403)
    assert APIClient().get("/api/v1/reports/").status_code in (401, 403)


def test_it_lets_a_team_token_ask_for_a_report(ci, django_capture_on_commit_callbacks, monkeypatch):
    from celery import current_app

    monkeypatch.setattr(current_app.tasks[services.RENDER_TASK], "apply_async", lambda *args, **kwargs: None)
    response = ci.post("/api/v1/reports/", {}, format="json")
    assert response.status_code == 202 and response.json()["requested_by"] == "token commerce/ci"


def test_it_downloads_a_finished_report(admin):
    report = rendered()
    response = admin.get(f"/api/v1/reports/{report.pk}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and "attachment" in response["Content-Disposition"]
    job = admin.get(f"/api/v1/reports/{report.pk}/").json()
    assert job["status"] == "done" and job["pages"] == report.pages and job["download"].endswith("/download/")


# --- pages ----------------------------------------------------------------------------------------


def test_it_asks_for_a_report_on_the_page_and_shows_its_progress(admin, client, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    from celery import current_app

    monkeypatch.setattr(current_app.tasks[services.RENDER_TASK], "apply_async", lambda *args, **kwargs: None)
    client.force_login(User.objects.get(username="maria"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/reports/new/", {"scope": "service", "service": "orders", "hops": "2", "team": ""})
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/{report.pk}/"
    assert (report.scope_kind, report.scope_service, report.scope_hops) == ("service", "orders", 2)
    progress = client.get(f"/reports/{report.pk}/progress/").content.decode()
    assert "queued" in progress and 'hx-trigger="every 1s"' in progress
    listing = client.get("/reports/").content.decode()
    assert f"Report {report.pk}" in listing and "Orders and neighbours within 2 hops" in listing


def test_it_puts_a_bad_scope_back_on_the_form(admin, client):
    client.force_login(User.objects.get(username="maria"))
    response = client.post("/reports/new/", {"scope": "service", "service": "no-such-service", "hops": "1"})
    assert response.status_code == 422 and "no service named" in response.content.decode()
    assert not Report.objects.exists()


def test_it_shows_the_report_as_a_page(admin, client):
    client.force_login(User.objects.get(username="maria"))
    page = client.get("/reports/preview/?team=commerce").content.decode()
    assert "Team commerce" in page and "/static/js/report.js" in page and "<svg" in page
    assert client.get("/reports/preview/?team=nope").status_code == 400


# --- a real worker --------------------------------------------------------------------------------


def test_it_renders_a_report_in_a_real_worker(report_worker, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=StringIO())
    drawings_forget()
    report = services.report_request(actor=actor_for_cli(), scope=ReportScope(kind="team", team="commerce"))
    seen, deadline = set(), time.monotonic() + 90
    while time.monotonic() < deadline and Report.objects.get(pk=report.pk).status in ("queued", "running"):
        seen.add(Report.objects.values_list("progress", flat=True).get(pk=report.pk))
        assert report_worker.poll() is None, report_worker.stdout.read()
        time.sleep(0.1)
    report.refresh_from_db()
    assert report.status == "done", report.error
    assert "storefront-web" in pdf_text(bytes(report.file.content))
    assert len(seen - {0, 100}) >= 2  # progress moved in steps a person can follow
