"""The paper's Figure 1 (left): test loss of every model, with its bootstrap spread."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from visrnn.common.plotting import new_figure, save_figure
from visrnn.models.grid import ModelSpec
from visrnn.scoring.scores import Scores, bootstrap_std

COLUMNS = (
    "model",
    "type",
    "layers",
    "budget",
    "hidden_size",
    "parameters",
    "dropout",
    "test_loss",
    "bootstrap_std",
)


def test_loss_rows(
    scores: Sequence[Scores],
    selections: Mapping[str, Mapping[str, Any]],
    sizes: Mapping[str, Mapping[str, Any]],
    *,
    samples: int,
    seed: int,
) -> list[dict[str, Any]]:
    """One row per model: architecture, chosen dropout, test loss (nats) and bootstrap std."""
    rows = []
    for model_scores in scores:
        spec = ModelSpec.parse(model_scores.model)
        size = sizes[model_scores.model]
        rows.append(
            {
                "model": model_scores.model,
                "type": spec.model_type,
                "layers": spec.num_layers,
                "budget": spec.budget,
                "hidden_size": size["hidden_size"],
                "parameters": size["parameters"],
                "dropout": selections[model_scores.model]["dropout"],
                "test_loss": round(model_scores.loss, 5),
                "bootstrap_std": round(bootstrap_std(model_scores.nll, samples, seed), 5),
            }
        )
    return rows


def plot_test_losses(
    rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str], title: str
) -> None:
    """A table like the paper's: budgets down, (type, layers) across, loss in each cell."""
    budgets = list(dict.fromkeys(row["budget"] for row in rows))
    columns = list(dict.fromkeys((row["type"], row["layers"]) for row in rows))
    losses = np.full((len(budgets), len(columns)), np.nan)
    for row in rows:
        losses[budgets.index(row["budget"]), columns.index((row["type"], row["layers"]))] = row[
            "test_loss"
        ]
    fig = new_figure(1.2 + 0.9 * len(columns), 1.2 + 0.5 * len(budgets))
    ax = fig.add_subplot()
    image = ax.imshow(losses, cmap="viridis_r", aspect="auto")
    for (i, j), value in np.ndenumerate(losses):
        if not np.isnan(value):
            # viridis_r is bright for low losses: dark text there, light text elsewhere.
            bright = image.norm(value) < 0.5
            ax.text(
                j,
                i,
                f"{value:.3f}",
                ha="center",
                va="center",
                fontsize=8,
                color="black" if bright else "white",
            )
    ax.set_xticks(range(len(columns)), [f"{t.upper()}\n{n} layer" for t, n in columns], fontsize=8)
    ax.set_yticks(range(len(budgets)), budgets)
    ax.set_ylabel("parameter budget")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="test loss (nats/char)")
    save_figure(fig, path)
