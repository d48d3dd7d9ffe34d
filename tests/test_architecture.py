"""The app layering of Switchboard, read from the source with `ast`: no Django, no database.

Ranks, lowest first (scripts/import_graph.py LAYERS): core 0, topology 1, probes 2, decisions 3,
plans/reports/imports/notifications 4, dashboard 5, webapp 6. An app imports only lower ranks.
Imports under `if TYPE_CHECKING:` never run and are not counted.
"""
from __future__ import annotations

import importlib.util
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent

# Modules that must stay plain Python: a trailing slash names a package. The first three are the
# small shared vocabulary the cores read (severities, input checks, the interaction criteria).
PURE_CORES = ("core/severity.py", "core/inputs.py", "topology/criteria.py", "decisions/rules/", "topology/graph.py",
              "topology/mermaid.py", "topology/rendering.py", "probes/engine/", "reports/madr.py", "reports/bundle.py",
              "imports/catalog.py", "imports/backstage.py", "imports/asyncapi.py", "imports/dependencies.py",
              "imports/drift.py", "notifications/payloads.py", "notifications/checks.py", "plans/changes.py",
              "plans/whatif.py", "plans/steps.py", "plans/drawing.py", "topology/budgets.py", "topology/view_rules.py")
FRAMEWORKS = frozenset({"django", "rest_framework", "celery", "django_filters", "drf_spectacular"})


def _load_parser() -> ModuleType:
    """scripts/import_graph.py, the one parser of imports, loaded by its path."""
    spec = importlib.util.spec_from_file_location("switchboard_import_graph", ROOT / "scripts" / "import_graph.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


import_graph = _load_parser()
Import = import_graph.Import
LAYERS: dict[str, int] = import_graph.LAYERS


# --- What is wrong, one line per import -------------------------------------------------------------


def _other_app(imp: Import) -> bool:
    """Whether an import names a module of another app."""
    return imp.target_app not in (None, imp.source_app)


def upward_imports(imports: list[Import]) -> list[str]:
    """Imports of an app of the same or a higher rank."""
    bad = [i for i in imports if _other_app(i) and LAYERS[i.target_app] >= LAYERS[i.source_app]]
    return [f"{i}  [{i.source_app} {LAYERS[i.source_app]} -> {i.target_app} {LAYERS[i.target_app]}]" for i in bad]


def _by_app_pair(imports: list[Import]) -> dict[tuple[str, str], list[Import]]:
    """The imports between apps, by (importing app, imported app)."""
    pairs: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for imp in filter(_other_app, imports):
        pairs[(imp.source_app, imp.target_app)].append(imp)
    return pairs


def two_way_pairs(imports: list[Import]) -> list[str]:
    """Each pair of apps that import each other, with the imports of both sides."""
    pairs = _by_app_pair(imports)
    two_way = sorted((a, b) for a, b in pairs if a < b and (b, a) in pairs)
    return [_pair_report(pairs, a, b) for a, b in two_way]


def _pair_report(pairs: dict[tuple[str, str], list[Import]], a: str, b: str) -> str:
    """The imports both ways between apps a and b."""
    sides = [f"  {x} -> {y}:\n" + "\n".join(f"    {i}" for i in pairs[(x, y)]) for x, y in ((a, b), (b, a))]
    return f"{a} <-> {b}\n" + "\n".join(sides)


def module_graph(root: Path, imports: list[Import]) -> nx.DiGraph:
    """The project modules, an edge for each module importing another; each edge keeps its imports."""
    known = import_graph.modules(root)
    g = nx.DiGraph()
    for imp in (i for i in imports if i.target in known):
        g.add_edge(imp.source, imp.target)
        g.edges[imp.source, imp.target].setdefault("imports", []).append(imp)
    return g


def import_cycles(root: Path, imports: list[Import]) -> list[str]:
    """Each strongly connected group of modules (or module importing itself), with its edges."""
    g = module_graph(root, imports)
    groups = [c for c in nx.strongly_connected_components(g) if len(c) > 1 or _imports_itself(g, min(c))]
    return [_cycle_report(g.subgraph(c)) for c in sorted(groups, key=min)]


def _imports_itself(g: nx.DiGraph, module: str) -> bool:
    """Whether a module imports itself, a cycle of one."""
    return g.has_edge(module, module)


def _cycle_report(sub: nx.DiGraph) -> str:
    """One group of modules in a cycle: its members, one loop through it, every import inside it."""
    loop = [a for a, _ in nx.find_cycle(sub, source=min(sub))]
    edges = sorted((i for *_, imps in sub.edges(data="imports") for i in imps), key=str)
    head = f"{len(sub)} modules: {', '.join(sorted(sub))}\n  e.g. " + " -> ".join(loop + loop[:1])
    return head + "\n" + "\n".join(f"    {i}" for i in edges)


def function_imports_of_other_apps(imports: list[Import]) -> list[str]:
    """Imports of another app's module inside a function, but for AppConfig.ready in apps.py."""
    return [str(i) for i in imports if i.in_function and not i.in_ready and _other_app(i)]


def pure_modules(root: Path) -> dict[str, str]:
    """The pure-core modules that exist: module name -> file, relative to root."""
    files = [p for entry in PURE_CORES for p in _files_of(root / entry)]
    return {import_graph.module_name(root, p): p.relative_to(root).as_posix() for p in files}


def _files_of(path: Path) -> list[Path]:
    """The .py files of a package folder, or the file itself; none if it does not exist."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
    return [path] if path.is_file() else []


def impure_imports(root: Path, imports: list[Import]) -> list[str]:
    """Imports of a framework, or of a project module outside the pure set, by a pure module."""
    pure = pure_modules(root)
    if not pure:
        return [f"none of the pure cores exists: {', '.join(PURE_CORES)}"]
    own = [i for i in imports if i.source in pure]
    return [str(i) for i in own if _impure(i, pure)]


def _impure(imp: Import, pure: dict[str, str]) -> bool:
    """Whether a pure module may not import this."""
    framework = imp.target.split(".")[0] in FRAMEWORKS
    return framework or (imp.target_app is not None and imp.target not in pure)


def _fail_on(problems: list[str], title: str) -> None:
    """Fail with every problem on its own line(s), if there is any."""
    if problems:
        pytest.fail(f"{title} ({len(problems)}):\n" + "\n".join(problems), pytrace=False)


# --- The real tree ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    """Every import that runs, of every app of the repository."""
    return import_graph.project_imports(ROOT)


def test_it_lets_apps_import_only_lower_apps(imports: list[Import]) -> None:
    _fail_on(upward_imports(imports), "imports of an app of the same or a higher rank")


def test_it_finds_no_two_apps_importing_each_other(imports: list[Import]) -> None:
    _fail_on(two_way_pairs(imports), "apps that import each other")


def test_it_finds_no_import_cycle_between_modules(imports: list[Import]) -> None:
    _fail_on(import_cycles(ROOT, imports), "modules in an import cycle")


def test_it_finds_no_import_inside_a_function_reaching_another_app(imports: list[Import]) -> None:
    _fail_on(function_imports_of_other_apps(imports), "imports of another app inside a function")


def test_it_keeps_the_pure_cores_free_of_django_and_models(imports: list[Import]) -> None:
    _fail_on(impure_imports(ROOT, imports), "pure cores importing a framework or a project module")


# --- The checker itself, on tiny trees --------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> Path:
    """A tree of files under root, from relative path -> text."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


TANGLED = {
    "core/__init__.py": "",
    "topology/__init__.py": "",
    "topology/a.py": "from decisions import b\nfrom . import nothing\n",
    "topology/apps.py": "class C:\n    def ready(self):\n        from core import x\n",
    "topology/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from decisions.b import f\n",
    "topology/__pycache__/a.py": "from decisions import b\n",
    "decisions/__init__.py": "",
    "decisions/b.py": "import os.path\n\ndef f():\n    from topology.a import X\n",
    "decisions/rules/__init__.py": "from django.db import models\nfrom . import engine\n",
    "decisions/rules/engine.py": "import networkx\nfrom ..b import f\nfrom .. import b\n",
    "webapp/urls.py": "import decisions.rules.engine as e, topology.a\n",
}


def test_it_resolves_relative_package_and_guarded_imports(tmp_path: Path) -> None:
    found = {str(i) for i in import_graph.project_imports(write(tmp_path, TANGLED))}
    assert {
        "decisions/rules/__init__.py:2 imports decisions.rules.engine",
        "decisions/rules/engine.py:2 imports decisions.b",
        "decisions/rules/engine.py:3 imports decisions.b",
        "decisions/b.py:1 imports os.path",
        "topology/a.py:1 imports decisions.b",
        "topology/a.py:2 imports topology",
        "topology/apps.py:3 imports core",
        "webapp/urls.py:1 imports decisions.rules.engine",
        "webapp/urls.py:1 imports topology.a",
    } <= found
    assert not any(s.startswith(("topology/typed.py:3", "topology/__pycache__")) for s in found)


def test_it_catches_a_two_way_pair_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    root = write(tmp_path, TANGLED)
    imports = import_graph.project_imports(root)
    assert upward_imports(imports) == ["topology/a.py:1 imports decisions.b  [topology 1 -> decisions 3]"]
    assert two_way_pairs(imports) == [
        "decisions <-> topology\n"
        "  decisions -> topology:\n    decisions/b.py:4 imports topology.a\n"
        "  topology -> decisions:\n    topology/a.py:1 imports decisions.b"]
    assert import_cycles(root, imports) == [
        "2 modules: decisions.b, topology.a\n  e.g. decisions.b -> topology.a -> decisions.b\n"
        "    decisions/b.py:4 imports topology.a\n    topology/a.py:1 imports decisions.b"]
    assert function_imports_of_other_apps(imports) == ["decisions/b.py:4 imports topology.a"]


def test_it_catches_a_framework_or_project_import_in_a_pure_core(tmp_path: Path) -> None:
    root = write(tmp_path, TANGLED)
    assert impure_imports(root, import_graph.project_imports(root)) == [
        "decisions/rules/__init__.py:1 imports django.db",
        "decisions/rules/engine.py:2 imports decisions.b",
        "decisions/rules/engine.py:3 imports decisions.b"]
    assert impure_imports(write(tmp_path / "empty", {"core/__init__.py": ""}), []) == [
        f"none of the pure cores exists: {', '.join(PURE_CORES)}"]


def test_it_finds_nothing_wrong_in_a_well_layered_tree(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "core/__init__.py": "import django\n",
        "topology/graph.py": "import networkx\n",
        "decisions/__init__.py": "from topology import graph\n\ndef f():\n    from . import x\n",
        "decisions/x.py": "from core import y\n",
        "webapp/urls.py": "import decisions\n",
    })
    imports = import_graph.project_imports(root)
    assert import_graph.app_edges(imports) == {("webapp", "decisions"): 1, ("decisions", "topology"): 1,
                                        ("decisions", "core"): 1}
    assert not (upward_imports(imports) + two_way_pairs(imports) + import_cycles(root, imports)
                + function_imports_of_other_apps(imports) + impure_imports(root, imports))
