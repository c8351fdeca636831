"""Scorecard: on synthetic tables shaped like the paper's results every claim is reproduced;
one change to a table flips its claim; a demo-like preset makes claims not comparable, a
missing table makes them not run, a missing column is an error and a bug propagates; the
paper's numbers are written once; on the demo run the card is complete."""

from __future__ import annotations

import ast
import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from visrnn.common.files import read_table, write_csv
from visrnn.figures.baselines import best_model_rows
from visrnn.scorecard.claims import CLAIMS, Block, claims, scorecard_rows
from visrnn.scorecard.differences import (
    corpus_differences,
    grid_differences,
    training_differences,
)
from visrnn.scorecard.paper import PAPER, Paper
from visrnn.scorecard.render import scorecard_markdown
from visrnn.scorecard.tables import COLUMNS, MissingColumn, Run
from visrnn.scorecard.verdicts import (
    NOT_COMPARABLE,
    NOT_REPRODUCED,
    NOT_RUN,
    REPRODUCED,
    SCORECARD_COLUMNS,
    VERDICTS,
    Outcome,
    verdict,
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
        "grid": {
            "types": ["rnn", "lstm", "gru"],
            "layers": [1, 2, 3],
            "budgets": BUDGETS,
            "dropouts": [0.0, 0.25, 0.5],
        },
        "training": dict(PAPER.recipe),
        "baselines": {"nnn": {"hidden_sizes": [128, 256, 512]}},
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


#: A run's tables as the tests write them: (dataset, name) -> rows of strings, or a record.
Tables = dict[tuple[str, str], Any]


def paper_tables() -> Tables:
    return {(ds, name): table for ds in ("wp", "lk") for name, table in _dataset_tables(ds).items()}


def paper_run(*changes: Callable[[Tables], None], config: dict | None = None) -> Run:
    """The paper-like run, after ``changes`` to its tables."""
    tables = paper_tables()
    for change in changes:
        change(tables)
    return Run.of(config or paper_config(), tables)


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
    def change(tables: Tables) -> None:
        for row in tables[(ds, table)]:
            if row[key] == model:
                row[column] = str(value)

    return change


def _corpus(ds: str, key: str, value: int):
    def change(tables: Tables) -> None:
        tables[(ds, "corpus")][key] = value

    return change


def _gate(
    ds: str, model: str, layer: int | None, gate: str, column: str, value: float, units: int = 10
):
    def change(tables: Tables) -> None:
        for row in tables[(ds, "gate_saturation")]:
            chosen = row["model"] == model and row["gate"] == gate
            if chosen and layer in (None, int(row["layer"])) and int(row["unit"]) < units:
                row[column] = str(value)

    return change


def _replace(ds: str, table: str, rows: list[dict[str, str]]):
    def change(tables: Tables) -> None:
        tables[(ds, table)] = rows

    return change


def _all_losses(ds: str, delta: float):
    def change(tables: Tables) -> None:
        for row in tables[(ds, "test_losses")]:
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


def _rnn_agrees_with_gated(tables: Tables) -> None:
    for row in tables[("wp", "agreement")]:
        for other in row:
            if other != "model" and row["model"].startswith("rnn") != other.startswith("rnn"):
                row[other] = "0.95"


def _saturated_first_layer(tables: Tables) -> None:
    for row in tables[("wp", "gate_saturation")]:
        if row["layer"] == "1":
            row["left_fraction"], row["right_fraction"] = "0.0", "0.99"


def _big_file(tables: Tables) -> None:
    tables[("lk", "corpus_files")][0]["bytes"] = str(PAPER.corpus_bytes["lk"] // 10)


FLIPS: dict[str, Callable[[Tables], None]] = {
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
    assert verdicts(paper_run(FLIPS[claim_id]))[claim_id] == NOT_REPRODUCED


def test_every_claim_kind_has_a_flip():
    def kind(claim_id: str) -> tuple[str, str]:
        family, *rest = claim_id.split(".")  # family.dataset.name, or family.dataset
        return family, rest[1] if len(rest) > 1 else ""

    missing = {kind(claim.id) for claim in claims()} - {kind(c) for c in FLIPS}
    # The other oracle shares are computed by the same function as the n-gram share.
    assert missing <= {("errors", f"share_{f}") for f in ("memory", "rare_words", "word_model")}


def test_demo_like_preset_is_not_comparable_and_says_why():
    config = paper_config()
    config["training"]["epochs"] = 2
    config["datasets"]["lk"]["max_bytes"] = 120_000
    rows = {row["id"]: row for row in scorecard_rows(paper_run(config=config))}
    assert rows["loss.wp.best_recurrent"]["verdict"] == NOT_COMPARABLE
    assert "2 epochs (paper 50)" in rows["loss.wp.best_recurrent"]["note"]
    assert "check passes" in rows["loss.wp.best_recurrent"]["note"]
    assert rows["data.lk.characters"]["verdict"] == NOT_COMPARABLE
    assert rows["data.wp.characters"]["verdict"] == REPRODUCED  # WP data untouched


def test_a_file_the_filter_dropped_does_not_dominate_the_corpus():
    """corpus_files.csv lists dropped files after the corpus's, in no split: they are not
    part of the draw the claim is about."""

    def dropped_giant(tables: Tables) -> None:
        tables[("lk", "corpus_files")].append(
            {"path": "asic_reg/big.h", "bytes": str(10**8), "splits": "", "dropped": "exclude"}
        )

    assert verdicts(paper_run(dropped_giant))["data.lk.files"] == REPRODUCED
    assert verdicts(paper_run(dropped_giant, _big_file))["data.lk.files"] == NOT_REPRODUCED


def test_missing_table_is_not_run():
    def drop(tables: Tables) -> None:
        del tables[("lk", "closing_brace")]
        del tables[("wp", "oracles")]

    found = verdicts(paper_run(drop))
    assert found["brace.lk.peak"] == found["errors.wp.share_memory"] == NOT_RUN
    assert found["brace.lk.lstm_wins"] == NOT_RUN and found["loss.wp.depth"] == REPRODUCED


def test_a_table_of_another_layout_is_an_error_naming_table_and_column():
    def rename(tables: Tables) -> None:
        for row in tables[("wp", "training_dynamics")]:
            row["epoch"] = row.pop("iteration")

    with pytest.raises(
        MissingColumn, match=r"training_dynamics table of dataset 'wp'.*'iteration'"
    ):
        paper_run(rename)


def test_a_missing_column_on_disk_names_the_file(tmp_path):
    path = tmp_path / "baselines.csv"
    path.write_text("kind,n,model,test_loss\nngram,1,ngram-1,2.0\n")
    with pytest.raises(MissingColumn, match=r"baselines.csv\).*'bootstrap_std'"):
        Run.from_paths(paper_config(), {"wp": {"baselines": path}})
    json_path = tmp_path / "corpus.json"
    json_path.write_text('{"bytes": 10}')
    with pytest.raises(MissingColumn, match="'symbols'"):
        Run.from_paths(paper_config(), {"wp": {"corpus": json_path}})


def test_a_bug_in_a_check_propagates():
    """Only a missing table means "not run": an error in a check is no verdict."""
    claim = next(c for c in claims() if c.id == "loss.wp.depth")

    def buggy(run: Run, ds: str, paper: Paper) -> Outcome:
        return Outcome(str(run.table(ds, "test_losses")[0]["no such column"]), "", True)

    with pytest.raises(KeyError, match="no such column"):
        dataclasses.replace(claim, check=buggy).row(paper_run())

    def divides(run: Run, ds: str, paper: Paper) -> Outcome:
        raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        dataclasses.replace(claim, check=divides).row(paper_run())


def test_a_check_reads_only_the_tables_its_claim_declares():
    claim = next(c for c in claims() if c.id == "loss.wp.depth")

    def reads_more(run: Run, ds: str, paper: Paper) -> Outcome:
        run.table(ds, "baselines")
        return Outcome("", "", True)

    with pytest.raises(RuntimeError, match="does not declare"):
        dataclasses.replace(claim, check=reads_more).row(paper_run())
    declared = {name for block in CLAIMS for spec in block.specs for name in spec.tables}
    assert declared == set(COLUMNS)


def test_tables_on_disk_read_with_their_types(tmp_path):
    """The CSV files give the same typed rows as the tables in memory, hence the same card."""
    tables = paper_tables()
    paths: dict[str, dict[str, Path]] = {}
    for (ds, name), table in tables.items():
        path = tmp_path / ds / f"{name}.csv"
        path.parent.mkdir(exist_ok=True)
        if isinstance(table, dict):
            path = path.with_suffix(".json")
            path.write_text(json.dumps(table))
        else:
            write_csv(path, table, list(table[0]))
        paths.setdefault(ds, {})[name] = path
    on_disk = Run.from_paths(paper_config(), paths)
    assert on_disk.tables == Run.of(paper_config(), tables).tables
    losses = on_disk.table("wp", "test_losses")
    assert isinstance(losses[0]["layers"], int) and isinstance(losses[0]["test_loss"], float)
    assert scorecard_rows(on_disk) == scorecard_rows(paper_run())


def test_an_empty_bucket_reads_as_nan(tmp_path):
    path = tmp_path / "closing_brace.csv"
    path.write_text("model,bucket,lower,upper,count,mean_p\nlstm-1L-1k,1-20,0,20,0,nan\n")
    (row,) = Run.from_paths(paper_config(), {"lk": {"closing_brace": path}}).table(
        "lk", "closing_brace"
    )
    assert row["count"] == 0 and math.isnan(row["mean_p"])


def test_a_grid_without_a_type_or_n_leaves_its_claims_not_run():
    def shrink(tables: Tables) -> None:
        losses = tables[("wp", "test_losses")]
        tables[("wp", "test_losses")] = [row for row in losses if row["type"] == "lstm"]
        baselines = tables[("lk", "baselines")]
        tables[("lk", "baselines")] = [row for row in baselines if row["n"] != "20"]

    found = verdicts(paper_run(shrink))
    assert found["loss.wp.gated_beat_rnn"] == found["saturation.wp.gru_first_layer"] == NOT_RUN
    assert found["loss.lk.ngram"] == found["loss.lk.recurrent_beats_ngram"] == NOT_RUN
    assert found["loss.wp.best_recurrent"] == found["saturation.wp.integrators"] == REPRODUCED


def test_the_paper_config_is_the_paper_preset():
    """config.yaml is what the scorecard calls the paper's experiment."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    for ds in ("wp", "lk"):
        assert corpus_differences(config, ds) == []
    assert training_differences(config) == []
    for ds in ("wp", "lk"):
        assert grid_differences(config, ds) == []


def test_markdown_counts_verdicts():
    rows = scorecard_rows(paper_run())
    text = scorecard_markdown(rows)
    assert f"{len(rows)} reproduced, 0 not reproduced" in text
    assert text.count("\n| ") == len(rows) + 1


@pytest.mark.e2e
def test_demo_run_scorecard(demo_run):
    """The demo's card has every claim, and its tiny preset makes none of them 'reproduced'."""
    rows = read_table(demo_run / "results" / "scorecard.csv")
    assert list(rows[0]) == list(SCORECARD_COLUMNS)
    assert [row["id"] for row in rows] == [claim.id for claim in claims()]
    found = [row["verdict"] for row in rows]
    assert set(found) <= set(VERDICTS)
    assert REPRODUCED not in found and NOT_REPRODUCED not in found
    assert found.count(NOT_COMPARABLE) > len(found) / 2
    assert "not comparable" in (demo_run / "results" / "scorecard.md").read_text()


def _as_read(rows: Sequence[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    """``rows`` as the best_models rule reads them: written as CSV, read with their types."""
    write_csv(path, rows, list(rows[0]))
    return read_table(path)


def test_best_model_rows_name_every_role(tmp_path):
    tables = _dataset_tables("wp")
    test_losses = _as_read(tables["test_losses"], tmp_path / "test_losses.csv")
    rows = best_model_rows(test_losses, _as_read(tables["baselines"], tmp_path / "baselines.csv"))
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
    lstm_only = [row for row in test_losses if row["type"] == "lstm"]
    roles = [row["role"] for row in best_model_rows(lstm_only, [])]
    assert "best GRU" not in roles and "best n-gram" not in roles and "best LSTM" in roles


def _changed(paper: Paper, name: str, key: str | None, value: Any) -> Paper:
    if key is None:
        return dataclasses.replace(paper, **{name: value})
    return dataclasses.replace(paper, **{name: {**getattr(paper, name), key: value}})


#: claim id -> (a field of the paper, its key or None, a new value, how the claim shows it).
PAPER_CHANGES: dict[str, tuple[str, str | None, Any, str]] = {
    "data.lk.characters": ("characters", "lk", 6_000_000, "6,000,000"),
    "data.wp.symbols": ("symbols", "wp", 86, "86"),
    "data.wp.split": ("split", "wp", (0.7, 0.15, 0.15), "70 / 15 / 15"),
    "data.lk.seed_spread": ("ngram_loss", "lk", 1.5, "1.5"),
    "budgets.wp": ("budget_parameters", None, (60_000, 130_000, 400_000, 1_300_000), "60K / "),
    "loss.wp.best_recurrent": ("recurrent_loss", "wp", 1.2, "1.2"),
    "loss.lk.ngram": ("ngram_loss", "lk", 0.7, "0.7"),
    "dynamics.wp.order": ("dynamics_nnn", None, frozenset({1, 2, 3, 4, 5}), "4 -> 5"),
    "brace.lk.peak": ("brace_peak", None, 120, "120"),
    "errors.wp.large_rate": ("error_rates", "large", 0.3, "30%"),
    "errors.wp.share_memory": ("oracle_shares", "memory", 0.2, "20.0%"),
    "errors.wp.scaling_ngram": ("scaling_ngram_share", None, 0.5, "50%"),
}


@pytest.mark.parametrize("claim_id", sorted(PAPER_CHANGES))
def test_a_paper_value_changes_the_claim_text_value_and_check(claim_id):
    """A number of the paper is written once (paper.PAPER): changed there, the claim shows the
    new value and its check tests it."""
    name, key, value, shown = PAPER_CHANGES[claim_id]
    paper = _changed(PAPER, name, key, value)
    before = next(c for c in claims() if c.id == claim_id)
    after = next(c for c in claims(paper) if c.id == claim_id)
    assert shown in after.claim + after.paper_value
    assert (before.claim, before.paper_value) != (after.claim, after.paper_value)
    run = paper_run()
    assert before.row(run)["verdict"] == REPRODUCED
    assert after.row(run)["verdict"] != REPRODUCED


def _paper_numbers(value: Any) -> set[float]:
    """The numbers of the paper and of its tolerances that a reader would recognise: every
    float, and every int from 10 on."""
    if dataclasses.is_dataclass(value):
        return set().union(
            *(_paper_numbers(getattr(value, f.name)) for f in dataclasses.fields(value))
        )
    if isinstance(value, dict):
        return set().union(*map(_paper_numbers, value.values()))
    if isinstance(value, tuple | frozenset):
        return set().union(*map(_paper_numbers, value))
    if isinstance(value, float) or (isinstance(value, int) and value >= 10):
        return {value}
    return set()


def _typed_number(value: float) -> tuple[type, float]:
    return type(value), value


def test_no_paper_number_outside_the_paper_module():
    """The checks, claims and rendering take the paper's numbers and tolerances from
    ``PAPER``: none of them holds one as a literal, nor its formatted text."""
    # The recipe's whole numbers (batches of 100, decay after 10 epochs) are also the
    # percent and count literals of any code; its rates and ranges are scanned.
    recipe_ints = {PAPER.recipe[k] for k in ("batch_size", "seq_length", "lr_decay_after")}
    others = dataclasses.replace(PAPER, recipe={})
    numbers = (
        _paper_numbers(others)
        | set(PAPER.corpus_bytes.values())
        | (_paper_numbers(PAPER.recipe) - recipe_ints)
    )
    texts = {f"{n:,}" for n in numbers if isinstance(n, int) and n >= 1000}
    typed = set(map(_typed_number, numbers))  # 3.0 std is a paper number, 3 buckets not
    package = REPO / "src" / "visrnn" / "scorecard"
    found = []
    for path in sorted(package.glob("*.py")):
        if path.name == "paper.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
                continue
            if isinstance(node.value, int | float) and _typed_number(node.value) in typed:
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
            if isinstance(node.value, str):
                found += [f"{path.name}:{node.lineno}: {t}" for t in texts if t in node.value]
    assert found == []
    assert {3_258_246, 1.077, 0.889, 0.42, 0.81, 0.05} <= numbers  # the scan sees them


def test_a_claim_may_follow_its_own_verdict_rule():
    """A claim family whose verdict tolerates some differences names its own rule."""
    spec = next(s for block in CLAIMS for s in block.specs if s.id == "loss.{ds}.depth")

    def epochs_do_not_matter(passed: bool, differences: Sequence[str]) -> tuple[str, str]:
        return verdict(passed, [d for d in differences if "epochs" not in d])

    config = paper_config()
    config["training"]["epochs"] = 2
    run = paper_run(config=config)
    (default,) = claims(table=(Block(("wp",), (spec,)),))
    (own,) = claims(
        table=(Block(("wp",), (dataclasses.replace(spec, rule=epochs_do_not_matter),)),)
    )
    assert default.row(run)["verdict"] == NOT_COMPARABLE
    assert own.row(run)["verdict"] == REPRODUCED


def test_a_value_of_the_wrong_type_names_the_file(tmp_path):
    path = tmp_path / "splits.csv"
    path.write_text("split,characters\ntrain,many\n")
    with pytest.raises(ValueError, match=r"splits.csv: .*'many'"):
        Run.from_paths(paper_config(), {"wp": {"splits": path}})
