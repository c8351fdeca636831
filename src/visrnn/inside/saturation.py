"""Gate saturation (paper Sec. 4.2, Figure 3): how often each sigmoid gate is shut or wide open.

A gate is left-saturated at a step when its activation is below 0.1, right-saturated when it
is above 0.9. For each gate unit the fraction of test steps in each regime places it in a
scatter plot as the paper draws it, at (fraction right-saturated, fraction left-saturated):
forget gates at the bottom right are cells that remember for very long, a feed-forward cell's
forget gate would sit at the top left, and the first layer's gates sit near the origin, a
finding the paper could not explain. GRU update gates are reported in the paper's convention
(z weighs the candidate; see ``visrnn.models.recurrent``).

The counts stream over the whole test split with the state carried (``iter_activations``),
keeping only per-unit counters, never the activations.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from matplotlib.figure import Figure

from visrnn.common.plotting import TYPE_COLORS, new_figure, save_figure
from visrnn.inside.activations import iter_activations
from visrnn.models.gates import GATES
from visrnn.models.recurrent import CharRNN

logger = logging.getLogger(__name__)

LEFT_THRESHOLD = 0.1
RIGHT_THRESHOLD = 0.9
_MARGIN = 0.03

#: Columns of the saturation table, one row per gate unit of every model.
ROW_COLUMNS = ("model", "layer", "gate", "unit", "left_fraction", "right_fraction")

_GATE_LABELS = {
    "i": "input gate i",
    "f": "forget gate f",
    "o": "output gate o",
    "r": "reset gate r",
    "z": "update gate z",
}


class GateCounts(NamedTuple):
    """Per unit of one gate, the number of steps spent left- and right-saturated."""

    left: np.ndarray  # (H,) int64
    right: np.ndarray  # (H,) int64


def saturation_counts(
    model: CharRNN, ids: np.ndarray, chunk: int = 8192
) -> dict[tuple[int, str], GateCounts]:
    """Count, per (layer, gate) and unit, the steps of ``ids`` with the gate below 0.1 / above 0.9.

    ``ids`` is the whole test split, run with batch 1 from the zero state, ``chunk`` steps at a
    time with the state carried. Keys come in layer order, then ``GATES`` order.
    """
    model_type = model.config.model_type
    gates = GATES[model_type]
    if not gates:
        raise ValueError(
            f"gate saturation needs an LSTM or GRU; a {model_type!r} model has no sigmoid gates"
        )
    left: dict[tuple[int, str], torch.Tensor] = {}
    right: dict[tuple[int, str], torch.Tensor] = {}
    done = 0
    for activations in iter_activations(model, ids, chunk, names=gates):
        for layer, by_gate in enumerate(activations):
            for gate, values in by_gate.items():
                key = (layer, gate)
                below = (values < LEFT_THRESHOLD).sum(dim=(0, 1))
                above = (values > RIGHT_THRESHOLD).sum(dim=(0, 1))
                left[key] = left[key] + below if key in left else below
                right[key] = right[key] + above if key in right else above
        done += activations[0][gates[0]].shape[1]
        logger.info("saturation: %d / %d steps", done, len(ids))
    return {key: GateCounts(left[key].cpu().numpy(), right[key].cpu().numpy()) for key in left}


def saturation_rows(
    model_id: str, counts: Mapping[tuple[int, str], GateCounts], steps: int
) -> list[dict[str, Any]]:
    """One row per gate unit (see ``ROW_COLUMNS``), fractions of ``steps``."""
    rows = []
    for (layer, gate), gate_counts in counts.items():
        if steps < 1 or np.any(gate_counts.left + gate_counts.right > steps):
            raise ValueError(
                f"{model_id}: layer {layer} gate {gate} has more saturated steps than {steps}; "
                "pass the number of steps the counts were taken over"
            )
        for unit, (n_left, n_right) in enumerate(
            zip(gate_counts.left, gate_counts.right, strict=True)
        ):
            rows.append(
                {
                    "model": model_id,
                    "layer": layer,
                    "gate": gate,
                    "unit": unit,
                    "left_fraction": int(n_left) / steps,
                    "right_fraction": int(n_right) / steps,
                }
            )
    return rows


def saturation_figure(rows: Sequence[Mapping[str, Any]], title: str) -> Figure:
    """Figure 3 for one model: a panel per gate type (rows) and layer (columns).

    Each unit sits at x = fraction right-saturated, y = fraction left-saturated (the paper's
    axes: always-open forget gates bottom right).
    ``rows`` are ``saturation_rows`` of a single model, or the same read back by ``read_table``.
    """
    models = sorted({row["model"] for row in rows})
    if len(models) != 1:
        raise ValueError(f"saturation plot needs the rows of exactly one model, got {models}")
    gates_present = {row["gate"] for row in rows}
    kinds = [kind for kind, names in GATES.items() if names and gates_present <= set(names)]
    if not kinds:
        raise ValueError(f"{models[0]}: gates {sorted(gates_present)} are not LSTM or GRU gates")
    model_type = kinds[0]
    gates = tuple(gate for gate in GATES[model_type] if gate in gates_present)
    layers = sorted({row["layer"] for row in rows})
    fig = new_figure(2.4 * len(layers) + 0.6, 2.4 * len(gates) + 0.6)
    axes = fig.subplots(len(gates), len(layers), squeeze=False, sharex=True, sharey=True)
    for row_index, gate in enumerate(gates):
        for column, layer in enumerate(layers):
            ax = axes[row_index][column]
            points = [r for r in rows if r["gate"] == gate and r["layer"] == layer]
            ax.scatter(
                [r["right_fraction"] for r in points],
                [r["left_fraction"] for r in points],
                s=10,
                alpha=0.5,
                color=TYPE_COLORS[model_type],
                edgecolors="none",
            )
            ax.plot([0, 1], [1, 0], color="black", linewidth=0.8, linestyle="--")
            # A small margin keeps points on the edges (never saturated: 0, 0) visible.
            ax.set_xlim(-_MARGIN, 1 + _MARGIN)
            ax.set_ylim(-_MARGIN, 1 + _MARGIN)
            ax.set_aspect("equal")
            if row_index == 0:
                ax.set_title(f"layer {layer + 1}")
            if row_index == len(gates) - 1:
                ax.set_xlabel("fraction right-saturated")
            if column == 0:
                ax.set_ylabel(f"{_GATE_LABELS[gate]}\nfraction left-saturated")
    fig.suptitle(title)
    return fig


def plot_saturation(
    rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str], title: str
) -> None:
    """Save ``saturation_figure`` to ``path`` (format from the suffix), atomically."""
    save_figure(saturation_figure(rows, title), path)
