#!/usr/bin/env python
"""Prove that a database made by an older commit migrates forward with the current code, losing no row.

    .venv/bin/python scripts/migrate_forward_check.py [--base 30053b1] [--new-tree PATH]
        [--database-url postgres://postgres@127.0.0.1:5432/NAME] [--keep]

1. `git worktree add --detach` of --base (default 30053b1, the last commit before the topology
   models moved into `probes` and `core`) into a temporary folder.
2. A fresh database: a new SQLite file in a temporary folder, or with --database-url a PostgreSQL
   database that is DROPPED and created again (give it a throwaway name). The old code migrates it,
   runs `load_demo` and adds what the demo lacks (probe statuses, results and rollups, a rollup mark,
   an audit event, a heartbeat, the topology summary, a token, a flow, a custom rule, an evaluation
   run, decisions linked to interactions) through its own ORM: see SEED.
3. A snapshot of every table (row count and SHA-256 over all rows, columns by name, rows ordered by
   all columns), taken with the old code's settings.
4. The new code (--new-tree, default the checkout this script lives in, as it is at that moment)
   runs `migrate --noinput` on the same database; a second snapshot is taken with its settings and
   compared: every table of before must exist after with the same count and digest. Tables only in
   the after snapshot are "new". Then `makemigrations --check --dry-run` with the new code.
5. The worktree, the temporary folders and the PostgreSQL database are removed unless --keep.

Every Django command runs in a subprocess with the settings of its own tree, a temporary
SWITCHBOARD_VAR_DIR (nothing under var/ is touched), the filesystem broker and the file cache in it.

Exit code: 0 when every row was kept and makemigrations agrees; 1 when a table was lost or changed;
2 when the rows were kept but makemigrations --check found model changes without a migration;
3 when a step itself failed (its output is printed).

From a test: `result = check("30053b1", None)`, then `assert result.ok, result.summary()`.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_BASE = "30053b1"
SKIPPED_TABLES = ("django_migrations", "django_session", "django_content_type", "auth_permission")
SKIPPED_PREFIXES = ("django_celery_beat_",)
# Tables a migration rewrites into a new shape on purpose: their rows are counted, not digested (the
# content of the copy is checked by the test named).
RESHAPED_TABLES = {
    "topology_proberesult": "reshaped by probes.0004 (tests/test_probe_results_store.py checks the copy)",
    "topology_proberollup": "reshaped by probes.0004 (tests/test_probe_results_store.py checks the copy)",
}

# Run with `python -` in a tree (cwd), prints {"code_root", "vendor", "tables": {name: {...}}} as JSON.
SNAPSHOT = r'''
import datetime, decimal, hashlib, json, os, sys, uuid

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
import django
django.setup()
from django.conf import settings
from django.db import connection

skipped, prefixes = json.loads(sys.argv[1])
kept = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}  # table -> the columns it had before migrating


def text(value):
    """One value as text that SQLite and PostgreSQL both give the same way for the same data."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)  # int, Decimal, UUID, ...


def table_snapshot(cursor, table):
    """Rows over every column, or over the columns the table had before (a column a migration adds is
    not a change of the rows kept; one it drops is, as the column list is part of the digest)."""
    present = sorted(column.name for column in connection.introspection.get_table_description(cursor, table))
    columns = [c for c in kept[table] if c in present] if table in kept else present
    quote = connection.ops.quote_name
    order = ", ".join(str(position) for position in range(1, len(columns) + 1))
    cursor.execute(f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} ORDER BY {order}")
    digest = hashlib.sha256(json.dumps(columns).encode())
    count = 0
    while rows := cursor.fetchmany(1000):
        for row in rows:
            digest.update(json.dumps([text(value) for value in row]).encode() + b"\n")
            count += 1
    return {"rows": count, "sha256": digest.hexdigest(), "columns": columns,
            "added": [c for c in present if c not in columns]}


with connection.cursor() as cursor:
    tables = {table: table_snapshot(cursor, table)
              for table in sorted(connection.introspection.table_names(cursor))
              if table not in skipped and not table.startswith(tuple(prefixes))}
print(json.dumps({"code_root": str(settings.BASE_DIR), "vendor": connection.vendor, "tables": tables}))
'''

# Run with `python -` in the OLD tree after load_demo: data the demo lacks, written with the base
# commit's ORM (fields as in topology/models.py and decisions/models.py at 30053b1). Prints counts.
SEED = r'''
import hashlib, json, os, sys
from datetime import date, timedelta

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
import django
django.setup()
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from decisions.models import CustomRule, Decision, EvaluationRun
from topology.models import (ApiToken, AuditEvent, Flow, FlowStep, Interaction, Probe, ProbeResult,
                             ProbeRollup, ProbeStatus, RegistryRevision, RollupMark, Service, Team,
                             TopologySummary, WorkerHeartbeat)

OUTCOMES = ["up", "up", "degraded", "up", "down", "up"]
LATENCIES = [12.5, 14.0, 480.25, 11.75, 5000.0, 13.5]


def probe_seed(probe, now):
    """Six results per location (one slot per interval), its status, 3 minute and 2 hour rollups."""
    for location in probe.locations or ["default"]:
        slots = [now - timedelta(seconds=probe.interval * step) for step in range(len(OUTCOMES), 0, -1)]
        ProbeResult.objects.bulk_create([
            ProbeResult(probe=probe, location=location, slot=slot, started_at=slot + timedelta(milliseconds=3),
                        latency_ms=latency, outcome=outcome,
                        values={"status": 200 if outcome != "down" else 503, "bytes": 512} if probe.kind == "http"
                        else {"ready": 3, "consumers": 1 if outcome == "up" else 0},
                        error="" if outcome != "down" else "503 Service Unavailable")
            for slot, outcome, latency in zip(slots, OUTCOMES, LATENCIES)])
        ProbeStatus.objects.update_or_create(probe=probe, location=location, defaults=dict(
            outcome=OUTCOMES[-1], since=slots[-2], checked_at=slots[-1] + timedelta(seconds=1),
            claimed_slot=slots[-1], claim_token="migcheck" + str(probe.id), last_slot=slots[-1],
            latency_ms=LATENCIES[-1], values={"status": 200}, error=""))
        for period, width, buckets in (("m", timedelta(minutes=1), 3), ("h", timedelta(hours=1), 2)):
            start = now.replace(minute=0 if period == "h" else now.minute)
            ProbeRollup.objects.bulk_create([
                ProbeRollup(probe=probe, location=location, period=period, bucket=start - width * step,
                            count=60 * step, down=step - 1, degraded=step, latency_p50=12.0 + step,
                            latency_p95=450.5 + step, last_outcome="up", last_values={"status": 200})
                for step in range(1, buckets + 1)])


@transaction.atomic
def seed():
    now = timezone.now().replace(second=0, microsecond=0)
    admin = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("migcheck", password="x")
    team = Team.objects.order_by("slug").first()
    interactions = list(Interaction.objects.order_by("source__name", "name")[:3])
    if not Probe.objects.exists():  # the demo declares probes; make one should it stop doing so
        service = Service.objects.order_by("name").first()
        Probe.objects.create(service=service, name="migcheck", kind="tcp", target="127.0.0.1:9", interval=30.0,
                             timeout=5.0, locations=["default"], next_due_at=now)
    for probe in Probe.objects.order_by("id"):
        probe_seed(probe, now)
    Probe.objects.update(runs_30d=1440, down_30d=7)
    for period, through in (("m", now), ("h", now.replace(minute=0))):
        RollupMark.objects.update_or_create(period=period, defaults={"through": through})
    token = ApiToken.objects.filter(team=team).first() or ApiToken.objects.create(
        team=team, name="migcheck", prefix="sb_migcheck", digest=hashlib.sha256(b"migcheck").hexdigest(),
        created_by=admin.username, last_used_at=now)
    AuditEvent.objects.create(at=now, user=admin, actor=admin.username, via="cli", action="update",
                              object_type="service", object_key=interactions[0].source.name,
                              service_name=interactions[0].source.name, team_slug=team.slug,
                              changes={"title": ["", "Migrated forward"]})
    AuditEvent.objects.create(at=now, token=token, actor=f"token {team.slug}/{token.name}", via="api",
                              action="create", object_type="token", object_key=f"{team.slug}/{token.name}")
    WorkerHeartbeat.objects.update_or_create(hostname="celery@migcheck", defaults={"last_seen_at": now})
    TopologySummary.objects.get_or_create(key=1, defaults=dict(
        stamp="migcheck", teams=[[team.slug, Service.objects.filter(team=team).count()], [None, 1]],
        links=[[team.slug, team.slug, "rest", 1, 0, ""]], groups=1, computed_at=now))
    RegistryRevision.objects.get_or_create(key=1, defaults={"number": 1})
    if not Flow.objects.exists():
        flow = Flow.objects.create(slug="migcheck-flow", name="Migrate-forward flow", team=team, written_by="migcheck")
        FlowStep.objects.bulk_create([FlowStep(flow=flow, position=position, interaction=interaction, label="")
                                      for position, interaction in enumerate(interactions)])
    CustomRule.objects.create(slug="migcheck-stays-sync", title="Checks stay synchronous", decides="pattern",
                              condition="style == 'rest'", effects={"request-response": 5}, cites="§5.1",
                              explanation="{source} calls {targets} synchronously.", written_by="migcheck")
    EvaluationRun.objects.create(ruleset_version="migcheck", status="done", total=10, done=10, changed=2,
                                 reason="migrate-forward check", started_at=now, finished_at=now)
    first = Decision.objects.create(number=9001, title="Use REST for checkout", status="superseded",
                                    kind="accept", context="Checkout calls payments.", drivers=["latency"],
                                    options=[{"name": "rest", "description": "", "pros": ["simple"], "cons": []}],
                                    outcome="rest", chosen_style="rest", recommendation={"pattern": "request-response"},
                                    decided_on=date(2026, 1, 5), team=team, created_by=admin.username)
    second = Decision.objects.create(number=9002, title="Use gRPC for checkout", status="accepted",
                                     kind="override", outcome="grpc", chosen_style="grpc", team=team,
                                     supersedes=first, decided_on=date(2026, 3, 1), created_by=admin.username)
    first.interactions.set(interactions[:1])
    second.interactions.set(interactions)


seed()
models = [ProbeStatus, ProbeResult, ProbeRollup, RollupMark, AuditEvent, WorkerHeartbeat, TopologySummary,
          RegistryRevision, ApiToken, Flow, FlowStep, CustomRule, EvaluationRun, Decision, Probe]
print(json.dumps({model.__name__: model.objects.count() for model in models}))
'''


class StepFailed(RuntimeError):
    """A command of the check failed; the message holds its output."""


@dataclass
class TableCheck:
    table: str
    before: int | None
    after: int | None
    status: str  # OK, DIFF (count or digest changed), LOST (table gone), NEW (only after)
    detail: str = ""


@dataclass
class Result:
    base: str
    new_tree: str
    database: str
    tables: list[TableCheck] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # tables gone or changed: each a failure
    applied: list[str] = field(default_factory=list)  # migrations the new code applied
    seeded: dict[str, int] = field(default_factory=dict)
    makemigrations_ok: bool = False
    makemigrations_output: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.lost and self.makemigrations_ok

    @property
    def exit_code(self) -> int:
        return 1 if self.lost else 0 if self.makemigrations_ok else 2

    def summary(self) -> str:
        kept = [t for t in self.tables if t.status == "OK"]
        rows = sum(t.after or 0 for t in kept)
        if self.lost:
            return f"migrate-forward: FAILED, {len(self.lost)} table(s) lost or changed: {', '.join(self.lost)}"
        return f"migrate-forward: {len(kept)} tables, {rows} rows kept, 0 lost"


# --- processes -----------------------------------------------------------------------------------


def run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, input=stdin, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise StepFailed(f"{' '.join(args)} (in {cwd}) exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done


def progress(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


def repo_root() -> Path:
    here = Path(__file__).resolve().parent
    return Path(run(["git", "rev-parse", "--show-toplevel"], cwd=here).stdout.strip())


def django_env(database_url: str, var_dir: Path) -> dict[str, str]:
    """The environment of every Django command: this database, a temporary var dir, nothing shared."""
    env = {key: value for key, value in os.environ.items() if key not in {"CACHE_URL", "SECRET_KEY"}}
    env.update(DATABASE_URL=database_url, SWITCHBOARD_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="webapp.settings",
               DEBUG="true", CELERY_BROKER_URL="", PYTHONDONTWRITEBYTECODE="1")
    return env


def manage(tree: Path, env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *args], cwd=tree, env=env, check=check)


def python_in(tree: Path, env: dict[str, str], script: str, *args: str) -> str:
    return run([sys.executable, "-", *args], cwd=tree, env=env, stdin=script).stdout


# --- worktree and database -----------------------------------------------------------------------


def worktree_add(repo: Path, base: str, path: Path) -> None:
    run(["git", "worktree", "add", "--detach", str(path), base], cwd=repo)


def worktree_remove(repo: Path, path: Path) -> None:
    run(["git", "worktree", "remove", "--force", str(path)], cwd=repo, check=False)


def postgres_parts(url: str) -> tuple[str, str]:
    """The maintenance URL (same server, database `postgres`) and the database name of a postgres:// URL."""
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if parts.scheme not in {"postgres", "postgresql", "pgsql"} or not name:
        raise SystemExit(f"--database-url must be postgres://user@host:port/NAME, got {url!r}")
    if name in {"postgres", "template0", "template1"} or url == os.environ.get("DATABASE_URL"):
        raise SystemExit(f"refusing to drop {name!r}: give --database-url a throwaway database name")
    return parts._replace(scheme="postgresql", path="/postgres").geturl(), name


def postgres_recreate(url: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    maintenance, name = postgres_parts(url)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --- snapshots -----------------------------------------------------------------------------------


def snapshot(tree: Path, env: dict[str, str], *, before: dict[str, dict] | None = None) -> dict[str, dict]:
    """Count and digest of every data table, read with the settings and code of `tree`; with `before`,
    over the columns each table had then (columns added since are listed, not compared)."""
    kept = {table: found["columns"] for table, found in (before or {}).items()}
    found = json.loads(python_in(tree, env, SNAPSHOT, json.dumps([SKIPPED_TABLES, SKIPPED_PREFIXES]),
                                 json.dumps(kept)))
    if Path(found["code_root"]).resolve() != tree.resolve():
        raise StepFailed(f"the snapshot in {tree} ran the code of {found['code_root']}")
    return found["tables"]


def compare(before: dict[str, dict], after: dict[str, dict]) -> list[TableCheck]:
    checks = []
    for table in sorted(before.keys() | after.keys()):
        old, new = before.get(table), after.get(table)
        if old is None:
            checks.append(TableCheck(table, None, new["rows"], "NEW"))
        elif new is None:
            checks.append(TableCheck(table, old["rows"], None, "LOST", "table is gone"))
        elif (old["rows"], old["sha256"]) == (new["rows"], new["sha256"]):
            checks.append(TableCheck(table, old["rows"], new["rows"], "OK"))
        elif table in RESHAPED_TABLES and old["rows"] == new["rows"]:
            checks.append(TableCheck(table, old["rows"], new["rows"], "OK", RESHAPED_TABLES[table]))
        else:
            checks.append(TableCheck(table, old["rows"], new["rows"], "DIFF", diff_detail(old, new)))
    return checks


def diff_detail(old: dict, new: dict) -> str:
    if old["columns"] != new["columns"]:
        gone, added = set(old["columns"]) - set(new["columns"]), set(new["columns"]) - set(old["columns"])
        return f"columns changed (-{sorted(gone)} +{sorted(added)})"
    return "row count changed" if old["rows"] != new["rows"] else "same count, different content"


def applied_migrations(migrate_output: str) -> list[str]:
    return re.findall(r"Applying (\S+)\.\.\.", migrate_output)


# --- the check -----------------------------------------------------------------------------------


def old_database_build(old_tree: Path, env: dict[str, str]) -> dict[str, int]:
    progress("old code: migrate")
    manage(old_tree, env, "migrate", "--noinput")
    progress("old code: load_demo")
    manage(old_tree, env, "load_demo")
    progress("old code: extra rows")
    return json.loads(python_in(old_tree, env, SEED))


def check(base: str = DEFAULT_BASE, database_url: str | None = None, *, new_tree: Path | None = None,
          keep: bool = False) -> Result:
    """Build a database with `base`, migrate it with `new_tree` (default: this checkout), compare every table."""
    started = time.monotonic()
    repo = repo_root()
    new_tree = (new_tree or repo).resolve()
    workdir = Path(tempfile.mkdtemp(prefix="migcheck-"))
    old_tree, var_dir = workdir / "old", workdir / "var"
    url = database_url or f"sqlite:///{workdir / 'db.sqlite3'}"
    env = django_env(url, var_dir)
    result = Result(base=base, new_tree=str(new_tree), database=url)
    try:
        progress(f"worktree of {base} in {old_tree}")
        worktree_add(repo, base, old_tree)
        if database_url:
            postgres_recreate(database_url)
        result.seeded = old_database_build(old_tree, env)
        before = snapshot(old_tree, env)
        (workdir / "before.json").write_text(json.dumps(before, indent=1, sort_keys=True))
        progress(f"new code ({new_tree}): migrate")
        result.applied = applied_migrations(manage(new_tree, env, "migrate", "--noinput").stdout)
        after = snapshot(new_tree, env, before=before)
        (workdir / "after.json").write_text(json.dumps(after, indent=1, sort_keys=True))
        result.tables = compare(before, after)
        result.lost = [t.table for t in result.tables if t.status in {"LOST", "DIFF"}]
        progress("new code: makemigrations --check --dry-run")
        made = manage(new_tree, env, "makemigrations", "--check", "--dry-run", check=False)
        result.makemigrations_ok = made.returncode == 0
        result.makemigrations_output = (made.stdout + made.stderr).strip()
    finally:
        if keep:
            progress(f"kept: {workdir} (worktree {old_tree}, snapshots before.json/after.json, database {url})")
        else:
            worktree_remove(repo, old_tree)
            shutil.rmtree(workdir, ignore_errors=True)
            if database_url:
                postgres_recreate(database_url, drop_only=True)
        result.seconds = time.monotonic() - started
    return result


def makemigrations_problem(output: str) -> str:
    """The changes makemigrations would make, or the last line of the error it stopped on."""
    if "Traceback" in output:
        return "the command crashed: " + output.splitlines()[-1]
    return "models and migrations disagree:\n" + output


def report(result: Result) -> str:
    width = max([len(t.table) for t in result.tables] + [5])
    lines = [f"base {result.base} -> {result.new_tree}  ({result.database.split('://')[0]})",
             f"new code applied {len(result.applied)} migration(s): {', '.join(result.applied) or 'none'}",
             f"{'table':<{width}}  {'before':>7}  {'after':>7}  status"]
    for t in result.tables:
        before, after = ("-" if n is None else str(n) for n in (t.before, t.after))
        lines.append(f"{t.table:<{width}}  {before:>7}  {after:>7}  {t.status}{'  ' + t.detail if t.detail else ''}")
    verdict = "OK (models and migrations agree)" if result.makemigrations_ok else \
        f"FAILED: {makemigrations_problem(result.makemigrations_output)}"
    lines.append(f"makemigrations --check --dry-run: {verdict}")
    lines.append(f"took {result.seconds:.1f} s")
    lines.append(result.summary())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=DEFAULT_BASE,
                        help=f"commit that builds the database (default {DEFAULT_BASE})")
    parser.add_argument("--database-url",
                        help="a PostgreSQL URL whose database is dropped and created (default: SQLite)")
    parser.add_argument("--new-tree", type=Path, help="the tree whose migrations run forward (default: this checkout)")
    parser.add_argument("--keep", action="store_true", help="keep the worktree, temporary folder and database")
    args = parser.parse_args(argv)
    try:
        result = check(args.base, args.database_url, new_tree=args.new_tree, keep=args.keep)
    except StepFailed as exc:
        print(f"migrate-forward: step failed: {exc}", file=sys.stderr)
        return 3
    print(report(result))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
