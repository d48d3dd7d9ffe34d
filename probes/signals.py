"""Signals of the probes app, for the apps above it (notifications) to act on without being imported."""
from dataclasses import dataclass
from datetime import datetime

from django.dispatch import Signal


@dataclass(frozen=True)
class StateChange:
    """A probe's confirmed state moved at one location (after PROBE_DOWN_AFTER / PROBE_UP_AFTER results
    in a row). `previous` is "" for a probe's first confirmed state."""

    probe_id: int
    location: str
    previous: str
    state: str
    at: datetime
    latency_ms: float | None
    values: dict
    error: str


# Sent inside the transaction that stores the results, with `changes`: list[StateChange]. A receiver
# that writes (an outbox row) writes in that same transaction, so a change is announced iff it is stored.
probe_states_confirmed = Signal()
