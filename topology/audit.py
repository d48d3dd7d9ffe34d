"""The audit trail: who changed what, when and through which way in."""
from django.utils import timezone

from core.actors import Actor
from .models import AuditEvent

EMPTY = (None, "", [], {}, ())


def _blank(value):
    return None if value in EMPTY else value


def field_changes(before: dict, after: dict) -> dict:
    """{field: [old, new]} for every field whose value differs; empty values count as None."""
    changes = {}
    for key in sorted(before.keys() | after.keys()):
        old, new = _blank(before.get(key)), _blank(after.get(key))
        if old != new:
            changes[key] = [old, new]
    return changes


def audit_event(actor: Actor, action: str, object_type: str, key: str, *, changes: dict,
                service_name: str = "", team_slug: str = "", at=None) -> AuditEvent:
    return AuditEvent(
        at=at or timezone.now(), user_id=actor.user_id, token_id=actor.token_id, actor=actor.label,
        via=actor.via, action=action, object_type=object_type, object_key=key,
        service_name=service_name, team_slug=team_slug, changes=changes,
    )


def audit_record(events: list[AuditEvent]) -> None:
    AuditEvent.objects.bulk_create(events, batch_size=500)
