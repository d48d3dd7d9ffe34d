"""Database helpers every app shares."""
import random
import time
import zlib
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, OperationalError, connection, transaction

T = TypeVar("T")

ATTEMPTS = 5
BACKOFF_SECONDS = 0.05  # 0.05, 0.1, 0.2, 0.4 s between attempts, each with up to as much again of jitter
# PostgreSQL errors that only say "another transaction was in the way": running again succeeds.
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock detected, lock not available


def atomic_retried(work: Callable[[], T], *, conflict: Exception, lock: str = "registry") -> T:
    """Run `work` in a transaction that holds the write lock named `lock`, and run it again (up to
    ATTEMPTS times, with exponential backoff and jitter) after an error that a concurrent write
    caused: an IntegrityError (it got there first), a deadlock, a serialization failure, or SQLite's
    "database is locked". After the last attempt raise `conflict`. `work` may call
    transaction.set_rollback(True) (a dry run).

    On PostgreSQL the lock is a transaction-level advisory lock, taken first: writers of one lock run
    one after the other, each reading what the one before committed, so concurrent writes of the same
    rows neither deadlock nor mix (each row ends as one writer left it, whole). On SQLite writers are
    serialised by the database (transaction_mode IMMEDIATE).
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():
                _lock_take(lock)
                return work()
        except (IntegrityError, OperationalError) as exc:
            if isinstance(exc, OperationalError) and not is_transient(exc):
                raise
            if attempt == ATTEMPTS:
                raise conflict from exc
            pause = BACKOFF_SECONDS * 2 ** (attempt - 1)
            time.sleep(pause + random.uniform(0, pause))
    raise AssertionError("unreachable")


def _lock_take(name: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(name)])


def lock_key(name: str) -> int:
    """A stable 63-bit key for a lock name (pg_advisory_xact_lock takes a bigint)."""
    return zlib.crc32(f"switchboard:{name}".encode()) | 0x5B0A_0000_0000_0000


def is_transient(exc: BaseException) -> bool:
    """True for a database error that another transaction caused and that a new attempt may not meet."""
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate in TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(exc) or "database table is locked" in str(exc)
