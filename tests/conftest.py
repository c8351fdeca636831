"""Shared fixtures: the local corpora, a tiny synthetic text, and the demo preset run once
per session on a copy of the workflow (read by the workflow, report and SLURM tests)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from workflow_runs import copy_workflow, demo_config, snakemake, write_config

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "warpeace_input.txt").exists():
        pytest.skip(f"local corpora not found in {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def tiny_text() -> bytes:
    """A few KB of structured text: quotes, brackets, line ends."""
    line = b'He said "hello (world)" to {everyone} at [once].\r\n'
    return line * 60


@pytest.fixture(scope="session")
def workflow_copy(tmp_path_factory) -> Path:
    """Snakefile, workflow/, envs/ and src/ copied, so that tests may edit the code."""
    return copy_workflow(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="session")
def demo_run(workflow_copy: Path, shared_data: Path, tmp_path_factory) -> Path:
    """The demo preset, run to the end with the local executor (2 cores)."""
    workdir = write_config(tmp_path_factory.mktemp("demo"), demo_config(shared_data))
    started = time.perf_counter()
    snakemake(workflow_copy, workdir)
    print(f"\ndemo preset: {time.perf_counter() - started:.0f} s on 2 cores")
    return workdir
