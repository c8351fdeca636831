from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from visrnn.common.files import read_table, write_csv
from visrnn.inside.saturation import (
    ROW_COLUMNS,
    GateCounts,
    plot_saturation,
    saturation_counts,
    saturation_figure,
    saturation_rows,
)
from visrnn.models.gates import GATES
from visrnn.models.recurrent import CharRNN, ModelConfig

VOCAB, HIDDEN, STEPS = 6, 8, 80


def make_model(model_type: str, layers: int, init: float = 2.0) -> CharRNN:
    torch.manual_seed(1)
    model = CharRNN(ModelConfig(model_type, VOCAB, HIDDEN, layers))
    model.init_uniform(init)  # large weights: many gates saturate, both ways
    return model.eval()


def make_ids(steps: int = STEPS) -> np.ndarray:
    return np.random.default_rng(2).integers(0, VOCAB, size=steps)


def counts_from_stepwise(model: CharRNN, ids: np.ndarray) -> dict[tuple[int, str], GateCounts]:
    _, _, activations = model.stepwise(torch.as_tensor(ids)[None])
    return {
        (layer, gate): GateCounts(
            (by_name[gate][0] < 0.1).sum(dim=0).numpy(), (by_name[gate][0] > 0.9).sum(dim=0).numpy()
        )
        for layer, by_name in enumerate(activations)
        for gate in GATES[model.config.model_type]
    }


@pytest.mark.parametrize("model_type", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 3])
def test_counts_equal_counts_of_stepwise_activations(model_type: str, layers: int) -> None:
    model, ids = make_model(model_type, layers), make_ids()
    expected = counts_from_stepwise(model, ids)
    counts = saturation_counts(model, ids, chunk=9)  # chunk boundaries inside the sequence
    assert list(counts) == list(expected)
    for key, gate_counts in counts.items():
        np.testing.assert_array_equal(gate_counts.left, expected[key].left, err_msg=str(key))
        np.testing.assert_array_equal(gate_counts.right, expected[key].right, err_msg=str(key))
    total_left = sum(int(c.left.sum()) for c in counts.values())
    total_right = sum(int(c.right.sum()) for c in counts.values())
    assert total_left > 0 and total_right > 0  # the comparison is not vacuous


def test_chunked_equals_unchunked() -> None:
    model, ids = make_model("lstm", 2), make_ids()
    whole = saturation_counts(model, ids, chunk=len(ids))
    for chunk in (1, 5, 64):
        pieces = saturation_counts(model, ids, chunk=chunk)
        for key in whole:
            np.testing.assert_array_equal(pieces[key].left, whole[key].left)
            np.testing.assert_array_equal(pieces[key].right, whole[key].right)


def test_forced_gates_are_counted_exactly() -> None:
    model = make_model("lstm", 1, init=0.01)
    hidden = HIDDEN
    with torch.no_grad():  # PyTorch's gate order in the stacked biases: i, f, g, o
        model.rnn.bias_ih_l0[:hidden] = -20.0  # input gate always shut
        model.rnn.bias_ih_l0[hidden : 2 * hidden] = 20.0  # forget gate always open
        model.rnn.bias_ih_l0[3 * hidden :] = 0.0  # output gate near 0.5: never saturated
    counts = saturation_counts(model, make_ids(), chunk=7)
    none, every = np.zeros(hidden), np.full(hidden, STEPS)
    np.testing.assert_array_equal(counts[0, "i"].left, every)
    np.testing.assert_array_equal(counts[0, "i"].right, none)
    np.testing.assert_array_equal(counts[0, "f"].left, none)
    np.testing.assert_array_equal(counts[0, "f"].right, every)
    np.testing.assert_array_equal(counts[0, "o"].left + counts[0, "o"].right, none)
    rows = saturation_rows("lstm-1L", counts, STEPS)
    forget = [row for row in rows if row["gate"] == "f"]
    assert {(row["left_fraction"], row["right_fraction"]) for row in forget} == {(0.0, 1.0)}


def test_gru_forced_update_gate() -> None:
    model = make_model("gru", 2, init=0.01)
    with torch.no_grad():  # GRU order: r, z, n
        model.rnn.bias_hh_l1[HIDDEN : 2 * HIDDEN] = 20.0
    counts = saturation_counts(model, make_ids(), chunk=11)
    np.testing.assert_array_equal(counts[1, "z"].right, np.full(HIDDEN, STEPS))
    np.testing.assert_array_equal(counts[0, "z"].right, np.zeros(HIDDEN))


def test_plain_rnn_is_refused() -> None:
    with pytest.raises(ValueError, match="saturation needs an LSTM or GRU"):
        saturation_counts(make_model("rnn", 1), make_ids())


def test_rows_fractions_are_valid_and_cover_every_unit() -> None:
    model = make_model("gru", 3)
    counts = saturation_counts(model, make_ids())
    rows = saturation_rows("gru-3L", counts, STEPS)
    assert len(rows) == 3 * 2 * HIDDEN
    assert all(set(row) == set(ROW_COLUMNS) for row in rows)
    for row in rows:
        assert 0 <= row["left_fraction"] <= 1 and 0 <= row["right_fraction"] <= 1
        assert row["left_fraction"] + row["right_fraction"] <= 1
    assert {(row["layer"], row["gate"]) for row in rows} == {
        (layer, gate) for layer in range(3) for gate in "rz"
    }
    with pytest.raises(ValueError, match="more saturated steps than 10"):
        saturation_rows("gru-3L", counts, 10)


def test_figure_has_a_panel_per_gate_and_layer_with_every_unit(tmp_path: Path) -> None:
    counts = saturation_counts(make_model("lstm", 2), make_ids())
    rows = saturation_rows("lstm-2L", counts, STEPS)
    path = tmp_path / "rows.csv"
    write_csv(path, rows, ROW_COLUMNS)
    fig = saturation_figure(read_table(path), "lstm-2L")  # as read back from CSV
    axes = fig.get_axes()
    assert len(axes) == 3 * 2  # gates i, f, o by layers 1, 2
    for ax, (gate, layer) in zip(axes, [(g, la) for g in "ifo" for la in (0, 1)], strict=True):
        offsets = ax.collections[0].get_offsets()
        expected = [  # the paper's axes: x right-saturated, y left-saturated
            (r["right_fraction"], r["left_fraction"])
            for r in rows
            if r["gate"] == gate and r["layer"] == layer
        ]
        np.testing.assert_allclose(np.asarray(offsets), expected)
        x_low, x_high = ax.get_xlim()
        y_low, y_high = ax.get_ylim()
        assert -0.05 < x_low < 0 and 1 < x_high < 1.05  # [0, 1] and a margin
        assert -0.05 < y_low < 0 and 1 < y_high < 1.05
    assert axes[0].get_title() == "layer 1"
    out = tmp_path / "fig" / "saturation.png"
    plot_saturation(rows, out, "lstm-2L")
    assert out.stat().st_size > 1000


def test_figure_puts_an_always_open_forget_gate_bottom_right() -> None:
    """The paper's orientation: forget gates always right-saturated show up bottom right."""
    model = make_model("lstm", 1, init=0.01)
    with torch.no_grad():
        model.rnn.bias_ih_l0[:HIDDEN] = -20.0  # input gate always shut: left-saturated
        model.rnn.bias_ih_l0[HIDDEN : 2 * HIDDEN] = 20.0  # forget gate always open
    rows = saturation_rows("lstm-1L", saturation_counts(model, make_ids()), STEPS)
    input_ax, forget_ax, output_ax = saturation_figure(rows, "lstm-1L").get_axes()
    assert output_ax.get_xlabel() == "fraction right-saturated"  # shared x, bottom row
    assert forget_ax.get_ylabel().endswith("fraction left-saturated")
    assert "forget" in forget_ax.get_ylabel() and "input" in input_ax.get_ylabel()
    (x_low, x_high), (y_low, y_high) = forget_ax.get_xlim(), forget_ax.get_ylim()
    assert x_low < x_high and y_low < y_high  # no inverted axis hides a mirror image
    np.testing.assert_array_equal(forget_ax.collections[0].get_offsets(), [[1.0, 0.0]] * HIDDEN)
    np.testing.assert_array_equal(input_ax.collections[0].get_offsets(), [[0.0, 1.0]] * HIDDEN)


def test_figure_refuses_rows_of_several_models() -> None:
    rows = [
        {"model": m, "layer": 0, "gate": "f", "unit": 0, "left_fraction": 0, "right_fraction": 1}
        for m in ("a", "b")
    ]
    with pytest.raises(ValueError, match="exactly one model"):
        saturation_figure(rows, "x")
