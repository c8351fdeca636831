"""The n-NN baseline: one tanh hidden layer over the one-hots of the previous n characters.

The input is the concatenation of n one-hot vectors (oldest first), so the first layer is a
(H, n*K) matrix. Multiplying it by a one-hot concatenation is a sum of n columns, which is what
``forward`` computes with an embedding lookup instead of materialising the n*K input.

The model follows the recurrent models' interface (``forward(ids, state)``), with the last
n - 1 characters as its state, so the same training loop and evaluation serve both.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: Context slot value for "before the start of the sequence": contributes a zero one-hot.
NO_CHAR = -1


@dataclass(frozen=True)
class NNNConfig:
    context: int  # n, the number of previous characters seen
    vocab_size: int
    hidden_size: int
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.context < 1 or self.hidden_size < 1 or self.vocab_size < 2:
            raise ValueError(f"invalid n-NN size: {self}")


class NNN(nn.Module):
    def __init__(self, config: NNNConfig) -> None:
        super().__init__()
        self.config = config
        self.hidden = nn.Linear(config.context * config.vocab_size, config.hidden_size)
        self.dropout = nn.Dropout(config.dropout)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)

    def init_uniform(self, init_range: float) -> None:
        for param in self.parameters():
            nn.init.uniform_(param, -init_range, init_range)

    def zero_state(self, batch_size: int, device: torch.device | str = "cpu") -> Tensor:
        return torch.full((batch_size, self.config.context - 1), NO_CHAR, device=device)

    def windows(self, ids: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        """The (B, T, n) context windows ending at each step, oldest first, and the new state."""
        history = torch.cat([state.to(ids.device).long(), ids.long()], dim=1)
        windows = history.unfold(1, self.config.context, 1)
        return windows, history[:, history.shape[1] - (self.config.context - 1) :]

    def context_onehots(self, windows: Tensor) -> Tensor:
        """The explicit (..., n*K) input: concatenated one-hots, zeros for ``NO_CHAR``."""
        k = self.config.vocab_size
        onehots = F.one_hot(windows.clamp(min=0), k) * (windows >= 0).unsqueeze(-1)
        return onehots.flatten(-2).to(self.hidden.weight.dtype)

    def forward(self, ids: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if state is None:
            state = self.zero_state(ids.shape[0], ids.device)
        windows, state = self.windows(ids, state)
        n, k = self.config.context, self.config.vocab_size
        # Column j*K + c of the hidden weight is the input "character c in slot j"; an extra
        # zero row per slot stands for NO_CHAR.
        table = self.hidden.weight.T.reshape(n, k, -1)
        table = torch.cat([table, table.new_zeros(n, 1, table.shape[-1])], dim=1)
        slot_offsets = torch.arange(n, device=ids.device) * (k + 1)
        rows = torch.where(windows >= 0, windows, k) + slot_offsets
        pre = table.reshape(n * (k + 1), -1)[rows].sum(dim=-2) + self.hidden.bias
        return self.decoder(self.dropout(torch.tanh(pre))), state
