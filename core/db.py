"""Database helpers every app shares."""
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction

T = TypeVar("T")


def atomic_retried(work: Callable[[], T], *, conflict: Exception) -> T:
    """Run `work` in a transaction; after an IntegrityError (a concurrent write got there first) run it once
    more, and after a second one raise `conflict`. `work` may call transaction.set_rollback(True) (a dry run).
    """
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return work()
        except IntegrityError:
            if attempt == 2:
                raise conflict from None
    raise AssertionError("unreachable")
