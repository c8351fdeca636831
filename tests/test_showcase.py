"""The committed CPU showcase, read as files: its config names the paper's corpus uncut, and
its committed scorecard is a current rendering of current claims. No Snakemake run (the plan
of its jobs is checked by a dry run in test_workflow.py, the end-to-end tier)."""

from __future__ import annotations

from pathlib import Path

import yaml

from visrnn.common.files import read_table
from visrnn.scorecard.claims import claims
from visrnn.scorecard.paper import PAPER
from visrnn.scorecard.render import scorecard_markdown
from visrnn.scorecard.verdicts import VERDICTS

REPO = Path(__file__).resolve().parents[1]


def test_the_showcase_reads_the_papers_war_and_peace_file_uncut() -> None:
    config = yaml.safe_load((REPO / "showcase" / "config.yaml").read_text())
    wp = config["datasets"]["wp"]
    assert list(config["datasets"]) == ["wp"] and "max_bytes" not in wp
    assert wp["source"]["sha256"] == PAPER.corpus_sha256["wp"]


def test_the_committed_showcase_scorecard_names_current_claims() -> None:
    """docs/showcase/scorecard.md is a run of showcase/config.yaml: a claim renamed or dropped
    since means it must be run again."""
    rows = read_table(REPO / "docs" / "showcase" / "scorecard.csv")
    known = {claim.id for claim in claims()}
    assert rows and {row["id"] for row in rows} <= known
    assert {row["verdict"] for row in rows} <= set(VERDICTS)
    markdown = (REPO / "docs" / "showcase" / "scorecard.md").read_text()
    assert markdown == scorecard_markdown(rows)
