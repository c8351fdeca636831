"""Shared fixtures: the local corpora, a tiny synthetic text, and the demo preset run once
per session on a copy of the workflow (read by the workflow, report and SLURM tests), and the
guard that keeps the tests using that run in the end-to-end tier."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from workflow_runs import copy_workflow, demo_config, snakemake, write_config

REPO = Path(__file__).resolve().parents[1]
# Where the full corpora are looked for when $VISRNN_CORPUS_DIRS names none of them.
SHARED_DATA = REPO.parent / "shared" / "data"
#: Fixtures that run Snakemake (or copy the workflow for it): a test using one belongs to the
#: end-to-end tier, so that ``make test`` (pytest -m "not e2e") never starts the demo DAG.
E2E_FIXTURES = frozenset({"demo_run", "workflow_copy"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a test that uses a Snakemake fixture without the e2e marker: unmarked, it would
    silently pull the demo DAG (minutes) into the fast tier."""
    unmarked = [
        item.nodeid
        for item in items
        if E2E_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("e2e") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            f"these tests use {sorted(E2E_FIXTURES)} but lack @pytest.mark.e2e: {unmarked}"
        )


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of the full corpora: the first of $VISRNN_CORPUS_DIRS that holds War and
    Peace, else ../shared/data beside the repository; the test is skipped without one."""
    listed = [Path(d) for d in os.environ.get("VISRNN_CORPUS_DIRS", "").split(os.pathsep) if d]
    for folder in [*listed, SHARED_DATA]:
        if (folder / "warpeace_input.txt").is_file():
            return folder
    pytest.skip(f"full corpora not found in $VISRNN_CORPUS_DIRS nor in {SHARED_DATA}")


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
def demo_run(workflow_copy: Path, tmp_path_factory) -> Path:
    """The demo preset, run to the end with the local executor (2 cores), on the corpora
    shipped in .test/data."""
    workdir = write_config(tmp_path_factory.mktemp("demo"), demo_config())
    started = time.perf_counter()
    snakemake(workflow_copy, workdir)
    print(f"\ndemo preset: {time.perf_counter() - started:.0f} s on 2 cores")
    return workdir
