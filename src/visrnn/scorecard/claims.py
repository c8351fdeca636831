"""The claims: a declarative table of what the paper says and which check tests it.

Each ``ClaimSpec`` gives the claim's id, section, text and ``paper_value`` as templates, the
tables its check reads, and the check (``checks``). The templates' fields are filled from
``paper_values``, which formats the numbers of ``paper.PAPER``: a number of the paper is
written once, there, and the claim's text, its ``paper_value`` and its check all follow it.

To add a claim:

1. put the paper's numbers it needs in ``paper.Paper`` (thresholds in ``paper.Tolerances``),
   and a name for them in ``paper_values`` if its text shows them;
2. write its check in ``checks``: ``check(run, ds, paper, **params) -> Outcome``, raising
   ``MissingTable`` where the run lacks what the claim is about;
3. list the columns it reads of a table in ``tables.COLUMNS`` if they are not there yet;
4. add a ``ClaimSpec`` to a block of ``CLAIMS`` (a block's claims are made for each of its
   datasets in turn, in the order the scorecard lists them), with a ``rule`` if its verdict
   follows another rule than ``verdicts.verdict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from visrnn.data.corpora import DOMINANT_FILE_SHARE
from visrnn.scorecard import checks
from visrnn.scorecard.checks import Check, pct
from visrnn.scorecard.paper import PAPER, Paper
from visrnn.scorecard.tables import MissingTable, Run
from visrnn.scorecard.verdicts import NOT_RUN, Outcome, VerdictRule, verdict
from visrnn.scoring.choice import ERROR_THRESHOLD

#: How a claim's text names each corpus.
CORPUS_NAMES = {"wp": "War and Peace", "lk": "the Linux corpus"}


def _count(n: int) -> str:
    """A round count as the paper writes it: 50_000 -> 50K, 1_300_000 -> 1.3M."""
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}K"


def _whole_pct(share: float) -> str:
    """A share as the paper writes it: 0.42 -> 42%."""
    return f"{100 * share:g}%"


def paper_values(paper: Paper, ds: str, **params: Any) -> dict[str, Any]:
    """The fields a claim's templates may name, for dataset ``ds`` and the claim's params."""
    nnn = sorted(paper.dynamics_nnn)
    split = [f"{100 * fraction:g}" for fraction in paper.split[ds]]
    values: dict[str, Any] = {
        "ds": ds,
        "DS": ds.upper(),
        "corpus": CORPUS_NAMES[ds],
        "characters": f"{paper.characters[ds]:,}",
        "symbols": paper.symbols[ds],
        "split": " / ".join(split),
        "split_compact": "/".join(split),
        "dominant_share": pct(DOMINANT_FILE_SHARE),
        "n": paper.reference_ngram,
        "recurrent_loss": paper.recurrent_loss[ds],
        "ngram_loss": paper.ngram_loss[ds],
        "budget_cells": "/".join(str(cells) for cells in sorted(paper.budget_cells)),
        "budget_parameters": "/".join(_count(p) for p in paper.budget_parameters),
        "budget_parameters_spaced": " / ".join(_count(p) for p in paper.budget_parameters),
        "nnn_first": nnn[0],
        "nnn_later": ", ".join(f"{n}-" for n in nnn[1:]),
        "nnn_order": " -> ".join(map(str, nnn)),
        "brace_peak": paper.brace_peak,
        "error_threshold": f"{ERROR_THRESHOLD:g}",
        "test_characters": _count(paper.test_characters),
        "scaling_share": _whole_pct(paper.scaling_ngram_share),
        "scaling_errors": _count(paper.scaling_errors),
        **params,
    }
    if "role" in params:
        values["error_rate"] = _whole_pct(paper.error_rates[params["role"]])
        values["errors"] = _count(paper.errors[params["role"]])
    if "family" in params:
        values["family_name"] = params["family"].replace("_", " ")
        values["oracle_share"] = pct(paper.oracle_shares[params["family"]])
    return values


@dataclass(frozen=True)
class ClaimSpec:
    """A row of the claim table: templates of the claim's id, text and paper value (fields of
    ``paper_values``), the tables its check reads, the check and its params.

    ``each`` = (param, Paper field) makes one claim per key of that field of the paper, passed
    to the check (and the templates) as ``param``: one claim per oracle family. ``rule`` turns
    the check's outcome into a verdict (``verdicts.verdict`` by default).
    """

    id: str
    section: str
    text: str
    paper_value: str
    tables: tuple[str, ...]
    check: Check
    params: Mapping[str, Any] = field(default_factory=dict)
    each: tuple[str, str] | None = None
    rule: VerdictRule = verdict


@dataclass(frozen=True)
class Block:
    """Claims made for each of ``datasets`` in turn."""

    datasets: tuple[str, ...]
    specs: tuple[ClaimSpec, ...]


WP, LK, BOTH = ("wp",), ("lk",), ("wp", "lk")
_SAT = ("test_losses", "gate_saturation")

#: Every claim the scorecard checks, in the paper's order.
CLAIMS: tuple[Block, ...] = (
    # --- the data (Sec. 3) ---
    Block(
        BOTH,
        (
            ClaimSpec(
                "data.{ds}.characters",
                "Sec. 3",
                "{corpus} has {characters} characters",
                "{characters}",
                ("corpus",),
                checks.corpus_size,
            ),
        ),
    ),
    Block(
        BOTH,
        (
            ClaimSpec(
                "data.{ds}.symbols",
                "Sec. 3",
                "the {DS} vocabulary has {symbols} characters",
                "{symbols}",
                ("corpus",),
                checks.vocabulary_size,
            ),
        ),
    ),
    Block(
        BOTH,
        (
            ClaimSpec(
                "data.{ds}.split",
                "Sec. 3",
                "{DS} split train/val/test {split_compact}",
                "{split}",
                ("splits",),
                checks.split_sizes,
            ),
        ),
    ),
    Block(
        LK,
        (
            ClaimSpec(
                "data.{ds}.files",
                "Sec. 3",
                "{DS}: all header and source files shuffled and concatenated (no file dominates)",
                "no file over {dominant_share} (implied)",
                ("corpus_files",),
                checks.dominant_file,
            ),
            ClaimSpec(
                "data.{ds}.seed_spread",
                "Sec. 4.3, Table 2",
                "{n}-gram test loss on {DS}, over shuffle seeds of the file draw",
                "{ngram_loss}",
                ("ngram_seeds",),
                checks.seed_spread,
            ),
        ),
    ),
    # --- the models and baselines, on each corpus (Sec. 4.1-4.3) ---
    Block(
        BOTH,
        (
            ClaimSpec(
                "budgets.{ds}",
                "Sec. 4.1",
                "1-layer LSTMs of {budget_cells} cells have about {budget_parameters} parameters",
                "{budget_parameters_spaced}",
                ("model_sizes",),
                checks.parameter_budgets,
            ),
            ClaimSpec(
                "loss.{ds}.best_recurrent",
                "Sec. 4.3, Fig. 1",
                "test loss of the best recurrent model on {DS}",
                "{recurrent_loss}",
                ("test_losses",),
                checks.best_recurrent_loss,
            ),
            ClaimSpec(
                "loss.{ds}.ngram",
                "Sec. 4.3, Table 2",
                "test loss of the {n}-gram on {DS}",
                "{ngram_loss}",
                ("baselines",),
                checks.reference_ngram_loss,
            ),
            ClaimSpec(
                "loss.{ds}.recurrent_beats_ngram",
                "Sec. 4.3",
                "the best recurrent model beats the {n}-gram on {DS}",
                "{recurrent_loss} < {ngram_loss}",
                ("test_losses", "baselines"),
                checks.recurrent_beats_ngram,
            ),
            ClaimSpec(
                "loss.{ds}.depth",
                "Sec. 4.1, Fig. 1",
                "depth of at least two is beneficial (consistent finding)",
                "every type and size",
                ("test_losses",),
                checks.depth_helps,
            ),
            ClaimSpec(
                "loss.{ds}.gated_beat_rnn",
                "Sec. 4.1, Fig. 1",
                "the LSTM and the GRU both significantly outperform the RNN",
                "both clearly",
                ("test_losses",),
                checks.gated_beat_rnn,
            ),
            ClaimSpec(
                "baselines.{ds}.small_n",
                "Sec. 4.3, Table 2",
                "n-gram and n-NN perform nearly identically for small n",
                "nearly identical",
                ("baselines",),
                checks.ngram_matches_nnn_small_n,
            ),
            ClaimSpec(
                "baselines.{ds}.large_n",
                "Sec. 4.3, Table 2",
                "for larger n the n-NN overfits and the n-gram performs better",
                "n-gram better",
                ("baselines",),
                checks.nnn_overfits_large_n,
            ),
            ClaimSpec(
                "agreement.{ds}.clusters",
                "Sec. 4.1, Fig. 1 right",
                "LSTMs and GRUs make similar predictions, the RNNs form their own cluster",
                "two clusters",
                ("agreement",),
                checks.agreement_clusters,
            ),
            ClaimSpec(
                "saturation.{ds}.integrators",
                "Sec. 4.2, Fig. 3",
                "multiple forget gates are almost always right-saturated (integrators)",
                "multiple",
                _SAT,
                checks.forget_integrators,
            ),
            ClaimSpec(
                "saturation.{ds}.no_feedforward",
                "Sec. 4.2, Fig. 3",
                "no forget gate is consistently left-saturated (no feed-forward cell)",
                "none",
                _SAT,
                checks.no_feedforward_cells,
            ),
            ClaimSpec(
                "saturation.{ds}.first_layer",
                "Sec. 4.2, Fig. 3",
                "the first layer is much more diffuse than the others, in all models",
                "all models",
                ("gate_saturation",),
                checks.first_layer_diffuse,
            ),
            ClaimSpec(
                "saturation.{ds}.gru_first_layer",
                "Sec. 4.2, Fig. 3",
                "GRU layer 1: r nearly never right-saturated, z rarely left-saturated "
                "(z in the paper's convention)",
                "r right ~ 0, z left ~ 0",
                _SAT,
                checks.gru_first_layer,
            ),
            ClaimSpec(
                "dynamics.{ds}.order",
                "Sec. 4.3, Fig. 5 right",
                "early in training the LSTM is closest to the {nnn_first}-NN, then the "
                "{nnn_later}NN",
                "{nnn_order}",
                ("training_dynamics",),
                checks.dynamics_order,
            ),
        ),
    ),
    # --- the closing brace on code (Sec. 4.3, Fig. 5 left) ---
    Block(
        LK,
        (
            ClaimSpec(
                "brace.{ds}.lstm_wins",
                "Sec. 4.3, Fig. 5 left",
                "the LSTM predicts '}}' better than the {n}-gram at every distance",
                "every distance",
                ("closing_brace",),
                checks.brace_lstm_wins,
            ),
            ClaimSpec(
                "brace.{ds}.peak",
                "Sec. 4.3, Fig. 5 left",
                "the LSTM's advantage on '}}' grows up to about {brace_peak} characters, "
                "then decays",
                "peak near {brace_peak}",
                ("closing_brace",),
                checks.brace_peak,
            ),
        ),
    ),
    # --- the error oracles on prose (Sec. 4.4, Fig. 6) ---
    Block(
        WP,
        (
            ClaimSpec(
                "errors.{ds}.large_rate",
                "Sec. 4.4, Fig. 6",
                "the best LSTM errs (p < {error_threshold}) on {error_rate} of the test characters",
                "{error_rate} ({errors} of {test_characters})",
                ("oracles",),
                checks.error_rate,
                params={"role": "large"},
            ),
            ClaimSpec(
                "errors.{ds}.share_{family}",
                "Sec. 4.4, Fig. 6",
                "the {family_name} oracle removes this share of its errors",
                "{oracle_share}",
                ("oracles",),
                checks.oracle_share,
                each=("family", "oracle_shares"),
            ),
            ClaimSpec(
                "errors.{ds}.small_rate",
                "Sec. 4.4, Fig. 6",
                "the best LSTM of the smallest budget errs on {error_rate} of the test characters",
                "{error_rate} ({errors})",
                ("oracles",),
                checks.error_rate,
                params={"role": "small"},
            ),
            ClaimSpec(
                "errors.{ds}.scaling_ngram",
                "Sec. 4.4, Fig. 6",
                "of the errors the large LSTM avoids over the small one, {scaling_share} are "
                "n-gram errors",
                "{scaling_share} of {scaling_errors}",
                ("oracles_comparison",),
                checks.scaling_removes_ngram_errors,
            ),
        ),
    ),
)


@dataclass(frozen=True)
class Claim:
    """One claim of the paper on one dataset: its scorecard text, and how to check it."""

    id: str
    section: str
    claim: str
    paper_value: str
    ds: str
    tables: tuple[str, ...]
    check: Check
    params: Mapping[str, Any]
    paper: Paper
    rule: VerdictRule = verdict

    def outcome(self, run: Run) -> Outcome:
        """What the check finds on ``run``, reading only the tables this claim declares."""
        reading = run.only((self.ds, name) for name in self.tables)
        return self.check(reading, self.ds, self.paper, **self.params)

    def row(self, run: Run) -> dict[str, str]:
        """This claim's scorecard row for ``run``: ``not run`` when a table is missing."""
        base = {
            "id": self.id,
            "section": self.section,
            "claim": self.claim,
            "paper_value": self.paper_value,
        }
        try:
            outcome = self.outcome(run)
        except MissingTable as missing:
            return {**base, "run_value": "", "check": "", "verdict": NOT_RUN, "note": str(missing)}
        result, why = self.rule(outcome.passed, outcome.differences)
        return {
            **base,
            "run_value": outcome.run_value,
            "check": outcome.check,
            "verdict": result,
            "note": "; ".join(filter(None, [outcome.note, why])),
        }


def expand(spec: ClaimSpec, ds: str, paper: Paper) -> list[Claim]:
    """The claims ``spec`` makes on dataset ``ds``: one, or one per key of its ``each``."""
    if spec.each is None:
        param_sets = [dict(spec.params)]
    else:
        name, paper_field = spec.each
        param_sets = [{**spec.params, name: key} for key in getattr(paper, paper_field)]
    made = []
    for params in param_sets:
        values = paper_values(paper, ds, **params)
        made.append(
            Claim(
                spec.id.format(**values),
                spec.section,
                spec.text.format(**values),
                spec.paper_value.format(**values),
                ds,
                spec.tables,
                spec.check,
                params,
                paper,
                spec.rule,
            )
        )
    return made


def claims(paper: Paper = PAPER, table: tuple[Block, ...] = CLAIMS) -> list[Claim]:
    """Every claim the scorecard checks, in the paper's order, with ``paper``'s numbers."""
    return [
        claim
        for block in table
        for ds in block.datasets
        for spec in block.specs
        for claim in expand(spec, ds, paper)
    ]


def scorecard_rows(run: Run, paper: Paper = PAPER) -> list[dict[str, str]]:
    """The scorecard of ``run``: one row per claim, keyed by ``SCORECARD_COLUMNS``."""
    return [claim.row(run) for claim in claims(paper)]
