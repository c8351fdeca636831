"""Which models predict alike (paper Figure 1, right).

Two models agree at a test position when their most likely next symbol is the same. The
fraction of positions on which each pair agrees is a similarity that, unlike a KL divergence,
stays bounded and robust (the paper's reason for it); t-SNE on ``1 - agreement`` lays the
models out so that clusters of look-alike predictors become visible.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from itertools import cycle

import numpy as np
from matplotlib.lines import Line2D
from sklearn.manifold import TSNE

from visrnn.common.plotting import TYPE_COLORS, new_figure, save_figure
from visrnn.models.grid import ModelSpec

logger = logging.getLogger(__name__)

#: Marker shape per number of layers; deeper grids cycle through the extra shapes.
LAYER_MARKERS = ("o", "s", "^", "D", "v", "P")
_MARKER_SIZES = (30.0, 240.0)  # smallest and largest budget, in points^2
_BUDGET_NUMBER = re.compile(r"^(?P<value>[0-9]+(?:\.[0-9]+)?)(?P<unit>[kKmM]?)$")


def agreement_matrix(argmaxes: Sequence[np.ndarray]) -> np.ndarray:
    """(M, M) fraction of positions on which models i and j have the same argmax.

    Symmetric, with ones on the diagonal. One vectorised comparison of a model against all
    later ones per row keeps memory at one (M, N) boolean array.
    """
    if not argmaxes:
        raise ValueError("agreement_matrix needs at least one model's argmax array")
    lengths = {len(a) for a in argmaxes}
    if len(lengths) != 1:
        raise ValueError(
            f"argmax arrays differ in length ({sorted(lengths)}); score one test split"
        )
    n = lengths.pop()
    if n == 0:
        raise ValueError("argmax arrays are empty; there is nothing to compare")
    stacked = np.stack([np.asarray(a) for a in argmaxes])
    m = len(stacked)
    logger.info("argmax agreement of %d models over %d positions", m, n)
    agreement = np.eye(m)
    for i in range(m - 1):
        same = np.count_nonzero(stacked[i + 1 :] == stacked[i], axis=1) / n
        agreement[i, i + 1 :] = same
        agreement[i + 1 :, i] = same
    return agreement


def tsne_embedding(agreement: np.ndarray, seed: int, perplexity: float = 30.0) -> np.ndarray:
    """(M, 2) t-SNE layout of the models, distances ``1 - agreement``, reproducible by ``seed``.

    t-SNE needs a perplexity (an effective neighbour count) below the number of points, and
    near it every model is every other's neighbour and the layout goes flat, so it is capped
    at ``(M - 1) / 3``: 36 models get about 12 neighbours, a 4-model demo one.
    """
    distances = np.clip(1.0 - np.asarray(agreement, dtype=np.float64), 0.0, None)
    m = len(distances)
    if distances.shape != (m, m) or m < 2:
        raise ValueError(
            f"need a square agreement matrix of at least 2 models, got {distances.shape}"
        )
    np.fill_diagonal(distances, 0.0)
    tsne = TSNE(
        n_components=2,
        perplexity=min(perplexity, (m - 1) / 3),
        metric="precomputed",
        init="random",
        method="exact",
        random_state=seed,
    )
    return tsne.fit_transform(distances)


def budget_rank(budgets: Sequence[str]) -> dict[str, int]:
    """Rank (0 = smallest) of each distinct budget name.

    Names that read as numbers (``64``, ``130k``, ``1.2M``) are ordered by value; any other
    names keep their order of first appearance, after the numeric ones.
    """
    distinct = list(dict.fromkeys(budgets))

    def key(name: str) -> tuple[int, float, int]:
        match = _BUDGET_NUMBER.match(name)
        if match is None:
            return (1, 0.0, distinct.index(name))
        scale = {"": 1, "k": 1e3, "m": 1e6}[match["unit"].lower()]
        return (0, float(match["value"]) * scale, 0)

    return {name: rank for rank, name in enumerate(sorted(distinct, key=key))}


def plot_agreement_tsne(
    embedding: np.ndarray, model_ids: Sequence[str], path: str | os.PathLike[str]
) -> None:
    """Scatter of the embedding: colour = type, size = budget, marker = number of layers."""
    if len(embedding) != len(model_ids):
        raise ValueError(f"{len(embedding)} embedded points but {len(model_ids)} model ids")
    specs = [ModelSpec.parse(model_id) for model_id in model_ids]
    ranks = budget_rank([spec.budget for spec in specs])
    layer_counts = sorted({spec.num_layers for spec in specs})
    markers = dict(zip(layer_counts, cycle(LAYER_MARKERS), strict=False))
    small, large = _MARKER_SIZES
    top = max(max(ranks.values()), 1)
    sizes = {name: small + (large - small) * rank / top for name, rank in ranks.items()}

    fig = new_figure(6.5, 5.0)
    ax = fig.add_subplot()
    for (x, y), spec in zip(embedding, specs, strict=True):
        ax.scatter(
            x,
            y,
            s=sizes[spec.budget],
            c=TYPE_COLORS[spec.model_type],
            marker=markers[spec.num_layers],
            alpha=0.8,
            edgecolors="black",
            linewidths=0.5,
        )
    handles = [
        Line2D([], [], ls="", marker="o", color=TYPE_COLORS[t], label=t.upper())
        for t in dict.fromkeys(spec.model_type for spec in specs)
    ]
    handles += [
        Line2D([], [], ls="", marker=markers[n], color="black", mfc="none", label=f"{n} layer(s)")
        for n in layer_counts
    ]
    handles += [
        Line2D([], [], ls="", marker="o", color="grey", ms=np.sqrt(sizes[b]), label=f"budget {b}")
        for b in sorted(ranks, key=ranks.__getitem__)
    ]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    ax.set_title("t-SNE of models by argmax agreement")
    ax.set_xticks([])
    ax.set_yticks([])
    save_figure(fig, path)


def agreement_rows(agreement: np.ndarray, model_ids: Sequence[str]) -> list[dict[str, object]]:
    """The matrix as table rows: ``model`` then one column per model id."""
    if np.shape(agreement) != (len(model_ids), len(model_ids)):
        raise ValueError(f"agreement is {np.shape(agreement)} for {len(model_ids)} model ids")
    return [
        {"model": row_id, **{col_id: float(agreement[i, j]) for j, col_id in enumerate(model_ids)}}
        for i, row_id in enumerate(model_ids)
    ]
