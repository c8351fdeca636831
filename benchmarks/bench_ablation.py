"""The cost of an ablation: rescoring a test stream with units held (``visrnn.inside``).

A 1-layer LSTM of the 1.3M budget (512 cells on War and Peace's vocabulary, random
weights: the cost does not depend on them) scores ``--positions`` characters step by step
with nothing held (the intact row alone), with one cell silenced beside the intact row, and
with a batch of ``--batch`` rows (the pipeline's table: every signal's cell and control, two
ways of silencing, and the intact row, in one pass); the fused kernels' scoring of the same
stream is the reference. It prints seconds per 1,000 positions and the time projected for
War and Peace's whole test split (325,825 positions).

    python benchmarks/bench_ablation.py [--positions N] [--batch B] [--threads N] [--passes P,...]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from visrnn.inside.interventions import Clamp, score_interventions
from visrnn.models.grid import budget_parameters, solve_hidden_size
from visrnn.models.recurrent import CharRNN, ModelConfig
from visrnn.scoring.evaluation import score_sequence

VOCAB = 88  # War and Peace: 87 symbols + the reserved id
WP_TEST = 325_825


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--passes",
        default="fused,intact,one,batch",
        help="which passes to time, of fused, intact, one (one cell silenced), batch",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    hidden = solve_hidden_size("lstm", 1, VOCAB, budget_parameters(VOCAB, 512))
    torch.manual_seed(0)
    model = CharRNN(ModelConfig("lstm", VOCAB, hidden, 1)).eval()
    ids = np.random.default_rng(0).integers(0, VOCAB, args.positions + 1)
    rows = [[Clamp(0, "c", unit % hidden, 0.0)] for unit in range(args.batch - 1)]
    passes = {
        "fused": ("fused kernels, intact", lambda: score_sequence(model, ids, torch.device("cpu"))),
        "intact": ("step by step, intact", lambda: score_interventions(model, ids, [[]])),
        "one": (
            "step by step, intact + 1 cell",
            lambda: score_interventions(model, ids, [[], rows[0]]),
        ),
        "batch": (
            f"step by step, batch of {args.batch}",
            lambda: score_interventions(model, ids, [[], *rows]),
        ),
    }
    chosen = args.passes.split(",")
    unknown = sorted(set(chosen) - set(passes))
    if unknown:
        parser.error(f"--passes: unknown {', '.join(unknown)}; choose from {', '.join(passes)}")
    runs = dict(passes[name] for name in chosen)
    print(
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} thread(s); LSTM 1L {hidden} cells, {args.positions} positions"
    )
    for name, run in runs.items():
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
        per_thousand = 1000 * seconds / args.positions
        print(
            f"{name:34s} {per_thousand:7.3f} s / 1,000 positions; "
            f"WP test split: {per_thousand * WP_TEST / 1000 / 60:6.1f} min"
        )


if __name__ == "__main__":
    main()
