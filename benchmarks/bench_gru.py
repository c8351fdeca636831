"""The cost of the paper's GRU against PyTorch's fused one (``grid.gru_variant``).

For each parameter budget (the paper's four, a 1-layer GRU at the solved hidden size, and a
3-layer GRU of the 130K budget) it times one training step of the model, forward and
backward over a batch of 100 x 100 characters (the pipeline's batch), in both variants and
prints characters per second; then it scores a test stream (batch 1, state carried) with
the largest GRU of each variant. The variants alternate and each number is the best of
``--repeats`` timings, so that a load on a shared machine weighs on both alike and the
least disturbed run counts.

    python benchmarks/bench_gru.py [--threads N] [--device cpu|cuda] [--repeats R]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from visrnn.models.gates import GRU_VARIANTS
from visrnn.models.grid import budget_parameters, solve_hidden_size
from visrnn.models.recurrent import CharRNN, ModelConfig
from visrnn.scoring.evaluation import score_sequence

VOCAB = 88  # War and Peace: 87 symbols + the reserved id
BATCH, STEPS = 100, 100
#: (LSTM cells that define the budget, layers) of each timed GRU.
SHAPES = ((64, 1), (128, 1), (256, 1), (512, 1), (128, 3))


def gru_config(cells: int, layers: int, variant: str) -> ModelConfig:
    hidden = solve_hidden_size("gru", layers, VOCAB, budget_parameters(VOCAB, cells))
    return ModelConfig("gru", VOCAB, hidden, layers, gru_variant=variant)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_seconds(
    work: dict[str, Callable[[], None]], device: torch.device, repeats: int
) -> dict[str, float]:
    """The fastest of ``repeats`` timings of each callable, taking turns, after a warm-up."""
    best = dict.fromkeys(work, float("inf"))
    for name in work:
        work[name]()
    for _ in range(repeats):
        for name, run in work.items():
            _synchronize(device)
            started = time.perf_counter()
            run()
            _synchronize(device)
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def training_step(config: ModelConfig, device: torch.device) -> Callable[[], None]:
    """Forward and backward of one batch with the pipeline's shapes and initialisation."""
    model = CharRNN(config).to(device).train()
    model.init_uniform(0.08)
    ids = torch.randint(0, VOCAB, (BATCH, STEPS + 1), device=device)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        logits, _ = model(ids[:, :-1], model.zero_state(BATCH, device))
        F.cross_entropy(logits.reshape(-1, VOCAB), ids[:, 1:].reshape(-1)).backward()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=5, help="timings per number (the best)")
    parser.add_argument("--score-chars", type=int, default=20_000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(
        f"device: {device} ({name or platform.machine()}), torch {torch.__version__}, "
        f"{args.threads} threads, best of {args.repeats}; load average before: "
        + ", ".join(f"{load:.1f}" for load in os.getloadavg())
    )
    header = " ".join(f"{variant + ' chars/s':>14}" for variant in GRU_VARIANTS)
    print(f"training step, batch {BATCH} x {STEPS}, forward + backward:")
    print(f"{'budget':>7} {'layers':>6} {'hidden':>6} {header} {'paper/cudnn':>11}")
    for cells, layers in SHAPES:
        steps = {v: training_step(gru_config(cells, layers, v), device) for v in GRU_VARIANTS}
        seconds = best_seconds(steps, device, args.repeats)
        rates = {v: BATCH * STEPS / seconds[v] for v in GRU_VARIANTS}
        hidden = gru_config(cells, layers, "paper").hidden_size
        columns = " ".join(f"{rates[v]:>14,.0f}" for v in GRU_VARIANTS)
        print(
            f"{cells:>7} {layers:>6} {hidden:>6} {columns} {rates['paper'] / rates['cudnn']:>11.2f}"
        )
    test = np.random.default_rng(1).integers(0, VOCAB, args.score_chars + 1).astype(np.uint8)
    models = {v: CharRNN(gru_config(512, 1, v)).to(device).eval() for v in GRU_VARIANTS}
    scoring = {v: (lambda m=models[v]: score_sequence(m, test, device)) for v in GRU_VARIANTS}
    seconds = best_seconds(scoring, device, max(1, args.repeats // 2))
    for variant in GRU_VARIANTS:
        print(
            f"scoring {args.score_chars:,} characters (batch 1) with the "
            f"{models[variant].config.hidden_size}-unit {variant} GRU: {seconds[variant]:.2f} s "
            f"({args.score_chars / seconds[variant]:,.0f} chars/s)"
        )
    print("load average after: " + ", ".join(f"{load:.1f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
