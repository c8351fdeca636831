"""The checks: each reads a run's tables for one dataset and returns an ``Outcome``.

A check has the signature ``check(run, ds, paper, **params) -> Outcome``: ``paper`` gives the
paper's values and tolerances (``paper.PAPER`` unless a test passes another), ``params`` are
the claim's own (an oracle role or family). A check raises ``MissingTable`` when the run lacks
what the claim needs (the claim is then ``not run``); nothing else is caught.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from visrnn import plan
from visrnn.data.corpora import DOMINANT_FILE_SHARE, corpus_files_kept
from visrnn.scorecard.differences import (
    close_all,
    corpus_differences,
    corpus_only_differences,
    family_differences,
    grid_differences,
    kind_differences,
    model_differences,
    ngram_differences,
    nnn_differences,
    oracle_differences,
    other_kernel,
    tested_grid,
)
from visrnn.scorecard.paper import Paper
from visrnn.scorecard.tables import MissingTable, Run
from visrnn.scorecard.verdicts import Outcome
from visrnn.scoring.choice import best_model


class Check(Protocol):
    def __call__(self, run: Run, ds: str, paper: Paper, **params: Any) -> Outcome: ...


Row = Mapping[str, Any]


def pct(value: float) -> str:
    """A share as a percentage with one decimal: 0.18 -> 18.0%."""
    return f"{100 * value:.1f}%"


def _loss(rows: Sequence[Row], model: str) -> tuple[float, float]:
    """(test loss, bootstrap std) of a model in a test-loss or baselines table."""
    row = next((row for row in rows if row["model"] == model), None)
    if row is None:
        raise MissingTable(f"no {model} in the table")
    return row["test_loss"], row["bootstrap_std"]


def _best(rows: Sequence[Row], model_type: str | None = None, **how: bool) -> str:
    """``scoring.choice.best_model``, with a grid lacking the type making the claim ``not run``."""
    if model_type is not None and not any(row["type"] == model_type for row in rows):
        raise MissingTable(f"no {model_type} in the grid")
    return best_model(rows, model_type, **how)


# --- the data (Sec. 3) -------------------------------------------------------------------


def corpus_size(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 3: the corpus sizes (WP against the published file's bytes, see the note)."""
    size = run.table(ds, "corpus")["bytes"]
    expected = paper.corpus_bytes[ds]
    counted = paper.characters[ds]
    note = (
        f"the paper counts {counted:,} characters, {expected - counted} fewer than the "
        "published file it used (char-rnn's warpeace_input.txt, CRLF line ends); the check "
        "is against that file"
        if expected != counted
        else ""
    )
    return Outcome(
        f"{size:,}",
        f"equals {expected:,}",
        size == expected,
        corpus_only_differences(run.config, ds, paper),
        note,
    )


def vocabulary_size(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 3: the number of distinct characters of each corpus."""
    symbols = run.table(ds, "corpus")["symbols"]
    return Outcome(
        str(symbols),
        "equal (distinct bytes of the corpus)",
        symbols == paper.symbols[ds],
        corpus_only_differences(run.config, ds, paper),
    )


def split_sizes(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 3: the train/val/test fractions of each corpus."""
    rows = run.table(ds, "splits")
    total = sum(row["characters"] for row in rows)
    fractions = [row["characters"] / total for row in rows]
    tolerance = paper.tolerances.split
    return Outcome(
        " / ".join(f"{row['split']} {row['characters']:,}" for row in rows)
        + f" ({' / '.join(pct(f) for f in fractions)})",
        f"each fraction within {100 * tolerance:g} points",
        close_all(fractions, paper.split[ds], tolerance),
        corpus_only_differences(run.config, ds, paper),
    )


def dominant_file(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 3: LK is many shuffled files; no single file should dominate the draw."""
    rows = corpus_files_kept(run.table(ds, "corpus_files"))
    total = sum(row["bytes"] for row in rows)
    largest = max(rows, key=lambda row: row["bytes"])
    share = largest["bytes"] / total
    straddling = [row["path"] for row in rows if "," in row["splits"]]
    return Outcome(
        f"{len(rows):,} files; largest {largest['path']} {pct(share)}; "
        f"{len(straddling)} straddle a split boundary ({', '.join(straddling) or 'none'})",
        f"largest file at most {pct(DOMINANT_FILE_SHARE)} of the corpus",
        share <= DOMINANT_FILE_SHARE,
        corpus_only_differences(run.config, ds, paper),
        "a file straddling a boundary lies in two splits (see corpus_files.csv)",
    )


def seed_spread(run: Run, ds: str, paper: Paper) -> Outcome:
    """How much the LK file draw moves the reference n-gram's loss, against the paper's."""
    losses = np.array([row["test_loss"] for row in run.table(ds, "ngram_seeds")])
    expected, tolerance = paper.ngram_loss[ds], paper.tolerances.loss
    low, high = float(losses.min()), float(losses.max())
    spread = float(losses.std(ddof=1)) if losses.size > 1 else 0.0
    return Outcome(
        f"{losses.mean():.4f} ± {spread:.4f} over {losses.size} seeds ({low:.4f} to {high:.4f})",
        f"{expected} within [lowest - {tolerance}, highest + {tolerance}]",
        low - tolerance <= expected <= high + tolerance,
        corpus_differences(run.config, ds, paper) + ngram_differences(run.config, paper),
    )


# --- the models' losses (Sec. 4.1, 4.3) ---------------------------------------------------


def parameter_budgets(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.1: the 1-layer LSTM of each budget has about the paper's parameter count."""
    counts = sorted(
        row["parameters"]
        for row in run.table(ds, "model_sizes")
        if row["type"] == "lstm" and row["layers"] == 1
    )
    budgets, tolerance = paper.budget_parameters, paper.tolerances.budget
    paired = len(counts) == len(budgets)
    passed = paired and all(
        abs(count - budget) / budget <= tolerance
        for count, budget in zip(counts, budgets, strict=True)
    )
    return Outcome(
        " / ".join(f"{count:,}" for count in counts),
        f"one 1-layer LSTM per budget, each within {pct(tolerance)} of the paper's",
        passed,
        grid_differences(run.config, ds, paper),
    )


def _reference_ngram(run: Run, ds: str) -> tuple[str, float, float]:
    model = plan.ngram_id(plan.reference_ngram(run.config))
    return (model, *_loss(run.table(ds, "baselines"), model))


def best_recurrent_loss(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.3: the best recurrent model's test loss is the paper's."""
    rows = run.table(ds, "test_losses")
    best = _best(rows)
    loss, std = _loss(rows, best)
    tolerance = paper.tolerances.loss
    return Outcome(
        f"{loss:.4f} ± {std:.4f} ({best})",
        f"within {tolerance} nats",
        abs(loss - paper.recurrent_loss[ds]) <= tolerance,
        model_differences(run.config, ds, paper),
    )


def reference_ngram_loss(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.3, Table 2: the reference n-gram's test loss is the paper's."""
    model, loss, std = _reference_ngram(run, ds)
    tolerance = paper.tolerances.loss
    return Outcome(
        f"{loss:.4f} ± {std:.4f} ({model})",
        f"within {tolerance} nats",
        abs(loss - paper.ngram_loss[ds]) <= tolerance,
        corpus_differences(run.config, ds, paper) + ngram_differences(run.config, paper),
    )


def recurrent_beats_ngram(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.3: the best recurrent model beats the reference n-gram."""
    rows = run.table(ds, "test_losses")
    best = _best(rows)
    loss, _ = _loss(rows, best)
    model, ngram, _ = _reference_ngram(run, ds)
    return Outcome(
        f"{loss:.4f} ({best}) vs {ngram:.4f} ({model})",
        "best recurrent loss < n-gram loss",
        loss < ngram,
        model_differences(run.config, ds, paper) + ngram_differences(run.config, paper),
    )


def depth_helps(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.1: depth of at least two is beneficial, a consistent finding."""
    cells: dict[tuple[str, str], dict[int, float]] = {}
    for row in run.table(ds, "test_losses"):
        cells.setdefault((row["type"], row["budget"]), {})[row["layers"]] = row["test_loss"]
    compared = [c for c in cells.values() if 1 in c and max(c) >= 2]
    if not compared:
        raise MissingTable("no (type, budget) with both 1 and 2+ layers in the grid")
    wins = sum(min(v for k, v in c.items() if k >= 2) < c[1] for c in compared)
    return Outcome(
        f"{wins} of {len(compared)} (type, budget) pairs",
        "in every (type, budget): best of 2+ layers < 1 layer",
        wins == len(compared),
        family_differences(run.config, ds, paper),
        tested_grid(run.config, ds, paper),
    )


def gated_beat_rnn(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.1: the LSTM and the GRU both significantly outperform the RNN, at every size and
    depth the run has (each compared with the RNN of its own budget and depth)."""
    cells: dict[tuple[str, int], dict[str, tuple[float, float]]] = {}
    for row in run.table(ds, "test_losses"):
        key = (row["budget"], row["layers"])
        cells.setdefault(key, {})[row["type"]] = (row["test_loss"], row["bootstrap_std"])
    for model_type in ("rnn", "lstm", "gru"):
        if not any(model_type in by_type for by_type in cells.values()):
            raise MissingTable(f"no {model_type} in the grid")
    margins: dict[str, list[float]] = {"lstm": [], "gru": []}
    for by_type in cells.values():
        if "rnn" not in by_type:
            continue
        rnn_loss, rnn_std = by_type["rnn"]
        for model_type, found in margins.items():
            if model_type in by_type:
                loss, std = by_type[model_type]
                spread = math.hypot(std, rnn_std)
                gap = rnn_loss - loss
                found.append(gap / spread if spread else math.copysign(math.inf, gap))
    if not margins["lstm"] or not margins["gru"]:
        raise MissingTable("no (budget, depth) with an RNN and a gated model of the same size")
    margin = paper.tolerances.clear_margin_stds
    return Outcome(
        ", ".join(
            f"{t.upper()} clearly ahead in {sum(g > margin for g in gaps)} of {len(gaps)} "
            f"(budget, depth) (smallest margin {min(gaps):+.1f} std)"
            for t, gaps in margins.items()
        ),
        f"in every (budget, depth): LSTM and GRU each below the RNN by > {margin:g} "
        "combined bootstrap std",
        all(gap > margin for gaps in margins.values() for gap in gaps),
        family_differences(run.config, ds, paper),
        tested_grid(run.config, ds, paper),
    )


# --- the baselines (Sec. 4.3, Table 2) ----------------------------------------------------


def _baseline_gaps(run: Run, ds: str, keep: Callable[[int], bool]) -> dict[int, float]:
    """n-NN minus n-gram test loss for every n both have and ``keep`` accepts."""
    losses: dict[str, dict[int, float]] = {"ngram": {}, "nnn": {}}
    for row in run.table(ds, "baselines"):
        losses[row["kind"]][row["n"]] = row["test_loss"]
    common = sorted(n for n in set(losses["ngram"]) & set(losses["nnn"]) if keep(n))
    if not common:
        raise MissingTable("no n of the wanted size with both an n-gram and an n-NN")
    return {n: losses["nnn"][n] - losses["ngram"][n] for n in common}


def _gap_text(gaps: Mapping[int, float]) -> str:
    return ", ".join(f"n={n}: n-NN - n-gram {gap:+.3f}" for n, gap in gaps.items())


def _nnn_note(config: Mapping[str, Any], ds: str, paper: Paper) -> str:
    """Which n-NNs the baseline claims were tested on."""
    sizes = ", ".join(str(h) for h in plan.nnn_hidden_sizes(config, ds))
    note = f"n-NN hidden size chosen on validation among {sizes}"
    if other_kernel(config, ds, paper):
        note += f"; {ds} from another kernel's files, as the paper's kind"
    return note


def ngram_matches_nnn_small_n(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.3: n-gram and n-NN perform nearly identically for small n."""
    small_n, nats = paper.tolerances.small_n, paper.tolerances.nearly_identical_nats
    gaps = _baseline_gaps(run, ds, lambda n: n <= small_n)
    return Outcome(
        _gap_text(gaps),
        f"|n-NN - n-gram| <= {nats} nats for every n <= {small_n}",
        all(abs(gap) <= nats for gap in gaps.values()),
        kind_differences(run.config, ds, paper) + nnn_differences(run.config, ds, paper),
        _nnn_note(run.config, ds, paper),
    )


def nnn_overfits_large_n(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.3: for larger n the n-NN overfits and the n-gram performs better."""
    large_n = paper.tolerances.large_n
    gaps = _baseline_gaps(run, ds, lambda n: n >= large_n)
    return Outcome(
        _gap_text(gaps),
        f"n-NN loss > n-gram loss for every n >= {large_n}",
        all(gap > 0 for gap in gaps.values()),
        kind_differences(run.config, ds, paper) + nnn_differences(run.config, ds, paper),
        _nnn_note(run.config, ds, paper),
    )


# --- agreement (Sec. 4.1, Fig. 1 right) ---------------------------------------------------


def agreement_silhouette(agreement: Mapping[str, Mapping[str, float]]) -> float:
    """Mean silhouette of the groups {LSTM, GRU} and {RNN} on the distance 1 - agreement.

    Positive when models agree more with their own group than with the other.
    """
    models = list(agreement)
    is_rnn = {m: m.startswith("rnn-") for m in models}
    values = []
    for model in models:
        own = [1 - agreement[model][o] for o in models if o != model and is_rnn[o] == is_rnn[model]]
        other = [1 - agreement[model][o] for o in models if is_rnn[o] != is_rnn[model]]
        if own and other:
            a, b = float(np.mean(own)), float(np.mean(other))
            values.append((b - a) / max(a, b) if max(a, b) > 0 else 0.0)
    if not values:
        raise MissingTable("the agreement table needs RNNs and gated models, two of one kind")
    return float(np.mean(values))


def agreement_clusters(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.1, Fig. 1 right: LSTMs and GRUs cluster together, the RNNs apart."""
    rows = run.table(ds, "agreement")
    matrix = {row["model"]: {k: v for k, v in row.items() if k != "model"} for row in rows}
    silhouette = agreement_silhouette(matrix)
    return Outcome(
        f"silhouette {silhouette:.3f} over {len(matrix)} models",
        "silhouette of {LSTM, GRU} against {RNN} on 1 - agreement > 0",
        silhouette > 0,
        model_differences(run.config, ds, paper),
    )


# --- gate saturation (Sec. 4.2, Fig. 3) ---------------------------------------------------


def _saturation(run: Run, ds: str, model_type: str) -> tuple[str, list[Row]]:
    """The best deepest model of a type (the one Figure 3 shows) and its saturation rows."""
    model = _best(run.table(ds, "test_losses"), model_type, deepest=True)
    rows = [row for row in run.table(ds, "gate_saturation") if row["model"] == model]
    if not rows:
        raise MissingTable(f"no saturation rows for {model}")
    return model, rows


def _gate(
    rows: Iterable[Row], gate: str, layer: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) saturated fractions of a gate's units, of one layer if given."""
    chosen = [r for r in rows if r["gate"] == gate and layer in (None, r["layer"])]
    if not chosen:
        raise MissingTable(f"no {gate} gate rows" + (f" in layer {layer}" if layer else ""))
    left = np.array([r["left_fraction"] for r in chosen])
    return left, np.array([r["right_fraction"] for r in chosen])


def forget_integrators(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.2: multiple forget gates are almost always right-saturated (integrators)."""
    model, rows = _saturation(run, ds, "lstm")
    _, right = _gate(rows, "f")
    almost_always = paper.tolerances.almost_always
    count = int((right >= almost_always).sum())
    return Outcome(
        f"{count} of {right.size} forget gates of {model}",
        f"at least 2 forget gates right-saturated on >= {pct(almost_always)} of steps",
        count >= 2,
        model_differences(run.config, ds, paper),
    )


def no_feedforward_cells(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.2: no forget gate is consistently left-saturated (no feed-forward cells)."""
    model, rows = _saturation(run, ds, "lstm")
    left, _ = _gate(rows, "f")
    almost_always = paper.tolerances.almost_always
    count = int((left >= almost_always).sum())
    return Outcome(
        f"{count} of {left.size} forget gates of {model} (highest {left.max():.3f})",
        f"no forget gate left-saturated on >= {pct(almost_always)} of steps",
        count == 0,
        model_differences(run.config, ds, paper),
    )


def first_layer_diffuse(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.2: in every LSTM the first layer's gates are more diffuse than the others'."""
    by_model: dict[str, dict[int, list[float]]] = {}
    for row in run.table(ds, "gate_saturation"):
        if row["model"].startswith("lstm-"):
            saturated = row["left_fraction"] + row["right_fraction"]
            by_model.setdefault(row["model"], {}).setdefault(row["layer"], []).append(saturated)
    holds = {}
    for model, layers in by_model.items():
        if len(layers) >= 2:
            first, *others = sorted(layers)
            holds[model] = np.mean(layers[first]) < min(np.mean(layers[k]) for k in others)
    if not holds:
        raise MissingTable("no LSTM with two or more layers in the saturation table")
    return Outcome(
        f"{sum(holds.values())} of {len(holds)} multi-layer LSTMs",
        "mean saturated fraction (left + right) of layer 1 below every other layer's",
        all(holds.values()),
        family_differences(run.config, ds, paper),
        tested_grid(run.config, ds, paper),
    )


def gru_first_layer(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.2: the GRU's first-layer r is nearly never right-saturated, z rarely left."""
    model, rows = _saturation(run, ds, "gru")
    first = min(row["layer"] for row in rows)
    _, r_right = _gate(rows, "r", first)
    z_left, _ = _gate(rows, "z", first)
    r_mean, z_mean = float(r_right.mean()), float(z_left.mean())
    rarely = paper.tolerances.rarely
    return Outcome(
        f"{model}: mean r right-saturated {r_mean:.3f}, mean z left-saturated {z_mean:.3f}",
        f"both means < {rarely}",
        r_mean < rarely and z_mean < rarely,
        model_differences(run.config, ds, paper),
    )


# --- the closing brace (Sec. 4.3, Fig. 5 left) --------------------------------------------


def brace_advantage(
    run: Run, ds: str, min_braces: int
) -> tuple[list[tuple[float, float]], str, str]:
    """(lower distance, LSTM minus n-gram mean p('}')) per bucket of at least ``min_braces``
    braces, and the two models."""
    rows = [r for r in run.table(ds, "closing_brace") if r["count"] >= min_braces]
    models = list(dict.fromkeys(row["model"] for row in rows))
    lstm = next((m for m in models if m.startswith("lstm-")), None)
    ngram = next((m for m in models if m.startswith("ngram-")), None)
    if lstm is None or ngram is None:
        raise MissingTable(f"no bucket of >= {min_braces} braces for an LSTM and an n-gram")
    means = {(r["model"], r["bucket"]): r["mean_p"] for r in rows}
    gaps = [
        (r["lower"], means[(lstm, r["bucket"])] - means[(ngram, r["bucket"])])
        for r in rows
        if r["model"] == lstm and (ngram, r["bucket"]) in means
    ]
    return gaps, lstm, ngram


def brace_lstm_wins(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.3, Fig. 5 left: the LSTM gives '}' more probability than the n-gram."""
    min_braces = paper.tolerances.min_braces
    gaps, lstm, ngram = brace_advantage(run, ds, min_braces)
    wins = sum(gap > 0 for _, gap in gaps)
    return Outcome(
        f"{lstm} ahead of {ngram} in {wins} of {len(gaps)} buckets",
        f"LSTM mean p('}}') > n-gram's in every bucket of >= {min_braces} braces",
        bool(gaps) and wins == len(gaps),
        family_differences(run.config, ds, paper) + ngram_differences(run.config, paper),
        tested_grid(run.config, ds, paper),
    )


def brace_peak(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.3: the LSTM's advantage on '}' peaks near the paper's distance, then decays."""
    min_braces = paper.tolerances.min_braces
    gaps, _, _ = brace_advantage(run, ds, min_braces)
    if len(gaps) < 3:
        raise MissingTable(f"fewer than 3 closing-brace buckets of >= {min_braces} braces")
    peak = max(range(len(gaps)), key=lambda i: gaps[i][1])
    lower, top = gaps[peak]
    last = gaps[-1][1]
    window = paper.tolerances.brace_peak_window
    low, high = paper.brace_peak - window, paper.brace_peak + window
    return Outcome(
        f"peak {top:+.3f} in the bucket from {lower:g} characters; last bucket {last:+.3f}",
        f"peak bucket starts in [{low}, {high}) characters and "
        "the last bucket's advantage is below the peak",
        low <= lower < high and peak < len(gaps) - 1,
        family_differences(run.config, ds, paper) + ngram_differences(run.config, paper),
        tested_grid(run.config, ds, paper),
    )


# --- training dynamics (Sec. 4.3, Fig. 5 right) -------------------------------------------


def dynamics_order(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.3, Fig. 5 right: in training the LSTM is closest to the n-NNs in increasing n."""
    by_iteration: dict[int, list[tuple[float, int]]] = {}
    for row in run.table(ds, "training_dynamics"):
        n = int(row["baseline"].split("-")[0])
        by_iteration.setdefault(row["iteration"], []).append((row["kl"], n))
    closest = [min(pairs)[1] for _, pairs in sorted(by_iteration.items())]
    first_visits = list(dict.fromkeys(closest))
    available = sorted({n for pairs in by_iteration.values() for _, n in pairs})
    differences = model_differences(run.config, ds, paper)
    if missing := sorted(paper.dynamics_nnn - set(available)):
        differences.append(f"no n-NN for n = {missing}")
    return Outcome(
        "closest n-NN per snapshot: " + " ".join(map(str, closest)),
        "the n-NNs become closest in increasing n, starting at the smallest",
        first_visits[0] == available[0] and first_visits == sorted(first_visits),
        differences,
    )


# --- the error oracles (Sec. 4.4, Fig. 6) -------------------------------------------------


@dataclass(frozen=True)
class OracleErrors:
    """One model's errors in ``oracles.csv``: total, test positions, per family."""

    model: str
    errors: int
    positions: int
    families: Mapping[str, int]

    @classmethod
    def of(cls, run: Run, ds: str, role: str) -> OracleErrors:
        rows = [row for row in run.table(ds, "oracles") if row["role"] == role]
        if not rows:
            raise MissingTable(f"no {role} model in the oracle table")
        families: dict[str, int] = {}
        for row in rows:
            families[row["family"]] = families.get(row["family"], 0) + row["errors_removed"]
        return cls(rows[0]["model"], sum(families.values()), rows[0]["test_positions"], families)


def error_rate(run: Run, ds: str, paper: Paper, role: str) -> Outcome:
    """Sec. 4.4: the share of test characters an oracle role's LSTM errs on."""
    found = OracleErrors.of(run, ds, role)
    rate = found.errors / found.positions
    tolerance = paper.tolerances.share
    return Outcome(
        f"{pct(rate)} ({found.errors:,} of {found.positions:,}, {found.model})",
        f"within {100 * tolerance:g} points",
        abs(rate - paper.error_rates[role]) <= tolerance,
        oracle_differences(run.config, ds, paper, role),
    )


def oracle_share(run: Run, ds: str, paper: Paper, family: str) -> Outcome:
    """Sec. 4.4: the share of the best LSTM's errors an oracle family removes."""
    found = OracleErrors.of(run, ds, "large")
    removed = found.families.get(family, 0)
    share = removed / found.errors if found.errors else 0.0
    tolerance = paper.tolerances.share
    return Outcome(
        f"{pct(share)} ({removed:,} of {found.errors:,}, {found.model})",
        f"within {100 * tolerance:g} points",
        abs(share - paper.oracle_shares[family]) <= tolerance,
        oracle_differences(run.config, ds, paper),
    )


def scaling_removes_ngram_errors(run: Run, ds: str, paper: Paper) -> Outcome:
    """Sec. 4.4: the n-gram family's share of the errors scaling up removes."""
    rows = {row["family"]: row for row in run.table(ds, "oracles_comparison")}
    if "total" not in rows:
        raise ValueError(f"the oracles_comparison table of {ds!r} has no total row")
    difference = rows["total"]["difference"]
    ngram = rows["ngram"]["difference"] if "ngram" in rows else 0
    share = ngram / difference if difference > 0 else 0.0
    tolerance = paper.tolerances.share
    return Outcome(
        f"{pct(share)} ({ngram:,} of {difference:,} fewer errors)",
        f"the large model errs less, n-gram share within {100 * tolerance:g} points",
        difference > 0 and abs(share - paper.scaling_ngram_share) <= tolerance,
        oracle_differences(run.config, ds, paper),
    )
