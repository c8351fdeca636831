"""visrnn status: runs done / running / interrupted / left from the files training writes,
a real resume checkpoint read, and the time left at the current rate; the ``visrnn``
command line (``main()`` and ``python -m visrnn.cli``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from visrnn import cli
from visrnn.cli import status as progress
from visrnn.common.files import read_table, write_csv
from visrnn.models.recurrent import CharRNN, ModelConfig
from visrnn.scorecard.render import scorecard_markdown
from visrnn.training import loop as training
from visrnn.training.loop import LOG_COLUMNS, RunPaths, TrainingConfig

REPO = Path(__file__).resolve().parents[1]
CONFIG = {
    "datasets": {"wp": {"kind": "text", "source": {"path": "x.txt"}, "split": [0.8, 0.1, 0.1]}},
    "grid": {"types": ["lstm"], "layers": [2], "budgets": {"tiny": 8}, "dropouts": [0.0, 0.25]},
    "training": {"epochs": 3, "batch_size": 4, "seq_length": 10},
    "evaluation": {},
    "baselines": {"nnn": {"n": [1], "hidden_sizes": [4]}},
}


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory) -> Path:
    """A real training run stopped in its second epoch: only its resume checkpoint is left."""
    run_dir = tmp_path_factory.mktemp("interrupted") / "dropout-0.25"
    real_loss, calls = training.stream_loss, []

    def loss_then_crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as if killed during the second validation
        return real_loss(*args, **kwargs)

    ids = np.tile(np.random.default_rng(0).integers(0, 9, 50), 40).astype(np.uint8)
    paths = RunPaths(run_dir / "best.pt", run_dir / "train_log.csv", run_dir / "resume.pt")
    run_dir.mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(training, "stream_loss", loss_then_crash)
        training.train(
            CharRNN(ModelConfig("lstm", 10, 12, 2, dropout=0.25)),
            ids[:1600],
            ids[1600:],
            TrainingConfig(batch_size=4, seq_length=10, epochs=3),
            paths,
            device=torch.device("cpu"),
            fingerprint="tiny",
            checkpoint_meta={"model_id": "lstm-2L-tiny"},
        )
    assert paths.resume.is_file() and not paths.best.exists()
    return run_dir


@pytest.fixture
def workdir(tmp_path: Path, interrupted_run: Path) -> Path:
    """A run of CONFIG: one run done (10 s per epoch), one interrupted after epoch 1 of 3,
    the n-NN run not started."""
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    runs = tmp_path / "results" / "wp" / "runs" / "lstm-2L-tiny"
    done = runs / "dropout-0"
    done.mkdir(parents=True)
    (done / "best.pt").write_bytes(b"checkpoint")
    rows = [
        dict.fromkeys(LOG_COLUMNS, 0) | {"epoch": e, "val_loss": v, "seconds": 10.0}
        for e, v in ((1, 2.5), (2, 2.1), (3, 2.2))
    ]
    write_csv(done / "train_log.csv", rows, LOG_COLUMNS)
    shutil.copytree(interrupted_run, runs / "dropout-0.25")
    log = tmp_path / "results" / "wp" / "logs" / "train" / "lstm-2L-tiny" / "dropout-0.25.log"
    log.parent.mkdir(parents=True)
    log.write_text("epoch 1/3 ...\n")
    return tmp_path


def _status(workdir: Path, *, running: bool) -> progress.DatasetStatus:
    config = progress.load_config(workdir / "config.yaml")
    return progress.dataset_status(workdir / "results", "wp", config, snakemake_running=running)


def test_runs_are_counted_done_running_and_left(workdir: Path) -> None:
    status = _status(workdir, running=True)
    states = {run.name: run.state for run in status.runs}
    assert states == {
        "lstm-2L-tiny/dropout-0": "done",
        "lstm-2L-tiny/dropout-0.25": "running",
        "nnn-1/hidden-4": "left",
    }
    running = status.runs[1]
    assert running.epoch == 1 and running.epochs == 3
    assert running.best_val_loss is not None and 0 < running.best_val_loss < 5
    assert running.seconds_per_epoch is not None and running.seconds_per_epoch > 0
    # Time left: two epochs of the running run at its own rate, three of the n-NN at the
    # mean rate of the runs timed so far (no n-NN was).
    mean_rate = (10.0 + running.seconds_per_epoch) / 2
    expected = 2 * running.seconds_per_epoch + 3 * mean_rate
    assert status.remaining_seconds() == pytest.approx(expected)

    report = progress.format_status([status])
    assert (
        report.splitlines()[0] == "wp: 1 done, 1 running, 0 interrupted, 1 left of 3 training runs"
    )
    assert f"lstm-2L-tiny/dropout-0.25: epoch 1/3, best val loss {running.best_val_loss:.4f}" in (
        report
    )
    assert "(1 run at once)" in report


def test_without_snakemake_a_started_run_is_interrupted(workdir: Path) -> None:
    status = _status(workdir, running=False)
    assert [run.state for run in status.runs] == ["done", "interrupted", "left"]
    assert "a rerun resumes it" in progress.format_status([status])
    assert not progress.snakemake_holds_lock(workdir)
    (workdir / ".snakemake" / "locks").mkdir(parents=True)
    (workdir / ".snakemake" / "locks" / "0.input.lock").write_text("")
    assert progress.snakemake_holds_lock(workdir)


def test_the_paper_config_has_108_grid_runs_and_36_nnn_runs_per_dataset() -> None:
    config = progress.load_config(REPO / "config.yaml")
    runs = progress.expected_runs(config, "wp")
    assert sum(run.group != "nnn" for run in runs) == 108  # 216 for both datasets
    assert sum(run.group == "nnn" for run in runs) == 36
    assert {run.epochs for run in runs} == {50}


def test_the_status_command_prints_every_dataset(workdir: Path, capsys) -> None:
    assert cli.main(["status", str(workdir / "results")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wp: 1 done, 0 running, 1 interrupted, 1 left of 3 training runs")
    assert "time left: about" in out


def test_the_status_command_needs_the_config(tmp_path: Path, capsys) -> None:
    assert cli.main(["status", str(tmp_path / "results")]) == 2
    assert "--config" in capsys.readouterr().err


def test_the_summary_lists_what_exists(workdir: Path, capsys) -> None:
    results = workdir / "results"
    figures, tables = results / "wp" / "figures", results / "wp" / "tables"
    figures.mkdir(parents=True)
    tables.mkdir(parents=True)
    (figures / "test_losses.png").write_bytes(b"\x89PNG")
    (tables / "test_losses.csv").write_text("model\n")
    assert cli.main(["summary", str(results)]) == 0
    out = capsys.readouterr().out
    assert "wp: 1 figures" in out and "test_losses.png" in out
    assert "--report report.zip" in out and "scorecard" not in out
    (workdir / "report.zip").write_bytes(b"PK")
    (results / "scorecard.md").write_text("# scorecard\n")
    cli.main(["summary", str(results)])
    out = capsys.readouterr().out
    assert str(workdir / "report.zip") in out and str(results / "scorecard.md") in out


def test_the_scorecard_of_a_run_so_far_checks_what_its_tables_allow(workdir, capsys) -> None:
    """``visrnn scorecard``: a run with only its split table has its split claim computed
    and every other claim "not run"; ``--out`` writes the two files the rule writes."""
    tables = workdir / "results" / "wp" / "tables"
    tables.mkdir(parents=True)
    sizes = {"train": 8000, "val": 1000, "test": 1000}
    rows = [{"split": name, "characters": n} for name, n in sizes.items()]
    write_csv(tables / "splits.csv", rows, ["split", "characters"])
    assert cli.main(["scorecard", str(workdir / "results")]) == 0
    out = capsys.readouterr().out
    split_row = next(line for line in out.splitlines() if line.startswith("| data.wp.split "))
    assert "train 8,000 / val 1,000 / test 1,000" in split_row and "| not run |" not in split_row
    assert "| data.wp.characters |" in out and out.count("| not run |") >= 10
    assert cli.main(["scorecard", str(workdir / "results"), "--out", str(workdir / "card")]) == 0
    written = read_table(workdir / "card" / "scorecard.csv")
    assert (workdir / "card" / "scorecard.md").read_text() == scorecard_markdown(written)
    assert cli.main(["scorecard", str(workdir / "elsewhere" / "results")]) == 2
    assert "--config" in capsys.readouterr().err


def test_visrnn_is_a_console_script_and_a_module() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["visrnn"] == "visrnn.cli:main"
    done = subprocess.run(
        [sys.executable, "-m", "visrnn.cli", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "status" in done.stdout and "summary" in done.stdout


@pytest.mark.e2e
def test_after_the_demo_every_run_is_done(demo_run: Path, capsys) -> None:
    """The run names the status expects are those the workflow writes."""
    assert cli.main(["status", str(demo_run / "results")]) == 0
    out = capsys.readouterr().out.splitlines()
    for ds in ("wp", "lk"):
        assert f"{ds}: 16 done, 0 running, 0 interrupted, 0 left of 16 training runs" in out
    assert out[-1] == "all datasets: time left: none, every run is done"
