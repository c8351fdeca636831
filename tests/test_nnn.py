from __future__ import annotations

import torch

from visrnn.models.nnn import NNN, NO_CHAR, NNNConfig


def test_input_is_exactly_the_onehots_of_the_previous_n_characters() -> None:
    model = NNN(NNNConfig(context=3, vocab_size=5, hidden_size=4))
    ids = torch.tensor([[2, 0, 4, 1]])
    windows, state = model.windows(ids, model.zero_state(1))
    # The window ending at each step, oldest first, with NO_CHAR before the start.
    assert windows[0].tolist() == [
        [NO_CHAR, NO_CHAR, 2],
        [NO_CHAR, 2, 0],
        [2, 0, 4],
        [0, 4, 1],
    ]
    assert state.tolist() == [[4, 1]]
    onehots = model.context_onehots(windows)[0]
    expected = torch.zeros(4, 15)
    for step, window in enumerate(windows[0].tolist()):
        for slot, char in enumerate(window):
            if char != NO_CHAR:
                expected[step, slot * 5 + char] = 1
    assert torch.equal(onehots, expected)


def test_forward_equals_a_linear_layer_on_the_onehots() -> None:
    torch.manual_seed(0)
    model = NNN(NNNConfig(context=4, vocab_size=7, hidden_size=6))
    model.init_uniform(0.5)
    model.eval()
    ids = torch.randint(0, 7, (2, 9))
    logits, _ = model(ids)
    windows, _ = model.windows(ids, model.zero_state(2))
    hidden = torch.tanh(model.hidden(model.context_onehots(windows)))
    assert torch.allclose(logits, model.decoder(hidden), atol=1e-6)


def test_state_carries_context_across_calls_and_probabilities_sum_to_one() -> None:
    model = NNN(NNNConfig(context=3, vocab_size=6, hidden_size=5))
    model.eval()
    ids = torch.randint(0, 6, (1, 12))
    whole, _ = model(ids)
    first, state = model(ids[:, :5])
    second, _ = model(ids[:, 5:], state)
    assert torch.allclose(whole, torch.cat([first, second], dim=1), atol=1e-6)
    assert torch.allclose(whole.softmax(-1).sum(-1), torch.ones(1, 12))
