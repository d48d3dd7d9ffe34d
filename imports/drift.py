"""Drift: the declared topology against the calls tracing observed (pure: names and counts in, rows out).

A declared link is a (source, target) pair of an interaction; an observed one a (parent, child) pair
of a dependency export. Each pair is one of:
- matched: declared and observed;
- undeclared: observed, but no interaction declares it (with its call count);
- unobserved: declared, its source is traced, yet it was never called in the window;
- untraced: declared, but its source never appears in the export, so tracing cannot tell.
"""
from dataclasses import dataclass

MATCHED, UNDECLARED, UNOBSERVED, UNTRACED = "matched", "undeclared", "unobserved", "untraced"
STATUSES = (UNDECLARED, UNOBSERVED, UNTRACED, MATCHED)  # the order a page lists them in

Pair = tuple[str, str]


@dataclass(frozen=True)
class DriftRow:
    source: str
    target: str
    status: str
    calls: int = 0
    errors: int = 0
    interactions: tuple[str, ...] = ()  # the declared interactions (source/name) of the pair

    def as_dict(self) -> dict:
        return {"source": self.source, "target": self.target, "status": self.status, "calls": self.calls,
                "errors": self.errors, "interactions": list(self.interactions)}


@dataclass(frozen=True)
class Drift:
    rows: tuple[DriftRow, ...]

    def of(self, status: str) -> list[DriftRow]:
        return [row for row in self.rows if row.status == status]

    @property
    def counts(self) -> dict[str, int]:
        return {status: len(self.of(status)) for status in STATUSES}


def drift_compare(*, declared: dict[Pair, tuple[str, ...]], observed: dict[Pair, tuple[int, int]]) -> Drift:
    """Every declared and every observed pair, classified; undeclared ones by calls, most first."""
    traced = {name for pair in observed for name in pair}
    rows = [_declared_row(pair, keys, observed, traced) for pair, keys in declared.items()]
    rows += [DriftRow(*pair, UNDECLARED, *counts) for pair, counts in observed.items() if pair not in declared]
    return Drift(rows=tuple(sorted(rows, key=_order)))


def _declared_row(pair: Pair, keys: tuple[str, ...], observed: dict, traced: set[str]) -> DriftRow:
    if pair in observed:
        return DriftRow(*pair, MATCHED, *observed[pair], interactions=keys)
    return DriftRow(*pair, UNOBSERVED if pair[0] in traced else UNTRACED, interactions=keys)


def _order(row: DriftRow) -> tuple:
    return STATUSES.index(row.status), -row.calls, row.source, row.target
