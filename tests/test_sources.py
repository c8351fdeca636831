"""The package sources that are a rule's inputs (``code()`` in common.smk, computed by
``visrnn.common.sources``): followed module by module, so an edit to one module reruns only
the stages that import it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from visrnn.common.sources import module_file, script_sources

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PACKAGE = SRC / "visrnn"
SCRIPTS = REPO / "workflow" / "scripts"


def _not_result_modules() -> set[str]:
    """``NOT_RESULT_MODULES`` as common.smk declares it."""
    text = (REPO / "workflow" / "rules" / "common.smk").read_text()
    return ast.literal_eval(re.search(r"^NOT_RESULT_MODULES = (\{.*?\})", text, re.M | re.S)[1])


def code(script: str) -> list[Path]:
    """What ``code(script)`` lists besides the script itself."""
    return script_sources(SCRIPTS / f"{script}.py", SRC, _not_result_modules())


def test_not_result_modules_are_runner_files_and_devices() -> None:
    modules = _not_result_modules()
    assert {name.rsplit(".", 1)[1] for name in modules} == {"runner", "files", "devices"}
    assert all(module_file(name, SRC) is not None for name in modules), modules


@pytest.mark.parametrize("script", ["train_model", "select_model", "evaluate_model"])
def test_an_nnn_edit_is_no_input_of_the_recurrent_models_rules(script: str) -> None:
    sources = code(script)
    assert PACKAGE / "models" / "nnn.py" not in sources
    assert PACKAGE / "models" / "checkpoints.py" in sources
    if script != "select_model":  # selection copies a file; it never runs the model
        assert PACKAGE / "models" / "recurrent.py" in sources
        assert PACKAGE / "models" / "gates.py" in sources


def test_train_model_sources() -> None:
    sources = code("train_model")
    assert PACKAGE / "training" / "loop.py" in sources
    assert PACKAGE / "common" / "determinism.py" in sources  # imported by devices, itself out
    for left_out in ("runner", "files", "devices"):
        assert PACKAGE / "common" / f"{left_out}.py" not in sources
    # The subpackages' __init__.py hold only a docstring: no input.
    assert not [path for path in sources if path.name == "__init__.py"]


def test_the_nnn_rule_has_its_module() -> None:
    assert PACKAGE / "models" / "nnn.py" in code("train_nnn")


def test_every_import_form_names_one_module_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    package = src / "visrnn"
    (package / "models").mkdir(parents=True)
    (package / "__init__.py").write_text('"""doc"""\n__version__ = "1"\n')
    (package / "models" / "__init__.py").write_text('"""doc only"""\n')
    (package / "models" / "nnn.py").write_text("X = 1\n")
    (package / "models" / "grid.py").write_text("from . import nnn\n")
    (package / "models" / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from visrnn.models import grid\n"
    )
    (package / "other").mkdir()
    (package / "other" / "__init__.py").write_text("from visrnn.models.grid import *\n")
    (package / "other" / "leaf.py").write_text("Y = 2\n")
    nnn = package / "models" / "nnn.py"
    scripts = iter(range(100))

    def sources(line: str) -> list[Path]:
        script = tmp_path / f"script{next(scripts)}.py"  # a new file: imports are cached
        script.write_text(line + "\n")
        return script_sources(script, src)

    for line in (
        "from visrnn.models.nnn import X",
        "from visrnn.models import nnn",
        "import visrnn.models.nnn",
    ):
        assert sources(line) == [nnn], line
    grid = package / "models" / "grid.py"
    assert sources("from visrnn.models.grid import something") == [grid, nnn]
    assert sources("import visrnn.models.typed") == [package / "models" / "typed.py"]
    # A package __init__.py that holds code is an input, and so is what it imports.
    assert sources("from visrnn.other.leaf import Y") == [
        grid,
        nnn,
        package / "other" / "__init__.py",
        package / "other" / "leaf.py",
    ]


def test_a_stage_that_renders_pages_has_its_templates_as_sources() -> None:
    templates = PACKAGE / "templates"
    assert {path for path in code("interpretable_cells") if path.parent == templates} == {
        templates / "cell.html.j2",
        templates / "cell_index.html.j2",
        templates / "page.html.j2",  # extended by both
    }
    assert {path for path in code("error_oracles") if path.parent == templates} == {
        templates / "oracle_examples.html.j2",
        templates / "page.html.j2",
    }
    assert not [path for path in code("train_model") if path.parent == templates]


def test_common_is_the_bottom_layer() -> None:
    """``visrnn.common`` imports no other part of the package: stages, the plan and the CLI
    build on it, never the other way round."""
    for path in sorted((PACKAGE / "common").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                inside = name == "visrnn" or name.startswith("visrnn.")
                assert not inside or name.startswith("visrnn.common"), (path.name, name)
