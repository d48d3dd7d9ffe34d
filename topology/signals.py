"""Signals of the registry, for the apps above topology to act on without being imported."""
from django.dispatch import Signal

# Sent by every registry write inside its transaction, after the rest of its writes (registration,
# deleting a service, decision writes, re-evaluation batches). A receiver that writes (an outbox row)
# writes in that same transaction.
registry_written = Signal()

# Sent by `load_demo` once the demo system is registered, with `actor`: the apps above add their part
# of the demo (notification channels) when it is not there yet.
demo_loaded = Signal()
