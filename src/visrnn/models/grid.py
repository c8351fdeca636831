"""The model grid: ids, parameter budgets and the hidden sizes that meet them.

A budget is named in the config (``130k``) and defined as the parameter count of a 1-layer
LSTM with a given number of cells on the dataset's vocabulary. Every (type, layers) gets the
hidden size whose parameter count is closest to that budget, solved here, never typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Recurrent model types of the grid: vanilla tanh RNN, LSTM and GRU.
MODEL_TYPES = ("rnn", "lstm", "gru")
#: The types with gates.
GATED_TYPES = ("lstm", "gru")
#: A model id is ``{type}-{layers}L-{budget}``: the regexes of its layers and budget name
#: (the schema's grid.budgets names follow BUDGET_PATTERN).
LAYERS_PATTERN = r"[1-9][0-9]*"
BUDGET_PATTERN = r"[0-9a-z.]+"
#: A solved size whose parameter count misses its budget by more (relative) is flagged: with
#: a small budget and a deep model, no whole hidden size comes close.
BUDGET_TOLERANCE = 0.05
_GATE_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}


def model_id_pattern(types: Iterable[str] = MODEL_TYPES) -> str:
    """The model-id grammar as a regex (unanchored), for models of ``types``: the one
    spelling that ids are parsed with, rules constrain wildcards with (``visrnn.plan``) and
    the schema's patterns are held equal to (tests/test_plan.py)."""
    types = list(types)
    kind = types[0] if len(types) == 1 else f"(?:{'|'.join(types)})"
    return f"{kind}-{LAYERS_PATTERN}L-{BUDGET_PATTERN}"


_MODEL_ID = re.compile(
    f"^(?P<type>{'|'.join(MODEL_TYPES)})-(?P<layers>{LAYERS_PATTERN})L-(?P<budget>{BUDGET_PATTERN})$"
)


def parameter_count(model_type: str, vocab_size: int, hidden_size: int, num_layers: int) -> int:
    """Parameters of ``CharRNN``: the recurrent layers in PyTorch's layout (two bias vectors
    each; both GRU variants have the same) + decoder."""
    blocks = _GATE_BLOCKS[model_type]
    total = 0
    for layer in range(num_layers):
        inputs = vocab_size if layer == 0 else hidden_size
        total += blocks * hidden_size * (inputs + hidden_size + 2)
    return total + hidden_size * vocab_size + vocab_size


def budget_parameters(vocab_size: int, lstm_cells: int) -> int:
    """The budget: parameters of a 1-layer LSTM with ``lstm_cells`` cells."""
    return parameter_count("lstm", vocab_size, lstm_cells, 1)


def solve_hidden_size(model_type: str, num_layers: int, vocab_size: int, budget: int) -> int:
    """The hidden size whose parameter count is closest to ``budget`` (ties: the smaller)."""
    # parameter_count grows strictly with the hidden size: bisect for the first size at or
    # above the budget, then compare it with its predecessor.
    low, high = 1, 1
    while parameter_count(model_type, vocab_size, high, num_layers) < budget:
        high *= 2
    while low < high:
        mid = (low + high) // 2
        if parameter_count(model_type, vocab_size, mid, num_layers) < budget:
            low = mid + 1
        else:
            high = mid
    candidates = [size for size in (low - 1, low) if size >= 1]
    return min(
        candidates,
        key=lambda s: (abs(parameter_count(model_type, vocab_size, s, num_layers) - budget), s),
    )


@dataclass(frozen=True)
class ModelSpec:
    """One cell of the grid: type x layers x budget."""

    model_type: str
    num_layers: int
    budget: str

    @property
    def model_id(self) -> str:
        return f"{self.model_type}-{self.num_layers}L-{self.budget}"

    @classmethod
    def parse(cls, model_id: str) -> ModelSpec:
        match = _MODEL_ID.match(model_id)
        if not match:
            raise ValueError(
                f"{model_id!r} is not a model id like 'lstm-2L-130k' "
                f"(type one of {MODEL_TYPES}, layers, budget name)"
            )
        return cls(match["type"], int(match["layers"]), match["budget"])

    def hidden_size(self, vocab_size: int, budgets: Mapping[str, int]) -> int:
        budget = budget_parameters(vocab_size, budgets[self.budget])
        return solve_hidden_size(self.model_type, self.num_layers, vocab_size, budget)


def model_grid(
    types: Iterable[str], layers: Iterable[int], budgets: Iterable[str]
) -> list[ModelSpec]:
    """The cross product, in a stable order (budget, type, layers)."""
    return [
        ModelSpec(model_type, num_layers, budget)
        for budget in budgets
        for model_type in types
        for num_layers in layers
    ]


def size_table(
    specs: Iterable[ModelSpec], vocab_size: int, budgets: Mapping[str, int]
) -> list[dict[str, object]]:
    """Rows of ``model_sizes.csv``: the solved hidden size and its count against the budget,
    ``off_budget`` when the count misses the budget by more than ``BUDGET_TOLERANCE``."""
    rows = []
    for spec in specs:
        target = budget_parameters(vocab_size, budgets[spec.budget])
        hidden = spec.hidden_size(vocab_size, budgets)
        count = parameter_count(spec.model_type, vocab_size, hidden, spec.num_layers)
        relative_error = (count - target) / target
        rows.append(
            {
                "model": spec.model_id,
                "type": spec.model_type,
                "layers": spec.num_layers,
                "budget": spec.budget,
                "budget_parameters": target,
                "hidden_size": hidden,
                "parameters": count,
                "relative_error": round(relative_error, 5),
                "off_budget": abs(relative_error) > BUDGET_TOLERANCE,
            }
        )
    return rows
