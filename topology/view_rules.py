"""Rules that keep a view of the topology readable, pure: plain names and counts in, decisions out.

- Other teams fold: in a team view (or a focus view), the services of teams other than the viewed
  one (or than the focused service's) are drawn as one folder per team once there are more than
  FOLD_OTHERS_OVER of them; a team with a single service in the view keeps it (a folder would be
  one node all the same, and say less).
- Channels as lines: a topic or queue with exactly one producer and one consumer drawn in the view
  can be drawn as one labelled line from the producer to the consumer instead of a node of its own
  (by default once a view draws more than CHANNEL_LINES_OVER nodes).
- Too large: a view that would still draw more than TOO_LARGE nodes is not drawn; the page offers
  narrower ones. At fit on a 1440x900 screen the diagram gets about 1,000 x 640 pixels: a drawing
  of more nodes than that shrinks their 11 pt labels below what can be read. So is a view of more
  than TOO_MANY_SERVICES services, however few nodes its folders make: its folders then stand for
  most of a large system, which the team overview shows better, and its lines are mostly left out.
- Findings follow the view: a chain, cycle or budget belongs to a view when all its services are in
  it; a fan-in, fan-out or mesh (about one service and its callers or callees) when that service is.
"""
from collections import Counter
from collections.abc import Iterable, Mapping

FOLD_OTHERS_OVER = 8
CHANNEL_LINES_OVER = 30
TOO_LARGE = 90
TOO_MANY_SERVICES = 400
ABOUT_ONE = frozenset({"fan-in", "sync-fan-out", "sync-mesh"})  # finding kinds about their first service


def teams_folded(team_of: Mapping[str, str], home: str | None, expand: Iterable[str] = (), *,
                 over: int = FOLD_OTHERS_OVER) -> set[str]:
    """The teams drawn as folders: `team_of` maps each service in the view to its team ("" for the
    placeholders), `home` is the viewed team (None: not a team or focus view, nothing folds);
    teams in `expand` stay open."""
    if home is None:
        return set()
    sizes = Counter(team for team in team_of.values() if team != home)
    if sum(sizes.values()) <= over:
        return set()
    return {team for team, size in sizes.items() if size > 1} - set(expand)


def channels_as_lines(ends: Iterable[tuple[str, str, str]]) -> dict[str, tuple[str, str]]:
    """Channels with exactly one producer and one consumer (and not the same service): channel ->
    (producer, consumer). `ends` are (channel, producer, consumer), one per message route drawn."""
    producers: dict[str, set[str]] = {}
    consumers: dict[str, set[str]] = {}
    for channel, producer, consumer in ends:
        producers.setdefault(channel, set()).add(producer)
        consumers.setdefault(channel, set()).add(consumer)
    return {channel: (next(iter(sources)), next(iter(consumers[channel])))
            for channel, sources in sorted(producers.items())
            if len(sources) == 1 and len(consumers[channel]) == 1 and sources != consumers[channel]}


def channel_lines_wanted(mode: str, nodes: int, *, over: int = CHANNEL_LINES_OVER) -> bool:
    """Whether single channels are drawn as lines: asked ("lines"), refused ("nodes"), or by
    default when the view draws more than `over` nodes."""
    return mode == "lines" or (mode != "nodes" and nodes > over)


def too_large(nodes: int, services: int = 0, *, anyway: bool = False, limit: int = TOO_LARGE,
              most: int = TOO_MANY_SERVICES) -> bool:
    """Whether a view of `services` services drawn as `nodes` nodes is offered narrower instead of drawn."""
    return (nodes > limit or services > most) and not anyway


def findings_in_view(found: Iterable, names: Iterable[str]) -> tuple[list, int]:
    """The findings that belong to a view of the services `names` (see the module's text), and how
    many do not."""
    shown = set(names)
    inside, outside = [], 0
    for finding in found:
        needed = finding.services[:1] if finding.kind in ABOUT_ONE else finding.services
        if needed and shown.issuperset(needed):
            inside.append(finding)
        else:
            outside += 1
    return inside, outside
