from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from visrnn.inside.activations import iter_activations
from visrnn.inside.saturation import saturation_counts
from visrnn.models.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from visrnn.models.grid import ModelSpec, parameter_count, solve_hidden_size
from visrnn.models.recurrent import (
    ACTIVATIONS,
    CharRNN,
    ModelConfig,
    PaperGRU,
    grid_model,
    paper_gru_layer,
)

#: (model type, GRU variant): every recurrence the grid can train.
RECURRENCES = [("rnn", "paper"), ("lstm", "paper"), ("gru", "paper"), ("gru", "cudnn")]


def _random_state(model: CharRNN, batch: int):
    state = model.zero_state(batch)
    if isinstance(state, tuple):
        return tuple(torch.randn_like(s) * 0.5 for s in state)
    return torch.randn_like(state) * 0.5


@pytest.mark.parametrize(("model_type", "variant"), RECURRENCES)
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_stepwise_reproduces_the_fused_kernels(model_type: str, variant: str, layers: int) -> None:
    """The step-by-step twin equals each model's own fast path (the paper GRU's included)."""
    torch.manual_seed(layers)
    model = CharRNN(ModelConfig(model_type, 31, 19, layers, dropout=0.5, gru_variant=variant))
    paper_gru = model_type == "gru" and variant == "paper"
    assert isinstance(model.rnn, PaperGRU) == paper_gru
    if model_type == "gru" and not paper_gru:
        assert type(model.rnn) is torch.nn.GRU  # the fused kernel itself
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


def _paper_step(model: CharRNN, x: torch.Tensor, h: torch.Tensor) -> dict[str, torch.Tensor]:
    """One step of the paper's GRU (Sec. 3.1) written out from its formulas, 1 layer."""
    hidden = model.config.hidden_size
    w_ih, w_hh = model.rnn.weight_ih_l0, model.rnn.weight_hh_l0
    b_ih, b_hh = model.rnn.bias_ih_l0, model.rnn.bias_hh_l0
    rows = {name: slice(k * hidden, (k + 1) * hidden) for k, name in enumerate("rzn")}

    def affine(gate: str, h_in: torch.Tensor) -> torch.Tensor:
        g = rows[gate]
        return x @ w_ih[g].T + b_ih[g] + h_in @ w_hh[g].T + b_hh[g]

    r = torch.sigmoid(affine("r", h))
    z = torch.sigmoid(affine("z", h))
    candidate = torch.tanh(affine("n", r * h))  # W_x x + W_g (r * h_prev)
    return {"r": r, "z": z, "n": candidate, "h": (1 - z) * h + z * candidate}


def test_paper_gru_follows_the_papers_equations() -> None:
    torch.manual_seed(0)
    model = CharRNN(ModelConfig("gru", 11, 6, 1)).eval()
    model.init_uniform(0.8)  # large weights, so that the two GRUs' equations differ visibly
    ids = torch.randint(0, 11, (4, 1))
    h0 = torch.randn(1, 4, 6) * 0.7
    expected = _paper_step(model, F.one_hot(ids[:, 0], 11).float(), h0[0])
    _, state, activations = model.stepwise(ids, h0)
    for name, value in expected.items():
        assert torch.allclose(activations[0][name][:, 0], value, atol=1e-6), name
    assert torch.allclose(model.rnn(F.one_hot(ids, 11).float(), h0)[1][0], expected["h"], atol=1e-6)
    # PyTorch's GRU with the same weights computes something else: the test can tell them apart.
    cudnn = CharRNN(ModelConfig("gru", 11, 6, 1, gru_variant="cudnn")).eval()
    cudnn.load_state_dict(model.state_dict())
    assert not torch.allclose(cudnn.stepwise(ids, h0)[1], state, atol=1e-3)


def test_paper_gru_backward_pass_matches_numerical_gradients() -> None:
    torch.manual_seed(4)
    batch, steps, hidden = 3, 6, 4
    inputs = [
        torch.randn(batch, steps, 3 * hidden, dtype=torch.float64),  # input projections
        torch.randn(batch, hidden, dtype=torch.float64) * 0.5,  # h0
        torch.randn(3 * hidden, hidden, dtype=torch.float64),  # weight_hh
        torch.randn(3 * hidden, dtype=torch.float64),  # bias_hh
    ]
    inputs = [x.requires_grad_() for x in inputs]
    assert torch.autograd.gradcheck(paper_gru_layer, inputs)
    with torch.no_grad():  # the no-grad path (nothing saved) computes the same states
        without_grad = paper_gru_layer(*inputs)
    assert torch.equal(without_grad, paper_gru_layer(*inputs).detach())


@pytest.mark.parametrize("variant", ["paper", "cudnn"])
def test_z_is_reported_in_the_papers_convention(variant: str) -> None:
    """A GRU planted to keep its state reports z = 0 (left-saturated) in both variants."""
    model = CharRNN(ModelConfig("gru", 5, 4, 2, gru_variant=variant)).eval()
    model.init_uniform(0.3)
    keep = -30.0 if variant == "paper" else 30.0  # the paper's z weighs n, PyTorch's weighs h'
    with torch.no_grad():
        model.rnn.bias_hh_l1[4:8] = keep
    ids = torch.randint(0, 5, (1, 30))
    h0 = torch.randn(2, 1, 4) * 0.5
    _, state, activations = model.stepwise(ids, h0)
    assert torch.allclose(state[1], h0[1], atol=1e-6)  # layer 2 kept its state: z is 0
    assert float(activations[1]["z"].max()) < 1e-6
    assert float(activations[0]["z"].min()) > 0.05  # the unplanted layer: z not pinned
    chunks = list(iter_activations(model, ids[0].numpy(), chunk=7, names=["z"]))
    z_chunked = torch.cat([chunk[1]["z"] for chunk in chunks], dim=1)
    assert torch.allclose(z_chunked, activations[1]["z"], atol=1e-6)
    counts = saturation_counts(model, ids[0].numpy(), chunk=9)
    assert counts[1, "z"].left.tolist() == [30] * 4 and counts[1, "z"].right.tolist() == [0] * 4


@pytest.mark.parametrize("variant", ["paper", "cudnn"])
def test_parameter_count_is_what_either_gru_trains(variant: str) -> None:
    for layers in (1, 3):
        model = CharRNN(ModelConfig("gru", 88, 37, layers, gru_variant=variant))
        trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
        assert trained == parameter_count("gru", 88, 37, layers)


def test_paper_gru_trains_with_dropout_between_layers_only_in_training() -> None:
    torch.manual_seed(3)
    model = CharRNN(ModelConfig("gru", 9, 8, 2, dropout=0.5))
    ids = torch.randint(0, 9, (2, 12))
    logits, _ = model(ids)
    F.cross_entropy(logits.reshape(-1, 9), ids.reshape(-1)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.rnn.parameters())
    model.eval()
    assert torch.equal(model(ids)[0], model(ids)[0])
    model.train()
    assert not torch.equal(
        model.rnn(F.one_hot(ids, 9).float())[0], model.rnn.eval()(F.one_hot(ids, 9).float())[0]
    )


def test_checkpoint_records_the_gru_variant_and_refuses_the_other(tmp_path) -> None:
    for variant, other in (("paper", "cudnn"), ("cudnn", "paper")):
        model = CharRNN(ModelConfig("gru", 13, 9, 2, gru_variant=variant))
        path = tmp_path / f"{variant}.pt"
        save_checkpoint(path, model, model_id="gru-2L-x", vocab_sha256="abc")
        assert torch.load(path, weights_only=True)["config"]["gru_variant"] == variant
        loaded, _ = load_checkpoint(path, model_id="gru-2L-x", gru_variant=variant)
        assert loaded.config.gru_variant == variant
        with pytest.raises(CheckpointError, match=f"{variant}.pt holds gru-2L-x .*'{other}'"):
            load_checkpoint(path, model_id="gru-2L-x", gru_variant=other)
    lstm = CharRNN(ModelConfig("lstm", 13, 9, 1))
    save_checkpoint(tmp_path / "lstm.pt", lstm, model_id="lstm-1L-x")
    # Not a GRU: the variant is not checked.
    load_checkpoint(tmp_path / "lstm.pt", model_id="lstm-1L-x", gru_variant="cudnn")


def test_unknown_gru_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown GRU variant 'fast'"):
        ModelConfig("gru", 13, 9, 1, gru_variant="fast")


def test_grid_model_has_the_solved_hidden_size_of_its_budget() -> None:
    budgets = {"10k": 24}
    for model_id in ("lstm-1L-10k", "gru-3L-10k", "rnn-2L-10k"):
        spec = ModelSpec.parse(model_id)
        model = grid_model(spec, 40, budgets, 0.25, gru_variant="cudnn")
        assert model.config.hidden_size == solve_hidden_size(
            spec.model_type, spec.num_layers, 40, parameter_count("lstm", 40, 24, 1)
        )
        assert (model.config.num_layers, model.config.dropout) == (spec.num_layers, 0.25)
    assert model.config.gru_variant == "cudnn"
