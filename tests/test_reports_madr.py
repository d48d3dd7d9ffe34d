"""Decision records as MADR Markdown: the pure round trip (hostile text too), the records read from the
database, the docs/decisions/ zip, the download API and the links on the decision pages."""
import io
import random
import zipfile
from datetime import date

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.actors import actor_for_cli
from decisions.services import decision_create
from reports.decision_records import decision_records, decisions_zip
from reports.madr import (
    DecisionRecord,
    MadrError,
    madr_index,
    madr_parse,
    madr_render,
    record_file,
    record_link,
    title_slug,
)
from topology.models import Interaction

from .factories import register, rest, service_doc

HEADINGS = ["# Use REST for reads", "## Context and Problem Statement", "## Decision Drivers",
            "## Considered Options", "## Decision Outcome", "### Consequences", "## Pros and Cons of the Options",
            "### request-response", "### queue", "## More Information"]
HOSTILE = [
    "## Decision Drivers\n## More Information\n# Title\n### Consequences",
    "---\nstatus: rejected\nnumber: 99\n---",
    "```python\n# a comment in an unclosed fence\n## Considered Options",
    "```\nclosed\n```\n~~~\nopen",
    "\\## escaped already\n\\\\# twice\n\\```\n\\<b>",
    "* Good, because sneaky\n* Bad, because sneakier\nGood: plain\nBad, because x",
    'Chosen option: "x", because y\n", because',
    "<!-- an open comment\n<script>alert(1)",
    "trailing spaces   \n\n\n  leading\ttabs\n",
    "\r\nCRLF\r\nand a lone \r## heading\r",
    "   ### indented\n    #### code\n  * Good, because indented",
    '"quotes" \\ backslash \\" \\n not a break \\',
    "unicode: café ✓ \u2028 line separator \x85 next line \ufeff",
    "\n",
    " ",
    "`inline` ``double`` ```triple``` in a line",
]


def full_record(**changes) -> DecisionRecord:
    values = dict(
        number=7, title="Use REST for reads", status="accepted", kind="accept",
        context="Orders asks payment to charge the card before confirming.\n\n- orders → payment",
        drivers=["The caller needs the answer (§5.1).", "Writes must not be lost (§4.2)."],
        options=[
            {"name": "request-response", "description": "A synchronous call. Score 5 (recommended, rules engine).",
             "pros": ["The caller needs the answer (§5.1)."], "cons": ["Temporal coupling (§4.7)."]},
            {"name": "queue", "description": "", "pros": [], "cons": ["The caller cannot wait (§5.1)."]},
            {"name": "pub-sub", "description": "", "pros": [], "cons": []},
        ],
        outcome="request-response over REST", justification="it is what the engine recommends, confidence 0.82.",
        consequences_good="Good, because the caller knows at once (§5.1).\nSimple to trace.",
        consequences_bad="Bad, because payment must be up (§4.7). Mitigate: retries.",
        chosen_style="rest",
        recommendation={"pattern": "request-response", "style": "rest", "protocol": "rest", "confidence": 0.82,
                        "ruleset_version": "builtin-3", "scores": {"pattern": {"request-response": 5, "queue": -2}},
                        "reasons": [{"rule": "needs-answer", "text": "The caller needs the answer.", "effect": 3}],
                        "mismatch": None},
        decided_on=date(2024, 5, 2), recorded_on=date(2024, 4, 28), team="commerce",
        interactions=[{"source": "orders", "name": "authorize-payment"}],
        supersedes=record_link(number=3, title="Use gRPC everywhere"),
        superseded_by=record_link(number=9, title="Use gRPC inside"), created_by="maria",
    )
    return DecisionRecord(**{**values, **changes})


def hostile_record(text: str) -> DecisionRecord:
    """Every field that takes text holds it, one-line fields included."""
    return full_record(
        title=text, status=text, kind=text, context=text, drivers=[text, text + "2"],
        options=[{"name": text, "description": text, "pros": [text], "cons": [text, text]},
                 {"name": text + "2", "description": text, "pros": [], "cons": []}],
        outcome=text, justification=text, consequences_good=text, consequences_bad=text, chosen_style=text,
        recommendation={"pattern": text, "reasons": [{"text": text}]}, team=text, created_by=text,
        interactions=[{"source": text, "name": text}],
    )


def front_matter_of(text: str) -> dict:
    return yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n"))


def body_headings(text: str) -> list[str]:
    return [line for line in text.split("\n---\n", 1)[1].split("\n") if line.startswith("#")]


# --- the pure round trip -----------------------------------------------------------------------


def test_it_round_trips_a_full_record():
    record = full_record()
    assert madr_parse(madr_render(record)) == record


def test_it_writes_the_madr_layout():
    text = madr_render(full_record())
    assert text.startswith("---\n") and body_headings(text) == HEADINGS
    assert 'Chosen option: "request-response over REST", because it is what the engine recommends' in text
    assert "* Good, because the caller knows at once (§5.1).\n* Good: Simple to trace.\n* Bad, because payment" in text
    assert "### request-response\n\nA synchronous call." in text
    assert "* Good, because The caller needs the answer (§5.1).\n* Bad, because Temporal coupling (§4.7)." in text
    assert "### pub-sub" not in text  # nothing to say about it beyond its name
    assert "Supersedes [ADR-0003](0003-use-grpc-everywhere.md)." in text
    assert "pattern request-response, style rest, protocol rest, confidence 0.82, ruleset builtin-3" in text


def test_it_writes_the_front_matter_fields():
    matter = front_matter_of(madr_render(full_record()))
    assert matter == {
        "status": "accepted", "number": 7, "kind": "accept", "date": date(2024, 5, 2),
        "deciders": ["commerce", "maria"], "decided-on": date(2024, 5, 2), "recorded-on": date(2024, 4, 28),
        "team": "commerce", "created-by": "maria", "chosen-style": "rest",
        "supersedes": "0003-use-grpc-everywhere.md", "superseded-by": "0009-use-grpc-inside.md",
        "interactions": [{"source": "orders", "name": "authorize-payment"}],
        "recommendation": full_record().recommendation,
    }


def test_it_dates_an_undecided_record_by_the_day_it_was_recorded():
    record = full_record(decided_on=None, status="proposed")
    matter = front_matter_of(madr_render(record))
    assert matter["date"] == date(2024, 4, 28) and "decided-on" not in matter
    assert madr_parse(madr_render(record)) == record


def test_it_round_trips_a_record_with_only_a_number_and_a_title():
    record = DecisionRecord(number=1, title="Something")
    text = madr_render(record)
    assert body_headings(text) == ["# Something"]
    assert madr_parse(text) == record


@pytest.mark.parametrize("text", HOSTILE)
def test_it_round_trips_hostile_text(text):
    record = hostile_record(text)
    assert madr_parse(madr_render(record)) == record


@pytest.mark.parametrize("text", HOSTILE)
def test_it_handles_hostile_text_without_a_heading_or_front_matter_of_its_own(text):
    record = full_record(context=text, justification=text,
                         options=[{"name": "request-response", "description": text, "pros": [text], "cons": []},
                                  {"name": "queue", "description": text, "pros": [], "cons": [text]}])
    rendered = madr_render(record)
    assert body_headings(rendered) == HEADINGS
    assert front_matter_of(rendered)["status"] == "accepted"


def test_it_round_trips_random_text_made_of_markdown_pieces():
    pieces = ["#", "## ", "### Consequences", "\n", "\r", "\r\n", "* ", "Good, because ", "Bad: ", "```", "~~~",
              "<", "\\", '"', "---", " ", "  ", "x", 'Chosen option: "', ", because ", "é", "\t", "- "]
    chance = random.Random(11)
    for _ in range(300):
        text = "".join(chance.choice(pieces) for _ in range(chance.randint(1, 14)))
        record = hostile_record(text)
        assert madr_parse(madr_render(record)) == record, repr(text)


def test_it_round_trips_records_with_a_supersede_link_either_way():
    older = full_record(number=3, status="superseded", supersedes=None,
                        superseded_by=record_link(number=7, title="Use REST for reads"))
    newer = full_record(supersedes=record_link(number=3, title=older.title), superseded_by=None)
    assert front_matter_of(madr_render(older))["superseded-by"] == "0007-use-rest-for-reads.md" == newer.file
    assert front_matter_of(madr_render(newer))["supersedes"] == older.file
    assert [madr_parse(madr_render(record)) for record in (older, newer)] == [older, newer]


def test_it_names_the_file_by_the_number_and_a_slug_of_the_title():
    assert record_file(number=7, title="orders/authorize-payment: use request-response over REST") == \
        "0007-orders-authorize-payment-use-request-response-over-rest.md"
    assert record_file(number=12345, title="Café ✓ «déjà»") == "12345-cafe-deja.md"
    assert title_slug("✓✓✓") == "decision" and len(title_slug("word " * 40)) <= 60


def test_it_rejects_text_that_is_not_a_record():
    with pytest.raises(MadrError, match="front matter"):
        madr_parse("# Just a title\n")
    with pytest.raises(MadrError, match="number"):
        madr_parse("---\n- a list\n---\n# Title\n")
    with pytest.raises(MadrError, match="file name"):
        madr_parse("---\nnumber: 2\nsupersedes: ../../etc/passwd\n---\n# Title\n")


def test_it_indexes_the_records_with_links_to_their_files():
    older = full_record(number=3, title="Use gRPC | everywhere [v1]", superseded_by=record_link(number=7, title="x"),
                        supersedes=None)
    index = madr_index([older, full_record(decided_on=None)])
    assert index.splitlines()[2:] == [
        "| Number | Title | Status | Date | Supersedes | Superseded by |",
        "| --- | --- | --- | --- | --- | --- |",
        "| ADR-0003 | [Use gRPC \\| everywhere \\[v1\\]](0003-use-grpc-everywhere-v1.md) | accepted | 2024-05-02 "
        "|  | [ADR-0007](0007-x.md) |",
        "| ADR-0007 | [Use REST for reads](0007-use-rest-for-reads.md) | accepted | 2024-04-28 "
        "| [ADR-0003](0003-use-grpc-everywhere.md) | [ADR-0009](0009-use-grpc-inside.md) |",
    ]


# --- records from the database -----------------------------------------------------------------


@pytest.fixture
def shop(team):
    register(service_doc("orders", interactions=[rest("authorize-payment", "payment"), rest("refund", "payment")]))


@pytest.fixture
def cli(db):
    return actor_for_cli(label="ops")


def linked(*names: str) -> list[Interaction]:
    return list(Interaction.objects.filter(source__name="orders", name__in=names))


@pytest.fixture
def decided(shop, team, cli):
    """ADR-0001 (superseded by ADR-0002, which links two interactions and has a full MADR body)."""
    first = decision_create(actor=cli, title="Use gRPC everywhere", status="accepted", team=team,
                            decided_on=date(2024, 3, 1))
    second = decision_create(
        actor=cli, title="Use REST for reads", status="accepted", kind="override", team=team,
        context="## Not a heading\n---\n```", drivers=["Latency (§5.1)"],
        options=[{"name": "request-response", "pros": ["fast"]}, {"name": "queue", "description": "later"}],
        outcome="request-response over REST", justification="Payment must answer.",
        consequences_good="Good, because simple", consequences_bad="Coupling", chosen_style="rest",
        recommendation={"pattern": "queue", "confidence": 0.6}, decided_on=date(2024, 5, 2),
        interactions=linked("refund", "authorize-payment"), supersedes=first,
    )
    return first, second


def test_it_reads_decisions_as_records_that_round_trip(decided):
    first, second = decision_records()
    assert (first.number, first.status, first.superseded_by) == (1, "superseded", record_link(number=2,
                                                                                                 title=second.title))
    assert second.supersedes == record_link(number=1, title="Use gRPC everywhere")
    assert second.interactions == [{"source": "orders", "name": "authorize-payment"},
                                   {"source": "orders", "name": "refund"}]
    assert second.options == [{"name": "request-response", "description": "", "pros": ["fast"], "cons": []},
                              {"name": "queue", "description": "later", "pros": [], "cons": []}]
    assert (second.team, second.created_by, second.recorded_on) == ("commerce", "ops", decided[1].created_at.date())
    assert [madr_parse(madr_render(record)) for record in (first, second)] == [first, second]
    assert [record.number for record in decision_records(numbers=[2, 99])] == [2]


def test_it_zips_the_records_under_docs_decisions_with_an_index(decided):
    records = decision_records()
    archive = zipfile.ZipFile(io.BytesIO(decisions_zip(records)))
    assert archive.namelist() == ["docs/decisions/0001-use-grpc-everywhere.md",
                                  "docs/decisions/0002-use-rest-for-reads.md", "docs/decisions/README.md"]
    assert madr_parse(archive.read("docs/decisions/0002-use-rest-for-reads.md").decode()) == records[1]
    index = archive.read("docs/decisions/README.md").decode()
    assert "| ADR-0001 | [Use gRPC everywhere](0001-use-grpc-everywhere.md) | superseded | 2024-03-01 |  " \
           "| [ADR-0002](0002-use-rest-for-reads.md) |" in index
    assert decisions_zip(records) == decisions_zip(records)  # the same records, the same bytes


def test_it_keeps_the_queries_of_the_zip_flat_as_decisions_grow(decided, team, cli, ci):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert ci.get("/api/v1/exports/decisions.zip").status_code == 200
        return len(captured)

    queries()  # the token's first use is written down once
    few = queries()
    previous = decided[1]
    for number in range(6):
        previous = decision_create(actor=cli, title=f"Step {number}", status="accepted", team=team,
                                   interactions=linked("refund"), supersedes=previous)
    assert queries() == few
    with CaptureQueriesContext(connection) as captured:
        decisions_zip(decision_records())
    assert len(captured) == 2  # the decisions with their joins, their interactions


# --- the API -----------------------------------------------------------------------------------


def test_it_downloads_one_record_as_markdown(ci, decided):
    response = ci.get("/api/v1/decisions/2/madr/", HTTP_ACCEPT="text/markdown")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="0002-use-rest-for-reads.md"'
    assert madr_parse(response.content.decode()) == decision_records(numbers=[2])[0]


def test_it_downloads_the_zip_of_every_record(ci, decided):
    response = ci.get("/api/v1/exports/decisions.zip", HTTP_ACCEPT="application/zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="decisions.zip"'
    assert "docs/decisions/README.md" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()


def test_it_downloads_an_empty_zip_with_an_index_when_there_are_no_decisions(ci):
    archive = zipfile.ZipFile(io.BytesIO(ci.get("/api/v1/exports/decisions.zip").content))
    assert archive.namelist() == ["docs/decisions/README.md"]


@pytest.mark.parametrize("number", ["99", "abc", "0x1", "1" * 40, "²"])
def test_it_rejects_an_unknown_number_with_a_404_that_names_it(ci, decided, number):
    response = ci.get(f"/api/v1/decisions/{number}/madr/", HTTP_ACCEPT="text/markdown")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("number: no decision is numbered")


def test_it_rejects_anonymous_downloads(decided):
    for url in ("/api/v1/decisions/2/madr/", "/api/v1/exports/decisions.zip"):
        assert APIClient().get(url).status_code == 401


def test_it_downloads_for_a_signed_in_viewer(as_viewer, decided):
    assert as_viewer.get("/api/v1/decisions/1/madr/").status_code == 200
    assert as_viewer.get("/api/v1/exports/decisions.zip").status_code == 200


def test_it_documents_the_downloads_in_the_openapi_schema(ci):
    paths = yaml.safe_load(ci.get("/api/schema/").content)["paths"]
    madr = paths["/api/v1/decisions/{number}/madr/"]["get"]
    assert set(madr["responses"]["200"]["content"]) == {"text/markdown"}
    assert madr["parameters"][0]["schema"]["type"] == "integer"
    assert set(paths["/api/v1/exports/decisions.zip"]["get"]["responses"]["200"]["content"]) == {"application/zip"}


# --- the pages ---------------------------------------------------------------------------------


def test_it_links_the_downloads_from_the_decision_pages(as_viewer, decided):
    listing = as_viewer.get("/decisions/").content.decode()
    assert '<a class="btn" href="/api/v1/exports/decisions.zip" download>Download all (zip)</a>' in listing
    detail = as_viewer.get("/decisions/2/").content.decode()
    assert '<a class="btn" href="/api/v1/decisions/2/madr/" download>Download MADR</a>' in detail
    assert "/decisions/2/edit/" not in detail  # a viewer still gets no write buttons
