"""Unit histories: when does a cell appear during training?

The training-dynamics run (paper Figure 5, right) keeps snapshots of one LSTM during its
first epochs. A unit keeps its index through training, so the cell that tracks a signal in
the trained network can be followed back through the snapshots: at each one, the Pearson
correlation of that same unit with the signal, over the same test characters. Set beside the
symmetric KL to the n-NN baselines, it answers "does the quote cell appear before or after
the LSTM stops behaving like the 1-NN?".

Which cell per signal: the top-ranked one (``visrnn.inside.cells.rank_cells``, |r| of
tanh(c) over every layer, as ``tables/cell_ranking.csv`` ranks the best LSTM's) of the
*dynamics model's converged checkpoint* (``models/{model}/best.pt``), not of the best LSTM:
only the dynamics model has snapshots, and a unit index means nothing in another network.
The converged checkpoint comes from the run the snapshots retrace (same seed, initial
weights, dropout and data order), so its units are the snapshots' units, and it is the cell
the reader sees in the trained model; ranking on the last snapshot (3 epochs) would miss a
cell that forms later. The retracing is checked, not assumed: the two runs' validation
losses must agree over the snapshot run's epochs (``same_start``; a GPU run may drift).
When they do not, the cells are ranked on the last snapshot instead and the converged model
is left out, since its unit i need not be the snapshots' unit i.

Beside the carried unit, each snapshot also records its own best unit for the signal
(``best_*`` columns): a carried unit that stays flat while the best one is high says the
signal is tracked, by another unit, earlier.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from visrnn.common.plotting import new_figure, save_figure
from visrnn.inside.cells import correlate, standardise

logger = logging.getLogger(__name__)

#: Columns of ``tables/unit_histories.csv``: one row per (signal, snapshot).
HISTORY_COLUMNS = (
    "signal",
    "layer",
    "unit",
    "snapshot",
    "iteration",
    "epoch",
    "correlation",
    "best_layer",
    "best_unit",
    "best_correlation",
)
#: The name of the converged checkpoint's rows (the others are the snapshots' file stems).
CONVERGED = "converged"
#: A cell "has appeared" at the first snapshot where its |r| reaches this fraction of its
#: final |r| (the converged checkpoint's, else the last snapshot's).
APPEARANCE_FRACTION = 0.5
#: Relative tolerance of ``same_start``'s comparison of two runs' validation losses (the
#: logs round them to 6 decimals).
SAME_START_RTOL = 1e-5

CellValues = Mapping[tuple[int, str], np.ndarray]


@dataclass(frozen=True)
class Snapshot:
    """A checkpoint along the training run: its name, training iteration and epoch."""

    name: str
    iteration: int
    epoch: float


def iterations_per_epoch(train_log: Sequence[Mapping[str, Any]]) -> int:
    """Training iterations per epoch, from a run's ``train_log.csv`` rows: the iteration
    count at the end of epoch 1 (the training split's ``batches_per_epoch``)."""
    first = next((row for row in train_log if row["epoch"] == 1), None)
    if first is None or int(first["iteration"]) < 1:
        raise ValueError("the train log has no epoch 1 with its iteration count; rerun training")
    return int(first["iteration"])


def same_start(
    snapshots_log: Sequence[Mapping[str, Any]], model_log: Sequence[Mapping[str, Any]]
) -> bool:
    """Whether the converged model's run retraced the snapshot run: equal validation losses
    at every epoch of the snapshot run (bitwise-equal runs on a CPU give equal logs)."""
    converged = {row["epoch"]: float(row["val_loss"]) for row in model_log}
    epochs = [row["epoch"] for row in snapshots_log]
    return bool(epochs) and all(
        row["epoch"] in converged
        and math.isclose(converged[row["epoch"]], float(row["val_loss"]), rel_tol=SAME_START_RTOL)
        for row in snapshots_log
    )


def cell_values(model: Any, ids: np.ndarray) -> dict[tuple[int, str], np.ndarray]:
    """tanh(c) of every layer of an LSTM over ``ids`` from the zero state, (positions, cells)
    per ``(layer, "c")``, as ``visrnn.inside.activations.iter_activations`` computes it for the
    dumps (``cells.lstm_cell_values`` takes the same from a dump). Float16, like the dumps:
    one snapshot of a 3-layer 512-cell LSTM over 100K characters then holds 300 MB."""
    from visrnn.inside.activations import iter_activations

    chunks: dict[int, list[np.ndarray]] = {}
    for chunk in iter_activations(model, ids, names=("c",)):
        for layer, by_name in enumerate(chunk):
            cells = by_name["c"][0].float().tanh().cpu().numpy()  # (T, H)
            chunks.setdefault(layer, []).append(cells.astype(np.float16))
    return {(layer, "c"): np.concatenate(parts) for layer, parts in chunks.items()}


def unit_histories(
    chosen: Sequence[Mapping[str, Any]],
    snapshots: Iterable[tuple[Snapshot, CellValues]],
    signals: Mapping[str, np.ndarray],
) -> list[dict[str, Any]]:
    """The ``HISTORY_COLUMNS`` rows: for each cell of ``chosen`` (``rank_cells`` rows), its
    Pearson r with its signal at each snapshot, and that snapshot's own best unit.

    ``snapshots`` yields one (snapshot, values) at a time, values as ``cell_values`` gives
    them, all over the positions of ``signals``: one snapshot's values are in memory at once.
    """
    names = list(dict.fromkeys(row["signal"] for row in chosen))
    missing = [name for name in names if name not in signals]
    if missing:
        raise ValueError(f"chosen cells of signals {missing} that are not given")
    if not names:
        return []
    steps = len(signals[names[0]])
    standardised = standardise(np.column_stack([signals[name] for name in names]))
    rows = []
    for snapshot, values in snapshots:
        keys = sorted(values)
        blocks = []
        for key in keys:
            if np.shape(values[key])[0] != steps:
                raise ValueError(
                    f"{snapshot.name}: {key} has {np.shape(values[key])[0]} positions, the "
                    f"signals {steps}"
                )
            blocks.append(correlate(values[key], standardised))  # (H, S)
        units = [
            (key[0], unit)
            for key, block in zip(keys, blocks, strict=True)
            for unit in range(len(block))
        ]
        everything = np.concatenate(blocks)  # (all units, S)
        for cell in chosen:
            column = names.index(cell["signal"])
            block = blocks[keys.index((cell["layer"], cell.get("activation", "c")))]
            best = int(np.argmax(np.abs(everything[:, column])))
            rows.append(
                {
                    "signal": cell["signal"],
                    "layer": cell["layer"],
                    "unit": cell["unit"],
                    "snapshot": snapshot.name,
                    "iteration": snapshot.iteration,
                    "epoch": snapshot.epoch,
                    "correlation": float(block[cell["unit"], column]),
                    "best_layer": units[best][0],
                    "best_unit": units[best][1],
                    "best_correlation": float(everything[best, column]),
                }
            )
        logger.info(
            "%s (epoch %.3g): %d cells followed", snapshot.name, snapshot.epoch, len(chosen)
        )
    return rows


def _by_signal(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Each signal's rows in training order."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        out.setdefault(str(row["signal"]), []).append(row)
    return {name: sorted(own, key=lambda row: row["iteration"]) for name, own in out.items()}


def appearance_epoch(rows: Sequence[Mapping[str, Any]], signal: str) -> float | None:
    """The epoch of the first snapshot at which ``signal``'s cell reaches
    ``APPEARANCE_FRACTION`` of its final |r| with the sign of its final r; None if it
    never does (or has no rows)."""
    own = _by_signal(rows).get(signal, [])
    if not own:
        return None
    final = float(own[-1]["correlation"])
    for row in own:
        if (
            math.copysign(1.0, final) * float(row["correlation"])
            >= APPEARANCE_FRACTION * abs(final)
            and abs(final) > 0
        ):
            return float(row["epoch"])
    return None


def nn_departure(dynamics: Sequence[Mapping[str, Any]], per_epoch: int) -> tuple[str, float] | None:
    """The smallest n-NN of ``tables/training_dynamics.csv`` rows and the epoch of the snapshot
    at which the LSTM is closest to it (least symmetric KL): after it, the LSTM moves away
    from predicting like that n-NN. None without rows."""
    if not dynamics:
        return None
    from visrnn.figures.dynamics import _natural_key

    smallest = min({str(row["baseline"]) for row in dynamics}, key=_natural_key)
    own = [row for row in dynamics if str(row["baseline"]) == smallest]
    closest = min(own, key=lambda row: float(row["kl"]))
    return smallest, int(closest["iteration"]) / per_epoch


def plot_histories(
    rows: Sequence[Mapping[str, Any]],
    dynamics: Sequence[Mapping[str, Any]],
    per_epoch: int,
    path: str | os.PathLike[str],
    title: str,
) -> None:
    """Two panels sharing the x axis, training epochs on a log scale: the symmetric KL to
    each n-NN (Figure 5 right's data, left panel) above, each signal's cell's r below (signed
    so that its final r is positive; dotted: the snapshot's own best unit). A dashed line
    marks where the LSTM is closest to the smallest n-NN, a triangle each cell's appearance.
    """
    from matplotlib import colormaps
    from matplotlib.ticker import FuncFormatter

    from visrnn.figures.dynamics import _natural_key

    fig = new_figure(8.0, 7.0)
    kl_ax, r_ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (2, 3)})
    baselines = sorted({str(row["baseline"]) for row in dynamics}, key=_natural_key)
    for i, baseline in enumerate(baselines):
        own = sorted(
            (row for row in dynamics if str(row["baseline"]) == baseline),
            key=lambda row: row["iteration"],
        )
        kl_ax.plot(
            [int(row["iteration"]) / per_epoch for row in own],
            [float(row["kl"]) for row in own],
            color=colormaps["viridis"](i / max(len(baselines) - 1, 1)),
            label=baseline,
        )
    palette = colormaps["tab10"]
    for i, (signal, own) in enumerate(_by_signal(rows).items()):
        color = palette(i % 10)
        sign = math.copysign(1.0, float(own[-1]["correlation"]) or 1.0)
        epochs = [float(row["epoch"]) for row in own]
        appears = appearance_epoch(rows, signal)
        label = f"{signal}: layer {own[0]['layer']} unit {own[0]['unit']}"
        label += f", appears at {appears:.2g} ep" if appears is not None else ", not yet"
        r_ax.plot(
            epochs,
            [sign * float(r["correlation"]) for r in own],
            "o-",
            ms=3,
            color=color,
            label=label,
        )
        r_ax.plot(epochs, [abs(float(r["best_correlation"])) for r in own], ":", color=color)
        converged = [row for row in own if row["snapshot"] == CONVERGED]
        if converged:
            r_ax.plot(
                float(converged[0]["epoch"]),
                sign * float(converged[0]["correlation"]),
                "*",
                ms=11,
                color=color,
            )
        if appears is not None:
            r_ax.plot(appears, -0.05, "^", ms=7, color=color, clip_on=False)
    departure = nn_departure(dynamics, per_epoch)
    if departure is not None:
        name, epoch = departure
        for ax in (kl_ax, r_ax):
            ax.axvline(epoch, color="grey", ls="--", lw=1)
        kl_ax.annotate(
            f"closest to the {name}",
            (epoch, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -12),
            textcoords="offset points",
            fontsize=8,
            color="dimgray",
        )
    kl_ax.set_ylabel("symmetric KL to n-NN (nats)")
    kl_ax.legend(fontsize=7, ncol=2)
    kl_ax.set_title(title, fontsize=10, loc="left")
    r_ax.set_ylabel("r of the cell with its signal\n(dotted: best unit at that snapshot)")
    r_ax.set_ylim(-0.1, 1.05)
    r_ax.axhline(0.0, color="black", lw=0.8)
    r_ax.set_xlabel("training epochs (log scale; star: the converged model)")
    r_ax.set_xscale("log")
    r_ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    r_ax.xaxis.set_minor_formatter(FuncFormatter(_minor_epoch_label))
    r_ax.legend(fontsize=7, loc="upper left")
    save_figure(fig, path)


def _minor_epoch_label(value: float, _: object) -> str:
    """A minor tick of the log epoch axis labelled at 2 and 5 times a power of ten only (every
    minor label overlaps its neighbours)."""
    if value <= 0:
        return ""
    mantissa = value / 10 ** math.floor(math.log10(value))
    return f"{value:g}" if round(mantissa, 6) in (2, 5) else ""


def snapshot_checkpoints(directory: str | os.PathLike[str]) -> list[Path]:
    """The snapshot checkpoints of a dynamics run (``iter-*.pt``) in training order; the
    run's ``final.pt`` (its best epoch) is not one of them."""
    return sorted(Path(directory).glob("iter-*.pt"))


def load_snapshots(
    paths: Sequence[str | os.PathLike[str]],
    per_epoch: int,
    ids: np.ndarray,
    model_id: str,
    vocab_sha256: str,
) -> Iterator[tuple[Snapshot, dict[tuple[int, str], np.ndarray]]]:
    """Each snapshot checkpoint, checked to be ``model_id``'s, and its ``cell_values`` over
    ``ids``, one at a time."""
    from visrnn.models.checkpoints import load_checkpoint

    for path in paths:
        model, meta = load_checkpoint(path, model_id=model_id, vocab_sha256=vocab_sha256)
        iteration = int(meta["iteration"])
        yield Snapshot(Path(path).stem, iteration, iteration / per_epoch), cell_values(model, ids)
