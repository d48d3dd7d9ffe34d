"""Faults: database errors inside Celery tasks, a broker that is down, a worker killed mid-batch.

- Every task retries OperationalError/InterfaceError with exponential backoff and jitter
  (core.db.TASK_RETRIES); a task with a job row (report, import, re-evaluation) that still meets one
  after its last attempt ends that job failed with the error (core.db.job_task_attempt). Faults are
  injected at the database (an execute wrapper that fails matching statements), so the services see
  what a dropped connection looks like; the tasks run eagerly (Celery's apply() runs the retries
  at once, without the countdown).
- With the broker on a closed loopback port, pages and API reads answer, writes that need no broker
  succeed, "probe now" answers 503 naming the broker, a report ends failed saying so, all quickly.
- A real worker killed (SIGKILL) in the middle of a probe batch: another worker takes the batches
  still queued, the central recovery sends the lost batch again, and every probe has exactly one
  result for the slot.
"""
import os
import signal
import socket
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from celery import current_app
from django.contrib.auth.models import User
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from rest_framework.test import APIClient

from core.actors import actor_for_cli
from core.choices import JobStatus
from core.db import DATABASE_ERRORS, GAVE_UP, TASK_RETRIES
from topology.choices import TeamRole
from topology.manifest import ServiceSpec
from topology.models import Interaction, Service, Team, TeamMembership
from topology.registration import registration_apply
from topology.services import token_create

from .factories import register, rest, service_doc

MAX_RETRIES = TASK_RETRIES["max_retries"]


# --- injecting database faults -------------------------------------------------------------------


@contextmanager
def database_fails(match: str, times: int | None, error=OperationalError):
    """Statements containing `match` raise `error` (a dropped connection) the first `times` times
    (None: always). Yields the list of failed statements."""
    failed = []

    def failing(execute, sql, params, many, context):
        if match in sql and (times is None or len(failed) < times):
            failed.append(sql)
            raise error(f"server closed the connection unexpectedly (injected fault {len(failed)})")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(failing):
        yield failed


def test_every_task_retries_database_errors_with_backoff_and_jitter():
    current_app.loader.import_default_modules()
    mine = ["topology.tasks.probes_dispatch", "probes.tasks.probe_results_record", "topology.tasks.probe_rollups_update",
            "topology.tasks.probe_retention_apply", "reports.tasks.report_render", "reports.tasks.report_retention_apply",
            "imports.tasks.import_job_run", "decisions.tasks.recommendations_refresh",
            "decisions.tasks.recommendations_refresh_stale"]
    for name in mine:
        task = current_app.tasks[name]
        assert set(task.autoretry_for) >= {OperationalError, InterfaceError}, name
        assert task.retry_backoff and task.retry_jitter and task.max_retries, name


# --- reports -------------------------------------------------------------------------------------


@pytest.fixture
def queued_report(db, monkeypatch):
    from reports import services
    from reports.pdf import Printed
    from reports.scopes import ReportScope

    monkeypatch.setattr(current_app.tasks[services.RENDER_TASK], "apply_async", lambda *args, **kwargs: None)

    def printed(report):  # reads the registry as the real one does, then "prints"
        list(Service.objects.all())
        return Printed(content=b"%PDF-1.7 fake", pages=1, seconds=0.1)

    monkeypatch.setattr(services, "_printed", printed)
    return services.report_request(actor=actor_for_cli(), scope=ReportScope(kind="system"))


def test_a_report_task_retries_database_errors_then_renders(queued_report):
    from reports.models import Report

    with database_fails('FROM "topology_service"', times=2) as failed:
        result = current_app.tasks["reports.tasks.report_render"].apply(args=[queued_report.pk])
    assert len(failed) == 2 and result.successful()
    report = Report.objects.get(pk=queued_report.pk)
    assert (report.status, report.error, report.pages) == (JobStatus.DONE, "", 1)


def test_a_report_task_that_keeps_meeting_database_errors_ends_failed_with_the_error(queued_report):
    from reports.models import Report

    with database_fails('FROM "topology_service"', times=None) as failed:
        current_app.tasks["reports.tasks.report_render"].apply(args=[queued_report.pk])
    assert len(failed) == MAX_RETRIES + 1
    report = Report.objects.get(pk=queued_report.pk)
    assert report.status == JobStatus.FAILED
    assert report.error.startswith(GAVE_UP.split("{")[0]) and "server closed the connection" in report.error


def test_a_report_whose_store_fails_is_retried_not_left_running(queued_report):
    from reports.models import Report

    with database_fails('INSERT INTO "reports_reportfile"', times=1, error=InterfaceError) as failed:
        current_app.tasks["reports.tasks.report_render"].apply(args=[queued_report.pk])
    assert len(failed) == 1
    assert Report.objects.get(pk=queued_report.pk).status == JobStatus.DONE


# --- imports -------------------------------------------------------------------------------------


@pytest.fixture
def queued_import(db, monkeypatch):
    from imports import jobs
    from tests.test_imports_parsers import CATALOG

    Team.objects.create(slug="commerce", name="Commerce")
    Team.objects.create(slug="identity", name="Identity")
    monkeypatch.setattr(current_app.tasks[jobs.RUN_TASK], "apply_async", lambda *args, **kwargs: None)
    return jobs.import_job_request(actor=actor_for_cli(), kind="backstage", name="catalog-info.yaml", team="commerce",
                                   documents=[("catalog-info.yaml", CATALOG)])


def test_an_import_task_retries_database_errors_then_applies(queued_import):
    from imports.models import ImportJob

    with database_fails('INSERT INTO "topology_service"', times=3) as failed:
        result = current_app.tasks["imports.tasks.import_job_run"].apply(args=[queued_import.pk])
    assert len(failed) == 3 and result.successful()
    job = ImportJob.objects.get(pk=queued_import.pk)
    assert job.status == JobStatus.DONE and job.errors == []
    assert Service.objects.filter(name="storefront").count() == 1


def test_an_import_task_that_keeps_meeting_database_errors_ends_failed_with_the_error(queued_import):
    from imports.models import ImportJob

    with database_fails('INSERT INTO "topology_service"', times=None) as failed:
        current_app.tasks["imports.tasks.import_job_run"].apply(args=[queued_import.pk])
    assert len(failed) == MAX_RETRIES + 1
    job = ImportJob.objects.get(pk=queued_import.pk)
    assert job.status == JobStatus.FAILED and not Service.objects.exists()
    assert "server closed the connection" in job.errors[0]["message"]


# --- re-evaluation runs --------------------------------------------------------------------------


@pytest.fixture
def queued_run(db):
    from decisions.models import EvaluationRun

    Team.objects.create(slug="commerce", name="Commerce")
    register(service_doc("orders", interactions=[rest("pay", "payment"), rest("ship", "shipping")]))
    Interaction.objects.update(ruleset_version="old")
    return EvaluationRun.objects.create(ruleset_version="old", reason="test", total=2)


def test_a_reevaluation_retries_database_errors_then_finishes(queued_run):
    from decisions.models import EvaluationRun

    with database_fails('UPDATE "topology_interaction"', times=2) as failed:
        result = current_app.tasks["decisions.tasks.recommendations_refresh"].apply(args=[queued_run.pk])
    assert len(failed) == 2 and result.successful()
    run = EvaluationRun.objects.get(pk=queued_run.pk)
    assert (run.status, run.error, run.done) == ("done", "", 2)
    assert not Interaction.objects.filter(ruleset_version="old").exists()


def test_a_reevaluation_that_keeps_meeting_database_errors_ends_failed_with_the_error(queued_run):
    from decisions.models import EvaluationRun

    with database_fails('UPDATE "topology_interaction"', times=None) as failed:
        current_app.tasks["decisions.tasks.recommendations_refresh"].apply(args=[queued_run.pk])
    assert len(failed) == MAX_RETRIES + 1
    run = EvaluationRun.objects.get(pk=queued_run.pk)
    assert run.status == "failed" and "server closed the connection" in run.error


# --- probes --------------------------------------------------------------------------------------


@pytest.fixture
def listening():
    """A TCP server on loopback that accepts connections and keeps them open without a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], held
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    server.close()


def probes_declare(port: int, count: int, *, kind="tcp", location="default", timeout="1s") -> list:
    from probes.models import Probe

    Team.objects.get_or_create(slug="commerce", defaults={"name": "Commerce"})
    target = f"127.0.0.1:{port}" if kind == "tcp" else f"http://127.0.0.1:{port}/slow"
    probes = [{"name": f"p{n}", "type": kind, "target": target, "interval": "5m", "timeout": timeout,
               "locations": [location]} for n in range(count)]
    registration_apply(specs=[ServiceSpec(name="orders", team="commerce", probes=probes)], actor=actor_for_cli())
    return list(Probe.objects.order_by("name"))


def probe_results_items(probes: list, slot) -> list:
    """The results of a batch as a site worker sends them through the broker."""
    from probes.engine.spec import Outcome, ProbeResult as RunResult
    from probes.engine.wire import result_encode

    return [result_encode(RunResult(key=str(p.id), outcome=Outcome.UP, latency_ms=1.0, started_at=slot,
                                    finished_at=slot, values={}, error="")) for p in probes]


def test_a_probe_results_batch_retries_database_errors_and_records_each_result_once(db, listening):
    from probes.models import ProbeResult, ProbeStatus

    probes = probes_declare(listening[0], 3)
    slot = timezone.now().replace(microsecond=0)
    items = probe_results_items(probes, slot)
    with database_fails('INTO "topology_proberesult"', times=2) as failed:
        result = current_app.tasks["probes.tasks.probe_results_record"].apply(args=["default", slot.isoformat(), items])
    assert len(failed) == 2 and result.successful()
    assert sorted(ProbeResult.objects.values_list("series__probe_id", flat=True)) == sorted(p.id for p in probes)
    assert set(ProbeStatus.objects.values_list("last_slot", flat=True)) == {slot}


def test_a_probe_results_batch_that_keeps_meeting_database_errors_fails_visibly(db, listening):
    from probes.models import ProbeResult

    probes = probes_declare(listening[0], 1)
    slot = timezone.now().replace(microsecond=0)
    with database_fails('INTO "topology_proberesult"', times=None) as failed:
        result = current_app.tasks["probes.tasks.probe_results_record"].apply(
            args=["default", slot.isoformat(), probe_results_items(probes, slot)])
    assert len(failed) == MAX_RETRIES + 1
    assert result.failed() and isinstance(result.result, OperationalError)  # the worker logs it as failed
    assert not ProbeResult.objects.exists()


def test_a_scheduled_task_retries_database_errors(db, monkeypatch):
    from probes import rollups

    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("the database system is starting up")

    monkeypatch.setattr(rollups, "probe_rollups_update", flaky)
    assert current_app.tasks["topology.tasks.probe_rollups_update"].apply().successful()
    assert len(calls) == 3


# --- the broker is down --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def broker_down(settings, monkeypatch):
    """CELERY_BROKER_URL on a closed loopback port, for the Celery app too (and its producer pools;
    Celery reads the environment variable before its configuration)."""
    app = current_app
    saved = app.conf.broker_url, app.conf.broker_transport_options
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings.CELERY_BROKER_URL = url
    monkeypatch.setenv("CELERY_BROKER_URL", url)

    def pools_forget():
        app._pool = None
        app.__dict__.get("amqp") and setattr(app.amqp, "_producer_pool", None)

    from webapp.celery import BROKER_CONNECT_SECONDS, CONNECT_RETRIES

    app.conf.broker_url = url
    app.conf.broker_transport_options = {**CONNECT_RETRIES, "socket_connect_timeout": BROKER_CONNECT_SECONDS}
    pools_forget()
    yield url
    monkeypatch.undo()
    app.conf.broker_url, app.conf.broker_transport_options = saved
    pools_forget()


@pytest.fixture
def writer(db):
    team = Team.objects.create(slug="commerce", name="Commerce")
    user = User.objects.create_user("maria", password="pw", is_staff=True)
    TeamMembership.objects.create(team=team, user=user, role=TeamRole.MAINTAINER)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=actor_for_cli(), team=team, name='ci')[1]}")
    return user, api


def timed(call):
    began = time.monotonic()
    answer = call()
    return answer, time.monotonic() - began


def test_with_the_broker_down_pages_reads_and_registry_writes_answer(broker_down, writer, client, listening,
                                                                    django_capture_on_commit_callbacks):
    user, api = writer
    probes_declare(listening[0], 1)
    client.force_login(user)
    for url in ["/", "/services/", "/services/orders/", "/probes/", "/services/orders/probes/p0/", "/reports/",
                "/topology/"]:
        assert client.get(url).status_code == 200, url
    for url in ["/api/v1/services/", "/api/v1/probes/", "/api/v1/reports/", "/api/v1/interactions/"]:
        assert api.get(url).status_code == 200, url
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/registrations/", data={"items": [service_doc("billing")]}, format="json")
    assert response.status_code == 201, response.content
    assert Service.objects.filter(name="billing").exists()


def test_with_the_broker_down_probe_now_answers_503_naming_the_broker_quickly(broker_down, writer, client, listening):
    from probes.models import Probe

    user, api = writer
    probe = probes_declare(listening[0], 1)[0]
    response, seconds = timed(lambda: api.post(f"/api/v1/probes/{probe.id}/run/"))
    assert response.status_code == 503 and "broker" in response.json()["detail"], response.content
    assert seconds < 3
    client.force_login(user)
    page, seconds = timed(lambda: client.post("/services/orders/probes/p0/run/"))
    assert page.status_code == 503 and "broker did not answer" in page.content.decode()
    assert seconds < 3
    assert Probe.objects.count() == 1


def test_with_the_broker_down_a_report_request_ends_failed_naming_the_broker(broker_down, writer, client,
                                                                            django_capture_on_commit_callbacks):
    from reports.models import Report

    user, api = writer
    with django_capture_on_commit_callbacks(execute=True):
        response, seconds = timed(lambda: api.post("/api/v1/reports/", data={"scope": "system"}, format="json"))
    assert response.status_code < 500 and seconds < 3, response.content
    report = Report.objects.get()
    assert report.status == JobStatus.FAILED and "broker did not answer" in report.error
    assert "CELERY_BROKER_URL" in report.error
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post("/reports/new/", {"scope": "system"}, follow=True)
    assert page.status_code < 500


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_a_report_request_answers_503_naming_the_broker(broker_down, client):
    """Committed at once (no test transaction): the queueing after the commit fails before the answer."""
    team = Team.objects.create(slug="commerce", name="Commerce")
    user = User.objects.create_user("maria", password="pw")
    TeamMembership.objects.create(team=team, user=user, role=TeamRole.MAINTAINER)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=actor_for_cli(), team=team, name='ci')[1]}")
    response = api.post("/api/v1/reports/", data={"scope": "system"}, format="json")
    assert response.status_code == 503 and "broker did not answer" in response.json()["detail"]
    assert response.json()["status"] == "failed"
    client.force_login(user)
    page = client.post("/reports/new/", {"scope": "system"})
    assert page.status_code == 503 and "broker did not answer" in page.content.decode()


# --- a worker killed in the middle of a probe batch ----------------------------------------------


def wait_until(condition, seconds: float, what: str, worker=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"the worker exited while waiting for {what}: {worker.stdout.read()}")
        time.sleep(0.1)
    raise AssertionError(f"no {what} within {seconds} s")


def test_a_worker_killed_mid_batch_loses_no_probe_result_and_doubles_none(transactional_db, settings, listening,
                                                                           monkeypatch):
    """Three batches of two HTTP probes against a target that accepts and never answers (each run
    takes its 3 s timeout). The first worker is killed with SIGKILL while it runs a batch; a second
    worker takes the batches still queued, and the runs dispatched with no result are queued again
    (probe_claims_recover: on the filesystem broker the dead worker's message is gone, on Redis it
    would come back only after the visibility timeout). Every probe ends with exactly one result for
    the slot. Each worker also records the results it sends (a results queue of this test's own)."""
    from probes.models import Probe, ProbeResult, ProbeStatus
    from probes.services import RECOVER_AFTER, probe_claims_recover, probes_dispatch
    from tests.celery_helpers import worker_start, worker_stop

    location = f"k{os.getpid()}"
    settings.PROBE_LOCATIONS = ["default", location]
    settings.PROBE_BATCH_SIZE = 2
    port, held = listening
    probes = probes_declare(port, 6, kind="http", location=location, timeout="3s")
    results_queue = f"probes.results.{location}"
    settings.PROBE_RESULTS_QUEUE = results_queue
    monkeypatch.setenv("PROBE_RESULTS_QUEUE", results_queue)  # the workers' environment
    queue = f"probes.{location},{results_queue}"
    first = worker_start(queue=queue, name=f"doomed-{location}")
    second = None
    try:
        now = timezone.now()
        Probe.objects.update(next_due_at=now)
        assert probes_dispatch(now=now) == 6
        slot = now.replace(microsecond=0)
        assert ProbeStatus.objects.filter(claimed_slot=slot).count() == 6  # marked by the dispatch
        wait_until(lambda: held, 60, "batch in progress", first)
        assert not ProbeResult.objects.exists()  # mid-batch: connected, nothing recorded
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)

        second = worker_start(queue=queue, name=f"survivor-{location}")
        wait_until(lambda: ProbeResult.objects.count() >= 4, 60, "results of the batches still queued", second)
        later = timezone.now() + RECOVER_AFTER + timedelta(seconds=4)
        assert probe_claims_recover(now=later) == 2
        assert probe_claims_recover(now=later) == 0  # recovered once, not every time it looks
        wait_until(lambda: ProbeResult.objects.count() >= 6, 60, "results of the recovered batch", second)
        time.sleep(1)  # anything doubled would have been recorded by now
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                worker_stop(process)
    results = list(ProbeResult.objects.values_list("series__probe_id", "slot", "series__location"))
    assert sorted(results) == sorted((p.id, slot, location) for p in probes)
    assert all(outcome == "down" for outcome in ProbeResult.objects.values_list("outcome", flat=True))
    assert set(ProbeStatus.objects.values_list("last_slot", flat=True)) == {slot}


# --- the broker goes away and comes back ---------------------------------------------------------


class Proxy:
    """A TCP forwarder on a fixed loopback port to a real broker: stop() is the broker going down
    (connections cut, the port refused), start() the broker coming back on the same address."""

    def __init__(self, host: str, port: int):
        self.target, self.port = (host, port), free_port()
        self.server, self.sockets, self.lock = None, [], threading.Lock()

    def start(self):
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", self.port))
        self.server.listen(64)
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def stop(self):
        self.server.close()
        with self.lock:
            for sock in self.sockets:
                with contextlib_suppress():
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()

    def _accept(self, server):
        while True:
            try:
                client = server.accept()[0]
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                return
            upstream.settimeout(None)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib_suppress():
                sock.shutdown(socket.SHUT_RDWR)


def contextlib_suppress():
    from contextlib import suppress

    return suppress(OSError)


def test_beat_and_a_worker_resume_when_the_broker_comes_back(transactional_db, settings, listening, monkeypatch,
                                                            tmp_path):
    """Real beat (DatabaseScheduler) and a real worker on Redis through a proxy: probes run; the proxy
    stops (the broker is down: "probe now" answers 503 at once, nothing runs); it starts again and,
    without restarting anything, beat's dispatches and the worker's runs record results again."""
    import subprocess
    import sys
    from urllib.parse import urlsplit

    from probes.models import Probe, ProbeResult
    from probes.services import probe_run_now
    from tests.celery_helpers import database_url, worker_start, worker_stop
    from tests.probe_servers import service_url
    from webapp.celery import BROKER_CONNECT_SECONDS, CONNECT_RETRIES

    redis_url = service_url("REDIS_URL", "redis://127.0.0.1:6379/6", 6379)
    parts = urlsplit(redis_url)
    proxy = Proxy(parts.hostname, parts.port or 6379)
    proxy.start()
    # A Redis database of this test's own (beat's "celery" queue included), emptied first.
    import redis

    db = 13
    redis.Redis(host=parts.hostname, port=parts.port or 6379, db=db, socket_timeout=5).flushdb()
    broker = f"redis://127.0.0.1:{proxy.port}/{db}"
    app = current_app
    # Read before the variable is set: Celery's broker_url answers with CELERY_BROKER_URL when it is set,
    # and restoring that would leave this process on the proxy for every later test.
    saved = app.conf.broker_url, app.conf.broker_transport_options
    monkeypatch.setenv("CELERY_BROKER_URL", broker)  # the worker, beat, and this process
    app.conf.broker_url = broker
    app.conf.broker_transport_options = {**CONNECT_RETRIES, "socket_connect_timeout": BROKER_CONNECT_SECONDS}
    app._pool = None
    app.amqp._producer_pool = None

    location = f"r{os.getpid()}"
    settings.PROBE_LOCATIONS = ["default", location]
    probe = probes_declare(listening[0], 1, kind="tcp", location=location, timeout="1s")[0]
    Probe.objects.update(next_due_at=timezone.now() + timedelta(days=1))  # beat dispatches it when we say

    def ran_since(moment) -> bool:
        return ProbeResult.objects.filter(series__probe=probe, slot__gte=moment.replace(microsecond=0)).exists()

    def due_now():
        moment = timezone.now()
        Probe.objects.update(next_due_at=moment)
        return moment

    # Its own Redis database: the results queue is this test's alone too.
    worker = worker_start(queue=f"celery,probes.{location},{settings.PROBE_RESULTS_QUEUE}", name=f"resume-{location}")
    env = {**os.environ, "DATABASE_URL": database_url(), "SWITCHBOARD_VAR_DIR": str(settings.VAR_DIR)}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "webapp", "beat", "-l", "warning",
         "-S", "django_celery_beat.schedulers:DatabaseScheduler", "--pidfile", str(tmp_path / "beat.pid"),
         "--schedule", str(tmp_path / "beat-schedule")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        moment = due_now()
        wait_until(lambda: ran_since(moment), 60, "a result dispatched by beat (broker up)", worker)

        proxy.stop()
        time.sleep(1)
        with pytest.raises(Exception) as refused:
            timed_call = time.monotonic()
            probe_run_now(probe=probe)
        assert "onnect" in str(refused.value) and time.monotonic() - timed_call < 3
        moment = due_now()
        time.sleep(4)
        assert not ran_since(moment), "nothing can run while the broker is down"
        assert worker.poll() is None and beat.poll() is None, "worker and beat keep running"

        proxy.start()
        wait_until(lambda: ran_since(moment), 90, "a result dispatched by beat after the broker came back", worker)
        moment = timezone.now()
        probe_run_now(probe=probe)
        wait_until(lambda: ran_since(moment), 60, "a probe-now result after the broker came back", worker)
    finally:
        beat.terminate()
        try:
            beat.wait(timeout=20)
        except subprocess.TimeoutExpired:
            beat.kill()
        worker_stop(worker)
        proxy.stop()
        app.conf.broker_url, app.conf.broker_transport_options = saved
        app._pool = None
        app.amqp._producer_pool = None
