"""The recurrent equations, once: a layer's gates and its next state from its input and
recurrent projections.

``CharRNN.stepwise`` (``visrnn.models.recurrent``) calls these one time step at a time, the
activation dumps (``visrnn.inside.activations``) once per chunk of steps; the fused kernels
(PyTorch's RNN / LSTM / GRU, ``PaperGRU``) compute the same, and tests hold all three equal.

Gate names and equations (h' the previous hidden state, biases as PyTorch lays them out):

- ``rnn``:  h = tanh(W_ih x + b_ih + W_hh h' + b_hh)
- ``lstm``: i, f, o = sigmoid(...), g = tanh(...), c = f * c' + i * g, h = o * tanh(c)
- ``gru``, variant ``paper`` (Sec. 3.1, after Cho et al.): r, z = sigmoid(W x + b + W_h h' + b_h),
  n = tanh(W_in x + b_in + W_hn (r * h') + b_hn), h = (1 - z) * h' + z * n
- ``gru``, variant ``cudnn`` (``torch.nn.GRU``): r, z_torch as above,
  n = tanh(W_in x + b_in + r * (W_hn h' + b_hn)), h = (1 - z_torch) * n + z_torch * h'

Both variants have the same parameters (so the same counts and solved hidden sizes), and z is
always reported in the paper's convention, the weight of the candidate n: for ``cudnn``,
z = 1 - z_torch.
"""

from __future__ import annotations

import torch
from torch import Tensor

#: Per-layer activations ``CharRNN.stepwise`` returns, by model type.
ACTIVATIONS: dict[str, tuple[str, ...]] = {
    "rnn": ("h",),
    "lstm": ("i", "f", "g", "o", "c", "h"),
    "gru": ("r", "z", "n", "h"),
}
#: The sigmoid gates, whose saturation the paper studies (Figure 3).
GATES: dict[str, tuple[str, ...]] = {"rnn": (), "lstm": ("i", "f", "o"), "gru": ("r", "z")}
#: GRU equations: the paper's (default) or PyTorch's fused ``nn.GRU`` (see the module doc).
GRU_VARIANTS = ("paper", "cudnn")


def layer_gates(
    model_type: str,
    gru_variant: str,
    from_input: Tensor,
    from_hidden: Tensor,
    h_prev: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor,
) -> dict[str, Tensor]:
    """The gates of one layer: an LSTM's i, f, g, o, a GRU's r, z, n, none for the RNN.

    ``from_input`` is W_ih x + b_ih and ``from_hidden`` W_hh h' + b_hh, for one step
    (B, G*H) or for many at once (B, T, G*H); ``h_prev`` is h', (B, H) or (B, T, H). The
    paper's GRU also needs W_hn and b_hn, the last third of ``weight_hh`` and ``bias_hh``.
    """
    if model_type == "rnn":
        return {}
    if model_type == "lstm":
        i, f, g, o = (from_input + from_hidden).chunk(4, dim=-1)
        return {"i": i.sigmoid(), "f": f.sigmoid(), "g": g.tanh(), "o": o.sigmoid()}
    x_r, x_z, x_n = from_input.chunk(3, dim=-1)
    h_r, h_z, h_n = from_hidden.chunk(3, dim=-1)
    r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
    if gru_variant == "paper":
        w_n, b_n = weight_hh.chunk(3)[2], bias_hh.chunk(3)[2]
        n = torch.tanh(x_n + (r * h_prev) @ w_n.T + b_n)
    else:
        n = torch.tanh(x_n + r * h_n)
        z = 1 - z  # PyTorch's z weighs h'; the paper's weighs n
    return {"r": r, "z": z, "n": n}


def next_state(
    model_type: str,
    from_input: Tensor,
    from_hidden: Tensor,
    gates: dict[str, Tensor],
    h_prev: Tensor,
    c_prev: Tensor | None,
) -> tuple[Tensor, Tensor | None]:
    """One step's hidden state h (B, H), and an LSTM's cell state c (else None), from the
    projections and the ``layer_gates`` of that step."""
    if model_type == "rnn":
        return torch.tanh(from_input + from_hidden), None
    if model_type == "lstm":
        c = gates["f"] * c_prev + gates["i"] * gates["g"]
        return gates["o"] * torch.tanh(c), c
    return (1 - gates["z"]) * h_prev + gates["z"] * gates["n"], None


def lstm_cell_states(input_times_candidate: Tensor, forget: Tensor, c_before: Tensor) -> Tensor:
    """LSTM cell states c_t = f_t * c_(t-1) + i_t * g_t over a chunk of steps, (B, T, H), from
    i * g and f of every step (B, T, H) and the state before the chunk (B, H): the cell-state
    equation of ``next_state`` as one scan, written into a single buffer."""
    steps = forget.shape[1]
    cells = torch.empty((steps, *c_before.shape), dtype=forget.dtype, device=forget.device)
    c = c_before
    for t in range(steps):
        c = torch.addcmul(input_times_candidate[:, t], forget[:, t], c, out=cells[t])
    return cells.transpose(0, 1)
