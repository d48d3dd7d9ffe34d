"""Who is writing, and what they may write. Plain data built once per request or command."""
from dataclasses import dataclass, field

from .choices import Via


@dataclass(frozen=True)
class Actor:
    """A signed-in user, an API token, or the command line."""

    label: str
    via: str
    user_id: int | None = None
    token_id: int | None = None
    is_staff: bool = False
    writable_team_ids: frozenset[int] = field(default_factory=frozenset)

    def can_write_team(self, team_id: int | None) -> bool:
        return self.is_staff or (team_id is not None and team_id in self.writable_team_ids)


def actor_for_cli(*, label: str = "command line") -> Actor:
    return Actor(label=label, via=Via.CLI, is_staff=True)


def actor_for_import(*, label: str = "demo import") -> Actor:
    return Actor(label=label, via=Via.IMPORT, is_staff=True)
