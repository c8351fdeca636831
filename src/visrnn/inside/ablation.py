"""What a cell is worth: the test split rescored with units silenced, everything else unchanged.

An ablation silences a set of units (``visrnn.inside.interventions``: held at zero, or at
their mean over the test split) and compares the model's per-position scores with and
without them:

- the test loss change overall, and on subsets of the scored positions: while the cell's
  structural signal is on or off (``signal``), per class of the target character
  (``class``, the explorer's character classes), and where the intact model beats the
  reference n-gram (``beats_ngram``);
- the errors (p(target) < 0.5) on each subset, and, where the error oracles run, per
  Figure 6 category (``category``): each model's errors peeled by the same oracle chain
  (``visrnn.figures.oracles``), so the table says how many errors the silencing added and
  of which kind.

Position t predicts test character t + 1 from the state after reading character t, so a
signal is "on" at position t when its value after character t (``visrnn.inside.signals``)
is above 0: while inside quotes, at a bracket depth of 1 or more, and so on. A line-position
signal is on everywhere but at line ends.

The pipeline (``workflow/rules/ablation.smk``) silences, for each structural signal, the
best LSTM's top-ranked cell (``tables/cell_ranking.csv``) and, as a control, a random cell
of the same layer that no signal ranks (seeded), and writes ``tables/ablation.csv`` and
``figures/ablation.png``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from visrnn.common.plotting import TYPE_COLORS, new_figure, save_figure
from visrnn.explorer.store import CHAR_CLASSES, char_classes
from visrnn.figures.oracles import REMAINING, TextWords, family_counts, oracle_rows, oracles, peel
from visrnn.inside.interventions import score_interventions, silence, unit_means
from visrnn.inside.signals import signal_on
from visrnn.models.recurrent import CharRNN
from visrnn.scoring.choice import ERROR_THRESHOLD
from visrnn.scoring.scores import Scores, scores_for_test_split

#: Columns of ``tables/ablation.csv``.
ABLATION_COLUMNS = (
    "model",
    "signal",
    "role",
    "layer",
    "state",
    "unit",
    "correlation",
    "silence",
    "group",
    "subset",
    "positions",
    "loss",
    "ablated_loss",
    "delta_loss",
    "errors",
    "ablated_errors",
)
#: The two kinds of silenced unit: the signal's top-ranked cell, and a random control.
ROLES = ("cell", "control")


@dataclass(frozen=True)
class Ablation:
    """One silenced unit: a signal's top-ranked cell or its control, held in one way."""

    signal: str
    role: str
    layer: int
    state: str
    unit: int
    correlation: float | None  # the cell's r with the signal, from the ranking; None: control
    silence: str

    def clamps(self, means: Mapping[tuple[int, str], np.ndarray] | None = None) -> list:
        """The intervention that silences it (``visrnn.inside.interventions``)."""
        return silence(self.layer, self.state, [self.unit], self.silence, means)


def ablations(
    ranking: Sequence[Mapping[str, Any]], hidden_size: int, modes: Sequence[str], seed: int
) -> list[Ablation]:
    """For each signal of ``ranking`` (``cell_ranking.csv`` rows, ranked cells of one model's
    cell state ``c``), its rank-1 cell and a control: a cell of the same layer that no
    signal ranks, drawn with ``seed`` (the same draw for every silencing mode)."""
    rng = np.random.default_rng(seed)
    ranked = {(row["layer"], row["unit"]) for row in ranking}
    chosen: list[Ablation] = []
    for row in ranking:
        if row["rank"] != 1:
            continue
        layer = row["layer"]
        free = [u for u in range(hidden_size) if (layer, u) not in ranked]
        if not free:
            raise ValueError(
                f"layer {layer} has no cell left for a control of {row['signal']}: all "
                f"{hidden_size} are ranked; lower analysis.cells_top_k"
            )
        control = int(rng.choice(free))
        for mode in modes:
            chosen.append(
                Ablation(
                    row["signal"],
                    "cell",
                    layer,
                    row["activation"],
                    row["unit"],
                    row["correlation"],
                    mode,
                )
            )
            chosen.append(
                Ablation(row["signal"], "control", layer, row["activation"], control, None, mode)
            )
    return chosen


def error_families(
    test: TextWords, ngram_p_target: Mapping[int, np.ndarray], settings: Mapping[str, Any]
) -> Callable[[np.ndarray], dict[str, int]]:
    """A function from a model's p(target) to its error count per Figure 6 family, peeled by
    the oracle chain of ``settings`` (``analysis.oracles``), as ``error_oracles`` does: every
    family of the chain, in its order, then ``remaining``, each with 0 when it has none."""

    def counts(p_target: np.ndarray) -> dict[str, int]:
        chain = oracles(test, p_target, ngram_p_target, settings)
        steps = peel(p_target < ERROR_THRESHOLD, chain)
        found = family_counts(oracle_rows("", "", steps, len(p_target)))
        return {**found, REMAINING: found.get(REMAINING, 0)}

    return counts


def position_subsets(
    text: bytes, signals: Mapping[str, np.ndarray], beats_ngram: np.ndarray
) -> dict[tuple[str, str], np.ndarray]:
    """Boolean masks over the scored positions (len(text) - 1) of every subset the table
    reports but the signal's: (group, subset) -> mask."""
    positions = len(text) - 1
    classes = char_classes(np.frombuffer(text, dtype=np.uint8)[1:])
    subsets = {("overall", "all"): np.ones(positions, dtype=bool)}
    for code, name in enumerate(CHAR_CLASSES):
        if (classes == code).any():
            subsets["class", name] = classes == code
    subsets["beats_ngram", "yes"] = np.asarray(beats_ngram, dtype=bool)
    return subsets


def ablation_rows(
    model: str,
    chosen: Sequence[Ablation],
    intact: Scores,
    ablated: Sequence[Scores],
    text: bytes,
    signals: Mapping[str, np.ndarray],
    reference: Scores,
    families: Callable[[np.ndarray], dict[str, int]] | None = None,
) -> list[dict[str, Any]]:
    """Rows of ``ablation.csv``: for each ablation (and its scores in ``ablated``), the loss
    and errors of the intact and the ablated model on each subset of positions, then, with
    ``families``, the errors per Figure 6 family. ``text`` is the test split, ``signals``
    its structural signals (one value per byte), ``reference`` the reference n-gram's
    scores of the same positions."""
    subsets = position_subsets(text, signals, intact.p_target > reference.p_target)
    intact_nll, intact_error = intact.nll, intact.p_target < ERROR_THRESHOLD
    intact_families = families(intact.p_target) if families else {}
    rows: list[dict[str, Any]] = []
    for ablation, scores in zip(chosen, ablated, strict=True):
        head = {
            "model": model,
            "signal": ablation.signal,
            "role": ablation.role,
            "layer": ablation.layer,
            "state": ablation.state,
            "unit": ablation.unit,
            "correlation": ablation.correlation,
            "silence": ablation.silence,
        }
        nll, error = scores.nll, scores.p_target < ERROR_THRESHOLD
        on = signal_on(signals[ablation.signal][:-1])
        masks = {**subsets, ("signal", "on"): on, ("signal", "off"): ~on}
        for (group, subset), mask in masks.items():
            count = int(mask.sum())
            loss = float(intact_nll[mask].mean()) if count else np.nan
            ablated_loss = float(nll[mask].mean()) if count else np.nan
            rows.append(
                {
                    **head,
                    "group": group,
                    "subset": subset,
                    "positions": count,
                    "loss": loss,
                    "ablated_loss": ablated_loss,
                    "delta_loss": ablated_loss - loss,
                    "errors": int(intact_error[mask].sum()),
                    "ablated_errors": int(error[mask].sum()),
                }
            )
        if families:
            ablated_families = families(scores.p_target)
            for family in dict.fromkeys([*intact_families, *ablated_families]):
                rows.append(
                    {
                        **head,
                        "group": "category",
                        "subset": family,
                        "positions": len(nll),
                        "loss": None,
                        "ablated_loss": None,
                        "delta_loss": None,
                        "errors": intact_families.get(family, 0),
                        "ablated_errors": ablated_families.get(family, 0),
                    }
                )
    return rows


def ablate(
    model: CharRNN,
    intact: Scores,
    test_ids: np.ndarray,
    chosen: Sequence[Ablation],
) -> tuple[Scores, list[Scores]]:
    """Rescore the test split ``test_ids`` with the model intact and under each ablation, all
    in one step-by-step pass (one batch row each); ``intact`` (the model's eval scores) names
    the model and data. Mean silencing holds units at their means over the same split."""
    keys = sorted({(a.layer, a.state) for a in chosen if a.silence == "mean"})
    means = unit_means(model, test_ids, keys) if keys else None
    p_target, argmax = score_interventions(
        model, test_ids, [[], *(a.clamps(means) for a in chosen)]
    )
    scores = [
        scores_for_test_split(intact.model, intact.dataset, intact.vocab_sha256, test_ids, p, a)
        for p, a in zip(p_target, argmax, strict=True)
    ]
    return scores[0], scores[1:]


def plot_ablation(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> None:
    """Per silencing mode, per signal: the loss change (nats per character) from silencing
    its top cell and its control, on the positions where the signal is on and where it is
    off."""
    modes = list(dict.fromkeys(row["silence"] for row in rows))
    signals = list(dict.fromkeys(row["signal"] for row in rows))
    delta = {
        (row["silence"], row["signal"], row["role"], row["subset"]): row["delta_loss"]
        for row in rows
        if row["group"] == "signal"
    }
    model = rows[0]["model"] if rows else ""
    fig = new_figure(max(6.0, 1.1 * len(signals) + 2.0), 2.6 * max(1, len(modes)) + 0.6)
    bars = [
        ("cell", "on", TYPE_COLORS["lstm"], None),
        ("cell", "off", TYPE_COLORS["lstm"], "//"),
        ("control", "on", TYPE_COLORS["ngram"], None),
        ("control", "off", TYPE_COLORS["ngram"], "//"),
    ]
    width = 0.8 / len(bars)
    for panel, mode in enumerate(modes, start=1):
        ax = fig.add_subplot(len(modes), 1, panel)
        for offset, (role, subset, color, hatch) in enumerate(bars):
            x = np.arange(len(signals)) + (offset - (len(bars) - 1) / 2) * width
            heights = [delta.get((mode, s, role, subset), np.nan) for s in signals]
            ax.bar(
                x,
                heights,
                width,
                color=color,
                hatch=hatch,
                edgecolor="black",
                linewidth=0.4,
                label=f"{role}, signal {subset}",
            )
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.set_xticks(np.arange(len(signals)), signals, fontsize=8)
        ax.set_ylabel("loss change (nats/char)", fontsize=8)
        ax.set_title(f"{model}: one cell silenced ({mode})", fontsize=9, loc="left")
        if panel == 1:
            ax.legend(fontsize=7, ncols=2)
    save_figure(fig, path)
