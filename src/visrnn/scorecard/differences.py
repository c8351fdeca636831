"""How a run's preset differs from the paper's experiment, in each respect a claim depends on.

A claim whose check passes or fails on a run that differs from the paper in a respect the
claim depends on is ``not comparable``; these lists are its note.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from visrnn import plan
from visrnn.scorecard.paper import PAPER, Paper


def close_all(values: Sequence[float], expected: Sequence[float], tolerance: float) -> bool:
    """``values`` and ``expected`` have the same length and match within ``tolerance``."""
    return len(values) == len(expected) and all(
        abs(float(v) - e) <= tolerance for v, e in zip(values, expected, strict=True)
    )


def _source_differences(spec: Mapping[str, Any], ds: str, paper: Paper) -> list[str]:
    if spec.get("source", {}).get("sha256") != paper.corpus_sha256[ds]:
        return [f"{ds} source is not the paper's corpus file"]
    return []


def _shape_differences(
    spec: Mapping[str, Any], ds: str, paper: Paper, *, split: bool = True
) -> list[str]:
    """Size, line ends and (with ``split``) the split of dataset ``ds`` against the paper's."""
    found = []
    max_bytes = spec.get("max_bytes")
    expected = paper.corpus_bytes[ds]
    if max_bytes is not None and max_bytes != expected:
        found.append(f"{ds} corpus cut at {max_bytes:,} bytes (paper {expected:,})")
    newlines = paper.newlines.get(ds)
    if newlines is not None and spec.get("newlines", "keep") not in (newlines, "keep"):
        found.append(f"{ds} newlines {spec.get('newlines')} (paper: {newlines.upper()})")
    if split:
        fractions = tuple(spec.get("split", ()))
        if not close_all(fractions, paper.split[ds], paper.tolerances.split):
            found.append(f"{ds} split {list(fractions)} (paper {list(paper.split[ds])})")
    return found


def corpus_differences(config: Mapping[str, Any], ds: str, paper: Paper = PAPER) -> list[str]:
    """How dataset ``ds``'s corpus and split differ from the paper's."""
    spec = config["datasets"].get(ds)
    if spec is None:
        return [f"no dataset {ds!r}"]
    return _source_differences(spec, ds, paper) + _shape_differences(spec, ds, paper)


def corpus_only_differences(config: Mapping[str, Any], ds: str, paper: Paper = PAPER) -> list[str]:
    """``corpus_differences`` but the split: what a claim about the whole corpus depends on."""
    spec = config["datasets"].get(ds)
    if spec is None:
        return [f"no dataset {ds!r}"]
    return _source_differences(spec, ds, paper) + _shape_differences(spec, ds, paper, split=False)


def other_kernel(config: Mapping[str, Any], ds: str, paper: Paper = PAPER) -> bool:
    """Dataset ``ds`` draws the paper's kind of Linux corpus from another kernel's files."""
    spec = config["datasets"].get(ds) or {}
    return spec.get("kind") == "kernel_tarball" and bool(_source_differences(spec, ds, paper))


def kind_differences(config: Mapping[str, Any], ds: str, paper: Paper = PAPER) -> list[str]:
    """What a claim the paper makes of every model depends on in the data: the paper's text
    for prose; for the Linux corpus a draw of the paper's size and split from any kernel's
    .c/.h files (the finding is about code, not one kernel release), named in the note."""
    if other_kernel(config, ds, paper):
        return _shape_differences(config["datasets"][ds], ds, paper)
    return corpus_differences(config, ds, paper)


def recipe_differences(training: Mapping[str, Any], paper: Paper = PAPER) -> list[str]:
    """How a ``training`` section differs from the paper's recipe (Sec. 3.3)."""
    found = []
    for key, expected in paper.recipe.items():
        value = training[key]
        if not math.isclose(float(value), float(expected)):
            found.append(
                f"{value:g} epochs (paper {expected:g})"
                if key == "epochs"
                else f"{key} {value:g} (paper {expected:g})"
            )
    return found


def training_differences(config: Mapping[str, Any], paper: Paper = PAPER) -> list[str]:
    """How the grid models' training differs from the paper's recipe."""
    return recipe_differences(config["training"], paper)


def nnn_differences(config: Mapping[str, Any], ds: str, paper: Paper = PAPER) -> list[str]:
    """How dataset ``ds``'s n-NN baselines' training differs: the recipe (with their own
    epochs, if set), and a hidden size that is not cross-validated (Sec. 4.3)."""
    found = recipe_differences(plan.nnn_training(config), paper)
    if len(plan.nnn_hidden_sizes(config, ds)) < 2:
        found.append("one n-NN hidden size (the paper cross-validates it)")
    return found


def _trained_grid(config: Mapping[str, Any], ds: str) -> tuple[set[str], set[int], set[int]]:
    """The types, depths and budgets (in LSTM cells) of the grid models ``ds`` trains."""
    specs = plan.dataset_models(config, ds)
    budgets = config["grid"]["budgets"]
    return (
        {s.model_type for s in specs},
        {s.num_layers for s in specs},
        {budgets[s.budget] for s in specs},
    )


def grid_differences(config: Mapping[str, Any], ds: str, paper: Paper = PAPER) -> list[str]:
    """What of the paper's grid dataset ``ds``'s models lack: types, depths, budgets, and any
    model of the grid it leaves out (``datasets.<ds>.models``)."""
    types, layers, cells = _trained_grid(config, ds)
    found = []
    if not paper.types <= types:
        found.append(f"types {sorted(types)} (paper {sorted(paper.types)})")
    if not paper.layers <= layers:
        found.append(f"layers {sorted(layers)} (paper {sorted(paper.layers)})")
    if not paper.budget_cells <= cells:
        found.append(f"budgets of {sorted(cells)} cells (paper {sorted(paper.budget_cells)})")
    trained, whole = plan.model_ids(config, ds), plan.grid(config)
    if len(trained) < len(whole):
        found.append(f"{ds} trains {len(trained)} of the grid's {len(whole)} models")
    return found


def ngram_differences(config: Mapping[str, Any], paper: Paper = PAPER) -> list[str]:
    reference = config["analysis"]["reference_ngram"]
    if reference != paper.reference_ngram:
        return [f"reference n-gram {reference} (paper {paper.reference_ngram})"]
    return []


def model_differences(config: Mapping[str, Any], ds: str, paper: Paper = PAPER) -> list[str]:
    """What a claim about a particular trained model of the paper (its best model, its
    numbers) depends on: the corpus, the whole grid, the recipe."""
    return (
        corpus_differences(config, ds, paper)
        + grid_differences(config, ds, paper)
        + training_differences(config, paper)
    )


def family_differences(config: Mapping[str, Any], ds: str, paper: Paper = PAPER) -> list[str]:
    """What a claim the paper makes of every model it trained (depth helps, gated models beat
    the RNN, the first layer is the most diffuse) depends on: the kind of corpus and the
    recipe. A smaller grid tests it on fewer models (``tested_grid`` names them), it does
    not change it; a grid lacking what the claim compares leaves it ``not run``."""
    return kind_differences(config, ds, paper) + training_differences(config, paper)


def _sizes(values: Sequence[Any]) -> str:
    return ", ".join(str(v) for v in sorted(values))


def tested_grid(config: Mapping[str, Any], ds: str, paper: Paper = PAPER) -> str:
    """The note of a claim checked on the run's grid: which models it was tested on, and
    what of the paper's grid (and corpus) the run does not have."""
    grid = config["grid"]
    dropouts = _sizes(f"{d:g}" for d in grid.get("dropouts", ()))
    if config["datasets"][ds].get("models") is not None:
        tested = f"tested on {', '.join(plan.model_ids(config, ds))}"
    else:
        budgets = _sizes(f"{name} ({cells} cells)" for name, cells in grid["budgets"].items())
        tested = (
            f"tested on {_sizes(t.upper() for t in grid['types'])} x {_sizes(grid['layers'])} "
            f"layers x budgets {budgets}"
        )
    note = tested + (f", dropout {dropouts}" if dropouts else "")
    missing = grid_differences(config, ds, paper)
    if missing:
        note += f"; not in this run: {'; '.join(missing)}"
    if other_kernel(config, ds, paper):
        sha = config["datasets"][ds]["source"].get("sha256") or "?"
        note += f"; {ds} from another kernel's files (sha256 {sha[:12]}...), as the paper's kind"
    return note


def _oracle_setup_differences(config: Mapping[str, Any], paper: Paper) -> list[str]:
    """The oracles' own settings: which models they analyse, the n-gram oracle's n."""
    oracles = config["analysis"]["oracles"]
    found = []
    if dict(oracles["models"]) != dict(paper.oracle_models):
        found.append(
            f"oracle models {dict(oracles['models'])} "
            f"(paper: {', '.join(paper.oracle_models.values())})"
        )
    if tuple(oracles.get("ngram", ())) != paper.oracle_ngram:
        found.append(
            f"n-gram oracle n {oracles.get('ngram')} "
            f"(paper {min(paper.oracle_ngram)}..{max(paper.oracle_ngram)})"
        )
    return found


def oracle_differences(
    config: Mapping[str, Any], ds: str, paper: Paper = PAPER, role: str = "large"
) -> list[str]:
    """What the error oracles of a role's model depend on. The best LSTM (``large``) is the
    best of the whole grid; the best LSTM of the smallest budget (``small``) needs only that
    budget, trained with the paper's recipe on the paper's corpus."""
    if role == "small":
        found = corpus_differences(config, ds, paper) + training_differences(config, paper)
        smallest = min(paper.budget_cells)
        if smallest not in _trained_grid(config, ds)[2]:
            found.append(f"no budget of {smallest} cells (the paper's smallest)")
    else:
        found = model_differences(config, ds, paper)
    return found + _oracle_setup_differences(config, paper)
