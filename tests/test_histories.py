"""Unit histories (visrnn.inside.histories): a planted unit whose correlation with a signal
grows from 0 over a sequence of snapshots is found, followed by its index and seen growing;
snapshot checkpoints are read in training order with their epochs."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from visrnn.common.files import read_table, write_csv
from visrnn.inside.activations import iter_activations
from visrnn.inside.cells import rank_cells
from visrnn.inside.histories import (
    CONVERGED,
    HISTORY_COLUMNS,
    Snapshot,
    appearance_epoch,
    cell_values,
    iterations_per_epoch,
    load_snapshots,
    nn_departure,
    plot_histories,
    same_start,
    snapshot_checkpoints,
    unit_histories,
)
from visrnn.inside.signals import structural_signals
from visrnn.models.checkpoints import save_checkpoint
from visrnn.models.recurrent import CharRNN, ModelConfig

TEXT = b'He said "yes" and left. "No," she said, "not now." Then he went home.\r\n' * 40
#: (layer, unit) planted with the quote signal; every other unit is noise.
PLANTED = (1, 5)
#: The planted unit's weight on the signal at each snapshot: 0 at first, then growing.
WEIGHTS = (0.0, 0.0, 0.2, 0.6, 1.0, 1.5)
PER_EPOCH = 10
SCRIPT = Path(__file__).resolve().parents[1] / "workflow" / "scripts" / "unit_histories.py"


def planted_snapshots(signal: np.ndarray, seed: int = 0):
    """(Snapshot, tanh(c) per layer) for each weight of ``WEIGHTS``: two layers of 8 units of
    noise, the planted unit adding weight * the (centred) signal."""
    rng = np.random.default_rng(seed)
    centred = signal - signal.mean()
    for k, weight in enumerate(WEIGHTS):
        values = {(layer, "c"): rng.normal(0, 0.3, (len(signal), 8)) for layer in (0, 1)}
        values[PLANTED[0], "c"][:, PLANTED[1]] += weight * centred
        iteration = 2 * (k + 1)
        name = CONVERGED if k == len(WEIGHTS) - 1 else f"iter-{iteration:06d}"
        yield (
            Snapshot(name, iteration, iteration / PER_EPOCH),
            {key: np.tanh(array).astype(np.float16) for key, array in values.items()},
        )


def test_a_planted_unit_grows_from_zero_and_keeps_its_index() -> None:
    signals = structural_signals(TEXT, code=False)
    quotes = signals["in_double_quotes"].astype(np.float64)
    snapshots = list(planted_snapshots(quotes))
    chosen = rank_cells(snapshots[-1][1], signals, top_k=1)
    quote_cell = next(row for row in chosen if row["signal"] == "in_double_quotes")
    assert (quote_cell["layer"], quote_cell["unit"]) == PLANTED
    rows = unit_histories(chosen, iter(snapshots), signals)
    own = [row for row in rows if row["signal"] == "in_double_quotes"]
    assert [row["snapshot"] for row in own] == [s.name for s, _ in snapshots]
    assert {(row["layer"], row["unit"]) for row in own} == {PLANTED}  # the index is carried
    r = np.array([row["correlation"] for row in own])
    assert abs(r[0]) < 0.15 and abs(r[1]) < 0.15  # not there yet
    assert np.all(np.diff(r[1:]) > 0) and r[-1] > 0.9  # then it grows
    # Pearson r of exactly the carried unit, at every snapshot.
    for row, (_, values) in zip(own, snapshots, strict=True):
        unit = values[PLANTED[0], "c"][:, PLANTED[1]].astype(np.float64)
        assert row["correlation"] == pytest.approx(np.corrcoef(unit, quotes)[0, 1], abs=1e-9)
    # While it is noise another unit may be the best; once grown, the planted one is.
    assert (own[-1]["best_layer"], own[-1]["best_unit"]) == PLANTED
    assert own[-1]["best_correlation"] == pytest.approx(own[-1]["correlation"])
    assert all(abs(row["best_correlation"]) >= abs(row["correlation"]) for row in own)
    # It "appears" at the first snapshot with half its final r.
    first = next(row for row in own if row["correlation"] >= 0.5 * own[-1]["correlation"])
    assert appearance_epoch(rows, "in_double_quotes") == first["epoch"] > own[1]["epoch"]
    assert set(HISTORY_COLUMNS) == set(rows[0])


def test_a_cell_that_never_reaches_half_its_final_r_has_not_appeared() -> None:
    rows = [
        {"signal": "s", "iteration": i, "epoch": i / 10, "correlation": r}
        for i, r in enumerate((0.0, -0.5, 0.1, -0.2))
    ]
    assert appearance_epoch(rows, "s") == pytest.approx(0.1)  # -0.5 is of the final's sign
    assert appearance_epoch(rows, "other") is None
    flat = [{**row, "correlation": 0.0} for row in rows]
    assert appearance_epoch(flat, "s") is None


def test_the_departure_is_where_the_lstm_is_closest_to_the_smallest_nnn() -> None:
    rows = [
        {"iteration": it, "baseline": name, "kl": kl}
        for name, kls in (("1-NN", (3.0, 1.0, 2.0)), ("10-NN", (4.0, 3.0, 0.5)))
        for it, kl in zip((5, 10, 20), kls, strict=True)
    ]
    assert nn_departure(rows, PER_EPOCH) == ("1-NN", 1.0)
    assert nn_departure([], PER_EPOCH) is None


def test_runs_and_epochs_from_the_train_logs() -> None:
    log = [
        {"epoch": 1, "iteration": 19, "val_loss": 2.5},
        {"epoch": 2, "iteration": 38, "val_loss": 2.25},
    ]
    assert iterations_per_epoch(log) == 19
    with pytest.raises(ValueError, match="no epoch 1"):
        iterations_per_epoch([])
    longer = [*log, {"epoch": 3, "iteration": 57, "val_loss": 2.0}]
    assert same_start(log, longer)
    assert not same_start(log, [log[0], {**log[1], "val_loss": 2.26}])
    assert not same_start(log, log[:1])
    assert not same_start([], longer)


def test_snapshot_checkpoints_give_the_dumps_cells_in_training_order(tmp_path: Path) -> None:
    ids = np.random.default_rng(1).integers(0, 12, 300)
    directory = tmp_path / "snapshots"
    models = {}
    for seed, iteration in ((0, 3), (1, 20), (2, 7)):
        torch.manual_seed(seed)
        model = CharRNN(ModelConfig("lstm", 12, 6, 2))
        model.init_uniform(0.5)
        models[iteration] = model
        save_checkpoint(
            directory / f"iter-{iteration:06d}.pt", model, model_id="lstm-2L-t", iteration=iteration
        )
    save_checkpoint(directory / "final.pt", models[20], model_id="lstm-2L-t", epoch=1)
    paths = snapshot_checkpoints(directory)
    assert [p.name for p in paths] == ["iter-000003.pt", "iter-000007.pt", "iter-000020.pt"]
    loaded = list(load_snapshots(paths, PER_EPOCH, ids, "lstm-2L-t", vocab_sha256=None))
    assert [(s.iteration, s.epoch) for s, _ in loaded] == [(3, 0.3), (7, 0.7), (20, 2.0)]
    for snapshot, values in loaded:
        (chunk,) = iter_activations(models[snapshot.iteration].eval(), ids)
        for layer in (0, 1):
            expected = torch.tanh(chunk[layer]["c"][0]).numpy()
            np.testing.assert_allclose(values[layer, "c"], expected, atol=1e-3)
    assert set(cell_values(models[3], ids[:10])) == {(0, "c"), (1, "c")}


def test_the_figure_and_table_from_the_rows(tmp_path: Path) -> None:
    signals = structural_signals(TEXT, code=False)
    snapshots = list(planted_snapshots(signals["in_double_quotes"].astype(np.float64)))
    rows = unit_histories(rank_cells(snapshots[-1][1], signals, 1), iter(snapshots), signals)
    write_csv(tmp_path / "unit_histories.csv", rows, HISTORY_COLUMNS)
    assert read_table(tmp_path / "unit_histories.csv")[0]["signal"] == rows[0]["signal"]
    dynamics = [
        {"iteration": it, "baseline": f"{n}-NN", "kl": 1.0 / (n + it)}
        for n in (1, 2)
        for it in (2, 4, 6)
    ]
    plot_histories(rows, dynamics, PER_EPOCH, tmp_path / "unit_histories.png", "planted")
    assert (tmp_path / "unit_histories.png").stat().st_size > 10_000


def _namespace(**values: object) -> SimpleNamespace:
    return SimpleNamespace(**values)


@pytest.mark.e2e
def test_the_rule_follows_a_cell_of_a_real_run_back_through_its_snapshots(tmp_path: Path) -> None:
    """Two runs of one tiny LSTM as the pipeline makes them: the model's (3 epochs) and the
    dynamics run (2 epochs, snapshots). The second retraces the first (same_start), so the
    script ranks the cells on the converged checkpoint and follows them back."""
    from visrnn.data.splits import Vocab
    from visrnn.training.loop import train_run, training_config

    torch.set_num_threads(1)  # tiny matrices: threads would only wait on each other
    text = (TEXT * 2)[:4000]
    vocab = Vocab.from_bytes(text)
    ids = vocab.encode(text)
    train, val, test = ids[:3000], ids[3000:3500], ids[3500:]
    np.save(tmp_path / "test.npy", test)
    vocab_path = tmp_path / "vocab.json"
    vocab.save(vocab_path)
    base = {"batch_size": 10, "seq_length": 20, "learning_rate": 1e-2}
    runs = {}
    for name, epochs, snapshots in (("model", 3, None), ("dynamics", 2, (2, 8, 15, 30))):
        torch.manual_seed(0)
        model = CharRNN(ModelConfig("lstm", vocab.size, 12, 2))
        config = training_config(base, epochs=epochs, snapshot_iterations=snapshots or ())
        directory = tmp_path / name
        best = directory / ("snapshots/final.pt" if snapshots else "best.pt")
        train_run(
            model,
            train,
            val,
            config,
            best,
            directory / "train_log.csv",
            model_id="lstm-2L-t",
            vocab_sha256=vocab.sha256,
            data_name="tiny",
            snapshots=directory / "snapshots" if snapshots else None,
        )
        runs[name] = read_table(directory / "train_log.csv")
    assert same_start(runs["dynamics"], runs["model"])
    write_csv(
        tmp_path / "training_dynamics.csv",
        [{"iteration": it, "baseline": "1-NN", "kl": abs(it - 8) + 1.0} for it in (2, 8, 15, 30)],
        ("iteration", "baseline", "kl"),
    )
    snakemake = _namespace(
        input=_namespace(
            snapshots=str(tmp_path / "dynamics/snapshots"),
            snapshots_log=str(tmp_path / "dynamics/train_log.csv"),
            checkpoint=str(tmp_path / "model/best.pt"),
            model_log=str(tmp_path / "model/train_log.csv"),
            dynamics=str(tmp_path / "training_dynamics.csv"),
            test=str(tmp_path / "test.npy"),
            vocab=str(vocab_path),
        ),
        output=_namespace(
            table=str(tmp_path / "unit_histories.csv"),
            figure=str(tmp_path / "unit_histories.png"),
        ),
        params=_namespace(model="lstm-2L-t", code=False, max_chars=400),
        log=[str(tmp_path / "unit_histories.log")],
        rule="unit_histories",
        threads=1,
    )
    runpy.run_path(str(SCRIPT), init_globals={"snakemake": snakemake})
    rows = read_table(tmp_path / "unit_histories.csv")
    per_epoch = iterations_per_epoch(runs["dynamics"])
    names = [f"iter-{it:06d}" for it in (2, 8, 15, 30) if it <= 2 * per_epoch]
    signals = {row["signal"] for row in rows}
    assert "in_double_quotes" in signals and "line_position" in signals
    for signal in signals:
        own = [row for row in rows if row["signal"] == signal]
        assert [row["snapshot"] for row in own] == [*names, CONVERGED]
        assert len({(row["layer"], row["unit"]) for row in own}) == 1
        assert own[-1]["epoch"] == read_checkpoint_epoch(tmp_path / "model/best.pt")
        # Ranked on the converged model: its cell is the converged model's best.
        assert abs(own[-1]["correlation"]) == pytest.approx(abs(own[-1]["best_correlation"]))
    assert (tmp_path / "unit_histories.png").read_bytes()[:4] == b"\x89PNG"
    assert "ranked on the converged checkpoint" in (tmp_path / "unit_histories.log").read_text()


def read_checkpoint_epoch(path: Path) -> float:
    return float(torch.load(path, weights_only=True)["epoch"])
