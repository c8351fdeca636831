"""Character-level RNN, LSTM and GRU language models.

The RNN and LSTM train and score with PyTorch's fused recurrent kernels (cuDNN on GPU,
oneDNN on CPU); the GRU by default with ``PaperGRU``, the paper's equations, which no fused
kernel computes. ``CharRNN.stepwise`` runs the same weights one time step at a time and
returns every gate: the plain reference that tests hold the fused paths and the analyses'
values to. The analyses (activation dumps, gate saturation) do not call it: they take the
fused kernel's hidden states a chunk at a time and recompute the gates from them
(``visrnn.inside.activations.iter_activations``). The equations themselves are in
``visrnn.models.gates``, shared by both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from visrnn.models.gates import ACTIVATIONS, GRU_VARIANTS, layer_gates, next_state
from visrnn.models.grid import MODEL_TYPES, ModelSpec

if TYPE_CHECKING:  # for annotations only: an n-NN edit must not replan the RNNs (common.smk)
    from visrnn.models.nnn import NNN

State = Tensor | tuple[Tensor, Tensor]


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model's architecture."""

    model_type: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    dropout: float = 0.0
    gru_variant: str = "paper"  # GRU equations (GRU_VARIANTS); other types ignore it

    def __post_init__(self) -> None:
        if self.model_type not in MODEL_TYPES:
            raise ValueError(
                f"unknown model type {self.model_type!r}; expected one of {MODEL_TYPES}"
            )
        if self.gru_variant not in GRU_VARIANTS:
            raise ValueError(
                f"unknown GRU variant {self.gru_variant!r}; expected one of {GRU_VARIANTS}"
            )
        if self.hidden_size < 1 or self.num_layers < 1 or self.vocab_size < 2:
            raise ValueError(f"invalid model size: {self}")


def _paper_gru_steps(
    projected: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor, keep: bool
) -> tuple[Tensor, Tensor | None]:
    """The paper's GRU over a sequence whose input projections (B, T, 3H) are precomputed.

    Per step two matrix products of the previous state (for r and z together, then for
    r * h'), bias and input folded in by ``addmm`` and ``add_``, the interpolation one
    ``lerp``. Returns the hidden states (B, T, H) and, if ``keep``, what the backward pass
    needs: r, z, n and r * h' stacked (4, B, T, H).
    """
    hidden = h.shape[-1]
    batch, steps, _ = projected.shape
    w_rz, w_n = weight_hh[: 2 * hidden].t(), weight_hh[2 * hidden :].t()
    b_rz, b_n = bias_hh[: 2 * hidden], bias_hh[2 * hidden :]
    outputs = projected.new_empty(batch, steps, hidden)
    saved = projected.new_empty(4, batch, steps, hidden) if keep else None
    for t in range(steps):
        rz = torch.sigmoid(torch.addmm(b_rz, h, w_rz).add_(projected[:, t, : 2 * hidden]))
        r, z = rz[:, :hidden], rz[:, hidden:]
        reset_h = r * h
        n = torch.tanh(torch.addmm(b_n, reset_h, w_n).add_(projected[:, t, 2 * hidden :]))
        h = torch.lerp(h, n, z)  # (1 - z) * h' + z * n
        outputs[:, t] = h
        if saved is not None:
            for slot, value in enumerate((r, z, n, reset_h)):
                saved[slot, :, t] = value
    return outputs, saved


class _PaperGRUFunction(torch.autograd.Function):
    """The paper's GRU layer with a hand-written backward pass through time.

    Autograd over the step loop would record a dozen nodes per step and compute the weight
    gradients step by step in small products; here the loop only carries dh back (two matrix
    products per step) and the weight gradients come at the end from two large products over
    all steps, as the fused kernels do. ``tests/test_models.py`` checks it with gradcheck.
    """

    @staticmethod
    def forward(
        ctx: Any, projected: Tensor, h0: Tensor, weight_hh: Tensor, bias_hh: Tensor
    ) -> Tensor:
        outputs, saved = _paper_gru_steps(projected, h0, weight_hh, bias_hh, keep=True)
        ctx.save_for_backward(h0, weight_hh, outputs, saved)
        return outputs

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_outputs: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        h0, weight_hh, outputs, saved = ctx.saved_tensors
        hidden = h0.shape[-1]
        batch, steps, _ = outputs.shape
        w_rz, w_n = weight_hh[: 2 * hidden], weight_hh[2 * hidden :]
        r_all, z_all, n_all, reset_h_all = saved
        grad_pre = outputs.new_empty(batch, steps, 3 * hidden)  # d pre-activation of r, z, n
        dh = torch.zeros_like(h0)
        for t in range(steps - 1, -1, -1):
            h_prev = outputs[:, t - 1] if t > 0 else h0
            r, z, n = r_all[:, t], z_all[:, t], n_all[:, t]
            dh = dh + grad_outputs[:, t]
            grad_n = dh * z * (1 - n * n)
            grad_reset_h = grad_n @ w_n
            grad_pre[:, t, :hidden] = grad_reset_h * h_prev * r * (1 - r)
            grad_pre[:, t, hidden : 2 * hidden] = dh * (n - h_prev) * z * (1 - z)
            grad_pre[:, t, 2 * hidden :] = grad_n
            dh = dh * (1 - z) + grad_reset_h * r + grad_pre[:, t, : 2 * hidden] @ w_rz
        flat = grad_pre.reshape(-1, 3 * hidden)
        h_prev_all = torch.cat([h0[:, None], outputs[:, :-1]], dim=1).reshape(-1, hidden)
        grad_weight = torch.cat(
            [
                flat[:, : 2 * hidden].t() @ h_prev_all,
                flat[:, 2 * hidden :].t() @ reset_h_all.reshape(-1, hidden),
            ]
        )
        return grad_pre, dh, grad_weight, flat.sum(0)


def paper_gru_layer(projected: Tensor, h0: Tensor, weight_hh: Tensor, bias_hh: Tensor) -> Tensor:
    """Hidden states (B, T, H) of one paper GRU layer from its input projections (B, T, 3H)
    and initial state (B, H); differentiable when any input requires a gradient."""
    inputs = (projected, h0, weight_hh, bias_hh)
    if torch.is_grad_enabled() and any(x.requires_grad for x in inputs):
        return _PaperGRUFunction.apply(*inputs)
    return _paper_gru_steps(*inputs, keep=False)[0]


class PaperGRU(nn.Module):
    """A stack of the paper's GRU layers, batch first, a drop-in for ``nn.GRU``.

    Parameters are named, shaped and ordered like ``nn.GRU``'s (``weight_ih_l0`` holds the r,
    z, n rows, and so on), so the counts and the step-by-step code are shared. Each layer
    projects the inputs of all time steps in one matrix product, then loops over time
    (``paper_gru_layer``).
    Dropout applies to the outputs of every layer but the last, as in ``nn.GRU``.
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.dropout = dropout
        for layer in range(num_layers):
            inputs = input_size if layer == 0 else hidden_size
            for name, shape in (
                ("weight_ih", (3 * hidden_size, inputs)),
                ("weight_hh", (3 * hidden_size, hidden_size)),
                ("bias_ih", (3 * hidden_size,)),
                ("bias_hh", (3 * hidden_size,)),
            ):
                self.register_parameter(f"{name}_l{layer}", nn.Parameter(torch.empty(shape)))
        bound = hidden_size**-0.5  # nn.GRU's default initialisation
        for param in self.parameters():
            nn.init.uniform_(param, -bound, bound)

    def forward(self, inputs: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Outputs (B, T, H) of the last layer and the final states (layers, B, H)."""
        if h0 is None:
            shape = (self.num_layers, inputs.shape[0], self.hidden_size)
            h0 = inputs.new_zeros(shape)
        x, last = inputs, []
        for layer in range(self.num_layers):
            if layer > 0:
                x = F.dropout(x, self.dropout, self.training)
            projected = F.linear(
                x, getattr(self, f"weight_ih_l{layer}"), getattr(self, f"bias_ih_l{layer}")
            )
            x = paper_gru_layer(
                projected,
                h0[layer],
                getattr(self, f"weight_hh_l{layer}"),
                getattr(self, f"bias_hh_l{layer}"),
            )
            last.append(x[:, -1])
        return x, torch.stack(last)


class CharRNN(nn.Module):
    """One-hot input, a stack of recurrent layers, dropout, and a softmax decoder."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        recurrent = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[config.model_type]
        if config.model_type == "gru" and config.gru_variant == "paper":
            recurrent = PaperGRU
        self.rnn = recurrent(
            config.vocab_size,
            config.hidden_size,
            config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            **({} if recurrent is PaperGRU else {"batch_first": True}),
        )
        self.dropout = nn.Dropout(config.dropout)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)

    def init_uniform(self, init_range: float) -> None:
        """Every parameter uniform in [-init_range, init_range] (paper, Sec. 3.3)."""
        for param in self.parameters():
            nn.init.uniform_(param, -init_range, init_range)

    def init_forget_bias(self, value: float) -> int:
        """An LSTM's forget-gate biases set to ``value`` in every layer, as char-rnn's
        ``train.lua`` does after its uniform draw; returns the number of layers set (0 for
        an RNN or GRU, which have no forget gate).

        char-rnn's layer sums two linear maps, ``i2h`` (input) and ``h2h`` (recurrent), each
        with a bias, and fills the forget block of ``i2h``'s only. PyTorch's LSTM has the same
        two biases, ``bias_ih`` and ``bias_hh``, and the forget gate is the second of four
        blocks in both (i, f, o, g there; i, f, g, o here): ``bias_ih``'s block is set and
        ``bias_hh``'s keeps its uniform draw, so the effective bias is ``value`` plus that
        draw, as in char-rnn.
        """
        if self.config.model_type != "lstm":
            return 0
        hidden = self.config.hidden_size
        with torch.no_grad():
            for layer in range(self.config.num_layers):
                getattr(self.rnn, f"bias_ih_l{layer}")[hidden : 2 * hidden].fill_(value)
        return self.config.num_layers

    def forward(self, ids: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Logits (B, T, K) for ids (B, T), and the state after the last step."""
        inputs = F.one_hot(ids.long(), self.config.vocab_size).to(self.decoder.weight.dtype)
        outputs, state = self.rnn(inputs, state)
        return self.decoder(self.dropout(outputs)), state

    def zero_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        h = torch.zeros(shape, device=device, dtype=self.decoder.weight.dtype)
        return (h, h.clone()) if self.config.model_type == "lstm" else h

    @torch.no_grad()
    def stepwise(
        self, ids: Tensor, state: State | None = None
    ) -> tuple[Tensor, State, list[dict[str, Tensor]]]:
        """Run step by step and return (logits, state, activations).

        ``activations[layer][name]`` is a (B, T, H) tensor for each name in
        ``ACTIVATIONS[model_type]``, a GRU's z in the paper's convention whatever the
        variant. Dropout is not applied (evaluation mode).
        """
        cfg = self.config
        batch, steps = ids.shape
        if state is None:
            state = self.zero_state(batch, ids.device)
        if cfg.model_type == "lstm":
            h_all, c_all = state
        else:
            h_all, c_all = state, None
        layer_input = F.one_hot(ids.long(), cfg.vocab_size).to(self.decoder.weight.dtype)
        activations: list[dict[str, Tensor]] = []
        new_h, new_c = [], []
        for layer in range(cfg.num_layers):
            w_ih = getattr(self.rnn, f"weight_ih_l{layer}")
            w_hh = getattr(self.rnn, f"weight_hh_l{layer}")
            b_ih = getattr(self.rnn, f"bias_ih_l{layer}")
            b_hh = getattr(self.rnn, f"bias_hh_l{layer}")
            projected = layer_input @ w_ih.T + b_ih  # (B, T, G*H), all steps at once
            h = h_all[layer]
            c = c_all[layer] if c_all is not None else None
            trace: dict[str, list[Tensor]] = {name: [] for name in ACTIVATIONS[cfg.model_type]}
            for t in range(steps):
                recurrent = h @ w_hh.T + b_hh
                step = layer_gates(
                    cfg.model_type, cfg.gru_variant, projected[:, t], recurrent, h, w_hh, b_hh
                )
                h, c = next_state(cfg.model_type, projected[:, t], recurrent, step, h, c)
                step.update({"c": c, "h": h} if c is not None else {"h": h})
                for name, value in step.items():
                    trace[name].append(value)
            activations.append({name: torch.stack(values, dim=1) for name, values in trace.items()})
            new_h.append(h)
            if c is not None:
                new_c.append(c)
            layer_input = activations[-1]["h"]
        logits = self.decoder(layer_input)
        h_stack = torch.stack(new_h)
        out_state: State = (h_stack, torch.stack(new_c)) if new_c else h_stack
        return logits, out_state, activations


def grid_model(
    spec: ModelSpec,
    vocab_size: int,
    budgets: Mapping[str, int],
    dropout: float,
    gru_variant: str = "paper",
) -> CharRNN:
    """The grid's model ``spec`` on this vocabulary, its hidden size solved for its budget."""
    hidden = spec.hidden_size(vocab_size, budgets)
    return CharRNN(
        ModelConfig(
            spec.model_type, vocab_size, hidden, spec.num_layers, dropout, gru_variant=gru_variant
        )
    )


def detach_state(state: State) -> State:
    """Cut the graph at a batch boundary (truncated BPTT) but keep the values."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)  # type: ignore[return-value]
    return state.detach()


#: Any model the training loop, evaluation and checkpoints serve (for annotations).
LanguageModel: TypeAlias = "CharRNN | NNN"
