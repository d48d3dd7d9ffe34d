"""Signal receivers: the lower apps announce changes inside their transactions; the events they
cause are written here in those same transactions (the outbox)."""
from django.dispatch import receiver

from decisions.signals import decision_changed
from probes.signals import probe_states_confirmed
from topology.signals import demo_loaded, registry_written

from .events import decision_event_write, findings_scan, probe_events_write
from .services import demo_channels_create


@receiver(probe_states_confirmed, dispatch_uid="notifications-probe-states")
def on_probe_states(sender, *, changes, **kwargs) -> None:
    probe_events_write(changes=changes)


@receiver(registry_written, dispatch_uid="notifications-registry")
def on_registry_written(sender, **kwargs) -> None:
    findings_scan()


@receiver(decision_changed, dispatch_uid="notifications-decision")
def on_decision_changed(sender, *, decision, change, changes, actor, **kwargs) -> None:
    decision_event_write(decision=decision, change=change, changes=changes, actor=actor)


@receiver(demo_loaded, dispatch_uid="notifications-demo")
def on_demo_loaded(sender, *, actor, **kwargs) -> None:
    demo_channels_create(actor=actor)
