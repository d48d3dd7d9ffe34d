"""Rules that keep a view of the topology readable, pure: plain names and counts in, decisions out.

- Other teams fold: in a team view (or a focus view), the services of teams other than the viewed
  one (or than the focused service's) are drawn as one folder per team once there are more than
  FOLD_OTHERS_OVER of them; a team with a single service in the view keeps it (a folder would be
  one node all the same, and say less).
- Channels as lines: a topic or queue with exactly one producer and one consumer drawn in the view
  can be drawn as one labelled line from the producer to the consumer instead of a node of its own
  (by default once a view draws more than CHANNEL_LINES_OVER nodes).
- By force: a team view without folders (the team alone, or with few neighbours) of more than
  BY_FORCE_OVER nodes is laid out by force (neato), stretched to the canvas, with 14 pt labels: laid
  out in layers, 56 services calling each other 223 times made a strip of long back edges 12 times
  as wide as high, whose labels were 1 to 2 pixels high at fit.
- Too large: a view that would still draw more than TOO_LARGE nodes is not drawn; the page offers
  narrower ones. At fit on a 1440x900 screen the diagram gets about 1,040 x 650 pixels: measured on
  a generated system of 1,016 services (bench/generated.py populate_teams), a drawing of 24 services
  around a focus shows its 14 pt labels 9 pixels high at fit, one of 57 nodes 9 pixels, one of 78
  nodes (by force) 6.5 pixels, below what can be read. So is a view of more
  than TOO_MANY_SERVICES services, however few nodes its folders make: its folders then stand for
  most of a large system, which the team overview shows better, and its lines are mostly left out.
- Findings follow the view: a chain, cycle or budget belongs to a view when all its services are in
  it and one of them at least is drawn as itself; a fan-in, fan-out or mesh (about one service and
  its callers or callees) when that service is drawn as itself. A finding wholly inside the folders
  of other teams is not about the view (in a team view of 166 services at 1,000, most of the 116
  findings listed were fan-ins of folded neighbours).
"""
from collections import Counter
from collections.abc import Iterable, Mapping

FOLD_OTHERS_OVER = 8
CHANNEL_LINES_OVER = 30
TOO_LARGE = 60
BY_FORCE_OVER = 30
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


def by_force(nodes: int, *, team_view: bool, folders: bool, over: int = BY_FORCE_OVER) -> bool:
    """Whether a view is laid out by force rather than in layers (see the module's text)."""
    return team_view and not folders and nodes > over


def too_large(nodes: int, services: int = 0, *, anyway: bool = False, limit: int = TOO_LARGE,
              most: int = TOO_MANY_SERVICES) -> bool:
    """Whether a view of `services` services drawn as `nodes` nodes is offered narrower instead of drawn."""
    return (nodes > limit or services > most) and not anyway


def findings_in_view(found: Iterable, names: Iterable[str], drawn: Iterable[str] | None = None) -> tuple[list, int]:
    """The findings that belong to a view of the services `names` of which `drawn` are drawn as
    themselves (None: all of them; the others are in folders), see the module's text, and how many
    do not belong."""
    shown = set(names)
    itself = shown if drawn is None else set(drawn)
    inside, outside = [], 0
    for finding in found:
        needed = finding.services[:1] if finding.kind in ABOUT_ONE else finding.services
        if needed and shown.issuperset(needed) and not itself.isdisjoint(needed):
            inside.append(finding)
        else:
            outside += 1
    return inside, outside
