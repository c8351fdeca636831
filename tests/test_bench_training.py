"""The training benchmark's projection of the paper grid, and a tiny run of it on the CPU."""

from __future__ import annotations

import csv
import importlib.util
import math
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


def _corners(bench, scale: float = 1.0) -> dict:
    """Every type at 1 and 3 layers, 50k and 1.3m: seconds per char 1, 2 (1 layer) and
    3, 6 (3 layers) for the train rate, half that for evaluation."""
    seconds = {(1, "50k"): 1.0, (1, "1.3m"): 2.0, (3, "50k"): 3.0, (3, "1.3m"): 6.0}
    return {
        f"{t}-{layers}L-{budget}": bench.Rates(1 / (s * scale), 2 / (s * scale))
        for t in ("rnn", "lstm", "gru")
        for (layers, budget), s in seconds.items()
    }


def test_unmeasured_shapes_are_interpolated_between_each_types_corners(bench) -> None:
    config = yaml.safe_load(bench.CONFIG.read_text())
    measured = _corners(bench)
    rates = bench.interpolated_rates(measured, config)
    assert len(rates) == 36
    for model_id, measured_rates in measured.items():  # measured shapes keep their rates
        assert rates[model_id].train == pytest.approx(measured_rates.train)
    # 2 layers: halfway in seconds per char between 1 and 3 layers.
    assert 1 / rates["gru-2L-50k"].train == pytest.approx(2.0)
    assert 1 / rates["gru-2L-1.3m"].evaluate == pytest.approx(2.0)
    # A budget between: linear in log parameters, so 400k sits between 50k and 1.3m.
    log_size = {
        b: math.log(bench.budget_parameters(bench.VOCAB, c))
        for b, c in config["grid"]["budgets"].items()
    }
    share = (log_size["400k"] - log_size["50k"]) / (log_size["1.3m"] - log_size["50k"])
    assert 1 / rates["lstm-1L-400k"].train == pytest.approx(1 + share)
    assert 1 / rates["lstm-2L-400k"].train == pytest.approx(((1 + share) + 3 * (1 + share)) / 2)


def test_one_measured_shape_stands_for_its_whole_type(bench) -> None:
    config = yaml.safe_load(bench.CONFIG.read_text())
    measured = {f"{t}-1L-50k": bench.Rates(10.0, 20.0) for t in ("rnn", "lstm", "gru")}
    rates = bench.interpolated_rates(measured, config)
    assert {(r.train, r.evaluate) for r in rates.values()} == {(10.0, 20.0)}


def test_a_type_without_a_full_table_cannot_be_projected(bench) -> None:
    config = yaml.safe_load(bench.CONFIG.read_text())
    measured = _corners(bench)
    del measured["lstm-3L-1.3m"]
    with pytest.raises(ValueError, match=r"lstm-3L-1\.3m"):
        bench.interpolated_rates(measured, config)
    with pytest.raises(ValueError, match="lstm: no shape measured"):
        bench.interpolated_rates({"rnn-1L-50k": bench.Rates(1, 1)}, config)


def test_the_projection_reads_back_the_rates_as_they_were_written(
    bench, tmp_path: Path, capsys
) -> None:
    path = tmp_path / "rates.csv"
    for runs, scale in ((1, 1.0), (2, 1.5)):
        for model_id, rates in _corners(bench, scale).items():
            bench.append_rates(path, model_id, runs, rates, math.nan, 12.0)
    bench.append_rates(path, "rnn-1L-50k", 4, bench.Rates(1.0, 1.0), 50.0, 12.0)  # cut short
    measured = bench.read_rates(path)
    assert sorted(measured) == [1, 2, 4] and len(measured[2]) == 12
    assert measured[2]["gru-3L-1.3m"].train == pytest.approx(1 / 9, abs=0.05)  # 0.1 in the file
    bench.print_projection(measured, yaml.safe_load(bench.CONFIG.read_text()))
    out = capsys.readouterr().out
    assert "projected wall time of 216 runs" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines()[2:] if line.strip()}
    assert lines["4"][1:3] == ["n/a", "n/a"]  # one shape measured: lstm and gru unknown
    one, two = (float(lines["1"][i].replace(",", "")) for i in (1, 3))  # "1,234.5 h"
    assert one > two > 0  # two devices beat one


def test_the_benchmark_runs_on_the_cpu(tmp_path: Path) -> None:
    """The worker processes, packing, rates file and projection, at the smallest size
    (seconds)."""
    rates = tmp_path / "rates.csv"
    done = subprocess.run(
        [
            *(sys.executable, str(SCRIPT), "--device", "cpu", "--threads", "1"),
            *("--models", "rnn-1L-50k", "--batches", "1", "--pack", "1", "2"),
            *("--score-chars", "0", "--matmul-size", "64", "--rates-csv", str(rates)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    rows = [row for row in map(str.split, done.stdout.splitlines()) if row[:1] == ["rnn-1L-50k"]]
    assert [row[3] for row in rows] == ["1", "2"]  # one line per packing
    assert all(row[7] == "n/a" for row in rows)  # no GPU utilisation on the CPU
    assert "projected wall time of 216 runs" in done.stdout
    assert (
        "lstm: no shape measured" in done.stdout
    )  # one rnn shape: nothing to interpolate lstm from
    assert [(row["model"], row["runs"]) for row in bench_rows(rates)] == [
        ("rnn-1L-50k", "1"),
        ("rnn-1L-50k", "2"),
    ]


def bench_rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))
