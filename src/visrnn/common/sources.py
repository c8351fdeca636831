"""The package source files a workflow script depends on: ``code()`` in
``workflow/rules/common.smk`` lists them as the rule's inputs, so that editing a stage's code
reruns that stage and what depends on it, and nothing else.

Imports are followed file by file, not package by package: ``from visrnn.models.nnn import
NNN``, ``from visrnn.models import nnn`` and ``import visrnn.models.nnn`` all name
``src/visrnn/models/nnn.py`` (and the ``__init__.py`` files of the packages on the way, when
they hold code), so an edit to one module of a subpackage reruns only the stages that import
that module. Imports under ``if TYPE_CHECKING:`` are left out: annotations cannot change a
result. The page templates a module names (``"cell.html.j2"``, under ``visrnn/templates``)
count as its sources too, with the templates they extend or include.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable
from pathlib import Path

PACKAGE = "visrnn"
#: Where the page templates live, under the package, and how a file names one.
TEMPLATES = "templates"
_TEMPLATE_SUFFIX = ".j2"
#: A template's use of another: ``{% extends "page.html.j2" %}``, include, import, from.
_TEMPLATE_USE = re.compile(r"""{%-?\s*(?:extends|include|import|from)\s+["']([^"']+)["']""")


def script_sources(script: str | Path, src: str | Path, exclude: Iterable[str] = ()) -> list[Path]:
    """Every source file of the ``visrnn`` package under ``src`` that ``script`` imports,
    directly or not, sorted; modules named in ``exclude`` (dotted, ``visrnn.common.runner``)
    are left out of the list, though what they import is followed."""
    src = Path(src)
    seen: set[str] = set()
    todo = list(imported_modules(Path(script), src))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_parents(name))
        path = module_file(name, src)
        if path is not None:
            todo.extend(imported_modules(path, src))
    files = {module_file(name, src) for name in seen - set(exclude)}
    modules = {path for path in files if path is not None and _holds_code(path)}
    templates = {t for path in modules for t in named_templates(path, src)}
    return sorted(modules | templates)


def named_templates(path: Path, src: Path) -> set[Path]:
    """The template files the module at ``path`` names, and those they use, transitively."""
    folder = Path(src) / PACKAGE / TEMPLATES
    todo = [
        node.value
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.endswith(_TEMPLATE_SUFFIX)
    ]
    found: set[Path] = set()
    while todo:
        template = folder / todo.pop()
        if template in found:
            continue
        if not template.is_file():
            raise FileNotFoundError(f"{path} names the template {template}, which does not exist")
        found.add(template)
        todo.extend(_TEMPLATE_USE.findall(template.read_text()))
    return found


def module_file(name: str, src: str | Path) -> Path | None:
    """The file of dotted module ``name`` under ``src``: ``a/b.py``, or ``a/b/__init__.py``
    for a package; None if there is neither."""
    base = Path(src).joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@functools.cache
def imported_modules(path: Path, src: Path) -> frozenset[str]:
    """Dotted names of the ``visrnn`` modules the Python file at ``path`` imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if _ours(alias.name))
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, path, src)
            if not _ours(module):
                continue
            for alias in node.names:
                # ``from visrnn.models import nnn``: the submodule nnn, if there is one.
                submodule = f"{module}.{alias.name}"
                found.add(submodule if module_file(submodule, src) else module)
    return frozenset(found)


def _ours(module: str) -> bool:
    return module == PACKAGE or module.startswith(f"{PACKAGE}.")


def _absolute(node: ast.ImportFrom, path: Path, src: Path) -> str:
    """The absolute module of a ``from ... import`` (relative ones resolved from ``path``)."""
    if not node.level:
        return node.module or ""
    package = list(path.relative_to(src).with_suffix("").parts)[:-1]  # a/b.py, a/__init__.py: a
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _parents(name: str) -> list[str]:
    """The packages importing ``name`` runs first: ``visrnn``, ``visrnn.models`` for
    ``visrnn.models.nnn``."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _runtime_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _holds_code(path: Path) -> bool:
    """A module counts unless it is an ``__init__.py`` holding only its docstring and dunder
    assignments (``__version__``): importing it cannot change a result."""
    if path.name != "__init__.py":
        return True
    body = ast.parse(path.read_text()).body
    return any(not (_is_docstring(stmt) or _is_dunder_assignment(stmt)) for stmt in body)


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def _is_dunder_assignment(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Assign) and all(
        isinstance(target, ast.Name) and target.id.startswith("__") for target in stmt.targets
    )
