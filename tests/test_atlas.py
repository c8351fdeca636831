"""The atlas of cells across the grid (visrnn.inside.atlas): on a grid of synthetic dumps where
only some models have a planted quote unit, it finds exactly those; unit matching recovers a
permutation of units, one to one; the explorer's /counterparts serves it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from visrnn.common.files import read_table, write_csv
from visrnn.explorer.server import COUNTERPART_POSITIONS, create_app
from visrnn.explorer.store import ModelStore, write_model_arrays
from visrnn.explorer.synthetic import PLANTED, synthetic_text, write_synthetic_results
from visrnn.figures.atlas import atlas_matrix, plot_atlas
from visrnn.inside.activations import ActivationDump, write_activation_arrays
from visrnn.inside.atlas import (
    ATLAS_COLUMNS,
    AtlasRun,
    atlas_rows,
    match_units,
    memory_values,
    unit_correlations,
)
from visrnn.inside.signals import BINARY_SIGNALS, structural_signals

POSITIONS, UNITS = 6000, 24
VOCAB = "0" * 64
#: (model, dropout) -> (layer, unit, sign) of the planted quote unit; every other run has none.
PLANTED_IN = {
    ("lstm-2L-big", 0.0): (1, 5, 1),
    ("lstm-2L-big", 0.25): (0, 11, -1),  # an anticorrelated quote cell: same cell, mirrored
    ("gru-1L-big", 0.25): (0, 3, 1),
    ("rnn-2L-small", 0.0): (1, 20, 1),
}
GRID = [
    (f"{kind}-{layers}L-{budget}", dropout)
    for kind in ("rnn", "lstm", "gru")
    for layers in (1, 2)
    for budget in ("small", "big")
    for dropout in (0.0, 0.25)
]


def synthetic_dump(
    path: Path, model: str, planted: tuple[int, int, int] | None, quotes: np.ndarray, seed: int
) -> None:
    """A dump of ``model``'s memory (an LSTM's c and h, a GRU's or RNN's h): noise, except the
    planted unit, on (at 0.8, as shown) inside the quotes and off outside."""
    rng = np.random.default_rng(seed)
    kind, layers = model.split("-")[0], int(model.split("-")[1][0])
    names = ("c", "h") if kind == "lstm" else ("h",)
    arrays = {}
    for layer in range(layers):
        for name in names:
            values = np.clip(rng.normal(0, 0.3, (POSITIONS, UNITS)), -0.6, 0.6)
            if planted and planted[0] == layer and name == names[0]:
                shown = planted[2] * np.where(quotes, 0.8, -0.8) + rng.normal(0, 0.05, POSITIONS)
                values[:, planted[1]] = np.arctanh(shown) if name == "c" else shown
            arrays[layer, name] = values
    ids = rng.integers(0, 60, POSITIONS)
    write_activation_arrays(
        path, arrays, ids, model_id=model, model_type=kind, vocab_sha256=VOCAB, row_group=1000
    )


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> tuple[list[AtlasRun], dict[str, np.ndarray]]:
    root = tmp_path_factory.mktemp("atlas")
    text = synthetic_text(POSITIONS, seed=3)
    signals = structural_signals(text, code=False)
    quotes = signals["in_double_quotes"] > 0.5
    runs = []
    for number, (model, dropout) in enumerate(GRID):
        path = root / model / f"dropout-{dropout:g}.parquet"
        path.parent.mkdir(exist_ok=True)
        synthetic_dump(path, model, PLANTED_IN.get((model, dropout)), quotes, seed=number)
        runs.append(AtlasRun(model, f"dropout-{dropout:g}", dropout, dropout == 0.0, str(path)))
    return runs, signals


def test_the_atlas_finds_exactly_the_models_with_a_planted_quote_unit(grid, tmp_path) -> None:
    runs, signals = grid
    rows = atlas_rows(runs, signals, threshold=0.5, vocab_sha256=VOCAB)
    quotes = {
        (row["model"], row["dropout"]): row for row in rows if row["signal"] == "in_double_quotes"
    }
    assert len(quotes) == len(GRID)
    found = {key for key, row in quotes.items() if abs(row["correlation"]) > 0.9}
    assert found == set(PLANTED_IN)
    for key, (layer, unit, sign) in PLANTED_IN.items():
        row = quotes[key]
        assert (row["layer"], row["unit"]) == (layer, unit)
        assert np.sign(row["correlation"]) == sign
        assert row["state"] == ("c" if key[0].startswith("lstm") else "h")
        # On beyond the threshold on r's side: the mirrored cell detects the quotes as well.
        assert row["precision"] > 0.95 and row["recall"] > 0.95 and row["f1"] > 0.95
    for key in set(quotes) - set(PLANTED_IN):
        assert abs(quotes[key]["correlation"]) < 0.2 and quotes[key]["f1"] < 0.5
    for row in rows:
        binary = row["signal"] in BINARY_SIGNALS
        assert (row["f1"] is not None) == binary
        assert row["type"] == row["model"].split("-")[0] and row["layers"] in (1, 2)
        assert row["selected"] == (row["dropout"] == 0.0)
    # A signal constant in this prose (no brackets, no indentation) has no best unit.
    assert {row["signal"] for row in rows} == {n for n, v in signals.items() if np.ptp(v) > 0}

    table = tmp_path / "atlas.csv"
    write_csv(table, rows, ATLAS_COLUMNS)
    read = read_table(table)
    assert [row["unit"] for row in read] == [row["unit"] for row in rows]
    keys, names, r, f1 = atlas_matrix(read)
    assert len(keys) == len(GRID) and names[0] == "line_position"
    assert keys[0][0].startswith("rnn-1L-small") and keys[-1][0] == "gru-2L-big"
    column = names.index("in_double_quotes")
    assert {keys[i] for i in np.flatnonzero(np.abs(r[:, column]) > 0.9)} == {
        (model, f"dropout-{dropout:g}") for model, dropout in PLANTED_IN
    }
    assert np.isnan(f1[:, names.index("line_position")]).all()
    plot_atlas(read, tmp_path / "atlas.png", "synthetic grid")
    assert (tmp_path / "atlas.png").stat().st_size > 10_000


def test_the_atlas_refuses_dumps_of_other_positions_or_vocabularies(grid) -> None:
    runs, signals = grid
    shorter = {name: values[:-1] for name, values in signals.items()}
    with pytest.raises(ValueError, match="same test characters"):
        atlas_rows(runs[:1], shorter, 0.5)
    with pytest.raises(ValueError, match="another vocabulary"):
        atlas_rows(runs[:1], signals, 0.5, vocab_sha256="1" * 64)


def test_memory_values_are_tanh_c_of_an_lstm_and_h_otherwise(grid) -> None:
    runs, _ = grid
    lstm = next(run for run in runs if run.model == "lstm-2L-big")
    dump = ActivationDump(lstm.dump)
    values = memory_values(dump)
    assert sorted(values) == [(0, "c"), (1, "c")]
    assert np.allclose(values[1, "c"], np.tanh(dump.matrix(1, "c")))
    gru = ActivationDump(next(run for run in runs if run.model == "gru-2L-big").dump)
    assert sorted(memory_values(gru)) == [(0, "h"), (1, "h")]


def smooth_states(rng: np.random.Generator, positions: int, units: int) -> np.ndarray:
    """Units that wander like recurrent states (AR(1) processes), each its own."""
    noise = rng.normal(size=(positions, units))
    states = np.empty_like(noise)
    states[0] = noise[0]
    for t in range(1, positions):
        states[t] = 0.95 * states[t - 1] + noise[t]
    return np.tanh(0.3 * states)


def test_matching_recovers_a_permutation_of_units_whatever_their_signs() -> None:
    rng = np.random.default_rng(7)
    a = smooth_states(rng, 4000, 40)
    perm = rng.permutation(40)
    signs = rng.choice([-1.0, 1.0], 40)
    b = a[:, perm] * signs + rng.normal(0, 0.1, (4000, 40))
    b = np.concatenate([b, smooth_states(rng, 4000, 8)], axis=1)  # b has 8 more units
    found = match_units(a, b)
    counterparts = found.counterparts(40)
    assert all(counterparts[perm[j]] == j for j in range(40))
    assert np.array_equal(np.sign(found.correlation), signs[np.argsort(perm)][found.units_a])
    assert np.all(np.abs(found.correlation) > 0.8)
    # From b's side, its 8 extra units have no counterpart in a.
    back = match_units(b, a).counterparts(48)
    assert back[40:] == [None] * 8 and back[:40] == perm.tolist()


def test_matching_is_one_to_one_where_the_best_match_is_shared() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(2, 5000))
    b = np.column_stack([x, y])
    a = np.column_stack([x, 0.9 * x + 0.44 * y])
    r = unit_correlations(a, b)
    assert r.argmax(axis=1).tolist() == [0, 0]  # each unit's own best is b's unit 0
    assert match_units(a, b).counterparts(2) == [0, 1]


def test_unit_correlations_need_the_same_positions() -> None:
    with pytest.raises(ValueError, match="same positions"):
        unit_correlations(np.zeros((10, 3)), np.zeros((9, 3)))


def test_write_activation_arrays_refuses_ragged_layers(tmp_path) -> None:
    arrays = {(0, "h"): np.zeros((5, 3)), (1, "c"): np.zeros((5, 3))}
    with pytest.raises(ValueError, match="same names"):
        write_activation_arrays(
            tmp_path / "d.parquet",
            arrays,
            np.zeros(5),
            model_id="m",
            model_type="rnn",
            vocab_sha256=VOCAB,
        )


PERMUTED = "gru-1L-perm"


def write_permuted_results(root: Path, positions: int = 4000, units: int = 32) -> np.ndarray:
    """The synthetic explorer results (planted quote unit) of one LSTM under ``root``, and a
    second model ``PERMUTED`` whose h units are the LSTM's h units permuted: its unit j is the
    LSTM's unit perm[j]. Returns perm."""
    write_synthetic_results(root, positions, units, models=[("lstm-1L-syn", "lstm", ("c", "h"))])
    lstm = ModelStore(root / "syn/explorer/models/lstm-1L-syn")
    perm = np.random.default_rng(5).permutation(units)
    write_model_arrays(
        root / f"syn/explorer/models/{PERMUTED}",
        PERMUTED,
        "gru",
        {(0, "h"): np.asarray(lstm.values(0, "h"))[perm]},
        np.asarray(lstm.top_ids),
        np.asarray(lstm.top_p),
        np.asarray(lstm.p_target),
    )
    return perm


@pytest.fixture(scope="module")
def permuted_results(tmp_path_factory) -> tuple[Path, np.ndarray]:
    root = tmp_path_factory.mktemp("counterparts")
    return root, write_permuted_results(root)


def test_counterparts_endpoint_recovers_the_permutation_and_caches_it(permuted_results) -> None:
    root, perm = permuted_results
    client = TestClient(create_app(root), base_url="http://127.0.0.1:8000")
    params = {"layer": 0, "state": "h", "other": PERMUTED, "layer_b": 0, "state_b": "h"}
    answer = client.get("/api/syn/lstm-1L-syn/counterparts", params=params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # b's row j is a's unit perm[j]: a's unit perm[j] has counterpart j.
    assert [body["counterpart"][perm[j]] for j in range(32)] == list(range(32))
    assert body["counterpart"][PLANTED] == int(np.flatnonzero(perm == PLANTED)[0])
    assert min(body["correlation"]) > 0.99
    assert body["positions"] == min(4000, COUNTERPART_POSITIONS)
    assert client.get("/api/syn/lstm-1L-syn/counterparts", params=params).json() == body  # cached
    # The other way round, and between different states (c shown as tanh(c)).
    back = client.get(
        f"/api/syn/{PERMUTED}/counterparts",
        params={"layer": 0, "state": "h", "other": "lstm-1L-syn", "layer_b": 0, "state_b": "c"},
    ).json()
    assert len(back["counterpart"]) == 32
    assert back["counterpart"][int(np.flatnonzero(perm == PLANTED)[0])] is not None
    for bad, status in (({"other": "nope"}, 404), ({"state_b": "c"}, 404), ({"layer_b": 3}, 404)):
        answer = client.get("/api/syn/lstm-1L-syn/counterparts", params={**params, **bad})
        assert answer.status_code == status, bad
