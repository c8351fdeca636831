"""The paper's corpora for the benchmarks, found as the workflow finds them: by the sha256 of
config.yaml, in its corpus_dirs and in $VISRNN_CORPUS_DIRS (else downloaded from its URL)."""

from __future__ import annotations

from pathlib import Path

import yaml

from visrnn.data.corpora import resolve_source

REPO = Path(__file__).resolve().parents[1]


def paper_corpus(name: str) -> Path:
    """The source file of dataset ``name`` of the paper config (``wp``: War and Peace)."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    source = config["datasets"][name]["source"]
    search_dirs = [REPO / directory for directory in config.get("corpus_dirs", [])]
    return resolve_source(source, search_dirs, REPO / config["download_dir"], name=name)
