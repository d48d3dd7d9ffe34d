"""Builders shared by the notification tests."""
from core.actors import actor_for_cli
from notifications.services import channel_create


def webhook(team, url, *, name="oncall", events=("probe.down", "probe.up", "probe.degraded"), **values):
    return channel_create(actor=actor_for_cli(), team=team,
                          values={"name": name, "kind": "webhook", "url": url, "events": list(events), **values})
