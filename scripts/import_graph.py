"""Print Switchboard's app-level import graph as a Mermaid flowchart.

    python scripts/import_graph.py [ROOT]

An edge `a -->|n| b` means n modules of app a import app b. This file is also
the one parser of imports: tests/test_architecture.py loads it by its path.
"""
from __future__ import annotations

import ast
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Rank of each app, lowest first: an app may import only apps of a lower rank.
LAYERS: dict[str, int] = {
    "core": 0,
    "topology": 1,
    "probes": 2,
    "decisions": 3,
    "plans": 4, "reports": 4, "imports": 4, "notifications": 4,
    "dashboard": 5,
    "webapp": 6,
}

Scope = tuple[tuple[str, str], ...]  # enclosing ("class" | "def", name), outermost first


@dataclass(frozen=True)
class Import:
    """One imported module, resolved to an absolute dotted name."""

    path: str  # importing file, relative to the root
    line: int
    source: str  # importing module
    target: str  # imported module: the project submodule when that file exists
    in_function: bool
    in_ready: bool  # directly in the `ready` method of a class in an apps.py

    @property
    def source_app(self) -> str:
        """The app the importing module belongs to."""
        return self.source.split(".")[0]

    @property
    def target_app(self) -> str | None:
        """The app of the imported module, or None for the stdlib and libraries."""
        top = self.target.split(".")[0]
        return top if top in LAYERS else None

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.target}"


def apps(root: Path) -> list[str]:
    """The apps that exist under root, lowest rank first."""
    return [app for app in LAYERS if (root / app).is_dir()]


def module_name(root: Path, path: Path) -> str:
    """The dotted module name of a .py file (a package for an __init__.py)."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path) -> dict[str, Path]:
    """Every module of every app under root, by dotted name."""
    files = (p for app in apps(root) for p in sorted((root / app).rglob("*.py")))
    return {module_name(root, p): p for p in files if "__pycache__" not in p.parts}


def _is_type_checking(test: ast.expr) -> bool:
    """Whether an `if` test is `TYPE_CHECKING` or `typing.TYPE_CHECKING`."""
    if isinstance(test, ast.Attribute):
        return test.attr == "TYPE_CHECKING"
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _children(node: ast.AST) -> Iterator[ast.AST]:
    """The child nodes that run: the body of `if TYPE_CHECKING:` does not."""
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        return iter(node.orelse)
    return ast.iter_child_nodes(node)


def _scope_of(node: ast.AST) -> Scope:
    """The scope a node opens, if it is a class or a function."""
    if isinstance(node, ast.ClassDef):
        return (("class", node.name),)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return (("def", node.name),)
    return ()


def _walk(node: ast.AST, scope: Scope = ()) -> Iterator[tuple[ast.Import | ast.ImportFrom, Scope]]:
    """Every import statement under node that runs, with its enclosing scope."""
    for child in _children(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, scope
        yield from _walk(child, scope + _scope_of(child))


def _package(source: str, path: Path, level: int) -> str:
    """The package a relative import of `level` dots starts from."""
    parts = source.split(".")
    if path.name != "__init__.py":
        parts = parts[:-1]
    return ".".join(parts[: len(parts) - (level - 1)])


def _longest_module(name: str, known: dict[str, Path]) -> str:
    """The longest prefix of name that is a project module, else name itself."""
    parts = name.split(".")
    prefixes = (".".join(parts[:n]) for n in range(len(parts), 0, -1))
    return next((p for p in prefixes if p in known), name)


def _targets(node: ast.Import | ast.ImportFrom, source: str, path: Path, known: dict[str, Path]) -> list[str]:
    """The modules one import statement imports, resolved to absolute names."""
    if isinstance(node, ast.Import):
        return [_longest_module(alias.name, known) for alias in node.names]
    base = node.module or ""
    if node.level:
        base = ".".join(filter(None, [_package(source, path, node.level), base]))
    names = (f"{base}.{alias.name}" for alias in node.names)
    return [name if name in known else base for name in names]


def _in_function(scope: Scope) -> bool:
    """Whether an import is in the body of a function or method (or a nested class of one)."""
    return any(kind == "def" for kind, _ in scope)


def _in_ready(path: Path, scope: Scope) -> bool:
    """Whether an import is directly in the `ready` method of a class of an apps.py."""
    kinds = [kind for kind, _ in scope[-2:]]
    return path.name == "apps.py" and kinds == ["class", "def"] and scope[-1][1] == "ready"


def file_imports(root: Path, path: Path, known: dict[str, Path]) -> list[Import]:
    """The imports of one file that run (imports under `if TYPE_CHECKING:` do not)."""
    source, rel = module_name(root, path), path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = (
        Import(rel, node.lineno, source, target, _in_function(scope), _in_ready(path, scope))
        for node, scope in _walk(tree)
        for target in _targets(node, source, path, known)
    )
    return list(dict.fromkeys(found))


def project_imports(root: Path) -> list[Import]:
    """The imports of every module of every app under root."""
    known = modules(root)
    return [imp for path in known.values() for imp in file_imports(root, path, known)]


def app_edges(imports: list[Import]) -> dict[tuple[str, str], int]:
    """(importing app, imported app) -> how many modules of the first import the second."""
    pairs = {(i.source_app, i.target_app, i.source) for i in imports if i.target_app not in (None, i.source_app)}
    counts = Counter((a, b) for a, b, _ in pairs)
    return {edge: counts[edge] for edge in sorted(counts, key=lambda e: (-LAYERS[e[0]], e[0], -LAYERS[e[1]], e[1]))}


def mermaid(root: Path) -> str:
    """The app-level import graph as a Mermaid flowchart; edges that do not go down are red."""
    edges = app_edges(project_imports(root))
    lines = ["flowchart TD"] + [f'    {app}["{app} (rank {LAYERS[app]})"]' for app in apps(root)]
    lines += [f"    {a} -->|{n}| {b}" for (a, b), n in edges.items()]
    wrong = [str(k) for k, (a, b) in enumerate(edges) if LAYERS[b] >= LAYERS[a]]
    return "\n".join(lines + ([f"    linkStyle {','.join(wrong)} stroke:red,stroke-width:2px"] if wrong else []))


def main(argv: list[str]) -> int:
    """Print the flowchart of the root given, or of this repository."""
    print(mermaid(Path(argv[1]).resolve() if len(argv) > 1 else ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
