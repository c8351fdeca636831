"""The cost of the paper's GRU against PyTorch's fused one (``grid.gru_variant``).

For each parameter budget (the paper's four, a 1-layer GRU at the solved hidden size, and a
3-layer GRU of the 130K budget) it trains one epoch of random text with the pipeline's own
training loop (batch 100 x 100) in both variants and prints the characters per second, then
scores 100,000 test characters (one stream, batch 1, state carried) with the largest model
of each variant. The variants alternate and each number is the best of ``--repeats`` runs,
so that a load on a shared machine weighs on both alike.

    python benchmarks/bench_gru.py [--threads N] [--device cpu|cuda] [--batches B]
"""

from __future__ import annotations

import argparse
import logging
import platform
import time

import numpy as np
import torch
from bench_training import VOCAB, training_rate

from visrnn.evaluation import score_sequence
from visrnn.grid import budget_parameters, solve_hidden_size
from visrnn.models import GRU_VARIANTS, CharRNN, ModelConfig

#: (LSTM cells that define the budget, layers) of each timed GRU.
SHAPES = ((64, 1), (128, 1), (256, 1), (512, 1), (128, 3))


def gru_config(cells: int, layers: int, variant: str) -> ModelConfig:
    hidden = solve_hidden_size("gru", layers, VOCAB, budget_parameters(VOCAB, cells))
    return ModelConfig("gru", VOCAB, hidden, layers, gru_variant=variant)


def scoring_seconds(config: ModelConfig, device: torch.device, chars: int) -> float:
    model = CharRNN(config).to(device).eval()
    test = np.random.default_rng(1).integers(0, VOCAB, chars + 1).astype(np.uint8)
    started = time.perf_counter()
    score_sequence(model, test, device)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batches", type=int, default=20, help="batches per timed epoch")
    parser.add_argument("--score-chars", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs per number (the best)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(
        f"device: {device} ({name or platform.machine()}), torch {torch.__version__}, "
        f"{args.threads} threads"
    )
    header = " ".join(f"{variant + ' chars/s':>14}" for variant in GRU_VARIANTS)
    print(f"{'budget':>7} {'layers':>6} {'hidden':>6} {header} {'paper/cudnn':>11}")
    for cells, layers in SHAPES:
        rates = dict.fromkeys(GRU_VARIANTS, 0.0)
        for _ in range(args.repeats):
            for variant in GRU_VARIANTS:
                rate = training_rate(gru_config(cells, layers, variant), device, args.batches)
                rates[variant] = max(rates[variant], rate)
        hidden = gru_config(cells, layers, "paper").hidden_size
        columns = " ".join(f"{rates[variant]:>14,.0f}" for variant in GRU_VARIANTS)
        ratio = rates["paper"] / rates["cudnn"]
        print(f"{cells:>7} {layers:>6} {hidden:>6} {columns} {ratio:>11.2f}")
    seconds = dict.fromkeys(GRU_VARIANTS, float("inf"))
    for _ in range(args.repeats):
        for variant in GRU_VARIANTS:
            taken = scoring_seconds(gru_config(512, 1, variant), device, args.score_chars)
            seconds[variant] = min(seconds[variant], taken)
    for variant in GRU_VARIANTS:
        config = gru_config(512, 1, variant)
        print(
            f"scoring {args.score_chars:,} characters with the {config.hidden_size}-unit "
            f"{variant} GRU: {seconds[variant]:.1f} s "
            f"({args.score_chars / seconds[variant]:,.0f} chars/s)"
        )


if __name__ == "__main__":
    main()
