"""Decision records read for export as madr.DecisionRecord values, and zipped as docs/decisions/."""
import io
import zipfile
from collections.abc import Iterable
from datetime import date

from django.utils import timezone

from decisions.models import Decision
from decisions.selectors import decision_list

from .madr import DecisionRecord, RecordLink, madr_index, madr_render, record_link

ZIP_FOLDER = "docs/decisions"


def decision_records(*, numbers: Iterable[int] | None = None) -> list[DecisionRecord]:
    """Decisions by number, lowest first (only these numbers, when given), with team, supersede
    links and linked interactions joined up front: two queries however many there are."""
    decisions = decision_list().order_by("number")
    if numbers is not None:
        decisions = decisions.filter(number__in=list(numbers))
    return [record_of(decision=decision) for decision in decisions]


def record_of(*, decision: Decision) -> DecisionRecord:
    """One decision as plain values (its options with every key, for an exact round trip)."""
    return DecisionRecord(
        number=decision.number, title=decision.title, status=decision.status, kind=decision.kind,
        context=decision.context, drivers=list(decision.drivers or []),
        options=[_option(option) for option in decision.options or []],
        outcome=decision.outcome, justification=decision.justification,
        consequences_good=decision.consequences_good, consequences_bad=decision.consequences_bad,
        chosen_style=decision.chosen_style, recommendation=dict(decision.recommendation or {}),
        decided_on=decision.decided_on, recorded_on=timezone.localdate(decision.created_at),
        team=decision.team.slug if decision.team_id else None,
        interactions=[{"source": item.source.name, "name": item.name} for item in decision.interactions.all()],
        supersedes=_link(decision.supersedes), superseded_by=_link(getattr(decision, "superseded_by", None)),
        created_by=decision.created_by,
    )


def _option(option: dict) -> dict:
    """An option as validation allows it (description, pros and cons may be left out), with every key."""
    return {"name": "", "description": "", "pros": [], "cons": [], **option}


def _link(decision: Decision | None) -> RecordLink | None:
    return record_link(number=decision.number, title=decision.title) if decision is not None else None


def decisions_zip(records: list[DecisionRecord]) -> bytes:
    """docs/decisions/NNNN-slug.md for each record and docs/decisions/README.md, their index."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            _add(archive, name=record.file, text=madr_render(record), day=record.date)
        days = [record.date for record in records if record.date]
        _add(archive, name="README.md", text=madr_index(records), day=max(days, default=None))
    return buffer.getvalue()


def _add(archive: zipfile.ZipFile, *, name: str, text: str, day: date | None) -> None:
    """One file, stamped with the record's date (the same records give the same bytes)."""
    stamp = (day.year, day.month, day.day, 0, 0, 0) if day and day.year >= 1980 else (1980, 1, 1, 0, 0, 0)
    entry = zipfile.ZipInfo(f"{ZIP_FOLDER}/{name}", date_time=stamp)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = 0o644 << 16
    archive.writestr(entry, text.encode())
