"""Shared figure conventions: headless backend, one palette per model type, atomic saving."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from visrnn.common.files import atomic_path

#: Colour of each model type, as in the paper's figures (LSTM red, GRU green, RNN blue),
#: plus the two baselines.
TYPE_COLORS = {
    "lstm": "#d62728",
    "gru": "#2ca02c",
    "rnn": "#1f77b4",
    "ngram": "#7f7f7f",
    "nnn": "#9467bd",
}


def new_figure(width: float = 6.0, height: float = 4.0) -> Figure:
    return plt.figure(figsize=(width, height), dpi=120)


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> None:
    """Save ``fig`` to ``path`` (format from the suffix), atomically, and close it."""
    target = Path(path)
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=target.suffix.lstrip(".") or "png")
    plt.close(fig)
