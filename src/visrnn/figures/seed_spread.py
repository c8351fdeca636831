"""How much the file draw of a kernel corpus moves the numbers: the reference n-gram's test
loss over shuffle seeds, beside what each draw holds (files, the largest one's share).

A kernel corpus is a seeded sample of a tree's files; one generated header of megabytes can
fill a large part of it. A reader compares the paper's value with the spread over seeds, not
with one draw.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from visrnn.common.plotting import TYPE_COLORS, new_figure, save_figure
from visrnn.data.corpora import corpus_files_kept

SEED_COLUMNS = (
    "seed",
    "model",
    "test_loss",
    "bootstrap_std",
    "files",
    "largest_file",
    "largest_share",
)


def seed_rows(
    losses: Mapping[int, Mapping[str, Any]], files: Mapping[int, Sequence[Mapping[str, Any]]]
) -> list[dict[str, Any]]:
    """One row per seed: ``losses[seed]`` is a ``baselines.csv``-style row (model, test_loss,
    bootstrap_std), ``files[seed]`` the draw's ``corpus_files.csv`` rows."""
    rows = []
    for seed in sorted(losses):
        kept = corpus_files_kept(files[seed])
        largest = max(kept, key=lambda row: row["bytes"])
        rows.append(
            {
                "seed": seed,
                "model": losses[seed]["model"],
                "test_loss": losses[seed]["test_loss"],
                "bootstrap_std": losses[seed]["bootstrap_std"],
                "files": len(kept),
                "largest_file": largest["path"],
                "largest_share": largest["share"],
            }
        )
    return rows


def spread_summary(rows: Sequence[Mapping[str, Any]]) -> str:
    """Mean, standard deviation and range of the test loss over the seeds, in words."""
    losses = np.array([row["test_loss"] for row in rows])
    spread = float(losses.std(ddof=1)) if losses.size > 1 else 0.0
    return (
        f"{rows[0]['model']}: {losses.mean():.4f} ± {spread:.4f} nats over {losses.size} seeds "
        f"({losses.min():.4f} to {losses.max():.4f})"
    )


def plot_seed_spread(
    rows: Sequence[Mapping[str, Any]],
    paper_value: float | None,
    path: str | os.PathLike[str],
    title: str,
) -> None:
    """Test loss (with bootstrap std) per seed, the paper's value as a line when comparable;
    each point labelled with its draw's largest file share."""
    fig = new_figure(6.0, 4.0)
    ax = fig.add_subplot()
    seeds = [row["seed"] for row in rows]
    losses = [row["test_loss"] for row in rows]
    stds = [row["bootstrap_std"] for row in rows]
    ax.errorbar(seeds, losses, yerr=stds, fmt="o", color=TYPE_COLORS["ngram"], capsize=3)
    for seed, loss, row in zip(seeds, losses, rows, strict=True):
        ax.annotate(
            f"{100 * row['largest_share']:.0f}%",
            (seed, loss),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize=7,
        )
    ax.axhline(float(np.mean(losses)), color=TYPE_COLORS["ngram"], linestyle=":", label="mean")
    if paper_value is not None:
        ax.axhline(paper_value, color=TYPE_COLORS["lstm"], linestyle="--", label="paper")
    ax.set_xticks(seeds)
    ax.set_xlabel("shuffle seed (label: largest file's share of the corpus)")
    ax.set_ylabel(f"{rows[0]['model']} test loss (nats per character)")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    save_figure(fig, path)
