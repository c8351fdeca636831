"""The rules of choice that several stages share: what counts as an error, and which model
is "the best" of a test-loss table. The figures (1, 2, 3, 4, 5, 6), Table 2, the activation
dumps, the explorer and the scorecard all read them from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: An error: p(target) below this (the paper's Figure 4 and 6).
ERROR_THRESHOLD = 0.5


def best_model(
    rows: Sequence[Mapping[str, Any]],
    model_type: str | None = None,
    *,
    deepest: bool = False,
    smallest_budget: bool = False,
) -> str:
    """The model with the lowest test loss, of a type if given.

    With ``deepest``, only models with the most layers of that type compete: the paper's
    "best 3-layer LSTM" when the grid has 3 layers. With ``smallest_budget``, only those of
    the budget with the fewest parameters: the paper's "best LSTM of the smallest model
    category". ``rows`` are ``test_losses.csv`` rows, typed (``files.read_table``).
    """
    candidates = [row for row in rows if model_type in (None, row["type"])]
    if not candidates:
        raise ValueError(f"no {model_type or ''} model in the test-loss table; check grid.types")
    if smallest_budget:
        smallest = min(candidates, key=lambda row: row["parameters"])["budget"]
        candidates = [row for row in candidates if row["budget"] == smallest]
    if deepest:
        most = max(row["layers"] for row in candidates)
        candidates = [row for row in candidates if row["layers"] == most]
    return min(candidates, key=lambda row: row["test_loss"])["model"]
