"""Print the permission matrix of docs/security.md as Markdown, from the data the test uses.

    .venv/bin/python scripts/permission_matrix.py > /tmp/matrix.md

The rows, the actors and the expectations are OPERATIONS and ACTORS of tests/test_permission_matrix.py;
paste the output into the section "Access: the permission matrix" when they change.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_permission_matrix import ACTOR_NOTES, ACTORS, OPERATIONS, READ_PAGES  # noqa: E402

YES, NO, BUG = "✓", "✗", "✗ (bug: ✓ today)"


def cell(op, actor: str) -> str:
    if op.expected(actor):
        return YES
    return BUG if actor in op.xfail else NO


def table() -> str:
    head = ["area", "operation", *ACTORS, "why"]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    for op in OPERATIONS:
        name = f"`{op.method} {op.path}`" + (f" ({op.variant})" if op.variant else "")
        surface = "API" if op.surface == "api" else "page"
        why = op.why + (" Stores nothing, even when allowed." if op.kind == "read" else "")
        lines.append("| " + " | ".join([op.area, f"{surface} {name}", *(cell(op, a) for a in ACTORS),
                                         why.replace("|", "\\|")]) + " |")
    return "\n".join(lines)


def main() -> None:
    print("Actors: " + "; ".join(f"**{actor}**: {note}" for actor, note in ACTOR_NOTES.items()) + ".")
    print()
    print(table())
    print()
    cells = len(OPERATIONS) * len(ACTORS)
    bugs = sum(len(op.xfail) for op in OPERATIONS)
    print(f"{len(OPERATIONS)} operations x {len(ACTORS)} actors = {cells} cells; {bugs} known bugs "
          f"(`xfail(strict=True)`). A POST to any of these {len(READ_PAGES)} pages writes nothing: "
          + ", ".join(f"`{path}`" for path in READ_PAGES) + ".")


if __name__ == "__main__":
    main()
