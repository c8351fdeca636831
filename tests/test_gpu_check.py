"""The GPU check script (benchmarks/gpu_check.sh, docs/gpu-check.md) on the CPU: its syntax,
its Python half, and its dry run (the same steps, tiny settings) with and without a step
that runs out of time."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from visrnn.common.configuration import check_config
from visrnn.scorecard.paper import PAPER

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu_check.sh"


@pytest.fixture(scope="module")
def check():
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_is_valid_bash() -> None:
    done = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_paper_config_narrows_to_one_model_on_war_and_peace(check, tmp_path: Path) -> None:
    base = yaml.safe_load((REPO / "config.yaml").read_text())
    config = check.narrowed_config(base, REPO, tmp_path, "lstm-2L-1.3m", [0.25])
    check_config(config)
    assert list(config["datasets"]) == ["wp"]
    assert config["grid"] == {**base["grid"], "types": ["lstm"], "layers": [2]} | {
        "budgets": {"1.3m": 512},
        "dropouts": [0.25],
    }
    assert config["training"] == base["training"]  # the paper's recipe: 50 epochs and all
    assert config["evaluation"] == base["evaluation"]
    assert config["devices"]["runs_per_gpu"] == 1
    assert config["corpus_dirs"] == [str(REPO / "data")]
    assert config["analysis"]["dynamics"]["model"] == "lstm-2L-1.3m"
    assert config["activations"]["full_test"] == ["lstm"]
    # The three dropouts of the paper's cross-validation: all three on the one device.
    packed = check.narrowed_config(base, REPO, tmp_path, "lstm-3L-1.3m", [])
    assert packed["grid"]["dropouts"] == [0.0, 0.25, 0.5]
    assert packed["devices"]["runs_per_gpu"] == 3


def test_the_demo_config_narrows_its_named_analysis_models_too(check, tmp_path: Path) -> None:
    base = yaml.safe_load((REPO / ".test" / "config.yaml").read_text())
    config = check.narrowed_config(base, REPO / ".test", tmp_path, "lstm-1L-10k", [])
    check_config(config)  # the demo names lstm-3L-10k for the dynamics and the oracles
    assert set(config["analysis"]["oracles"]["models"].values()) == {"lstm-1L-10k"}
    with pytest.raises(SystemExit, match=r"budget 1\.3m"):
        check.narrowed_config(base, REPO / ".test", tmp_path, "lstm-1L-1.3m", [])


def test_a_missing_corpus_stops_the_step_with_a_message(
    check, tmp_path: Path, monkeypatch, capsys
) -> None:
    base = tmp_path / "config.yaml"  # the demo config away from its .test/data
    base.write_text((REPO / ".test" / "config.yaml").read_text())
    monkeypatch.delenv("VISRNN_CORPUS_DIRS", raising=False)
    work = tmp_path / "work"
    args = ["config", "--base", str(base), "--workdir", str(work), "--model", "lstm-1L-10k"]
    assert check.main(args) == check.EXIT_NO_CORPUS
    assert "corpus missing" in capsys.readouterr().err
    assert not (work / "config.yaml").exists()


def test_the_step_config_and_targets_for_the_demo(check, tmp_path: Path, capsys) -> None:
    work = tmp_path / "work"
    args = ["config", "--base", str(REPO / ".test" / "config.yaml"), "--workdir", str(work)]
    assert check.main([*args, "--model", "lstm-1L-10k", "--dropouts", "0", "0.25"]) == 0
    assert capsys.readouterr().out.split() == list(check.TARGETS)
    written = yaml.safe_load((work / "config.yaml").read_text())
    assert written["grid"]["dropouts"] == [0.0, 0.25]
    assert written["devices"]["runs_per_gpu"] == 2


def test_the_report_sets_the_test_loss_beside_the_papers(check, tmp_path: Path) -> None:
    results = tmp_path / "results" / "wp"
    (results / "tables").mkdir(parents=True)
    (results / "models" / "lstm-2L-1.3m").mkdir(parents=True)
    row = {"model": "lstm-2L-1.3m", "parameters": 1278904, "dropout": 0.25, "test_loss": 1.1}
    _write_csv(results / "tables" / "test_losses.csv", [{**row, "bootstrap_std": 0.0031}])
    candidates = [
        {"dropout": 0.0, "val_loss": 1.2, "best_epoch": 20},
        {"dropout": 0.25, "val_loss": 1.1, "best_epoch": 48},
    ]
    (results / "models" / "lstm-2L-1.3m" / "selection.json").write_text(
        json.dumps({"dropout": 0.25, "candidates": candidates})
    )
    _write_csv(
        results / "models" / "lstm-2L-1.3m" / "train_log.csv",
        [{"seconds": 2.0, "chars_per_second": 1000, "val_loss": 1.15}] * 3,
    )
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    text = check.report(tmp_path, "lstm-2L-1.3m")
    paper = PAPER.recurrent_loss["wp"]
    assert (
        f"| lstm-2L-1.3m | 1,278,904 | 0.25 | 1.1000 | 0.0031 | {paper} | +0.0230 | yes |" in text
    )
    assert "0: 1.2000 (epoch 20), 0.25: 1.1000 (epoch 48)" in text
    assert "3 of 50 epochs logged, 6 s of training" in text


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_only_wheels_of_missing_distributions_are_installed(check, tmp_path: Path, capsys) -> None:
    for name in (
        "PyYAML-6.0.3-cp312-cp312-manylinux2014_x86_64.whl",
        "no_such_dist-1.0-py3-none-any.whl",
    ):
        (tmp_path / name).touch()
    assert [p.name for p in check.missing_wheels(tmp_path)] == ["no_such_dist-1.0-py3-none-any.whl"]
    (tmp_path / "no_such_dist-1.0-py3-none-any.whl").unlink()
    assert check.main(["missing", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""  # not an empty line: no wheel to install


def _dry_run(tmp_path: Path, *options: str) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / "out"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("OUT", None)
    done = subprocess.run(
        [
            "bash",
            str(SCRIPT),
            "--dry-run",
            "--out",
            str(out),
            "--work",
            str(tmp_path / "work"),
            "--venv",
            str(Path(sys.executable).parents[1]),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    return done, out


def _status(out: Path) -> list[dict[str, str]]:
    with (out / "status.tsv").open() as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.e2e
def test_the_dry_run_records_every_step(tmp_path: Path) -> None:
    """About a minute: the CUDA tests (skipped here), step 2's Snakemake plan, one batch of
    three shapes and the projection."""
    done, out = _dry_run(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    status = _status(out)
    assert [(row["step"], row["status"], row["exit"]) for row in status] == [
        ("1", "ok", "0"),
        ("2", "ok", "0"),
        ("3", "ok", "0"),
    ]
    summary = (out / "summary.md").read_text()
    assert summary.count("\n## Step ") == 3
    assert "skipped" in summary  # the CUDA tests, without CUDA
    assert "train_model           2" in summary  # both demo dropouts planned
    assert "projected wall time of 216 runs" in summary
    # What the device tool brings back: at most 8 files, none in a folder.
    assert sorted(p.name for p in out.iterdir()) == [
        "bench_training.csv",
        "bench_training.txt",
        "log.txt",
        "paper_model.tar.gz",
        "pytest_cuda.xml",
        "status.tsv",
        "summary.md",
    ]
    suite = ElementTree.parse(out / "pytest_cuda.xml").getroot().find("testsuite").attrib
    assert int(suite["tests"]) == int(suite["skipped"]) > 0  # every CUDA test, none run here


@pytest.mark.e2e
def test_a_step_out_of_time_is_recorded_and_the_next_ones_run(tmp_path: Path) -> None:
    done, out = _dry_run(tmp_path, "--timeouts", "0.05,120,0.05")
    assert done.returncode == 1  # not every step ended well
    status = _status(out)
    assert [(row["step"], row["status"], row["exit"]) for row in status] == [
        ("1", "timed out", "124"),
        ("2", "ok", "0"),
        ("3", "timed out", "124"),
    ]
    summary = (out / "summary.md").read_text()
    assert "## Step 1: pytest -m cuda: timed out" in summary
    assert "## Step 3: bench_training.py: timed out" in summary
