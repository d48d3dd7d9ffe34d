"""Decision records as MADR Markdown files, and back. Pure: plain data in, text out (no Django).

A record is one file, `NNNN-title-slug.md`: YAML front matter with the facts (status, date,
deciders, kind, number, team, links to the superseded and superseding records' files, linked
interactions, the stored recommendation), then the MADR sections with the words. Whatever the text
holds, `madr_parse(madr_render(record)) == record`:

- one-line values (the title, option names, the outcome) escape `\\`, `"`, `<` and line breaks as
  `\\\\`, `\\"`, `\\<`, `\\n` and `\\r` (Markdown shows `\\\\`, `\\"` and `\\<` as the character itself,
  so a title never opens an HTML tag);
- free text (context, justification, option descriptions) is written as it is, except that a line
  that could be read as structure - a heading (`#`), an HTML block (`<`), a pro or con
  (`* Good, because `), a code fence the text leaves open - gets a backslash in front, and a line
  that already starts with backslashes before such a thing gets one more; reading takes one away.
  The cost: a `#` line inside a code block shows its backslash;
- list items (drivers, pros, cons, consequences) go on under their bullet indented by two spaces;
- a consequence line that reads "Good, because ..." is written as it is, any other as "Good: ..."
  (likewise "Bad"), so both the side and the exact line come back.

Front matter: `status`, `number` and `kind` always; then, when not empty, `date` (decided-on, else
recorded-on), `deciders` ([team slug, created_by]), `decided-on`, `recorded-on` (the created date),
`team`, `created-by`, `chosen-style`, `supersedes` and `superseded-by` (the other record's file
name), `interactions` ([{source, name}]) and `recommendation` (the stored snapshot, whole).

The parser reads only the headings it writes. `date`, `deciders` and the `## More Information`
section are derived for readers (links, interactions, a summary of the recommendation) and are not
read back.
"""
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import yaml

CONTEXT = "## Context and Problem Statement"
DRIVERS = "## Decision Drivers"
OPTIONS = "## Considered Options"
OUTCOME = "## Decision Outcome"
CONSEQUENCES = "### Consequences"
PROS_AND_CONS = "## Pros and Cons of the Options"
MORE = "## More Information"
CHOSEN, BECAUSE = 'Chosen option: "', ", because "
SIDES = ("Good", "Bad")
UNESCAPES = {"n": "\n", "r": "\r"}
ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "<": "\\<"})
BREAK = re.compile(r"(\r\n|\r|\n)")
CONTINUED = re.compile(r"(\r\n|\r|\n)  ")
STRUCTURE = re.compile(r"^( {0,3})(\\*)(#|<|\* Good, because |\* Bad, because |```|~~~)")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
LINK_FILE = re.compile(r"([0-9]+)-[a-z0-9-]*\.md")
SLUG_LENGTH = 60


class _Dumper(yaml.SafeDumper):
    """safe_dump without anchors: the same date twice is written twice, not as &id001 / *id001."""

    def ignore_aliases(self, data) -> bool:
        return True


class MadrError(ValueError):
    """Text that is not a MADR record written by madr_render (the message says what is missing)."""


@dataclass(frozen=True)
class RecordLink:
    """Another decision record, by number and file name (the front matter names the file)."""

    number: int
    file: str


@dataclass
class DecisionRecord:
    """Everything a decision holds, as plain values. Options have every key: name, description,
    pros, cons; interactions are {source, name}; team is a slug; recorded_on is the created date."""

    number: int
    title: str
    status: str = "proposed"
    kind: str = "general"
    context: str = ""
    drivers: list[str] = field(default_factory=list)
    options: list[dict] = field(default_factory=list)
    outcome: str = ""
    justification: str = ""
    consequences_good: str = ""
    consequences_bad: str = ""
    chosen_style: str = ""
    recommendation: dict = field(default_factory=dict)
    decided_on: date | None = None
    recorded_on: date | None = None
    team: str | None = None
    interactions: list[dict] = field(default_factory=list)
    supersedes: RecordLink | None = None
    superseded_by: RecordLink | None = None
    created_by: str = ""

    @property
    def file(self) -> str:
        return record_file(number=self.number, title=self.title)

    @property
    def code(self) -> str:
        return code_of(self.number)

    @property
    def date(self) -> date | None:
        """MADR's date: when it was decided, else when it was recorded."""
        return self.decided_on or self.recorded_on


# --- names -------------------------------------------------------------------------------------


def title_slug(title: str) -> str:
    """'Use REST for reads!' -> 'use-rest-for-reads'; ASCII only, at most 60 characters."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return slug[:SLUG_LENGTH].rstrip("-") or "decision"


def record_file(*, number: int, title: str) -> str:
    return f"{number:04d}-{title_slug(title)}.md"


def record_link(*, number: int, title: str) -> RecordLink:
    return RecordLink(number=number, file=record_file(number=number, title=title))


def link_parse(file: object) -> RecordLink:
    match = LINK_FILE.fullmatch(str(file))
    if match is None:
        raise MadrError(f"a link to a record must be its file name, like 0007-use-rest.md, not {file!r}")
    return RecordLink(number=int(match.group(1)), file=str(file))


# --- encodings ---------------------------------------------------------------------------------


def inline(text: str) -> str:
    """A one-line value: backslash, double quote, < and line breaks escaped."""
    return text.translate(ESCAPES)


def inline_parse(text: str) -> str:
    return re.sub(r"\\(.)", lambda match: UNESCAPES.get(match.group(1), match.group(1)), text, flags=re.S)


def block(text: str) -> str:
    """Free text whose lines cannot be read as a heading, a pro or con, or the start of a code or
    HTML block that swallows the rest of the file."""
    parts = BREAK.split(text)
    lines = parts[::2]
    fences = not _fences_closed(lines)
    parts[::2] = [_escaped(line, fences=fences) for line in lines]
    return "".join(parts)


def block_parse(text: str) -> str:
    parts = BREAK.split(text)
    parts[::2] = [_unescaped(line) for line in parts[::2]]
    return "".join(parts)


def _escaped(line: str, *, fences: bool) -> str:
    match = STRUCTURE.match(line)
    if match is None or (match.group(3) in ("```", "~~~") and not match.group(2) and not fences):
        return line
    return f"{match.group(1)}\\{line[len(match.group(1)):]}"


def _unescaped(line: str) -> str:
    match = STRUCTURE.match(line)
    if match is None or not match.group(2):
        return line
    return match.group(1) + line[len(match.group(1)) + 1:]


def _fences_closed(lines: list[str]) -> bool:
    """Whether every code fence the lines open is closed again (CommonMark's rule, roughly)."""
    fence = ""
    for line in lines:
        match = FENCE.match(line)
        if match is None:
            continue
        run = match.group(1)
        if not fence:
            fence = run
        elif run[0] == fence[0] and len(run) >= len(fence) and not line[match.end():].strip():
            fence = ""
    return not fence


def item(text: str) -> str:
    """A bullet whose text goes on, after each line break, indented by two spaces."""
    return "* " + BREAK.sub(r"\1  ", text)


def items_parse(lines: list[str]) -> list[str]:
    """The texts of the bullets in these lines (each with the lines that go on under it)."""
    found: list[list[str]] = []
    for line in lines:
        if line.startswith("* "):
            found.append([line[2:]])
        elif line.startswith("  ") and found:
            found[-1].append(line)
    return [CONTINUED.sub(r"\1", "\n".join(parts)) for parts in found]


def because(side: str) -> str:
    return f"{side}{BECAUSE}"


def sided(line: str, *, side: str) -> str:
    """A consequence as it is when it reads 'Good, because ...', else marked 'Good: ...'."""
    return line if line.startswith(because(side)) else f"{side}: {line}"


def sided_parse(text: str) -> tuple[str, str] | None:
    """(side, line) of a consequence bullet, or None for a bullet of neither side."""
    for side in SIDES:
        if text.startswith(because(side)):
            return side, text
        if text.startswith(f"{side}: "):
            return side, text[len(side) + 2:]
    return None


# --- rendering ---------------------------------------------------------------------------------


def madr_render(record: DecisionRecord) -> str:
    """The record as a MADR file: front matter, then the sections that have something to say."""
    matter = yaml.dump(front_matter(record), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    blocks = [f"# {inline(record.title)}"]
    blocks += _section(CONTEXT, block(record.context) if record.context else "")
    blocks += _section(DRIVERS, "\n".join(item(text) for text in record.drivers))
    blocks += _section(OPTIONS, "\n".join(item(inline(option["name"])) for option in record.options))
    blocks += _outcome(record)
    blocks += _pros_and_cons(record.options)
    blocks += _section(MORE, "\n\n".join(more_information(record)))
    return "---\n" + matter + "---\n\n" + "\n\n".join(blocks) + "\n"


def front_matter(record: DecisionRecord) -> dict:
    """The facts of a record; optional ones are left out while empty. `date` and `deciders` are
    for readers (MADR's names); `decided-on`, `recorded-on`, `team` and `created-by` are read back."""
    links = {"supersedes": record.supersedes, "superseded-by": record.superseded_by}
    optional = {
        "date": record.date, "deciders": [name for name in (record.team, record.created_by) if name],
        "decided-on": record.decided_on, "recorded-on": record.recorded_on, "team": record.team,
        "created-by": record.created_by, "chosen-style": record.chosen_style,
        **{key: link.file if link else None for key, link in links.items()},
        "interactions": [{"source": link["source"], "name": link["name"]} for link in record.interactions],
        "recommendation": record.recommendation,
    }
    required = {"status": record.status, "number": record.number, "kind": record.kind}
    return {**required, **{key: value for key, value in optional.items() if value not in (None, "", [], {})}}


def _section(heading: str, content: str) -> list[str]:
    return [heading, content] if content else []


def _outcome(record: DecisionRecord) -> list[str]:
    """'Chosen option: "...", because ...' (the justification goes on below), then the consequences."""
    chosen = []
    if record.outcome or record.justification:
        reason = BECAUSE + block(record.justification) if record.justification else ""
        chosen = [f'{CHOSEN}{inline(record.outcome)}"{reason}']
    consequences = _consequences(record)
    return [OUTCOME, *chosen, *_section(CONSEQUENCES, consequences)] if chosen or consequences else []


def _consequences(record: DecisionRecord) -> str:
    """One bullet a line of each side's text, the good side first."""
    sides = zip(SIDES, (record.consequences_good, record.consequences_bad))
    return "\n".join(item(sided(line, side=side)) for side, text in sides if text for line in text.split("\n"))


def _pros_and_cons(options: list[dict]) -> list[str]:
    blocks = [part for option in options for part in _option_section(option)]
    return [PROS_AND_CONS, *blocks] if blocks else []


def _option_section(option: dict) -> list[str]:
    """An option's description, then its pros and cons; nothing when it has none of them."""
    arguments = "\n".join(item(because(side) + text) for side, key in zip(SIDES, ("pros", "cons"))
                          for text in option[key])
    parts = [part for part in (block(option["description"]), arguments) if part]
    return _section(f"### {inline(option['name'])}", "\n\n".join(parts))


def more_information(record: DecisionRecord) -> list[str]:
    """Paragraphs for readers: links to the records around this one, what it is about, the
    recommendation it was decided against (never read back)."""
    said = [f"{label} {link_markdown(link)}." for label, link in (
        ("Supersedes", record.supersedes), ("Superseded by", record.superseded_by)) if link]
    if record.interactions:
        keys = ", ".join(f"`{inline(link['source'])}/{inline(link['name'])}`" for link in record.interactions)
        said.append(f"About the interactions {keys}.")
    if record.recommendation:
        said.append(f"Recommended when decided: {recommendation_summary(record.recommendation)}.")
    return said


def code_of(number: int) -> str:
    return f"ADR-{number:04d}"


def link_markdown(link: RecordLink) -> str:
    """'[ADR-0003](0003-use-grpc.md)': a link to the file next to this one."""
    return f"[{code_of(link.number)}]({link.file})"


def recommendation_summary(recommendation: dict) -> str:
    """'pattern request-response, style rest, confidence 0.82, ruleset 2024.1' from what it holds."""
    keys = ("pattern", "style", "protocol", "broker", "confidence", "ruleset_version")
    said = [f"{key.split('_')[0]} {inline(str(recommendation[key]))}" for key in keys
            if recommendation.get(key) not in (None, "")]
    return ", ".join(said) or "stored in the front matter"


# --- parsing -----------------------------------------------------------------------------------


def madr_parse(text: str) -> DecisionRecord:
    """The record a file written by madr_render holds; MadrError says what a malformed one lacks."""
    matter, body = _split(text)
    record = _record_of(matter)
    sections = _sections(body)
    record.title = inline_parse(sections.get("#", [""])[0][2:])
    record.context = block_parse("\n".join(sections.get(CONTEXT, [])))
    record.drivers = items_parse(sections.get(DRIVERS, []))
    names = [inline_parse(name) for name in items_parse(sections.get(OPTIONS, []))]
    record.options = [{"name": name, "description": "", "pros": [], "cons": []} for name in names]
    record.outcome, record.justification = _chosen_parse(sections.get(OUTCOME, []))
    record.consequences_good, record.consequences_bad = _consequences_parse(sections.get(CONSEQUENCES, []))
    _options_parse(record.options, sections.get(PROS_AND_CONS, []))
    return record


def _split(text: str) -> tuple[dict, list[str]]:
    lines = text.split("\n")
    if lines[0] != "---" or "---" not in lines[1:]:
        raise MadrError("a MADR record starts with YAML front matter between two '---' lines")
    end = lines.index("---", 1)
    try:
        matter = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        raise MadrError(f"the front matter is not YAML: {exc}") from None
    if not isinstance(matter, dict) or not isinstance(matter.get("number"), int):
        raise MadrError("the front matter must be a mapping with the record's number")
    return matter, lines[end + 1:]


def _record_of(matter: dict) -> DecisionRecord:
    links = {key: link_parse(matter[key]) if matter.get(key) else None for key in ("supersedes", "superseded-by")}
    return DecisionRecord(
        number=matter["number"], title="", status=matter.get("status", ""), kind=matter.get("kind", ""),
        chosen_style=matter.get("chosen-style", ""), recommendation=matter.get("recommendation") or {},
        decided_on=matter.get("decided-on"), recorded_on=matter.get("recorded-on"), team=matter.get("team"),
        interactions=[{"source": link["source"], "name": link["name"]} for link in matter.get("interactions") or []],
        supersedes=links["supersedes"], superseded_by=links["superseded-by"],
        created_by=matter.get("created-by", ""),
    )


def _sections(lines: list[str]) -> dict[str, list]:
    """The content lines under each heading (without the blank line on either side), up to More
    Information; '#' holds the title line, PROS_AND_CONS a list of (option name, lines)."""
    starts = [index for index, line in enumerate(lines) if line.startswith("#")] + [len(lines)]
    sections: dict[str, list] = {}
    parent = ""
    for start, end in zip(starts, starts[1:]):
        heading, content = lines[start], lines[start + 1:end][1:-1]
        if heading == MORE:
            break
        if heading.startswith("# ") and "#" not in sections:
            sections["#"] = [heading]
        elif parent == PROS_AND_CONS and heading.startswith("### "):
            sections[PROS_AND_CONS].append((inline_parse(heading[4:]), content))
        else:
            sections[heading] = [] if heading == PROS_AND_CONS else content
            parent = heading if heading.startswith("## ") else parent
    return sections


def _chosen_parse(lines: list[str]) -> tuple[str, str]:
    """(outcome, justification) from 'Chosen option: "...", because ...' and the lines after it."""
    if not lines or not lines[0].startswith(CHOSEN):
        return "", ""
    line = lines[0]
    end = len(CHOSEN)
    while end < len(line) and line[end] != '"':
        end += 2 if line[end] == "\\" else 1
    outcome, rest = inline_parse(line[len(CHOSEN):end]), "\n".join([line[end + 1:], *lines[1:]])
    return outcome, block_parse(rest[len(BECAUSE):]) if rest.startswith(BECAUSE) else ""


def _consequences_parse(lines: list[str]) -> tuple[str, str]:
    found: dict[str, list[str]] = {side: [] for side in SIDES}
    for side_line in filter(None, map(sided_parse, items_parse(lines))):
        found[side_line[0]].append(side_line[1])
    return "\n".join(found["Good"]), "\n".join(found["Bad"])


def _options_parse(options: list[dict], subsections: list[tuple[str, list[str]]]) -> None:
    """Fill in each option's description, pros and cons from its subsection (in option order)."""
    position = 0
    for name, lines in subsections:
        later = [index for index in range(position, len(options)) if options[index]["name"] == name]
        if not later:
            continue
        position = later[0]
        options[position].update(_arguments_parse(lines))


def _arguments_parse(lines: list[str]) -> dict:
    """An option's description (free text) and the pros and cons listed after it."""
    first = next((index for index, line in enumerate(lines)
                  if line.startswith(tuple("* " + because(side) for side in SIDES))), len(lines))
    description = lines[:max(first - 1, 0)] if first < len(lines) else lines
    arguments = items_parse(lines[first:])
    return {
        "description": block_parse("\n".join(description)),
        **{key: [text[len(because(side)):] for text in arguments if text.startswith(because(side))]
           for side, key in zip(SIDES, ("pros", "cons"))},
    }


# --- the index ---------------------------------------------------------------------------------


def madr_index(records: list[DecisionRecord]) -> str:
    """docs/decisions/README.md: one row a record, its title linking to its file."""
    rows = ["| Number | Title | Status | Date | Supersedes | Superseded by |",
            "| --- | --- | --- | --- | --- | --- |"]
    rows += [_index_row(record) for record in records]
    return "# Architecture decision records\n\n" + "\n".join(rows) + "\n"


def _index_row(record: DecisionRecord) -> str:
    cells = [record.code, f"[{_cell(record.title)}]({record.file})", _cell(record.status),
             record.date.isoformat() if record.date else "",
             *(link_markdown(link) if link else "" for link in (record.supersedes, record.superseded_by))]
    return "| " + " | ".join(cells) + " |"


def _cell(text: str) -> str:
    """Text that stays inside its table cell and link text."""
    return re.sub(r"([|\[\]])", r"\\\1", inline(text))
