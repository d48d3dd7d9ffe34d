"""Signals of the decisions app, for the apps above it (notifications) to act on without being imported."""
from django.dispatch import Signal

# Sent inside the transaction of a decision write with `decision`, `change` ("created", "updated",
# "deleted", "superseded" or "released": another decision took its place, or gave it back), `changes` ({field: [before, after]}) and `actor` (its label). A receiver that writes
# (an outbox row) writes in that same transaction.
decision_changed = Signal()
