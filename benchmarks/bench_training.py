"""Training throughput of every model shape of the paper grid, and the grid's projected time.

For each (type, layers, budget) of ``config.yaml``'s grid (hidden size solved for the War and
Peace vocabulary) it trains random text with the pipeline's own loop (``training.loop.train``:
batch 100 x 100, RMSProp, clipping, dropout 0.25) under the settings a GPU job runs with
(``determinism.reproducible``). Each measurement runs in worker processes that stay up across
shapes: a short warm-up epoch, then, all workers together, one timed epoch (chars/s from the
training log) and one timed validation pass (``stream_loss``). With ``--pack 1 2 4`` it
measures each shape with 1, 2 and 4 runs training at once on the one device, as
``devices.runs_per_gpu`` would place them. Per shape it prints chars/s per run and summed, GPU
utilisation (NVML through ``torch.cuda.utilization``, sampled every 0.1 s during the timed
part; needs nvidia-ml-py), the peak memory of one run (GPU memory allocated by torch; on the
CPU the worker's peak RSS), and the float32 GFLOP/s at 6 FLOPs per parameter per character.

From the rates it projects the wall time of the paper's grid (config.yaml: 2 datasets x 36
models x 3 dropouts = 216 runs of 50 epochs, each epoch the whole training split plus one
validation pass) on 1 and 2 GPUs, for each packing: every run's time from its shape's rates
at that packing, the runs dealt longest first onto GPUs x runs-per-GPU slots. It assumes
runs sharing a device slow each other as much as the same number of copies of one shape did,
and the LK vocabulary costs what the WP one does. Shapes not measured (``--models`` a subset)
get rates interpolated from the measured ones of their type (``interpolated_rates``), so a
subset that holds each type's corners (1 and 3 layers, 50k and 1.3m) still projects all 216.
``--rates-csv`` appends each measurement as it is made; ``--project-from`` projects from such
a file alone (what a run cut short had measured), without measuring.

    python benchmarks/bench_training.py --device cuda                # the whole grid, a GPU box
    python benchmarks/bench_training.py --device cpu --models lstm-1L-50k --batches 3 --pack 1 2
"""

from __future__ import annotations

import argparse
import csv
import heapq
import logging
import math
import multiprocessing as mp
import platform
import queue
import resource
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
import yaml

from visrnn.common.determinism import reproducible
from visrnn.common.files import read_table
from visrnn.data.splits import split_bounds
from visrnn.models.grid import ModelSpec, budget_parameters, model_grid, parameter_count
from visrnn.models.recurrent import CharRNN, ModelConfig
from visrnn.scoring.evaluation import score_sequence
from visrnn.training.loop import RunPaths, TrainingConfig, stream_loss, train

VOCAB = 88  # War and Peace: 87 symbols + the reserved id
BATCH, SEQ = 100, 100
DROPOUT = 0.25  # one of the paper's three; the grid's runs differ in speed by little else
#: Whole corpora at paper scale, bytes: War and Peace as downloaded; LK as cut by max_bytes.
CORPUS_BYTES = {"wp": 3_258_250, "lk": 6_206_996}
CONFIG = Path(__file__).resolve().parents[1] / "config.yaml"


@dataclass(frozen=True)
class Dataset:
    name: str
    train_chars: int
    val_chars: int


@dataclass(frozen=True)
class Rates:
    """One run's speed, chars/s, while ``runs_per_gpu`` runs share its device."""

    train: float
    evaluate: float


def run_seconds(rates: Rates, data: Dataset, epochs: int) -> float:
    """A run of ``epochs`` epochs: the training split, then one validation pass, each."""
    return epochs * (data.train_chars / rates.train + data.val_chars / rates.evaluate)


def makespan(durations: Iterable[float], slots: int) -> float:
    """Wall time of jobs dealt longest first, each to the slot that frees first."""
    ends = [0.0] * slots
    for duration in sorted(durations, reverse=True):
        heapq.heappush(ends, heapq.heappop(ends) + duration)
    return max(ends)


def project_grid(
    rates: dict[str, Rates],
    datasets: Sequence[Dataset],
    epochs: int,
    dropouts: int,
    gpus: int,
    runs_per_gpu: int,
) -> float:
    """Seconds for every (dataset, shape, dropout) run on ``gpus`` x ``runs_per_gpu`` slots,
    ``rates`` being each shape's per-run rates measured at that packing."""
    durations = [
        run_seconds(shape_rates, data, epochs)
        for data in datasets
        for shape_rates in rates.values()
        for _ in range(dropouts)
    ]
    return makespan(durations, gpus * runs_per_gpu)


def paper_workload(config: dict) -> tuple[list[Dataset], int, int]:
    """The grid's datasets at full size, epochs and dropouts, from ``config.yaml``."""
    datasets = []
    for name, section in config["datasets"].items():
        size = section.get("max_bytes", CORPUS_BYTES[name])
        (train_start, train_stop), (val_start, val_stop), _ = split_bounds(size, section["split"])
        datasets.append(Dataset(name, train_stop - train_start, val_stop - val_start))
    return datasets, config["training"]["epochs"], len(config["grid"]["dropouts"])


def interpolated_rates(measured: dict[str, Rates], config: dict) -> dict[str, Rates]:
    """Rates of every shape of ``config``'s grid: measured ones as measured, the others
    interpolated among the measured shapes of their type, in seconds per character,
    piecewise linearly in log parameter budget, then in the number of layers, held constant
    beyond the measured range. The measured shapes of a type must fill a layers x budgets
    table (ValueError otherwise, naming what is missing)."""
    grid = config["grid"]
    specs = model_grid(grid["types"], grid["layers"], list(grid["budgets"]))
    size = {b: math.log(budget_parameters(VOCAB, grid["budgets"][b])) for b in grid["budgets"]}
    by_shape = {
        (s.model_type, s.num_layers, s.budget): measured[s.model_id]
        for s in map(ModelSpec.parse, measured)
    }
    filled = {}
    for model_type in grid["types"]:
        points = [(layers, budget) for (t, layers, budget) in by_shape if t == model_type]
        layer_set = sorted({layers for layers, _ in points})
        budget_set = sorted({budget for _, budget in points}, key=size.__getitem__)
        missing = [
            f"{model_type}-{layers}L-{budget}"
            for layers in layer_set
            for budget in budget_set
            if (layers, budget) not in points
        ]
        if not points or missing:
            what = f"measure {', '.join(missing)} too" if missing else "no shape measured"
            raise ValueError(
                f"{model_type}: {what}; the projection interpolates over a full layers x "
                "budgets table of each type"
            )
        for spec in (s for s in specs if s.model_type == model_type):
            seconds = []
            for field in ("train", "evaluate"):
                per_layers = [
                    np.interp(
                        size[spec.budget],
                        [size[b] for b in budget_set],
                        [1 / getattr(by_shape[(model_type, n, b)], field) for b in budget_set],
                    )
                    for n in layer_set
                ]
                seconds.append(float(np.interp(spec.num_layers, layer_set, per_layers)))
            filled[spec.model_id] = Rates(1 / seconds[0], 1 / seconds[1])
    return filled


RATE_COLUMNS = ("model", "runs", "train_chars_per_s", "eval_chars_per_s", "gpu_util", "peak_mb")


def append_rates(
    path: Path, model_id: str, runs: int, rates: Rates, utilisation: float, peak_mb: float
) -> None:
    """One measurement as a CSV row, written at once: a run cut short keeps what it had."""
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(RATE_COLUMNS)
        row = (model_id, runs, f"{rates.train:.1f}", f"{rates.evaluate:.1f}")
        writer.writerow((*row, f"{utilisation:.0f}", f"{peak_mb:.0f}"))


def read_rates(path: Path) -> dict[int, dict[str, Rates]]:
    """runs per device -> model -> rates, from an ``append_rates`` file."""
    measured: dict[int, dict[str, Rates]] = {}
    for row in read_table(path):
        rates = Rates(row["train_chars_per_s"], row["eval_chars_per_s"])
        measured.setdefault(row["runs"], {})[row["model"]] = rates
    return measured


def print_projection(measured: dict[int, dict[str, Rates]], config: dict) -> None:
    """The grid's wall time on 1 and 2 devices at each packing measured."""
    datasets, epochs, dropouts = paper_workload(config)
    grid = config["grid"]
    shapes_total = len(grid["types"]) * len(grid["layers"]) * len(grid["budgets"])
    print(
        f"\nprojected wall time of {len(datasets) * shapes_total * dropouts} runs ("
        + ", ".join(
            f"{d.name}: {d.train_chars:,} train + {d.val_chars:,} val chars" for d in datasets
        )
        + f"; {epochs} epochs; from the shapes measured, the others interpolated):"
    )
    print(f"{'runs per device':>15} {'1 device':>10} {'2 devices':>10} {'measured':>8}")
    for runs in sorted(measured):
        try:
            rates = interpolated_rates(measured[runs], config)
        except ValueError as error:
            print(f"{runs:>15} {'n/a':>10} {'n/a':>10} {len(measured[runs]):>8}  ({error})")
            continue
        one, two = (project_grid(rates, datasets, epochs, dropouts, gpus, runs) for gpus in (1, 2))
        print(f"{runs:>15} {_hours(one):>10} {_hours(two):>10} {len(measured[runs]):>8}")


def shapes(config: dict, only: Sequence[str]) -> list[tuple[str, ModelConfig]]:
    grid = config["grid"]
    specs = model_grid(grid["types"], grid["layers"], list(grid["budgets"]))
    if only:
        specs = [ModelSpec.parse(model_id) for model_id in only]
    return [
        (
            spec.model_id,
            ModelConfig(
                spec.model_type,
                VOCAB,
                spec.hidden_size(VOCAB, grid["budgets"]),
                spec.num_layers,
                DROPOUT,
                **_gru_variant(grid),
            ),
        )
        for spec in specs
    ]


def _gru_variant(grid: dict) -> dict[str, str]:
    """The configured GRU equations, where the models offer a choice."""
    if "gru_variant" in grid and "gru_variant" in {f.name for f in fields(ModelConfig)}:
        return {"gru_variant": grid["gru_variant"]}
    return {}


@dataclass(frozen=True)
class Task:
    model: ModelConfig
    batches: int
    runs: int  # workers taking part (the packing)


@dataclass(frozen=True)
class Result:
    train: float
    evaluate: float
    peak_mb: float
    utilisation: float  # mean percent over the timed part (worker 0 only), nan if unknown


def _epoch(model: CharRNN, ids: np.ndarray, device: torch.device, tmp: str) -> float:
    """One epoch of ``train`` over ``ids``; its training chars/s."""
    paths = RunPaths(Path(tmp, "best.pt"), Path(tmp, "log.csv"), Path(tmp, "resume.pt"))
    paths.resume.unlink(missing_ok=True)
    small_val = ids[: BATCH * SEQ + 1]
    train(
        model,
        ids,
        small_val,
        TrainingConfig(epochs=1),
        paths,
        device=device,
        fingerprint="bench",
        checkpoint_meta={},
    )
    return read_table(paths.log)[0]["chars_per_second"]


class _Utilisation:
    """Samples the device's NVML utilisation every 0.1 s in a thread."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.samples = device, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.samples.append(torch.cuda.utilization(self.device))

    def __enter__(self) -> _Utilisation:
        if self.device.type == "cuda":
            try:
                torch.cuda.utilization(self.device)
            except Exception as error:  # no pynvml / NVML: report it unknown, measure the rest
                logging.warning("no GPU utilisation: %s (pip install nvidia-ml-py)", error)
                return self
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def mean(self) -> float:
        return float(np.mean(self.samples)) if self.samples else math.nan


def _worker(index: int, device_name: str, threads: int, tasks, results, barriers) -> None:
    torch.set_num_threads(threads)
    logging.basicConfig(level=logging.WARNING)
    device = torch.device(device_name)
    rng = np.random.default_rng(index)
    with reproducible(device), tempfile.TemporaryDirectory() as tmp:
        while (task := tasks.get()) is not None:
            model = CharRNN(task.model)
            ids = rng.integers(0, VOCAB, BATCH * SEQ * task.batches + 1).astype(np.uint8)
            val = ids[: BATCH * SEQ * max(1, task.batches // 2) + 1]
            _epoch(model, ids[: BATCH * SEQ * 2 + 1], device, tmp)  # warm-up: kernels, memory
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            barriers[task.runs].wait()
            with _Utilisation(device if index == 0 else torch.device("cpu")) as busy:
                rate = _epoch(model, ids, device, tmp)
                started = time.perf_counter()
                stream_loss(model, val, BATCH, SEQ, device)
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                evaluate = (len(val) - 1) / (time.perf_counter() - started)
            peak = (
                torch.cuda.max_memory_allocated(device) / 2**20
                if device.type == "cuda"
                else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            )
            results.put((index, Result(rate, evaluate, peak, busy.mean)))


class Workers:
    """``size`` worker processes, each holding the device for the whole benchmark."""

    def __init__(self, size: int, device: torch.device, threads: int, packs: Sequence[int]):
        context = mp.get_context("spawn")  # CUDA cannot be forked
        self.results = context.Queue()
        self.tasks = [context.Queue() for _ in range(size)]
        # Kept here: a spawned child rebuilds them from their names while they exist.
        self.barriers = {runs: context.Barrier(runs) for runs in packs}
        self.processes = [
            context.Process(
                target=_worker,
                args=(i, str(device), threads, self.tasks[i], self.results, self.barriers),
                daemon=True,
            )
            for i in range(size)
        ]
        for process in self.processes:
            process.start()

    def measure(self, task: Task, timeout: float = 1800) -> list[Result]:
        for tasks in self.tasks[: task.runs]:
            tasks.put(task)
        results = {}
        deadline = time.monotonic() + timeout
        while len(results) < task.runs:
            if not all(p.is_alive() for p in self.processes[: task.runs]):
                raise RuntimeError("a benchmark worker died; see its traceback above")
            try:
                index, result = self.results.get(timeout=5)
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no result within {timeout} s") from None
                continue
            results[index] = result
        return [results[i] for i in range(task.runs)]

    def close(self) -> None:
        for tasks in self.tasks:
            tasks.put(None)
        for process in self.processes:
            process.join(timeout=60)


def matmul_gflops(device: torch.device, n: int = 2048, repeats: int = 10, trials: int = 5) -> float:
    """The machine's float32 matmul rate: the best of ``trials`` timings (least disturbed)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(trials):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(repeats):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = max(best, 2 * n**3 * repeats / (time.perf_counter() - started) / 1e9)
    return best


def _percent(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0f}%"


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--batches", type=int, default=30, help="batches per timed epoch")
    parser.add_argument("--models", nargs="*", default=[], help="model ids (default: the grid)")
    parser.add_argument(
        "--pack", nargs="+", type=int, default=[1, 2, 4, 8], help="runs sharing the device"
    )
    parser.add_argument("--matmul-size", type=int, default=2048, help="n of the n x n matmul")
    parser.add_argument(
        "--score-chars", type=int, default=300_000, help="evaluation of the 1.3M LSTM (0: skip)"
    )
    parser.add_argument("--rates-csv", type=Path, help="append each measurement to this CSV")
    parser.add_argument(
        "--project-from", type=Path, help="project from a --rates-csv file; measure nothing"
    )
    args = parser.parse_args()
    config = yaml.safe_load(CONFIG.read_text())
    if args.project_from:
        print_projection(read_rates(args.project_from), config)
        return
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(
        f"device: {device} ({name or platform.machine()}), torch {torch.__version__}, "
        f"{args.threads} threads per run, batch {BATCH} x {SEQ}, dropout {DROPOUT}"
    )
    peak = matmul_gflops(device, args.matmul_size)
    print(f"float32 matmul {args.matmul_size}x{args.matmul_size}: {peak:.1f} GFLOP/s")
    memory = "GPU MB" if device.type == "cuda" else "RSS MB"
    print(
        f"{'model':>14} {'hidden':>6} {'params':>9} {'runs':>4} {'chars/s/run':>11} "
        f"{'chars/s':>9} {'eval/run':>9} {'GPU util':>8} {memory:>7} {'GFLOP/s':>8} {'of mm':>6}"
    )
    packs = sorted(set(args.pack))
    workers = Workers(max(packs), device, args.threads, packs)
    measured: dict[int, dict[str, Rates]] = {runs: {} for runs in packs}
    try:
        for model_id, model in shapes(config, args.models):
            params = parameter_count(model.model_type, VOCAB, model.hidden_size, model.num_layers)
            for runs in packs:
                results = workers.measure(Task(model, args.batches, runs))
                per_run = float(np.mean([r.train for r in results]))
                evaluate = float(np.mean([r.evaluate for r in results]))
                measured[runs][model_id] = Rates(per_run, evaluate)
                total = per_run * runs
                busy, memory_mb = results[0].utilisation, max(r.peak_mb for r in results)
                if args.rates_csv:
                    append_rates(
                        args.rates_csv, model_id, runs, measured[runs][model_id], busy, memory_mb
                    )
                gflops = 6 * params * total / 1e9
                print(
                    f"{model_id:>14} {model.hidden_size:>6} {params:>9,} {runs:>4} "
                    f"{per_run:>11,.0f} {total:>9,.0f} {evaluate:>9,.0f} "
                    f"{_percent(busy):>8} {memory_mb:>7,.0f} "
                    f"{gflops:>8.1f} {gflops / peak:>6.0%}",
                    flush=True,
                )
    finally:
        workers.close()

    print_projection(measured, config)

    if args.score_chars:
        model = CharRNN(ModelConfig("lstm", VOCAB, 512, 1)).to(device)
        test = np.random.default_rng(1).integers(0, VOCAB, args.score_chars + 1).astype(np.uint8)
        with reproducible(device):
            started = time.perf_counter()
            score_sequence(model, test, device)
            seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"evaluation of the 1.3M LSTM over {args.score_chars:,} characters: {seconds:.1f} s "
            f"({args.score_chars / seconds:,.0f} chars/s); peak RSS {peak_mb:.0f} MB"
        )


if __name__ == "__main__":
    main()
