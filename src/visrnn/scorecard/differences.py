"""How a run's preset differs from the paper's experiment, in each respect a claim depends on.

A claim whose check passes or fails on a run that differs from the paper in a respect the
claim depends on is ``not comparable``; these lists are its note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from visrnn.scorecard.paper import PAPER, Paper


def close_all(values: Sequence[float], expected: Sequence[float], tolerance: float) -> bool:
    """``values`` and ``expected`` have the same length and match within ``tolerance``."""
    return len(values) == len(expected) and all(
        abs(float(v) - e) <= tolerance for v, e in zip(values, expected, strict=True)
    )


def corpus_differences(config: Mapping[str, Any], ds: str, paper: Paper = PAPER) -> list[str]:
    """How dataset ``ds``'s corpus and split differ from the paper's."""
    spec = config["datasets"].get(ds)
    if spec is None:
        return [f"no dataset {ds!r}"]
    found = []
    if spec.get("source", {}).get("sha256") != paper.corpus_sha256[ds]:
        found.append(f"{ds} source is not the paper's corpus file")
    max_bytes = spec.get("max_bytes")
    expected = paper.corpus_bytes[ds]
    if max_bytes is not None and max_bytes != expected:
        found.append(f"{ds} corpus cut at {max_bytes:,} bytes (paper {expected:,})")
    newlines = paper.newlines.get(ds)
    if newlines is not None and spec.get("newlines", "keep") not in (newlines, "keep"):
        found.append(f"{ds} newlines {spec.get('newlines')} (paper: {newlines.upper()})")
    split = tuple(spec.get("split", ()))
    if not close_all(split, paper.split[ds], paper.tolerances.split):
        found.append(f"{ds} split {list(split)} (paper {list(paper.split[ds])})")
    return found


def corpus_only_differences(config: Mapping[str, Any], ds: str, paper: Paper = PAPER) -> list[str]:
    """``corpus_differences`` but the split: what a claim about the whole corpus depends on."""
    return [d for d in corpus_differences(config, ds, paper) if " split " not in d]


def training_differences(config: Mapping[str, Any], paper: Paper = PAPER) -> list[str]:
    epochs = config["training"]["epochs"]
    return [] if epochs == paper.epochs else [f"{epochs} epochs (paper {paper.epochs})"]


def grid_differences(config: Mapping[str, Any], paper: Paper = PAPER) -> list[str]:
    grid = config["grid"]
    found = []
    if not paper.types <= set(grid["types"]):
        found.append(f"types {sorted(grid['types'])} (paper {sorted(paper.types)})")
    if not paper.layers <= set(grid["layers"]):
        found.append(f"layers {sorted(grid['layers'])} (paper {sorted(paper.layers)})")
    cells = set(grid["budgets"].values())
    if not paper.budget_cells <= cells:
        found.append(f"budgets of {sorted(cells)} cells (paper {sorted(paper.budget_cells)})")
    return found


def ngram_differences(config: Mapping[str, Any], paper: Paper = PAPER) -> list[str]:
    reference = config["analysis"]["reference_ngram"]
    if reference != paper.reference_ngram:
        return [f"reference n-gram {reference} (paper {paper.reference_ngram})"]
    return []


def model_differences(config: Mapping[str, Any], ds: str, paper: Paper = PAPER) -> list[str]:
    """What a claim about trained models on ``ds`` depends on: corpus, grid, epochs."""
    return (
        corpus_differences(config, ds, paper)
        + grid_differences(config, paper)
        + training_differences(config, paper)
    )


def oracle_differences(config: Mapping[str, Any], ds: str, paper: Paper = PAPER) -> list[str]:
    """What the error oracles depend on: the models, their preset and the oracles' n."""
    oracles = config["analysis"]["oracles"]
    found = model_differences(config, ds, paper)
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
