"""The paper's Table 2: test loss of the n-gram and n-NN baselines against n.

Both baselines write the same per-position scores as the recurrent models; this turns them
into the table and a figure of loss against n, with each dataset's best recurrent model as
the reference line that the paper compares against (1.077 vs 1.195 on War and Peace).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from visrnn.common.plotting import TYPE_COLORS, new_figure, save_figure
from visrnn.scoring.choice import best_model
from visrnn.scoring.scores import Scores, bootstrap_std

COLUMNS = ("kind", "n", "model", "test_loss", "bootstrap_std")
KINDS = {"ngram": "n-gram", "nnn": "n-NN"}


def baseline_rows(scores: Sequence[Scores], *, samples: int, seed: int) -> list[dict[str, Any]]:
    """One row per baseline model (``ngram-5``, ``nnn-3``), ordered by kind then n."""
    rows = []
    for model_scores in scores:
        kind, _, n = model_scores.model.partition("-")
        if kind not in KINDS or not n.isdigit():
            raise ValueError(f"{model_scores.model} is not a baseline id like ngram-5 or nnn-3")
        rows.append(
            {
                "kind": kind,
                "n": int(n),
                "model": model_scores.model,
                "test_loss": round(model_scores.loss, 5),
                "bootstrap_std": round(bootstrap_std(model_scores.nll, samples, seed), 5),
            }
        )
    return sorted(rows, key=lambda row: (row["kind"], row["n"]))


def best_baseline(rows: Sequence[Mapping[str, Any]], kind: str) -> str:
    """The baseline of a kind with the lowest test loss (``baselines.csv`` rows)."""
    candidates = [row for row in rows if row["kind"] == kind]
    if not candidates:
        raise ValueError(
            f"no {KINDS.get(kind, kind)} baseline in the table; check baselines.{kind}"
        )
    return min(candidates, key=lambda row: row["test_loss"])["model"]


def plot_baselines(
    rows: Sequence[Mapping[str, Any]],
    reference: tuple[str, float],
    path: str | os.PathLike[str],
    title: str,
) -> None:
    """Test loss against n for both baselines, and the best recurrent model as a line."""
    fig = new_figure(6.0, 4.0)
    ax = fig.add_subplot()
    for kind, label in KINDS.items():
        points = sorted((r["n"], r["test_loss"]) for r in rows if r["kind"] == kind)
        if points:
            ns, losses = zip(*points, strict=True)
            ax.plot(ns, losses, "o-", color=TYPE_COLORS[kind], label=label)
    name, loss = reference
    ax.axhline(loss, color=TYPE_COLORS["lstm"], linestyle="--", label=f"best RNN ({name})")
    ax.set_xlabel("n (characters of context)")
    ax.set_ylabel("test loss (nats per character)")
    ax.set_title(title)
    ax.legend()
    save_figure(fig, path)


#: Columns of ``best_models.csv``.
BEST_COLUMNS = ("role", "model", "test_loss", "bootstrap_std", "used_by")

#: The models the paper's text and figures single out: (role, kind of table, how it is
#: picked, what uses it). ``how`` holds the arguments of ``best_model`` (or the baseline kind).
_BEST_ROLES = (
    ("best recurrent model", "grid", {}, "Sec. 4.3: against the 20-gram"),
    ("best LSTM", "grid", {"model_type": "lstm"}, "Fig. 1, 4 (middle, right), 5 (left), 6"),
    ("best GRU", "grid", {"model_type": "gru"}, "Fig. 1"),
    ("best RNN", "grid", {"model_type": "rnn"}, "Fig. 1"),
    ("best deepest LSTM", "grid", {"model_type": "lstm", "deepest": True}, "Fig. 3, 4 (left)"),
    ("best deepest GRU", "grid", {"model_type": "gru", "deepest": True}, "Fig. 3"),
    (
        "best LSTM of the smallest budget",
        "grid",
        {"model_type": "lstm", "smallest_budget": True},
        "Fig. 6 (small)",
    ),
    ("best n-gram", "ngram", {}, "Fig. 4 (left)"),
    ("best n-NN", "nnn", {}, "Fig. 4 (left)"),
)


def best_model_rows(
    test_losses: Sequence[Mapping[str, Any]], baselines: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One row per model the analyses single out, with its test loss: the "best" of each
    kind, named explicitly. Roles the grid or baselines lack (no GRU, ...) are left out."""
    rows = []
    for role, table, how, used_by in _BEST_ROLES:
        if table == "grid":
            wanted = how.get("model_type")
            if wanted is not None and not any(row["type"] == wanted for row in test_losses):
                continue
            source = test_losses
            model = best_model(test_losses, **how)
        else:
            source = [row for row in baselines if row["kind"] == table]
            if not source:
                continue
            model = best_baseline(source, table)
        found = next(row for row in source if row["model"] == model)
        rows.append(
            {
                "role": role,
                "model": model,
                "test_loss": found["test_loss"],
                "bootstrap_std": found["bootstrap_std"],
                "used_by": used_by,
            }
        )
    return rows
