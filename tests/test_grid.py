from __future__ import annotations

import pytest

from visrnn.models.grid import (
    ModelSpec,
    budget_parameters,
    model_grid,
    parameter_count,
    size_table,
    solve_hidden_size,
)
from visrnn.models.recurrent import CharRNN, ModelConfig


@pytest.mark.parametrize("model_type", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_parameter_count_matches_the_model(model_type: str, layers: int) -> None:
    model = CharRNN(ModelConfig(model_type, 87, 23, layers))
    assert parameter_count(model_type, 87, 23, layers) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("vocab_size", [88, 102])
@pytest.mark.parametrize("cells", [64, 128, 256, 512])
def test_solved_hidden_size_is_the_closest_achievable(vocab_size: int, cells: int) -> None:
    budget = budget_parameters(vocab_size, cells)
    for model_type in ("rnn", "lstm", "gru"):
        for layers in (1, 2, 3):
            hidden = solve_hidden_size(model_type, layers, vocab_size, budget)
            error = abs(parameter_count(model_type, vocab_size, hidden, layers) - budget)
            for other in range(max(1, hidden - 50), hidden + 50):
                other_error = abs(parameter_count(model_type, vocab_size, other, layers) - budget)
                assert error <= other_error


def test_one_layer_lstm_meets_its_own_budget_exactly() -> None:
    assert solve_hidden_size("lstm", 1, 88, budget_parameters(88, 512)) == 512
    # The paper's budgets: about 50K, 130K, 400K and 1.3M on WP's vocabulary.
    budgets = [budget_parameters(88, c) for c in (64, 128, 256, 512)]
    assert budgets == [45144, 122968, 376920, 1278040]


def test_model_ids_round_trip_and_bad_ids_are_refused() -> None:
    spec = ModelSpec.parse("lstm-2L-130k")
    assert (spec.model_type, spec.num_layers, spec.budget) == ("lstm", 2, "130k")
    assert spec.model_id == "lstm-2L-130k"
    with pytest.raises(ValueError, match="cnn-2L-130k"):
        ModelSpec.parse("cnn-2L-130k")


def test_size_table_covers_the_grid() -> None:
    budgets = {"50k": 64, "1.3m": 512}
    specs = model_grid(["rnn", "lstm", "gru"], [1, 2, 3], list(budgets))
    rows = size_table(specs, 88, budgets)
    assert len(rows) == 18
    # Hidden sizes are whole numbers: small budgets can only be met to about 1%.
    assert all(abs(row["relative_error"]) < 0.015 for row in rows)
    assert not any(row["off_budget"] for row in rows)


def test_a_size_far_from_its_budget_is_flagged() -> None:
    # A budget of 2 LSTM cells (1000 parameters on 88 symbols): a 3-layer GRU of hidden size 2
    # has 888, of size 3 already 1333.
    rows = size_table([ModelSpec("gru", 3, "tiny"), ModelSpec("lstm", 1, "tiny")], 88, {"tiny": 2})
    gru, lstm = rows
    assert gru["hidden_size"] == 2 and gru["relative_error"] == -0.112 and gru["off_budget"]
    assert lstm["relative_error"] == 0 and not lstm["off_budget"]
