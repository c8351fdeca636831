"""An atlas of cells across the grid: does every model grow a quote cell?

For every trained model of a run (each type, depth, budget and dropout run), the unit that
best tracks each structural signal of the text (``visrnn.inside.signals``): its Pearson r,
found by the ranking that picks the paper's Figure 2 cells (``cells.rank_cells``, top 1), and
for a binary signal the precision, recall and F1 of "this unit is on" as a detector of it
(``explorer.queries.rank_binary``: on above the threshold when r > 0, below minus it when
r < 0). A model's units are those of its memory (``MEMORY_STATE``) in every layer, as
shown: tanh(c) for an LSTM, as Figure 2 colours it; h for a GRU or an RNN.

Units are matched between two models over the same positions: Pearson r between every unit
of one and every unit of the other, then the one-to-one assignment of largest summed |r|
(``scipy.optimize.linear_sum_assignment``), so that "the GRU's counterpart of this LSTM
cell" has one answer and no unit is the counterpart of two. The sign is ignored: flipping a
tanh unit's sign, and the signs of the weights that read and write it, gives the same network,
so a unit and its mirror image are the same cell.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from visrnn.explorer.queries import rank_binary
from visrnn.inside.activations import ActivationDump
from visrnn.inside.cells import correlate, lstm_cell_values, rank_cells, standardise
from visrnn.inside.signals import BINARY_SIGNALS
from visrnn.models.grid import ModelSpec

logger = logging.getLogger(__name__)

#: The state whose units the atlas ranks, per model type: the model's memory.
MEMORY_STATE = {"lstm": "c", "gru": "h", "rnn": "h"}
#: Columns of ``tables/atlas.csv``: one row per trained model and signal. ``precision``,
#: ``recall`` and ``f1`` are empty for a scalar signal.
ATLAS_COLUMNS = (
    "model",
    "run",
    "type",
    "layers",
    "budget",
    "dropout",
    "selected",
    "signal",
    "layer",
    "state",
    "unit",
    "correlation",
    "precision",
    "recall",
    "f1",
)


@dataclass(frozen=True)
class AtlasRun:
    """One trained model of the run: a grid model's run at one dropout, and its dump."""

    model: str
    run: str  # its directory: dropout-0.25
    dropout: float
    selected: bool  # the run chosen as "the" model on validation loss
    dump: str


def memory_values(dump: ActivationDump) -> dict[tuple[int, str], np.ndarray]:
    """(positions, units) float32 per (layer, state) of a dump's memory, as shown."""
    if dump.model_type == "lstm":
        return lstm_cell_values(dump)
    state = MEMORY_STATE[dump.model_type]
    return {(layer, state): dump.matrix(layer, state) for layer in range(dump.layers)}


def best_units(
    values: Mapping[tuple[int, str], np.ndarray],
    signals: Mapping[str, np.ndarray],
    threshold: float,
) -> list[dict[str, Any]]:
    """Per signal, the unit of largest |r| among ``values`` (``rank_cells``'s rows, top 1):
    ``signal``, ``layer``, ``state``, ``unit``, ``correlation``, and for a binary signal the
    ``precision``, ``recall`` and ``f1`` of that unit on (shown value beyond ``threshold``,
    on the side of r's sign), else None. A signal constant over the positions has no row."""
    rows = []
    for ranked in rank_cells(values, signals, top_k=1):
        name, r = ranked["signal"], ranked["correlation"]
        scores: dict[str, float | None] = dict.fromkeys(("precision", "recall", "f1"))
        if name in BINARY_SIGNALS:
            trace = values[ranked["layer"], ranked["activation"]][:, ranked["unit"]]
            found = rank_binary(trace[None, :], signals[name], threshold, 1 if r >= 0 else -1)
            scores = {key: float(found[key][0]) for key in scores}
        rows.append(
            {
                "signal": name,
                "layer": ranked["layer"],
                "state": ranked["activation"],
                "unit": ranked["unit"],
                "correlation": r,
                **scores,
            }
        )
    return rows


def atlas_rows(
    runs: Sequence[AtlasRun],
    signals: Mapping[str, np.ndarray],
    threshold: float,
    vocab_sha256: str | None = None,
) -> list[dict[str, Any]]:
    """``ATLAS_COLUMNS`` rows: ``best_units`` of every run's dump, whose positions must be
    those the signals describe (the dumps of one dataset, over the same test characters),
    made with the vocabulary ``vocab_sha256`` when given."""
    positions = len(next(iter(signals.values())))
    rows = []
    for number, run in enumerate(runs, start=1):
        dump = ActivationDump(run.dump, run.model)
        if vocab_sha256 is not None:
            dump.check_vocab(vocab_sha256)
        if dump.num_positions != positions:
            raise ValueError(
                f"{run.dump} holds {dump.num_positions} positions but the signals describe "
                f"{positions}: every dump of the atlas must cover the same test characters; "
                "rerun its activations rule"
            )
        spec = ModelSpec.parse(run.model)
        described = {
            "model": run.model,
            "run": run.run,
            "type": spec.model_type,
            "layers": spec.num_layers,
            "budget": spec.budget,
            "dropout": run.dropout,
            "selected": run.selected,
        }
        rows += [described | row for row in best_units(memory_values(dump), signals, threshold)]
        logger.info("atlas: %d / %d (%s %s)", number, len(runs), run.model, run.run)
    return rows


# ---------------------------------------------------------------------------------------
# Matching units between two models


@dataclass(frozen=True)
class Matching:
    """A one-to-one assignment of units of model a to units of model b: ``units_a[k]`` is
    matched to ``units_b[k]`` with Pearson ``correlation[k]`` (signed). The smaller model's
    units are all matched; the larger one's others are not."""

    units_a: np.ndarray
    units_b: np.ndarray
    correlation: np.ndarray

    def counterparts(self, units: int) -> list[int | None]:
        """For each of a's ``units`` units, its counterpart in b, or None."""
        found: list[int | None] = [None] * units
        for a, b in zip(self.units_a.tolist(), self.units_b.tolist(), strict=True):
            found[a] = b
        return found


def unit_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r of every unit (column) of ``a`` (T, Ha) with every unit of ``b`` (T, Hb),
    over the same T positions: (Ha, Hb); a constant unit gives 0."""
    if np.ndim(a) != 2 or np.ndim(b) != 2 or len(a) != len(b):
        raise ValueError(
            f"unit matching needs (T, H) states over the same positions; got {np.shape(a)} "
            f"and {np.shape(b)}"
        )
    return correlate(a, standardise(b))


def match_units(a: np.ndarray, b: np.ndarray) -> Matching:
    """Units of ``a`` (T, Ha) matched one to one with units of ``b`` (T, Hb), maximising
    the summed |r| (``unit_correlations``). A non-finite r (a float16 overflow in an
    imported state) counts as 0."""
    r = unit_correlations(a, b)
    r = np.where(np.isfinite(r), r, 0.0)
    units_a, units_b = linear_sum_assignment(np.abs(r), maximize=True)
    return Matching(units_a, units_b, r[units_a, units_b])
