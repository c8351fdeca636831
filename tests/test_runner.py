"""runner.script: thread pools bounded although torch and numpy were imported first, and a
failing script's traceback in the rule's log file. Each case runs in a fresh interpreter,
since thread pools and the root logger are process-wide."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def run_script(body: str, log: Path, threads: int = 1, **env: str):
    """``body`` run as a workflow script: a ``snakemake`` object as Snakemake would give."""
    fake = (
        "from types import SimpleNamespace\n"
        f"snakemake = SimpleNamespace(threads={threads}, log=[{str(log)!r}], rule='demo_rule')\n"
    )
    return subprocess.run(
        [sys.executable, "-c", fake + textwrap.dedent(body)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def test_thread_pools_of_modules_imported_first_are_bounded(tmp_path: Path) -> None:
    body = """
        import numpy, torch
        from threadpoolctl import threadpool_info
        from visrnn.common.runner import script

        pools = sorted({p["num_threads"] for p in threadpool_info()})
        print("before", torch.get_num_threads(), pools)
        with script(snakemake):
            pools = sorted({p["num_threads"] for p in threadpool_info()})
            print("inside", torch.get_num_threads(), pools)
    """
    # The pools start with 2 threads; the rule asks for 1 once they exist.
    two = {var: "2" for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    done = run_script(body, tmp_path / "rule.log", threads=1, **two)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert lines["before"].startswith("2 ") and "2" in lines["before"].split(" ", 1)[1]
    assert lines["inside"] == "1 [1]"


def test_a_failing_script_leaves_its_traceback_in_the_log(tmp_path: Path) -> None:
    body = """
        from visrnn.common.runner import script

        def read_the_input():
            raise ValueError("input.csv: column 'x' is missing")

        with script(snakemake):
            read_the_input()
    """
    log = tmp_path / "rule.log"
    done = run_script(body, log)
    assert done.returncode == 1
    text = log.read_text()
    assert "demo_rule failed: input.csv: column 'x' is missing" in text
    assert "Traceback (most recent call last)" in text and "in read_the_input" in text
    # stderr: the error line, then Python's own traceback, once.
    assert "demo_rule failed" in done.stderr
    assert done.stderr.count("Traceback (most recent call last)") == 1
