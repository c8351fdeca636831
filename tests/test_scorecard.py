"""Scorecard: on synthetic tables shaped like the paper's results every claim is reproduced;
one change to a table flips its claim; a demo-like preset makes claims not comparable, a
missing table makes them not run; on the demo run the card is complete."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from visrnn.common.files import read_csv
from visrnn.figures.baselines import best_model_rows
from visrnn.scorecard import (
    NOT_COMPARABLE,
    NOT_REPRODUCED,
    NOT_RUN,
    PAPER,
    REPRODUCED,
    SCORECARD_COLUMNS,
    VERDICTS,
    Run,
    claims,
    corpus_differences,
    grid_differences,
    scorecard_markdown,
    scorecard_rows,
    training_differences,
)

REPO = Path(__file__).resolve().parents[1]
BUDGETS = {"50k": 64, "130k": 128, "400k": 256, "1.3m": 512}
PARAMETERS = {"50k": 50_500, "130k": 132_000, "400k": 405_000, "1.3m": 1_310_000}
BEST_LOSS = {"wp": 1.077, "lk": 0.84}
NGRAM_LOSS = {"wp": 1.195, "lk": 0.889}
LSTM, GRU = "lstm-3L-1.3m", "gru-3L-1.3m"


def paper_config() -> dict:
    datasets = {
        ds: {
            "source": {"sha256": PAPER.corpus_sha256[ds]},
            "split": list(PAPER.split[ds]),
            "code": ds == "lk",
            **({"newlines": "crlf"} if ds == "wp" else {"max_bytes": 6_206_996}),
        }
        for ds in ("wp", "lk")
    }
    return {
        "datasets": datasets,
        "grid": {"types": ["rnn", "lstm", "gru"], "layers": [1, 2, 3], "budgets": BUDGETS},
        "training": {"epochs": 50},
        "analysis": {
            "reference_ngram": 20,
            "oracles": {
                "models": {"large": "best", "small": "best-smallest"},
                "ngram": list(range(1, 10)),
            },
        },
    }


def _models() -> list[tuple[str, str, int, str]]:
    return [
        (f"{t}-{layers}L-{budget}", t, layers, budget)
        for t in ("rnn", "lstm", "gru")
        for layers in (1, 2, 3)
        for budget in BUDGETS
    ]


def _loss(ds: str, model_type: str, layers: int, budget_index: int) -> float:
    """Paper-like: gated models near the paper's best, the RNN far behind, depth helps."""
    offset = {"rnn": 0.2, "lstm": 0.0, "gru": 0.005}[model_type]
    return round(BEST_LOSS[ds] + offset + 0.01 * (3 - budget_index) + 0.03 * (layers == 1), 4)


def _dataset_tables(ds: str) -> dict[str, object]:
    models = _models()
    test_losses = [
        {
            "model": m,
            "type": t,
            "layers": str(layers),
            "budget": b,
            "parameters": str(PARAMETERS[b]),
            "test_loss": str(_loss(ds, t, layers, list(BUDGETS).index(b))),
            "bootstrap_std": "0.002",
        }
        for m, t, layers, b in models
    ]
    sizes = [{**row} for row in test_losses]
    baselines = []
    for n in (1, 2, 3, 5, 20):
        ngram = NGRAM_LOSS[ds] + 0.05 * (20 - n)
        baselines.append(
            {
                "kind": "ngram",
                "n": str(n),
                "model": f"ngram-{n}",
                "test_loss": str(ngram),
                "bootstrap_std": "0.002",
            }
        )
        nnn = ngram + (0.01 if n <= 3 else 0.1)
        baselines.append(
            {
                "kind": "nnn",
                "n": str(n),
                "model": f"nnn-{n}",
                "test_loss": str(nnn),
                "bootstrap_std": "0.002",
            }
        )
    names = [m for m, *_ in models]

    def agree(a: str, b: str) -> float:
        return 1.0 if a == b else 0.8 if a.startswith("rnn") == b.startswith("rnn") else 0.5

    agreement = [{"model": a, **{b: str(agree(a, b)) for b in names}} for a in names]
    saturation = []
    for layer in (1, 2, 3):
        for unit in range(10):
            for gate in ("i", "f", "o"):
                integrator = layer > 1 and gate == "f" and unit < 3
                left, right = (
                    (0.0, 0.95) if integrator else ((0.05, 0.05) if layer == 1 else (0.3, 0.4))
                )
                saturation.append(
                    {
                        "model": LSTM,
                        "layer": str(layer),
                        "gate": gate,
                        "unit": str(unit),
                        "left_fraction": str(left),
                        "right_fraction": str(right),
                    }
                )
            for gate in ("r", "z"):
                left, right = (0.02, 0.01) if layer == 1 else (0.4, 0.4)
                saturation.append(
                    {
                        "model": GRU,
                        "layer": str(layer),
                        "gate": gate,
                        "unit": str(unit),
                        "left_fraction": str(left),
                        "right_fraction": str(right),
                    }
                )
    dynamics = [
        {"iteration": str(it), "baseline": f"{n}-NN", "kl": str(abs(n - closest) + 0.1)}
        for it, closest in zip((1, 10, 100, 300, 700), (1, 1, 2, 3, 4), strict=True)
        for n in (1, 2, 3, 4)
    ]
    tables = {
        "corpus": {"bytes": PAPER.corpus_bytes[ds], "symbols": {"wp": 87, "lk": 101}[ds]},
        "splits": _splits(PAPER.corpus_bytes[ds], PAPER.split[ds]),
        "model_sizes": sizes,
        "test_losses": test_losses,
        "baselines": baselines,
        "agreement": agreement,
        "gate_saturation": saturation,
        "training_dynamics": dynamics,
    }
    if ds == "lk":
        tables["closing_brace"] = _braces([0.02, 0.1, 0.2, 0.15, 0.12, 0.1, 0.08, 0.06])
        size = PAPER.corpus_bytes[ds] // 100
        tables["corpus_files"] = [
            {"path": f"f{i}.c", "bytes": str(size), "splits": "train"} for i in range(100)
        ]
        tables["ngram_seeds"] = [
            {"seed": str(s), "test_loss": str(0.88 + 0.01 * s)} for s in range(3)
        ]
    else:
        tables["oracles"] = _oracles(
            "large",
            1400,
            {"ngram": 18, "memory": 6, "rare_words": 9, "word_model": 37, "boost": 30},
        )
        tables["oracles"] += _oracles(
            "small",
            1840,
            {"ngram": 33.3, "memory": 5, "rare_words": 8, "word_model": 30, "boost": 23.7},
        )
        tables["oracles_comparison"] = [
            {"family": "ngram", "difference": "36000"},
            {"family": "boost", "difference": "8000"},
            {"family": "total", "difference": "44000"},
        ]
    return tables


def _splits(total: int, fractions: tuple[float, ...]) -> list[dict[str, str]]:
    train, val = round(total * fractions[0]), round(total * fractions[1])
    sizes = {"train": train, "val": val, "test": total - train - val}
    return [{"split": split, "characters": str(size)} for split, size in sizes.items()]


def _braces(lstm_gaps: list[float]) -> list[dict[str, str]]:
    rows = []
    for i, gap in enumerate(lstm_gaps):
        for model, p in ((LSTM, 0.3 + gap), ("ngram-20", 0.3)):
            rows.append(
                {
                    "model": model,
                    "bucket": f"b{i}",
                    "lower": str(20 * i),
                    "count": "50",
                    "mean_p": str(p),
                }
            )
    return rows


def _oracles(role: str, scale: float, shares: dict[str, float]) -> list[dict[str, str]]:
    model = LSTM if role == "large" else "lstm-1L-50k"
    return [
        {
            "model": model,
            "role": role,
            "family": family,
            "errors_removed": str(round(share * scale)),
            "test_positions": "330000",
        }
        for family, share in shares.items()
    ]


def paper_run() -> Run:
    tables = {
        (ds, name): table for ds in ("wp", "lk") for name, table in _dataset_tables(ds).items()
    }
    return Run(paper_config(), tables)


def verdicts(run: Run) -> dict[str, str]:
    return {row["id"]: row["verdict"] for row in scorecard_rows(run)}


def test_paper_like_tables_reproduce_every_claim():
    rows = scorecard_rows(paper_run())
    assert [row["id"] for row in rows] == [claim.id for claim in claims()]
    assert len({row["id"] for row in rows}) == len(rows)
    failed = {
        row["id"]: (row["run_value"], row["note"]) for row in rows if row["verdict"] != REPRODUCED
    }
    assert failed == {}


def _set(ds: str, table: str, model: str, column: str, value: object, key: str = "model"):
    def change(run: Run) -> None:
        for row in run.tables[(ds, table)]:
            if row[key] == model:
                row[column] = str(value)

    return change


def _corpus(ds: str, key: str, value: int):
    def change(run: Run) -> None:
        run.tables[(ds, "corpus")][key] = value

    return change


def _gate(
    ds: str, model: str, layer: int | None, gate: str, column: str, value: float, units: int = 10
):
    def change(run: Run) -> None:
        for row in run.tables[(ds, "gate_saturation")]:
            chosen = row["model"] == model and row["gate"] == gate
            if chosen and layer in (None, int(row["layer"])) and int(row["unit"]) < units:
                row[column] = str(value)

    return change


def _replace(ds: str, table: str, rows: list[dict[str, str]]):
    def change(run: Run) -> None:
        run.tables[(ds, table)] = rows

    return change


def _all_losses(ds: str, delta: float):
    def change(run: Run) -> None:
        for row in run.tables[(ds, "test_losses")]:
            row["test_loss"] = str(float(row["test_loss"]) + delta)

    return change


def _dynamics(ds: str, closest: list[int]):
    return _replace(
        ds,
        "training_dynamics",
        [
            {"iteration": str(it), "baseline": f"{n}-NN", "kl": str(abs(n - c) + 0.1)}
            for it, c in enumerate(closest)
            for n in (1, 2, 3, 4)
        ],
    )


def _rnn_agrees_with_gated(run: Run) -> None:
    for row in run.tables[("wp", "agreement")]:
        for other in row:
            if other != "model" and row["model"].startswith("rnn") != other.startswith("rnn"):
                row[other] = "0.95"


def _saturated_first_layer(run: Run) -> None:
    for row in run.tables[("wp", "gate_saturation")]:
        if row["layer"] == "1":
            row["left_fraction"], row["right_fraction"] = "0.0", "0.99"


def _big_file(run: Run) -> None:
    run.tables[("lk", "corpus_files")][0]["bytes"] = str(PAPER.corpus_bytes["lk"] // 10)


FLIPS: dict[str, Callable[[Run], None]] = {
    "data.wp.characters": _corpus("wp", "bytes", 3_258_246),
    "data.lk.characters": _corpus("lk", "bytes", 6_000_000),
    "data.wp.symbols": _corpus("wp", "symbols", 86),
    "data.lk.symbols": _corpus("lk", "symbols", 98),
    "data.wp.split": _replace("wp", "splits", _splits(3_258_250, (0.7, 0.15, 0.15))),
    "data.lk.files": _big_file,
    "data.lk.seed_spread": _replace(
        "lk", "ngram_seeds", [{"test_loss": "1.0"}, {"test_loss": "1.02"}]
    ),
    "budgets.wp": _set("wp", "model_sizes", "lstm-1L-1.3m", "parameters", 2_000_000),
    "loss.wp.best_recurrent": _all_losses("wp", 0.1),
    "loss.lk.ngram": _set("lk", "baselines", "ngram-20", "test_loss", 0.95),
    "loss.wp.recurrent_beats_ngram": _set("wp", "baselines", "ngram-20", "test_loss", 1.05),
    "loss.lk.depth": _set("lk", "test_losses", "gru-1L-50k", "test_loss", 0.5),
    "loss.wp.gated_beat_rnn": _set("wp", "test_losses", "rnn-2L-1.3m", "test_loss", 1.081),
    "baselines.wp.small_n": _set("wp", "baselines", "nnn-2", "test_loss", 3.0),
    "baselines.lk.large_n": _set("lk", "baselines", "nnn-5", "test_loss", 0.5),
    "agreement.wp.clusters": _rnn_agrees_with_gated,
    "saturation.wp.integrators": _gate("wp", LSTM, None, "f", "right_fraction", 0.5),
    "saturation.lk.no_feedforward": _gate("lk", LSTM, 2, "f", "left_fraction", 0.95, units=1),
    "saturation.wp.first_layer": _saturated_first_layer,
    "saturation.lk.gru_first_layer": _gate("lk", GRU, 1, "r", "right_fraction", 0.5),
    "dynamics.wp.order": _dynamics("wp", [2, 1, 3, 4]),
    "brace.lk.lstm_wins": _replace("lk", "closing_brace", _braces([-0.01, 0.1, 0.2, 0.1])),
    "brace.lk.peak": _replace("lk", "closing_brace", _braces([0.02, 0.05, 0.08, 0.1, 0.15, 0.2])),
    "errors.wp.large_rate": _set("wp", "oracles", "large", "test_positions", 200_000, "role"),
    "errors.wp.share_ngram": _set("wp", "oracles", "lstm-3L-1.3m", "family", "boost"),
    "errors.wp.small_rate": _set("wp", "oracles", "small", "test_positions", 250_000, "role"),
    "errors.wp.scaling_ngram": _set(
        "wp", "oracles_comparison", "ngram", "difference", 20_000, "family"
    ),
}


@pytest.mark.parametrize("claim_id", sorted(FLIPS))
def test_one_change_flips_its_claim(claim_id):
    run = paper_run()
    FLIPS[claim_id](run)
    assert verdicts(run)[claim_id] == NOT_REPRODUCED


def test_every_claim_kind_has_a_flip():
    def kind(claim_id: str) -> tuple[str, str]:
        family, *rest = claim_id.split(".")  # family.dataset.name, or family.dataset
        return family, rest[1] if len(rest) > 1 else ""

    missing = {kind(claim.id) for claim in claims()} - {kind(c) for c in FLIPS}
    # The other oracle shares are computed by the same function as the n-gram share.
    assert missing <= {("errors", f"share_{f}") for f in ("memory", "rare_words", "word_model")}


def test_demo_like_preset_is_not_comparable_and_says_why():
    run = paper_run()
    run.config = copy.deepcopy(run.config)
    run.config["training"]["epochs"] = 2
    run.config["datasets"]["lk"]["max_bytes"] = 120_000
    rows = {row["id"]: row for row in scorecard_rows(run)}
    assert rows["loss.wp.best_recurrent"]["verdict"] == NOT_COMPARABLE
    assert "2 epochs (paper 50)" in rows["loss.wp.best_recurrent"]["note"]
    assert "check passes" in rows["loss.wp.best_recurrent"]["note"]
    assert rows["data.lk.characters"]["verdict"] == NOT_COMPARABLE
    assert rows["data.wp.characters"]["verdict"] == REPRODUCED  # WP data untouched


def test_missing_table_is_not_run():
    run = paper_run()
    del run.tables[("lk", "closing_brace")]
    del run.tables[("wp", "oracles")]
    found = verdicts(run)
    assert found["brace.lk.peak"] == found["errors.wp.share_memory"] == NOT_RUN
    assert found["brace.lk.lstm_wins"] == NOT_RUN and found["loss.wp.depth"] == REPRODUCED


def test_a_table_of_another_layout_is_not_run():
    run = paper_run()
    for row in run.tables[("wp", "training_dynamics")]:
        row["epoch"] = row.pop("iteration")
    row = next(r for r in scorecard_rows(run) if r["id"] == "dynamics.wp.order")
    assert row["verdict"] == NOT_RUN and "lacks column 'iteration'" in row["note"]


def test_a_grid_without_a_type_or_n_leaves_its_claims_not_run():
    run = paper_run()
    losses = run.tables[("wp", "test_losses")]
    run.tables[("wp", "test_losses")] = [row for row in losses if row["type"] == "lstm"]
    baselines = run.tables[("lk", "baselines")]
    run.tables[("lk", "baselines")] = [row for row in baselines if row["n"] != "20"]
    found = verdicts(run)
    assert found["loss.wp.gated_beat_rnn"] == found["saturation.wp.gru_first_layer"] == NOT_RUN
    assert found["loss.lk.ngram"] == found["loss.lk.recurrent_beats_ngram"] == NOT_RUN
    assert found["loss.wp.best_recurrent"] == found["saturation.wp.integrators"] == REPRODUCED


def test_the_paper_config_is_the_paper_preset():
    """config.yaml is what the scorecard calls the paper's experiment."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    for ds in ("wp", "lk"):
        assert corpus_differences(config, ds) == []
    assert grid_differences(config) == training_differences(config) == []


def test_markdown_counts_verdicts():
    rows = scorecard_rows(paper_run())
    text = scorecard_markdown(rows)
    assert f"{len(rows)} reproduced, 0 not reproduced" in text
    assert text.count("\n| ") == len(rows) + 1


@pytest.mark.e2e
def test_demo_run_scorecard(demo_run):
    """The demo's card has every claim, and its tiny preset makes none of them 'reproduced'."""
    rows = read_csv(demo_run / "results" / "scorecard.csv")
    assert list(rows[0]) == list(SCORECARD_COLUMNS)
    assert [row["id"] for row in rows] == [claim.id for claim in claims()]
    found = [row["verdict"] for row in rows]
    assert set(found) <= set(VERDICTS)
    assert REPRODUCED not in found and NOT_REPRODUCED not in found
    assert found.count(NOT_COMPARABLE) > len(found) / 2
    assert "not comparable" in (demo_run / "results" / "scorecard.md").read_text()


def test_best_model_rows_name_every_role():
    tables = _dataset_tables("wp")
    rows = best_model_rows(tables["test_losses"], tables["baselines"])
    by_role = {row["role"]: row["model"] for row in rows}
    assert by_role == {
        "best recurrent model": "lstm-2L-1.3m",  # 2 and 3 layers tie: the first listed
        "best LSTM": "lstm-2L-1.3m",
        "best GRU": "gru-2L-1.3m",
        "best RNN": "rnn-2L-1.3m",
        "best deepest LSTM": LSTM,
        "best deepest GRU": GRU,
        "best LSTM of the smallest budget": "lstm-2L-50k",
        "best n-gram": "ngram-20",
        "best n-NN": "nnn-20",
    }
    lstm_only = [row for row in tables["test_losses"] if row["type"] == "lstm"]
    roles = [row["role"] for row in best_model_rows(lstm_only, [])]
    assert "best GRU" not in roles and "best n-gram" not in roles and "best LSTM" in roles
