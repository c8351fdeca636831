"""Character-level RNN, LSTM and GRU language models.

Training and scoring run PyTorch's fused recurrent kernels (cuDNN on GPU, oneDNN on CPU).
``CharRNN.stepwise`` runs the same weights one time step at a time and returns every gate,
so that the analyses can look inside the network; tests hold the two paths to agree.

Gate names follow PyTorch's equations:

- ``rnn``:  h = tanh(W_ih x + b_ih + W_hh h' + b_hh)
- ``lstm``: i, f, o = sigmoid(...), g = tanh(...), c = f * c' + i * g, h = o * tanh(c)
- ``gru``:  r, z = sigmoid(...), n = tanh(W_in x + b_in + r * (W_hn h' + b_hn)),
  h = (1 - z) * n + z * h'
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from visrnn.grid import MODEL_TYPES
from visrnn.nnn import NNN

#: Per-layer activations ``stepwise`` returns, by model type.
ACTIVATIONS: dict[str, tuple[str, ...]] = {
    "rnn": ("h",),
    "lstm": ("i", "f", "g", "o", "c", "h"),
    "gru": ("r", "z", "n", "h"),
}
#: The sigmoid gates, whose saturation the paper studies (Figure 3).
GATES: dict[str, tuple[str, ...]] = {"rnn": (), "lstm": ("i", "f", "o"), "gru": ("r", "z")}

State = Tensor | tuple[Tensor, Tensor]


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model's architecture."""

    model_type: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.model_type not in MODEL_TYPES:
            raise ValueError(
                f"unknown model type {self.model_type!r}; expected one of {MODEL_TYPES}"
            )
        if self.hidden_size < 1 or self.num_layers < 1 or self.vocab_size < 2:
            raise ValueError(f"invalid model size: {self}")


class CharRNN(nn.Module):
    """One-hot input, a stack of recurrent layers, dropout, and a softmax decoder."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        recurrent = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[config.model_type]
        self.rnn = recurrent(
            config.vocab_size,
            config.hidden_size,
            config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)

    def init_uniform(self, init_range: float) -> None:
        """Every parameter uniform in [-init_range, init_range] (paper, Sec. 3.3)."""
        for param in self.parameters():
            nn.init.uniform_(param, -init_range, init_range)

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
        ``ACTIVATIONS[model_type]``. Dropout is not applied (evaluation mode).
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
                if cfg.model_type == "rnn":
                    h = torch.tanh(projected[:, t] + recurrent)
                    step = {"h": h}
                elif cfg.model_type == "lstm":
                    i, f, g, o = (projected[:, t] + recurrent).chunk(4, dim=-1)
                    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
                    c = f * c + i * g
                    h = o * torch.tanh(c)
                    step = {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h}
                else:
                    x_r, x_z, x_n = projected[:, t].chunk(3, dim=-1)
                    h_r, h_z, h_n = recurrent.chunk(3, dim=-1)
                    r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
                    n = torch.tanh(x_n + r * h_n)
                    h = (1 - z) * n + z * h
                    step = {"r": r, "z": z, "n": n, "h": h}
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


def detach_state(state: State) -> State:
    """Cut the graph at a batch boundary (truncated BPTT) but keep the values."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)  # type: ignore[return-value]
    return state.detach()


LanguageModel = CharRNN | NNN
