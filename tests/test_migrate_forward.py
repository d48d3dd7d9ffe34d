"""A database built by the code from before the apps were split (commit 30053b1: demo data, probe
statuses, results and rollups, decisions, rules, flows, tokens) migrates with today's code and keeps
every row of every table; models and migrations agree. scripts/migrate_forward_check.py does the work."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE = "30053b1"


def _checker():
    spec = importlib.util.spec_from_file_location("migrate_forward_check", ROOT / "scripts" / "migrate_forward_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _has_base() -> bool:
    found = subprocess.run(["git", "cat-file", "-e", f"{BASE}^{{commit}}"], cwd=ROOT, capture_output=True)
    return found.returncode == 0


def _database_url() -> str | None:
    """SQLite on the embedded run; on PostgreSQL a throwaway database beside the suite's own."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return None
    return url.rsplit("/", 1)[0] + "/switchboard_migrate_forward"


@pytest.mark.skipif(not _has_base(), reason=f"this clone has no commit {BASE} (a shallow clone)")
def test_it_migrates_a_database_from_before_the_split_keeping_every_row():
    result = _checker().check(BASE, _database_url())
    assert result.ok, result.summary() + "\n" + result.makemigrations_output
    assert {"topology.0008_probes_leave_for_their_own_app", "probes.0001_initial"} <= set(result.applied)
    kept = {check.table: check.after for check in result.tables}
    assert kept["topology_proberesult"] == result.seeded["ProbeResult"] > 0
    assert kept["topology_proberollup"] > 0 and kept["decisions_decision_interactions"] > 0
