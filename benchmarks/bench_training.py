"""Training and evaluation throughput on this machine, next to its matrix-multiply rate.

For each parameter budget (a 1-layer LSTM of 64/128/256/512 cells, the paper's budgets) it
trains one epoch of random text with the pipeline's own training loop (batch 100 x 100,
RMSProp, clipping) and reads the characters per second from the training log. Analytic
cost: 6 FLOPs per parameter per character (2 forward, 4 backward), the usual estimate for
dense layers; the ratio to the machine's float32 matmul rate is the efficiency.
Then it scores a 300K-character test split with the 1.3M-parameter LSTM.

    python benchmarks/bench_training.py [--threads N] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import logging
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from visrnn.evaluation import score_sequence
from visrnn.files import read_csv
from visrnn.grid import parameter_count
from visrnn.models import CharRNN, ModelConfig
from visrnn.training import RunPaths, TrainingConfig, train

VOCAB = 88  # War and Peace: 87 symbols + the reserved id


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


def training_rate(model_config: ModelConfig, device: torch.device, batches: int) -> float:
    """Characters per second of one training epoch of ``batches`` batches of random text."""
    ids = np.random.default_rng(0).integers(0, VOCAB, 100 * 100 * batches + 1).astype(np.uint8)
    model = CharRNN(model_config)
    config = TrainingConfig(epochs=1)
    with tempfile.TemporaryDirectory() as tmp:
        paths = RunPaths(Path(tmp, "best.pt"), Path(tmp, "log.csv"), Path(tmp, "resume.pt"))
        train(
            model,
            ids,
            ids[:20001],
            config,
            paths,
            device=device,
            fingerprint="bench",
            checkpoint_meta={},
        )
        return float(read_csv(paths.log)[0]["chars_per_second"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batches", type=int, default=30, help="batches per timed epoch")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(
        f"device: {device} ({name or platform.machine()}), torch {torch.__version__}, "
        f"{args.threads} threads"
    )
    peak = matmul_gflops(device)
    print(f"float32 matmul 2048x2048: {peak:.1f} GFLOP/s")
    print(f"{'budget':>8} {'params':>9} {'chars/s':>9} {'GFLOP/s':>8} {'of matmul':>9}")
    for cells in (64, 128, 256, 512):
        params = parameter_count("lstm", VOCAB, cells, 1)
        rate = training_rate(ModelConfig("lstm", VOCAB, cells, 1), device, args.batches)
        gflops = 6 * params * rate / 1e9
        print(f"{cells:>5}-LSTM {params:>9,} {rate:>9,.0f} {gflops:>8.1f} {gflops / peak:>9.0%}")

    model = CharRNN(ModelConfig("lstm", VOCAB, 512, 1)).to(device)
    test = np.random.default_rng(1).integers(0, VOCAB, 300_001).astype(np.uint8)
    started = time.perf_counter()
    score_sequence(model, test, device)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"evaluation of the 1.3M LSTM over 300,000 characters: {seconds:.1f} s "
        f"({300_000 / seconds:,.0f} chars/s); peak RSS {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
