"""Which characters one model predicts better than another (paper Figure 4, middle/right).

Averaging p(target) per target character separates the characters that need long-range
context (closing brackets, the line break of War and Peace every ~70 characters) from those
a 20-gram already predicts well; the characters with the largest difference in each
direction show where the LSTM's extra memory pays.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.patches import Patch

from visrnn.common.plotting import TYPE_COLORS, new_figure, save_figure
from visrnn.data.splits import Vocab

#: Columns of the rows ``leading_characters`` returns.
LEADING_COLUMNS = (
    "leader",
    "other",
    "rank",
    "character",
    "token_id",
    "count",
    "p_leader",
    "p_other",
    "advantage",
)


def per_character_means(
    target: np.ndarray, p_a: np.ndarray, p_b: np.ndarray, vocab_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per target id: how often it occurs, and the mean p(target) of model a and of model b.

    Ids that never occur get a count of 0 and NaN means.
    """
    target = np.asarray(target, dtype=np.int64)
    if not len(target) == len(p_a) == len(p_b):
        raise ValueError(
            f"target ({len(target)}), p_a ({len(p_a)}) and p_b ({len(p_b)}) differ in length; "
            "score one test split"
        )
    if len(target) and (target.min() < 0 or target.max() >= vocab_size):
        raise ValueError(
            f"target ids span {target.min()}..{target.max()}, outside 0..{vocab_size - 1}"
        )
    count = np.bincount(target, minlength=vocab_size)
    sums = [
        np.bincount(target, weights=np.asarray(p, np.float64), minlength=vocab_size)
        for p in (p_a, p_b)
    ]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a, mean_b = (np.where(count > 0, s / count, np.nan) for s in sums)
    return count, mean_a, mean_b


def _leaders(
    count: np.ndarray, mean_leader: np.ndarray, mean_other: np.ndarray, k: int, min_count: int
) -> np.ndarray:
    """Ids where ``leader`` is ahead, largest advantage first (ties: lower id), at most k."""
    advantage = mean_leader - mean_other
    eligible = np.flatnonzero((count >= min_count) & (advantage > 0))
    order = np.lexsort((eligible, -advantage[eligible]))
    return eligible[order][:k]


def leading_characters(
    count: np.ndarray,
    mean_a: np.ndarray,
    mean_b: np.ndarray,
    vocab: Vocab,
    model_a: str,
    model_b: str,
    k: int = 10,
    min_count: int = 20,
) -> list[dict[str, object]]:
    """The k characters where model a leads most, then the k where model b leads most.

    Only characters seen at least ``min_count`` times count (a mean over a handful of
    positions is noise), and only strict leads: a group has fewer than k rows when fewer
    characters favour that model.
    """
    if not len(count) == len(mean_a) == len(mean_b) == vocab.size:
        raise ValueError(
            f"per-character arrays ({len(count)}, {len(mean_a)}, {len(mean_b)}) do not match "
            f"the vocabulary size {vocab.size}; compute them with per_character_means"
        )
    rows: list[dict[str, object]] = []
    for leader, other, mean_leader, mean_other in (
        (model_a, model_b, mean_a, mean_b),
        (model_b, model_a, mean_b, mean_a),
    ):
        for rank, token_id in enumerate(_leaders(count, mean_leader, mean_other, k, min_count), 1):
            rows.append(
                {
                    "leader": leader,
                    "other": other,
                    "rank": rank,
                    "character": vocab.name(int(token_id)),
                    "token_id": int(token_id),
                    "count": int(count[token_id]),
                    "p_leader": float(mean_leader[token_id]),
                    "p_other": float(mean_other[token_id]),
                    "advantage": float(mean_leader[token_id] - mean_other[token_id]),
                }
            )
    return rows


def plot_leading_characters(
    rows: Sequence[Mapping[str, object]],
    model_a: str,
    model_b: str,
    path: str | os.PathLike[str],
    colors: tuple[str, str] = (TYPE_COLORS["lstm"], TYPE_COLORS["ngram"]),
) -> None:
    """Two groups of bar pairs: the characters where a leads, then those where b leads."""
    fig = new_figure(9.0, 3.8)
    ax = fig.add_subplot()
    width = 0.4
    x = 0.0
    ticks: list[float] = []
    labels: list[str] = []
    for leader in (model_a, model_b):
        group = sorted((r for r in rows if r["leader"] == leader), key=lambda r: r["rank"])
        start = x
        for row in group:
            p_leader, p_other = row["p_leader"], row["p_other"]
            heights = (p_leader, p_other) if leader == model_a else (p_other, p_leader)
            ax.bar([x - width / 2, x + width / 2], heights, width, color=colors)
            ticks.append(x)
            labels.append(str(row["character"]))
            x += 1.0
        if group:
            ax.text((start + x - 1) / 2, 1.03, f"{leader} leads", ha="center", fontsize=9)
        x += 1.0  # gap between the groups
    ax.set_xticks(ticks, labels, fontsize=9)
    ax.set_ylim(0.0, 1.1)
    ax.set_ylabel("mean p(correct character)")
    handles = [
        Patch(color=color, label=m) for m, color in zip((model_a, model_b), colors, strict=True)
    ]
    ax.legend(handles=handles, loc="lower right", fontsize=8)
    save_figure(fig, path)
