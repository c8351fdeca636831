"""A stranger's first step: a fresh clone, with nothing beside it and no network, builds the
demo's corpora and splits from the files the repository ships (.test/data)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from workflow_runs import REPO, SNAKEMAKE

pytestmark = pytest.mark.e2e

# Any URL opened through these proxies fails at once: a closed port on this machine.
UNREACHABLE = "http://127.0.0.1:9"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy")


def offline_environment() -> dict[str, str]:
    """This environment without corpus folders or a package path, every proxy unreachable."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in PROXY_VARIABLES and key not in ("VISRNN_CORPUS_DIRS", "PYTHONPATH")
    }
    for name in PROXY_VARIABLES[:-1]:
        env[name] = env[name.upper()] = UNREACHABLE
    return env


def test_a_fresh_clone_builds_the_demo_corpora_offline(tmp_path: Path) -> None:
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout, or no git: nothing to clone")
    clone = tmp_path / "empty" / "visrnn"
    subprocess.run(
        [git, "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)],
        check=True,
        capture_output=True,
    )
    assert not (clone.parent.parent / "shared").exists()
    targets = [
        f"results/{ds}/data/{split}.npy" for ds in ("wp", "lk") for split in ("train", "test")
    ]
    done = subprocess.run(
        [str(SNAKEMAKE), "--directory", ".test", "--cores", "2", *targets],
        cwd=clone,
        env=offline_environment(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for ds in ("wp", "lk"):
        data = clone / ".test" / "results" / ds / "data"
        info = json.loads((data / "corpus.json").read_text())
        assert info["bytes"] == 120_000
        assert Path(info["source"]).parent == Path("data")  # .test/data, in the clone
        log = (clone / ".test" / "results" / ds / "logs" / "corpus.log").read_text()
        assert "using data/" in log and "download" not in log
        assert (data / "vocab.json").is_file()
