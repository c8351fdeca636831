"""Whose errors are whose (paper Figure 4, left).

A model errs at a position when it gives the true next symbol a probability below 0.5. The
sizes of the regions of the Venn diagram of the error sets of the LSTM, the best n-NN and the
best n-gram show how many errors all of them share and how many are unique to one model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np
from matplotlib.patches import Circle

from visrnn.common.plotting import TYPE_COLORS, new_figure, save_figure
from visrnn.scoring.choice import ERROR_THRESHOLD

#: Columns of the rows ``error_overlap`` returns.
OVERLAP_COLUMNS = ("region", "models", "count", "fraction", "test_positions")

# Venn layout for three sets: circle centres, and where each region's label sits, keyed by
# the indices of the sets the region lies in.
_CENTRES = ((-0.55, 0.35), (0.55, 0.35), (0.0, -0.6))
_RADIUS = 1.0
_LABEL_AT = {
    (0,): (-1.05, 0.65),
    (1,): (1.05, 0.65),
    (2,): (0.0, -1.2),
    (0, 1): (0.0, 0.8),
    (0, 2): (-0.65, -0.35),
    (1, 2): (0.65, -0.35),
    (0, 1, 2): (0.0, 0.05),
}
_SET_COLORS = (TYPE_COLORS["lstm"], TYPE_COLORS["nnn"], TYPE_COLORS["ngram"])


def region_name(members: Sequence[str]) -> str:
    """Name of the region of positions where exactly ``members`` err: ``a & b``, or ``none``."""
    return " & ".join(members) if members else "none"


def error_overlap(
    named_scores: Mapping[str, np.ndarray], threshold: float = ERROR_THRESHOLD
) -> list[dict[str, object]]:
    """Size of every region of the Venn diagram of the models' error sets.

    ``named_scores`` maps a model name to its p(target) per test position. One row per
    membership pattern: exactly the listed models err there (singles first, then pairs, ...,
    then ``none``), with its count, fraction and the number of test positions.
    """
    names = list(named_scores)
    if not 1 <= len(names) <= 8:
        raise ValueError(f"error_overlap compares 1 to 8 models, got {len(names)}: {names}")
    lengths = {name: len(p) for name, p in named_scores.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"p_target arrays differ in length: {lengths}; score one test split")
    n = next(iter(lengths.values()))
    # Each position's membership pattern as a bit mask, bit i set when model i errs there.
    pattern = np.zeros(n, dtype=np.int64)
    for bit, name in enumerate(names):
        pattern |= (np.asarray(named_scores[name]) < threshold).astype(np.int64) << bit
    counts = np.bincount(pattern, minlength=2 ** len(names))

    subsets = [
        s for size in range(1, len(names) + 1) for s in combinations(range(len(names)), size)
    ]
    rows = []
    for subset in [*subsets, ()]:
        count = int(counts[sum(1 << i for i in subset)])
        rows.append(
            {
                "region": region_name([names[i] for i in subset]),
                "models": len(subset),
                "count": count,
                "fraction": count / n if n else float("nan"),
                "test_positions": n,
            }
        )
    return rows


def plot_error_overlap(
    rows: Sequence[Mapping[str, object]],
    names: Sequence[str],
    path: str | os.PathLike[str],
    threshold: float = ERROR_THRESHOLD,
) -> None:
    """Three-set Venn diagram with each region's count and share of all test positions.

    Circles are drawn at equal size (not to scale): the numbers carry the sizes.
    """
    if len(names) != 3:
        raise ValueError(f"the overlap figure draws exactly three models, got {list(names)}")
    by_region = {str(row["region"]): row for row in rows}

    def label(members: Sequence[str]) -> str:
        key = region_name(members)
        if key not in by_region:
            raise ValueError(f"overlap rows have no region {key!r}; pass the rows for {names}")
        row = by_region[key]
        return f"{row['count']:,}\n{100 * row['fraction']:.1f}%"

    fig = new_figure(6.0, 5.5)
    ax = fig.add_subplot()
    for (x, y), color, name in zip(_CENTRES, _SET_COLORS, names, strict=True):
        ax.add_patch(Circle((x, y), _RADIUS, facecolor=color, alpha=0.25, edgecolor=color, lw=2))
        dy = 1.12 if y > 0 else -1.3
        ax.text(x, y + dy, name, ha="center", va="center", color=color, fontweight="bold")
    for subset, (x, y) in _LABEL_AT.items():
        ax.text(x, y, label([names[i] for i in subset]), ha="center", va="center", fontsize=9)
    ax.text(
        0.0, -2.15, f"no model errs: {label([]).replace(chr(10), ', ')}", ha="center", fontsize=9
    )
    ax.set_xlim(-1.9, 1.9)
    ax.set_ylim(-2.3, 1.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"Test positions with p(target) < {threshold}")
    save_figure(fig, path)
