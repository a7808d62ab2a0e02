"""The import graph of ``pmc15m/`` and ``pipelines/`` keeps the layout's rules (docs/layout.md).

The graph is read from the source with ``ast``, without importing anything: every ``import``
and ``from ... import`` anywhere in a module counts (inside functions and ``if
TYPE_CHECKING:`` blocks too), because an import that runs late still ties the two modules
together; a function-level import may save start-up time, it never hides a loop. Relative
imports are resolved, ``from pkg import name`` points at the submodule when ``name`` is
one, and importing ``a.b.c`` also depends on the packages ``a.b`` and ``a`` (their
``__init__`` runs first) unless the importer already sits inside them. Imports by string
(``importlib.import_module``) are not seen.

The rules are data, at the top: a change of layout changes them here, in one place, and
an exception is written down with its reason instead of being tolerated silently.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pmc15m", "pipelines")

# ---- the rules ----------------------------------------------------------------------------
# 1. No import loops: no strongly connected component of more than one module.
# 2. The library never imports Beam nor the pipelines.
LIBRARY = "pmc15m"
FORBIDDEN_IN_LIBRARY = ("apache_beam", "pipelines")
LIBRARY_EXCEPTIONS = {
    # importer: why it may import what the library may not
    "pmc15m.__main__": "`python -m pmc15m` runs the command (pipelines.cli.main); an entry point "
    "that nothing imports, not library code",
}
# 3. The trainer reads only the shard format and core: outside its own package it imports
#    these modules (or, for a package, any module in it) and no other pmc15m module
#    (third-party packages are its own business).
TRAIN = "pmc15m.train"
TRAIN_MAY_IMPORT = {
    "pmc15m": "the package itself (__version__)",
    "pmc15m.core": "core: records, reasons, UserError, the command line's argument types",
    "pmc15m.shards": "the package of the shard format (its __init__ imports nothing)",
    "pmc15m.shards.format": "the shard format: split names, file names, member kinds",
}
TRAIN_DEBT: dict[tuple[str, str], str] = {
    # (importer, imported): why the layout's rule is not met yet. Empty: the trainer is clean.
}
# 4. Nothing on the build path imports the synthetic-corpus generator: only the corpus
#    itself and the make-corpus command do.
CORPUS = "pmc15m.corpus"
CORPUS_IMPORTERS = {"pipelines.cli.main": "the make-corpus command"}

# 5. Data flows one way: a concept imports only itself and the concepts before it in this
#    order (core below everything; pipelines/, stages, train and corpus above the list).
LAYERS = ("core", "storage", "sources", "jats", "image", "rules", "shards", "publish")
LAYER_DEBT: dict[tuple[str, str], str] = {
    # (importer, imported): why a lower concept imports a higher one. Empty: none does.
}

Graph = Mapping[str, Iterable[str]]  # module -> dotted names it imports (ours or third-party)


def within(name: str, package: str) -> bool:
    """``name`` is ``package`` or one of its submodules."""
    return name == package or name.startswith(package + ".")


# ---- reading the graph --------------------------------------------------------------------
def module_files(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under the packages."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _ours(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module ``name`` lands in (``pkg.mod.Class`` -> ``pkg.mod``); None: not ours."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _named(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: Mapping[str, Path]
) -> list[str]:
    """The dotted names one import statement loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]


def imports_of(module: str, path: Path, modules: Mapping[str, Path]) -> set[str]:
    """Every module ``module`` imports: ours resolved to a module (plus the packages whose
    ``__init__`` that runs first), third-party names as written."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for name in _named(node, module, path.name == "__init__.py", modules):
            target = _ours(name, modules)
            if target is None:
                found.add(name)
                continue
            found.add(target)
            parent = target.rpartition(".")[0]
            while parent and not within(module, parent):
                found.add(parent)
                parent = parent.rpartition(".")[0]
    found.discard(module)
    return found


def build_graph(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    modules = module_files(root, packages)
    return {module: imports_of(module, path, modules) for module, path in modules.items()}


# ---- checking it --------------------------------------------------------------------------
def loops(graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, without recursion)."""
    edges = {m: sorted(t for t in targets if t in graph) for m, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(found)


def one_loop(graph: Graph, component: list[str]) -> list[str]:
    """A shortest loop through the component's first module, as a path back to it."""
    inside, start = set(component), component[0]
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(set(graph[node]) & inside):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"{component} is no loop")


def loop_problems(graph: Graph) -> list[str]:
    return [
        f"import loop of {len(c)} modules: {' -> '.join(one_loop(graph, c))} (all: {', '.join(c)})"
        for c in loops(graph)
    ]


def _library_problem(importer: str, target: str) -> str | None:
    if not within(importer, LIBRARY) or importer in LIBRARY_EXCEPTIONS:
        return None
    if any(within(target, forbidden) for forbidden in FORBIDDEN_IN_LIBRARY):
        return f"{importer} imports {target}: the library never imports Beam nor pipelines"
    return None


def _train_problem(importer: str, target: str, graph: Graph) -> str | None:
    if not within(importer, TRAIN) or within(target, TRAIN) or target not in graph:
        return None
    allowed = target == LIBRARY or any(within(target, m) for m in TRAIN_MAY_IMPORT if m != LIBRARY)
    if not within(target, LIBRARY) or allowed or (importer, target) in TRAIN_DEBT:
        return None
    return (
        f"{importer} imports {target}: the trainer reads only the shard format and core "
        f"({', '.join(sorted(TRAIN_MAY_IMPORT))})"
    )


def _corpus_problem(importer: str, target: str) -> str | None:
    if not within(target, CORPUS) or within(importer, CORPUS) or importer in CORPUS_IMPORTERS:
        return None
    return f"{importer} imports {target}: only {', '.join(CORPUS_IMPORTERS)} may use the corpus generator"


def _layer(module: str) -> int | None:
    """The position of ``module``'s concept in LAYERS; None outside them."""
    parts = module.split(".")
    if parts[0] != LIBRARY or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


def _layer_problem(importer: str, target: str) -> str | None:
    low, high = _layer(importer), _layer(target)
    if low is None or high is None or high <= low or (importer, target) in LAYER_DEBT:
        return None
    return f"{importer} imports {target}: {LAYERS[low]} comes before {LAYERS[high]} ({' -> '.join(LAYERS)})"


def rule_problems(graph: Graph) -> list[str]:
    """Every import the rules above forbid, one readable line each."""
    problems = []
    for importer in sorted(graph):
        for target in sorted(graph[importer]):
            for problem in (
                _library_problem(importer, target),
                _train_problem(importer, target, graph),
                _corpus_problem(importer, target),
                _layer_problem(importer, target),
            ):
                if problem is not None:
                    problems.append(problem)
    return problems


def check(graph: Graph) -> list[str]:
    return loop_problems(graph) + rule_problems(graph)


# ---- the project --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return build_graph()


def test_no_import_loops(graph):
    problems = loop_problems(graph)
    assert not problems, "\n".join(problems)


def test_library_never_imports_beam_or_pipelines(graph):
    problems = [p for p in (_library_problem(m, t) for m in graph for t in graph[m]) if p]
    assert not problems, "\n".join(sorted(problems))


def test_trainer_imports_only_the_shard_format_and_core(graph):
    problems = [p for p in (_train_problem(m, t, graph) for m in graph for t in graph[m]) if p]
    assert not problems, "\n".join(sorted(problems))


def test_only_the_make_corpus_command_imports_the_corpus(graph):
    problems = [p for p in (_corpus_problem(m, t) for m in graph for t in graph[m]) if p]
    assert not problems, "\n".join(sorted(problems))


def test_concepts_import_only_the_concepts_before_them(graph):
    problems = [p for p in (_layer_problem(m, t) for m in graph for t in graph[m]) if p]
    assert not problems, "\n".join(sorted(problems))


def test_every_concept_is_a_package(graph):
    assert [c for c in LAYERS if f"{LIBRARY}.{c}" not in graph] == []


def test_the_rules_name_modules_that_exist(graph):
    """A rule about a module that was renamed would silently allow everything."""
    named = [*LIBRARY_EXCEPTIONS, *TRAIN_MAY_IMPORT, *CORPUS_IMPORTERS, TRAIN, CORPUS]
    named += [module for edge in (*TRAIN_DEBT, *LAYER_DEBT) for module in edge]
    assert [m for m in named if m not in graph] == []
    for importer, target in (*TRAIN_DEBT, *LAYER_DEBT):  # debt that was paid is struck off the list
        assert target in graph[importer], f"{importer} no longer imports {target}: drop the entry"


# ---- the checker itself, on synthetic graphs ----------------------------------------------
CLEAN = {
    "pmc15m": set(),
    "pmc15m.core.errors": set(),
    "pmc15m.core.record": set(),
    "pmc15m.sources.base": {"pmc15m.core.record", "pmc15m.sources.errors"},
    "pmc15m.sources.errors": {"pmc15m.core.errors"},
    "pmc15m.train.cli": {"pmc15m.core.errors", "pmc15m.train.train", "torch"},
    "pmc15m.train.train": {"torch"},
    "pmc15m.corpus.generator": {"pmc15m.core.record", "PIL"},
    "pipelines.build": {"apache_beam", "pmc15m.sources.base"},
    "pipelines.cli.main": {"pmc15m.corpus.generator", "pipelines.build"},
}


def test_the_checker_passes_a_clean_graph():
    assert check(CLEAN) == []


def test_the_checker_names_a_loop_and_its_path():
    # The loops run against the layers too; loop_problems names the loops alone.
    graph = {**CLEAN, "pmc15m.core.record": {"pmc15m.sources.base"}}
    assert loop_problems(graph) == [
        "import loop of 2 modules: pmc15m.core.record -> pmc15m.sources.base -> pmc15m.core.record "
        "(all: pmc15m.core.record, pmc15m.sources.base)"
    ]
    three = {**CLEAN, "pmc15m.core.errors": {"pmc15m.sources.base"}}
    assert loop_problems(three) == [
        "import loop of 3 modules: pmc15m.core.errors -> pmc15m.sources.base -> pmc15m.sources.errors -> "
        "pmc15m.core.errors (all: pmc15m.core.errors, pmc15m.sources.base, pmc15m.sources.errors)"
    ]


def test_the_checker_names_each_forbidden_edge():
    graph = {
        **CLEAN,
        "pmc15m.core.record": {"apache_beam.metrics"},
        "pmc15m.core.errors": {"pipelines.cli.main"},
        "pmc15m.train.train": {"pmc15m.sources.base"},
        "pipelines.build": {"pmc15m.corpus.generator"},
        "pmc15m.sources.errors": {"pmc15m.core.errors", "pmc15m.jats.parse"},
        "pmc15m.jats.parse": set(),
    }
    assert check(graph) == [
        "pipelines.build imports pmc15m.corpus.generator: "
        "only pipelines.cli.main may use the corpus generator",
        "pmc15m.core.errors imports pipelines.cli.main: the library never imports Beam nor pipelines",
        "pmc15m.core.record imports apache_beam.metrics: the library never imports Beam nor pipelines",
        f"pmc15m.sources.errors imports pmc15m.jats.parse: sources comes before jats ({' -> '.join(LAYERS)})",
        "pmc15m.train.train imports pmc15m.sources.base: the trainer reads only the shard format "
        f"and core ({', '.join(sorted(TRAIN_MAY_IMPORT))})",
    ]


def test_the_reader_sees_late_relative_and_submodule_imports(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "def f():\n    from . import b\n",  # late and relative
        "pkg/b.py": "from pkg.sub import c\nimport numpy.linalg\n",  # c is a module
        "pkg/e.py": "",
        "pkg/sub/__init__.py": "",
        "pkg/sub/c.py": "from ..a import f\nfrom . import d as dee\n",
        "pkg/sub/d.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg import e\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = build_graph(tmp_path, ("pkg",))
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == {"pkg.sub.c", "pkg.sub", "numpy.linalg"}  # pkg.sub's __init__ runs
    assert graph["pkg.sub.c"] == {"pkg.a", "pkg.sub.d"}
    assert graph["pkg.sub.d"] == {"typing", "pkg.e"}
    assert loops(graph) == [["pkg.a", "pkg.b", "pkg.sub.c"]]
    assert one_loop(graph, loops(graph)[0]) == ["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]
