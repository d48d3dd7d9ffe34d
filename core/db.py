"""Database helpers every app shares."""
import random
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction

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


# --- Celery tasks and database errors -----------------------------------------------------------

# A database that does not answer, drops the connection or is in the way: worth another attempt.
DATABASE_ERRORS = (OperationalError, InterfaceError)
# Celery options of every task that touches the database: retried with exponential backoff (2, 4, 8,
# 16, 32 s, at most 60) and full jitter, then the last error is raised (logged by the worker as failed).
TASK_RETRIES = {"autoretry_for": DATABASE_ERRORS, "retry_backoff": 2, "retry_backoff_max": 60,
                "retry_jitter": True, "max_retries": 5}
GAVE_UP = "The database failed {attempts} times in a row, so the work stopped: {error}"


@contextmanager
def database_errors_seen() -> Iterator[list[Exception]]:
    """The database errors raised by the queries run inside, even those the code inside caught."""
    seen: list[Exception] = []

    def noting(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except DATABASE_ERRORS as exc:
            seen.append(exc)
            raise

    # First in the list is outermost: it sees the errors of every wrapper installed before it too.
    connection.execute_wrappers.insert(0, noting)
    try:
        yield seen
    finally:
        connection.execute_wrappers.remove(noting)


def job_task_attempt(task: Any, *, run: Callable[[], Any], failed: Callable[[], bool],
                     reopen: Callable[[], Any], fail: Callable[[str], Any]) -> None:
    """One attempt of a Celery task (with TASK_RETRIES) that works on a job row a person follows.

    Job services end every failure visibly, database errors included, which alone would never retry
    them. So: an attempt that met a database error, whether it escaped `run` or `run` caught it and
    `failed()` the job for it, raises it, and Celery retries with backoff; the next attempt first
    `reopen`s the job (queued again, so `run` can claim it). The last attempt does not raise: it
    `fail`s the job with the error, for the person who follows it.
    """
    if task.request.retries:
        reopen()
    with database_errors_seen() as seen:
        try:
            run()
        except DATABASE_ERRORS as exc:
            error = exc
        else:
            error = seen[-1] if seen and failed() else None
    if error is None:
        return
    if task.request.retries >= task.max_retries:
        fail(GAVE_UP.format(attempts=task.request.retries + 1, error=str(error)[:500]))
        return
    raise error


def rows_source(rows: list[tuple], types: tuple[str, ...]) -> tuple[str, list]:
    """A row source for `INSERT ... <source>` or `WITH v(...) AS (<source>)`, and its parameters.

    On PostgreSQL the rows travel as one array a column (`SELECT * FROM unnest(%s::integer[], ...)`,
    `types` naming each column's type): a statement of a few placeholders, whatever the number of
    rows, which the driver does not have to scan placeholder by placeholder. Elsewhere it is a
    `VALUES (...), (...)` list with one placeholder a value."""
    if connection.vendor == "postgresql":
        columns = [list(column) for column in zip(*rows)] if rows else [[] for _ in types]
        return "SELECT * FROM unnest(" + ", ".join(f"%s::{kind}[]" for kind in types) + ")", columns
    one = "(" + ", ".join(["%s"] * len(types)) + ")"
    return "VALUES " + ", ".join([one] * len(rows)), [value for row in rows for value in row]
