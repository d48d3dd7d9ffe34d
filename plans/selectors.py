"""Reads for plans: the interactions a plan changes as they are now, and whether it still applies."""
from topology.models import Interaction

from .changes import Change


def _state(row: Interaction) -> dict:
    return {"style": row.style, "channel": row.channel, "broker": row.broker, "criteria": row.criteria}


def plan_basis(*, changes: list[Change]) -> tuple[dict, list[Interaction]]:
    """("<service>/<name>" -> state) of the interactions the changes name, and the rows."""
    wanted = {(c.source, c.name) for c in changes}
    rows = [row for row in Interaction.objects.filter(source__name__in={s for s, _ in wanted})
            .select_related("source") if (row.source.name, row.name) in wanted]
    return {f"{row.source.name}/{row.name}": _state(row) for row in rows}, rows


def plan_staleness(*, basis: dict, changes: list[Change]) -> list[str]:
    """Why a stored plan no longer applies: an interaction it changes is gone or changed since."""
    now, _ = plan_basis(changes=changes)
    stale = []
    for change in changes:
        if change.key not in now:
            stale.append(f"{change.key} no longer exists")
        elif basis.get(change.key) != now[change.key]:
            stale.append(f"{change.key} changed since the plan was made")
    return stale
