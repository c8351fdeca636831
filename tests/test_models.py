from __future__ import annotations

import pytest
import torch

from visrnn.models import ACTIVATIONS, CharRNN, ModelConfig


def _random_state(model: CharRNN, batch: int):
    state = model.zero_state(batch)
    if isinstance(state, tuple):
        return tuple(torch.randn_like(s) * 0.5 for s in state)
    return torch.randn_like(state) * 0.5


@pytest.mark.parametrize("model_type", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_stepwise_reproduces_the_fused_kernels(model_type: str, layers: int) -> None:
    torch.manual_seed(layers)
    model = CharRNN(ModelConfig(model_type, 31, 19, layers, dropout=0.5))
    model.init_uniform(0.08)
    model.eval()
    ids = torch.randint(0, 31, (3, 41))
    state = _random_state(model, 3)
    fused_logits, fused_state = model(ids, state)
    logits, step_state, activations = model.stepwise(ids, state)
    assert torch.allclose(fused_logits, logits, atol=1e-5)
    for fused, stepped in zip(
        fused_state if isinstance(fused_state, tuple) else (fused_state,),
        step_state if isinstance(step_state, tuple) else (step_state,),
        strict=True,
    ):
        assert torch.allclose(fused, stepped, atol=1e-5)
    assert len(activations) == layers
    for layer in activations:
        assert tuple(layer) == ACTIVATIONS[model_type]
        assert all(value.shape == (3, 41, 19) for value in layer.values())
    # The fused output of the top layer is the stepwise hidden state of the top layer.
    top = model.rnn(torch.nn.functional.one_hot(ids, 31).float(), state)[0]
    assert torch.allclose(top, activations[-1]["h"], atol=1e-5)


def test_stepwise_gates_are_gates() -> None:
    model = CharRNN(ModelConfig("lstm", 11, 7, 2))
    _, _, activations = model.stepwise(torch.randint(0, 11, (1, 20)))
    for layer in activations:
        for gate in ("i", "f", "o"):
            assert ((layer[gate] > 0) & (layer[gate] < 1)).all()
        assert torch.allclose(layer["h"], layer["o"] * torch.tanh(layer["c"]), atol=1e-6)


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model type 'cnn'"):
        ModelConfig("cnn", 10, 5, 1)
