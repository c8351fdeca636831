"""The paper's numbers and the scorecard's tolerances, each written once.

``PAPER`` is what Karpathy, Johnson & Fei-Fei (2015) report and how they ran it (Sec. 3-4),
as far as a claim depends on it; ``PAPER.tolerances`` are the thresholds the checks apply.
A claim's text, its ``paper_value`` column and its check all read them from here
(``claims.paper_values`` and the checks' ``paper`` argument), so changing a number here changes
it everywhere, and no other module of the scorecard holds one of them (a test says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Tolerances:
    """Every threshold a check applies: how close counts as "the paper's value"."""

    #: A test loss matches the paper's within this many nats.
    loss: float = 0.05
    #: A share or rate (error rate, oracle share) matches within this (0.05: 5 points).
    share: float = 0.05
    #: A parameter count is "about" the paper's budget within this relative deviation.
    budget: float = 0.10
    #: A split fraction matches the paper's within this (absolute) deviation.
    split: float = 0.001
    #: "Clearly better": the loss gap exceeds this many combined bootstrap standard deviations.
    clear_margin_stds: float = 3.0
    #: n-gram and n-NN are "nearly identical" for n up to ``small_n``: within this many nats.
    small_n: int = 3
    nearly_identical_nats: float = 0.05
    #: The n-NN "overfits" for n from ``large_n`` on: worse than the n-gram of the same n.
    large_n: int = 5
    #: A gate is "almost always" saturated above this fraction of steps, "rarely" below RARELY.
    almost_always: float = 0.9
    rarely: float = 0.1
    #: A distance bucket of the closing-brace table counts only with this many braces.
    min_braces: int = 5
    #: "Up to about" the paper's peak distance: the peak bucket starts within this many
    #: characters of it (below it up to this many, above it less than this many).
    brace_peak_window: int = 20


@dataclass(frozen=True)
class Paper:
    """The paper's experiment and results, as far as the scorecard's claims depend on them.

    Per-dataset values are keyed by dataset name (``wp``: War and Peace, ``lk``: the Linux
    kernel); per-model values of Sec. 4.4 by oracle role (``large``: the best LSTM,
    ``small``: the best LSTM of the smallest budget).
    """

    # --- how the paper ran it (Sec. 3, 3.3, 4) ---
    corpus_sha256: Mapping[str, str]
    #: Bytes of the paper's corpus file where they differ from its count of ``characters``.
    published_bytes: Mapping[str, int]
    split: Mapping[str, tuple[float, ...]]
    #: Line ends of a corpus where the paper's file fixes them (char-rnn's WP file: CRLF).
    newlines: Mapping[str, str]
    #: The training recipe of Sec. 3.3 (the keys of the config's ``training`` section):
    #: 50 epochs, RMSProp at 2e-3 with decay 0.95, batches of 100 x 100, uniform init in
    #: [-0.08, 0.08], the rate multiplied by 0.95 each epoch after the 10th.
    recipe: Mapping[str, float] = field(
        default_factory=lambda: {
            "epochs": 50,
            "batch_size": 100,
            "seq_length": 100,
            "learning_rate": 0.002,
            "rmsprop_alpha": 0.95,
            "init_range": 0.08,
            "lr_decay": 0.95,
            "lr_decay_after": 10,
        }
    )
    types: frozenset[str] = frozenset({"rnn", "lstm", "gru"})
    layers: frozenset[int] = frozenset({1, 2, 3})
    budget_cells: frozenset[int] = frozenset({64, 128, 256, 512})
    #: Parameters of a 1-layer LSTM of each budget, as the paper rounds them.
    budget_parameters: tuple[int, ...] = (50_000, 130_000, 400_000, 1_300_000)
    reference_ngram: int = 20
    dynamics_nnn: frozenset[int] = frozenset({1, 2, 3, 4})
    oracle_ngram: tuple[int, ...] = tuple(range(1, 10))
    oracle_models: Mapping[str, str] = field(
        default_factory=lambda: {"large": "best", "small": "best-smallest"}
    )

    # --- what it reports ---
    #: Characters of each corpus as the paper counts them (Sec. 3).
    characters: Mapping[str, int] = field(
        default_factory=lambda: {"wp": 3_258_246, "lk": 6_206_996}
    )
    #: Distinct characters of each corpus (Sec. 3).
    symbols: Mapping[str, int] = field(default_factory=lambda: {"wp": 87, "lk": 101})
    #: Test loss (nats) of the best recurrent model and of the reference n-gram (Sec. 4.3).
    recurrent_loss: Mapping[str, float] = field(default_factory=lambda: {"wp": 1.077, "lk": 0.84})
    ngram_loss: Mapping[str, float] = field(default_factory=lambda: {"wp": 1.195, "lk": 0.889})
    #: Share of WP test characters each oracle role's LSTM errs on, and the count (Sec. 4.4).
    error_rates: Mapping[str, float] = field(default_factory=lambda: {"large": 0.42, "small": 0.56})
    errors: Mapping[str, int] = field(default_factory=lambda: {"large": 140_000, "small": 184_000})
    test_characters: int = 330_000
    #: Shares of the best LSTM's errors each oracle family removes (Sec. 4.4).
    oracle_shares: Mapping[str, float] = field(
        default_factory=lambda: {
            "ngram": 0.18,
            "memory": 0.06,
            "rare_words": 0.09,
            "word_model": 0.37,
        }
    )
    #: The errors scaling up removes, and the n-gram family's share of them (36K of 44K).
    scaling_errors: int = 44_000
    scaling_ngram_share: float = 0.81
    #: The LSTM's advantage on "}" grows up to about this many characters (Fig. 5 left).
    brace_peak: int = 60

    tolerances: Tolerances = field(default_factory=Tolerances)

    @property
    def corpus_bytes(self) -> dict[str, int]:
        """Bytes of each corpus the paper used: its character count, or its file's bytes."""
        return {ds: self.published_bytes.get(ds, count) for ds, count in self.characters.items()}


PAPER = Paper(
    # War and Peace as char-rnn publishes it (CRLF), and Linux 4.0 (April 2015), the
    # pipeline's stand-in for the paper's unnamed 2015 kernel.
    corpus_sha256={
        "wp": "0139dcd32c37853541e8710281c32d823bb8ea86a86578916305bad06e3da0ea",
        "lk": "0f2f7d44979bc8f71c4fc5d3308c03499c26a824dd311fdf6eef4dee0d7d5991",
    },
    # char-rnn's warpeace_input.txt, the file the paper used, has more bytes than the paper
    # counts characters (``characters``).
    published_bytes={"wp": 3_258_250},
    split={"wp": (0.8, 0.1, 0.1), "lk": (0.9, 0.05, 0.05)},
    newlines={"wp": "crlf"},
)
