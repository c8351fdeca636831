"""The committed CPU showcase, read as files: its config names the paper's corpus uncut and
the shipped Linux files, trains with the paper's whole recipe, and its committed scorecard is
a current rendering of current claims. No Snakemake run (the plan
of its jobs is checked by a dry run in test_workflow.py, the end-to-end tier)."""

from __future__ import annotations

from pathlib import Path

import yaml

from visrnn import plan
from visrnn.common.files import read_table, sha256_file
from visrnn.scorecard import differences
from visrnn.scorecard.claims import claims
from visrnn.scorecard.paper import PAPER
from visrnn.scorecard.render import scorecard_markdown
from visrnn.scorecard.verdicts import VERDICTS

REPO = Path(__file__).resolve().parents[1]


def _showcase_config(preset: str = "showcase") -> dict:
    config = yaml.safe_load((REPO / preset / "config.yaml").read_text())
    plan.settle_config(config)
    return config


def test_the_showcase_reads_the_papers_war_and_peace_file_uncut() -> None:
    wp = _showcase_config()["datasets"]["wp"]
    assert "max_bytes" not in wp and wp["split"] == list(PAPER.split["wp"])
    assert wp["source"]["sha256"] == PAPER.corpus_sha256["wp"]


def test_the_showcase_linux_corpus_is_shipped_and_of_the_paper_s_size() -> None:
    """The Linux half runs offline for anyone: its files are in showcase/data, found by
    sha256, drawn with the kernel filter at the paper's size and split."""
    lk = _showcase_config()["datasets"]["lk"]
    assert lk["kind"] == "kernel_tarball" and lk["source"]["url"] is None
    shipped = REPO / "showcase" / "data" / "linux-6.1-showcase.tar.xz"
    assert sha256_file(shipped) == lk["source"]["sha256"]
    assert shipped.stat().st_size <= 2_000_000
    assert lk["max_bytes"] == PAPER.corpus_bytes["lk"] and lk["split"] == list(PAPER.split["lk"])
    assert lk["max_file_bytes"] and lk["exclude"]
    assert not differences.kind_differences(_showcase_config(), "lk")


def test_the_showcase_trains_with_the_paper_s_whole_recipe() -> None:
    """50 epochs, the decay after 10, the best-validation checkpoint, for the grid and the
    n-NNs (whose hidden size is cross-validated): the scorecard finds no difference."""
    config = _showcase_config()
    assert differences.training_differences(config) == []
    assert (
        differences.nnn_differences(config, "wp") == differences.nnn_differences(config, "lk") == []
    )
    assert config["training"]["patience"] is None  # every model trains all 50 epochs


def test_the_committed_showcase_scorecard_names_current_claims() -> None:
    """docs/showcase/scorecard.md is a run of showcase/config.yaml: a claim renamed or dropped
    since means it must be run again."""
    rows = read_table(REPO / "docs" / "showcase" / "scorecard.csv")
    known = {claim.id for claim in claims()}
    assert rows and {row["id"] for row in rows} <= known
    assert {row["verdict"] for row in rows} <= set(VERDICTS)
    markdown = (REPO / "docs" / "showcase" / "scorecard.md").read_text()
    assert markdown == scorecard_markdown(rows)


def test_the_linux_half_is_tested_on_the_models_it_trains() -> None:
    """Its dataset trains a part of the grid: the claims' notes name those models, and a
    claim about a particular model of the paper's grid says what is left out."""
    config = _showcase_config()
    note = differences.tested_grid(config, "lk")
    assert note.startswith(
        "tested on rnn-2L-50k, lstm-1L-50k, lstm-2L-50k, gru-2L-50k"
    )  # grid order
    assert "lk trains 4 of the grid's 6 models" in differences.grid_differences(config, "lk")
    assert not any("trains" in d for d in differences.grid_differences(config, "wp"))
    assert differences.tested_grid(config, "wp").startswith("tested on GRU, LSTM, RNN x 1, 2")


def test_one_budget_up_is_the_showcase_s_war_and_peace_at_130k() -> None:
    """showcase/budget-130k asks whether the LSTM-RNN ordering appears with size: the same
    corpus, split and recipe as the showcase's War and Peace half, the LSTM and the RNN of
    2 layers at the paper's 130K budget (128 LSTM cells)."""
    showcase, larger = _showcase_config(), _showcase_config("showcase/budget-130k")
    plan.check_config(larger)
    assert list(larger["datasets"]) == ["wp"]
    assert plan.corpus_spec(larger, "wp") == plan.corpus_spec(showcase, "wp")
    assert larger["training"] == showcase["training"]
    paper_budgets = yaml.safe_load((REPO / "config.yaml").read_text())["grid"]["budgets"]
    assert larger["grid"]["budgets"] == {"130k": paper_budgets["130k"]}
    assert [spec.model_id for spec in plan.dataset_models(larger, "wp")] == [
        "rnn-2L-130k",
        "lstm-2L-130k",
    ]
