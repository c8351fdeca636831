"""The atlas of cells across the grid as a heatmap: one row per trained model, one column per
structural signal, coloured by the best unit's |r| (``visrnn.inside.atlas``).

Rows are grouped by type, then depth, budget (in the config's order) and dropout, so that "does
every LSTM above some size grow a quote cell?" reads down one column. The run chosen as "the"
model on validation loss is starred; a binary signal's cell also gives the unit's F1 as a
detector.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from visrnn.common.plotting import TYPE_COLORS, new_figure, save_figure
from visrnn.models.grid import MODEL_TYPES


def atlas_matrix(
    rows: Sequence[Mapping[str, Any]],
) -> tuple[list[tuple[str, str]], list[str], np.ndarray, np.ndarray]:
    """(model, run) keys in display order, signals, and the (models, signals) matrices of r
    and F1 (NaN where a signal has no row or is not binary) of ``atlas_rows`` rows."""
    budgets = list(dict.fromkeys(row["budget"] for row in rows))
    signals = list(dict.fromkeys(row["signal"] for row in rows))
    first = {}
    for row in rows:
        first.setdefault((row["model"], row["run"]), row)
    keys = sorted(
        first,
        key=lambda key: (
            MODEL_TYPES.index(first[key]["type"]),
            first[key]["layers"],
            budgets.index(first[key]["budget"]),
            first[key]["dropout"],
        ),
    )
    where = {key: number for number, key in enumerate(keys)}
    r = np.full((len(keys), len(signals)), np.nan)
    f1 = np.full_like(r, np.nan)
    for row in rows:
        at = where[row["model"], row["run"]], signals.index(row["signal"])
        r[at] = row["correlation"]
        if row.get("f1") is not None:
            f1[at] = row["f1"]
    return keys, signals, r, f1


def plot_atlas(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str], title: str) -> None:
    """Draw the atlas heatmap of ``atlas_rows`` rows to ``path``."""
    if not rows:
        raise ValueError("no atlas rows to draw: did any signal vary over the test positions?")
    keys, signals, r, f1 = atlas_matrix(rows)
    selected = {(row["model"], row["run"]) for row in rows if row["selected"]}
    kinds = {(row["model"], row["run"]): row["type"] for row in rows}
    fig = new_figure(2.2 + 1.05 * len(signals), 1.4 + 0.22 * len(keys))
    ax = fig.add_subplot()
    image = ax.imshow(np.abs(r), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(r):
        if np.isnan(value):
            continue
        label = f"{value:+.2f}" + ("" if np.isnan(f1[i, j]) else f" F1 {f1[i, j]:.2f}")
        ax.text(
            j,
            i,
            label,
            ha="center",
            va="center",
            fontsize=6,
            color="black" if abs(value) > 0.6 else "white",
        )
    ax.set_xticks(range(len(signals)), signals, rotation=30, ha="right", fontsize=8)
    labels = [f"{model} {run}{' *' if (model, run) in selected else ''}" for model, run in keys]
    ax.set_yticks(range(len(keys)), labels, fontsize=7)
    for tick, key in zip(ax.get_yticklabels(), keys, strict=True):
        tick.set_color(TYPE_COLORS[kinds[key]])
    fig.colorbar(image, ax=ax, label="best unit's |r|", fraction=0.04, pad=0.02)
    ax.set_title(title + "\n(* the run selected on validation loss)", fontsize=9)
    save_figure(fig, path)
