"""Imports in `src/murmur` point one way (ARCHITECTURE.md, "Code layout"; ADR 0015):

    roots (functions/*/app.py, murmur.composition)
      → adapters (murmur.api.*, murmur.telegram.*, murmur.cron_tick)
        → domain (every other murmur module: the rules, and the ports they own in murmur.ports)
          → store (murmur.store.*)
            → leaves (murmur.errors, murmur.models, murmur.clock, pure rule modules)

The graph is read from the source with `ast`: every import of a murmur module, at module level (those under
`if TYPE_CHECKING:` included: a cycle of types is still a cycle) and inside functions."""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "murmur"
# murmur.cron_tick is the scheduler's adapter: it runs the cron's steps from the Services, as
# murmur.telegram.webhook runs an update and the routes run a request.
ADAPTERS = ("murmur.api", "murmur.telegram", "murmur.cron_tick")
ROOTS = ("murmur.composition",)
STORE = "murmur.store"
ROUTES = "murmur.api.routes"

# An import of a murmur module inside a function, allowed only when a cold start genuinely needs it to be late:
# (importer, imported) -> why. None is: composition's lazy domain imports saved 5-6 ms of the API's and the cron's
# import (measured, ADR 0015) and dodged nothing the one-way graph needs.
LAZY_IMPORTS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True, slots=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = "inside a function" if self.in_function else "at module level"
        return f"{self.importer} imports {self.imported} ({_path(self.importer)}:{self.line}, {where})"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _path(module: str) -> str:
    return str(MODULES[module].relative_to(PACKAGE.parents[1]))


def _resolve(name: str) -> str | None:
    """The murmur module a dotted name is or lies in (`murmur.store.dynamo.Op` -> murmur.store.dynamo)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.Import | ast.ImportFrom, importer: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    package = importer if MODULES[importer].name == "__init__.py" else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    base = ".".join(part for part in (package if node.level else "", node.module or "") if part)
    # `from murmur import texts` imports the module murmur.texts; `from murmur.errors import X` the module itself.
    return [f"{base}.{alias.name}" for alias in node.names]


def _function_nodes(tree: ast.AST) -> set[int]:
    return {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for inner in ast.walk(node)
    }


def imports() -> list[Import]:
    found = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        in_functions = _function_nodes(tree)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(node, module):
                imported = _resolve(target) if target.startswith("murmur") else None
                if imported is not None and imported != module and imported != "murmur":
                    found.append(Import(module, imported, node.lineno, id(node) in in_functions))
    return found


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(edges[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return components


def _layer(module: str) -> str:
    if module in ROOTS:
        return "root"
    if module.startswith(ADAPTERS):
        return "adapter"
    if module == STORE or module.startswith(STORE + "."):
        return "store"
    return "domain"


def test_src_murmur_has_no_import_cycle() -> None:
    found = imports()
    # The reader sees what it must: a module-level import, one under TYPE_CHECKING, a submodule by name.
    pairs = {(i.importer, i.imported): i for i in found}
    assert len(MODULES) > 50 and not pairs[("murmur.api.app", "murmur.composition")].in_function
    assert ("murmur.cron_tick", "murmur.composition") in pairs
    assert ("murmur.inbox", "murmur.texts") in pairs
    edges: dict[str, set[str]] = defaultdict(set, {module: set() for module in MODULES})
    for i in found:
        edges[i.importer].add(i.imported)
    cycles = _cycles(edges)
    described = [" / ".join(str(i) for i in found if i.importer in cycle and i.imported in cycle) for cycle in cycles]
    assert not cycles, "import cycles:\n" + "\n".join(described)


def test_no_murmur_module_is_imported_inside_a_function() -> None:
    """A late import hides a cycle from the reader; one a cold start needs is named in LAZY_IMPORTS with why."""
    late = [i for i in imports() if i.in_function]
    unexplained = [str(i) for i in late if (i.importer, i.imported) not in LAZY_IMPORTS]
    assert not unexplained, "imports inside functions:\n" + "\n".join(unexplained)
    stale = set(LAZY_IMPORTS) - {(i.importer, i.imported) for i in late}
    assert not stale, f"allowed lazy imports that are gone: {sorted(stale)}"


def test_the_domain_imports_neither_telegram_nor_the_api() -> None:
    """The rules use the ports they own (`murmur.ports`); `murmur.telegram.gateway` implements them."""
    wrong = [str(i) for i in imports() if _layer(i.importer) == "domain" and _layer(i.imported) in ("adapter", "root")]
    assert not wrong, "the domain reaches up:\n" + "\n".join(wrong)


def _reaches_the_store(module: str) -> list[str]:
    """A route reaches the store if it imports murmur.store or uses the Services' repositories (`.repos`)."""
    tree = ast.parse(MODULES[module].read_text())
    found = [str(i) for i in imports() if i.importer == module and _layer(i.imported) == "store"]
    found += [
        f"{module} uses .repos ({_path(module)}:{node.lineno})"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "repos"
    ]
    return found


def test_routes_reach_the_store_only_through_the_domain() -> None:
    routes = [module for module in MODULES if module.startswith(ROUTES + ".")]
    assert routes
    wrong = [line for module in routes for line in _reaches_the_store(module)]
    assert not wrong, "routes reaching the store:\n" + "\n".join(wrong)
