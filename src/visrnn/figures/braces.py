"""How far back a model remembers an open block (paper Figure 5, left, Linux kernel).

Every ``}`` of the test split is grouped by the distance to its matching ``{``; the mean
probability a model gave the ``}`` in each group shows over which time scales it keeps track
of nesting. Braces inside comments, string literals and character literals do not open or
close blocks, so the matcher skips them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from itertools import pairwise

import numpy as np

from visrnn.common.plotting import new_figure, save_figure

#: Bucket edges in characters: buckets (0, 20], (20, 40], ..., (180, 200], then > 200.
DEFAULT_EDGES = tuple(range(0, 201, 20))
#: Columns of the rows ``closing_brace_rows`` returns.
BRACE_COLUMNS = ("model", "bucket", "lower", "upper", "count", "mean_p")

# One token of C that can hold a brace: a comment or literal (skipped whole), or a brace.
# An unterminated literal ends at the line end, an unterminated block comment at the end of
# the text, so a split that starts or ends inside one does not swallow the rest.
_C_TOKEN = re.compile(
    rb"""
      //[^\n]*                        # line comment
    | /\*.*?(?:\*/|\Z)                # block comment
    | "(?:\\.|[^"\\\n])*"?            # string literal, with escapes
    | '(?:\\.|[^'\\\n])*'?            # character literal, with escapes
    | [{}]                            # a brace that counts
    """,
    re.DOTALL | re.VERBOSE,
)


def match_braces(text: bytes) -> list[tuple[int, int]]:
    """(open position, close position) of every matched brace pair of C source, by close.

    A ``}`` with no open ``{`` (its block opened before the text starts) and a ``{`` never
    closed are skipped.
    """
    open_positions: list[int] = []
    pairs: list[tuple[int, int]] = []
    for token in _C_TOKEN.finditer(text):
        kind = token.group()
        if kind == b"{":
            open_positions.append(token.start())
        elif kind == b"}" and open_positions:
            pairs.append((open_positions.pop(), token.start()))
    return pairs


def bucket_labels(edges: Sequence[int]) -> list[str]:
    """``1-20``, ``21-40``, ..., ``>200`` for integer distances and edges (0, 20, ..., 200)."""
    closed = [f"{low + 1}-{high}" for low, high in pairwise(edges)]
    return [*closed, f">{edges[-1]}"]


def closing_brace_rows(
    text: bytes, p_targets: Mapping[str, np.ndarray], edges: Sequence[int] = DEFAULT_EDGES
) -> list[dict[str, object]]:
    """Mean p(``}``) per distance bucket, for each model.

    ``text`` is the decoded test split and ``p_targets`` maps a model name to its p(target)
    per test position, where position t scores byte t of ``text``. Buckets are
    (edges[i], edges[i+1]] and a last open one above edges[-1]; an empty bucket has mean NaN.
    """
    if len(edges) < 1 or list(edges) != sorted(set(edges)) or edges[0] != 0:
        raise ValueError(f"bucket edges must start at 0 and increase, got {list(edges)}")
    for name, p in p_targets.items():
        if len(p) != len(text):
            raise ValueError(
                f"{name}: {len(p)} scored positions but the test text has {len(text)} bytes; "
                "pass the decoded test split the model was scored on"
            )
    pairs = np.array(match_braces(text), dtype=np.int64).reshape(-1, 2)
    closes = pairs[:, 1]
    bucket = np.searchsorted(np.asarray(edges), closes - pairs[:, 0], side="left") - 1
    count = np.bincount(bucket, minlength=len(edges))
    labels = bucket_labels(edges)
    uppers = [*edges[1:], None]
    rows: list[dict[str, object]] = []
    for name, p in p_targets.items():
        sums = np.bincount(bucket, weights=np.asarray(p, np.float64)[closes], minlength=len(edges))
        for i, label in enumerate(labels):
            rows.append(
                {
                    "model": name,
                    "bucket": label,
                    "lower": edges[i],
                    "upper": uppers[i],
                    "count": int(count[i]),
                    "mean_p": float(sums[i] / count[i]) if count[i] else float("nan"),
                }
            )
    return rows


def plot_closing_brace(
    rows: Sequence[Mapping[str, object]],
    path: str | os.PathLike[str],
    colors: Mapping[str, str] | None = None,
) -> None:
    """Mean p(``}``) against the distance bucket, one line per model; counts under the axis."""
    models = list(dict.fromkeys(str(row["model"]) for row in rows))
    if not models:
        raise ValueError("no closing-brace rows to plot; compute them with closing_brace_rows")
    fig = new_figure(6.5, 4.0)
    ax = fig.add_subplot()
    labels: list[str] = []
    for model in models:
        own = [row for row in rows if row["model"] == model]
        labels = [str(row["bucket"]) for row in own]
        means = [row["mean_p"] for row in own]
        color = (colors or {}).get(model)
        ax.plot(range(len(own)), means, marker="o", label=model, color=color)
    counts = [row["count"] for row in rows if row["model"] == models[0]]
    ax.set_xticks(
        range(len(labels)), [f"{b}\n(n={c})" for b, c in zip(labels, counts, strict=True)]
    )
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel("distance from '{' to its '}' (characters)")
    ax.set_ylabel("mean p('}')")
    ax.set_ylim(0.0, 1.0)
    ax.legend()
    save_figure(fig, path)
