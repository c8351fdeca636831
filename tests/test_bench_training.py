"""The training benchmark's projection of the paper grid, and a tiny run of it on the CPU."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_training.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_training", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_training"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_run_is_its_epochs_of_training_and_validation(bench) -> None:
    data = bench.Dataset("x", train_chars=1000, val_chars=400)
    assert bench.run_seconds(bench.Rates(train=100, evaluate=200), data, epochs=3) == 3 * (10 + 2)


def test_runs_are_dealt_longest_first_to_the_slot_free_first(bench) -> None:
    assert bench.makespan([1, 2, 3, 4], slots=1) == 10
    assert bench.makespan([1, 2, 3, 4], slots=2) == 5  # 4 + 1 and 3 + 2
    assert bench.makespan([2, 2, 2], slots=2) == 4
    assert bench.makespan([7], slots=8) == 7  # one run is never faster than itself


def test_the_grid_projection_counts_every_dataset_shape_and_dropout(bench) -> None:
    datasets = [bench.Dataset("a", 100, 0), bench.Dataset("b", 300, 0)]
    rates = {"small": bench.Rates(10, 1), "large": bench.Rates(5, 1)}
    # Runs: a-small 10 s, a-large 20 s, b-small 30 s, b-large 60 s, each twice (2 dropouts),
    # 1 epoch: 240 s of work.
    assert bench.project_grid(rates, datasets, 1, 2, gpus=1, runs_per_gpu=1) == 240
    # 4 slots: 60 | 60 | 30 + 20 | 30 + 20 then 10 + 10 on the first free ones: 60.
    assert bench.project_grid(rates, datasets, 1, 2, gpus=2, runs_per_gpu=2) == 60


def test_the_paper_workload_is_216_runs_of_the_full_corpora(bench) -> None:
    config = yaml.safe_load(bench.CONFIG.read_text())
    datasets, epochs, dropouts = bench.paper_workload(config)
    assert [(d.name, d.train_chars) for d in datasets] == [("wp", 2_606_600), ("lk", 5_586_296)]
    assert (epochs, dropouts) == (50, 3)
    shapes = bench.shapes(config, [])
    assert len(datasets) * len(shapes) * dropouts == 216
    hidden = {model_id: model.hidden_size for model_id, model in shapes}
    assert [hidden[f"lstm-1L-{b}"] for b in ("50k", "130k", "400k", "1.3m")] == [64, 128, 256, 512]


def test_the_benchmark_runs_on_the_cpu(tmp_path: Path) -> None:
    """The worker processes, packing and projection, at the smallest size (seconds)."""
    done = subprocess.run(
        [
            *(sys.executable, str(SCRIPT), "--device", "cpu", "--threads", "1"),
            *("--models", "rnn-1L-50k", "--batches", "1", "--pack", "1", "2"),
            *("--score-chars", "0", "--matmul-size", "64"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    rows = [row for row in map(str.split, done.stdout.splitlines()) if row[:1] == ["rnn-1L-50k"]]
    assert [row[3] for row in rows] == ["1", "2"]  # one line per packing
    assert all(row[7] == "n/a" for row in rows)  # no GPU utilisation on the CPU
    assert "projected wall time of 6 runs" in done.stdout
