"""The import graph of ``cnnkit`` runs one way: no module cycles, and the layer table holds.

Every ``import``/``from ... import`` in every module counts, wherever it is written:
at the top, inside a function (a lazy import), or under ``if TYPE_CHECKING:``, and
so does ``importlib.import_module("cnnkit...")`` with a literal name. A lazy import
that hides a cycle is therefore still a cycle here.

The package rows mirror the layer table of ``docs/DESIGN.md``; a new subpackage
must be added to both.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "cnnkit"

_DATA = {"data", "datasets", "preprocessing", "utils"}
_ENGINE = {"ops", "layers", "callbacks", "training", "models"}
_BELOW_APPS = _ENGINE | _DATA | {"applications"}
_LIBRARY = _BELOW_APPS | {"transfer", "viz", "baselines", "explain", "tasks", "bench"}

#: Subpackage -> the subpackages it may import (root ``cnnkit._*`` helpers are always allowed).
LAYER_TABLE: dict[str, set[str]] = {
    "ops": set(),
    "layers": {"ops"},
    "callbacks": set(),  # the model and trainer reach callbacks as objects, never by import
    "training": {"ops", "layers", "callbacks"},  # trains any nn.Module; never imports models
    "models": {"ops", "layers", "training", "callbacks"},
    "data": {"ops"},
    "datasets": {"ops", "data", "utils"},
    "preprocessing": {"ops", "data"},
    "utils": {"ops", "data"},
    "applications": _ENGINE | {"utils"},
    "transfer": _BELOW_APPS,
    "viz": _BELOW_APPS,
    "baselines": _BELOW_APPS | {"viz"},  # its accuracy/time plot reuses viz's figure helpers
    "explain": _BELOW_APPS,
    "tasks": _BELOW_APPS,
    "bench": _BELOW_APPS,
    "serve": _LIBRARY,
    "cli": _LIBRARY | {"serve"},
    # Keras-twin modules at the root (``cnnkit.losses`` ...) re-export one package each.
    "activations": {"layers"},
    "backend": {"layers", "training"},
    "constraints": {"layers"},
    "initializers": {"layers"},
    "regularizers": {"layers"},
    "losses": {"training"},
    "metrics": {"training"},
    "optimizers": {"training"},
    "random": {"training"},
    "__main__": {"cli"},
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_names(tree: ast.AST, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """Absolute names of the modules this module imports.

    ``from package import name`` depends on the submodule ``package.name`` when
    there is one (the package itself is then already being imported), else on
    ``package``.
    """
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                names.add(sub if sub in modules else target)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """``{module: modules of cnnkit it imports}`` for every module under ``root``."""
    files = {_module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names = _imported_names(tree, module, path.name == "__init__.py", set(files))
        graph[module] = {n for n in names if n in files and n != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_helper(package: str) -> bool:
    # ``cnnkit`` itself (``__version__``) and the root helpers ``_errors``, ``_io``, ...
    return package == "" or (package.startswith("_") and not package.startswith("__"))


def forbidden_arrows(graph: dict[str, set[str]]) -> list[str]:
    """``"a.b -> c.d"`` for every import between subpackages that the layer table forbids."""
    bad = []
    for module, targets in sorted(graph.items()):
        source = _package(module)
        if _is_helper(source):
            allowed: set[str] = set()  # root helpers import helpers only
        elif source not in LAYER_TABLE:
            bad.append(f"{module}: package '{source}' is missing from the layer table")
            continue
        else:
            allowed = LAYER_TABLE[source]
        for target in sorted(targets):
            dest = _package(target)
            if dest == source or _is_helper(dest) or dest in allowed:
                continue
            bad.append(f"{module} -> {target}")
    return bad


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_cnnkit_has_no_import_cycle(graph):
    found = cycles(graph)
    assert not found, "import cycles (each list imports itself round):\n" + "\n".join(
        " <-> ".join(c) for c in found
    )


def test_package_imports_follow_the_layer_table(graph):
    bad = forbidden_arrows(graph)
    assert not bad, "imports against DESIGN.md's layer table:\n" + "\n".join(bad)


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "cnnkit" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "cnnkit"


@pytest.mark.parametrize(
    "files",
    [
        # A cycle hidden behind a lazy import inside a function.
        {"a/__init__.py": "", "a/_x.py": "from cnnkit.a._y import f\n",
         "a/_y.py": "def f():\n    from cnnkit.a._x import g\n"},
        # A cycle through a TYPE_CHECKING import and a relative import.
        {"a/__init__.py": "", "a/_x.py": "from . import _y\n",
         "a/_y.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ._x import A\n"},
        # A cycle through importlib with a literal module name.
        {"a/__init__.py": "", "a/_x.py": "import cnnkit.a._y\n",
         "a/_y.py": "import importlib\nimportlib.import_module('cnnkit.a._x')\n"},
    ],
)  # fmt: skip
def test_a_reintroduced_cycle_is_found(tmp_path, files):
    found = cycles(import_graph(_write(tmp_path, files)))
    assert found == [["cnnkit.a._x", "cnnkit.a._y"]]


def test_an_upward_package_import_is_found(tmp_path):
    # The engine importing the models package (the cycle this table once had).
    root = _write(
        tmp_path,
        {
            "training/__init__.py": "",
            "training/_recipes.py": "def build():\n    from cnnkit.models import Sequential\n",
            "models/__init__.py": "",
        },
    )
    assert forbidden_arrows(import_graph(root)) == ["cnnkit.training._recipes -> cnnkit.models"]
    assert cycles(import_graph(root)) == []
