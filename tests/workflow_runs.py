"""Running Snakemake on a copy of this workflow, for the end-to-end tests (the fixtures that
use these helpers, ``workflow_copy`` and ``demo_run``, are in conftest.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def snakemake(workflow: Path, workdir: Path, *args: str, check: bool = True):
    """Run Snakemake on ``workflow`` (a copy of this repo) in ``workdir``."""
    command = [
        str(SNAKEMAKE),
        "-s",
        str(workflow / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "2",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ})
    if check and done.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def planned_jobs(output: str) -> dict[str, int]:
    """Rule -> job count from a run's 'Job stats' table ({} when nothing is to be done)."""
    jobs, table = {}, False
    for line in output.splitlines():
        if line.startswith("job "):
            table = True
        elif table and (match := re.match(r"^(\w+)\s+(\d+)$", line.strip())):
            if match[1] != "total":
                jobs[match[1]] = int(match[2])
        elif table and not line.strip():
            break
    return jobs


def copy_workflow(copy: Path) -> Path:
    """Snakefile, workflow/, envs/ and src/ copied into ``copy``."""
    copy.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "Snakefile", copy / "Snakefile")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in ("workflow", "envs", "src"):
        shutil.copytree(REPO / folder, copy / folder, ignore=ignore)
    return copy


DEMO_DATA = REPO / ".test" / "data"


def demo_config() -> dict:
    """The demo preset, its corpora found in the repository's ``.test/data``."""
    config = yaml.safe_load((REPO / ".test" / "config.yaml").read_text())
    config["corpus_dirs"] = [str(DEMO_DATA)]
    return config


def write_config(workdir: Path, config: dict) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return workdir
