"""Time the long-range analyses on synthetic inputs of the paper's size.

36 models x 300,000 test positions over K = 101 symbols, a ~300 KB C-like text, and
symmetric KL over 300,000 x 101 log probabilities in chunks. Prints seconds per analysis;
each must stay well under a minute on 2 CPU cores. ``--figures DIR`` also draws each figure.

    .venv/bin/python benchmarks/bench_analyses.py [--figures DIR]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from visrnn.common.plotting import TYPE_COLORS
from visrnn.data.splits import Vocab
from visrnn.figures.advantage import (
    leading_characters,
    per_character_means,
    plot_leading_characters,
)
from visrnn.figures.agreement import agreement_matrix, plot_agreement_tsne, tsne_embedding
from visrnn.figures.braces import closing_brace_rows, match_braces, plot_closing_brace
from visrnn.figures.dynamics import compare_all, compare_streams, plot_dynamics
from visrnn.figures.overlap import error_overlap, plot_error_overlap

POSITIONS = 300_000
K = 101
CHUNK = 10_000
TEXT_BYTES = 300_000


@contextmanager
def timed(name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    print(f"{name:<40s} {time.perf_counter() - start:8.3f} s", flush=True)


def synthetic_argmaxes(rng: np.random.Generator) -> tuple[list[np.ndarray], list[str]]:
    """36 models; each type copies its own noisy version of a shared stream, so types cluster."""
    truth = rng.integers(0, K, size=POSITIONS)
    argmaxes, ids = [], []
    for model_type, flip in (("rnn", 0.5), ("lstm", 0.3), ("gru", 0.3)):
        type_stream = np.where(rng.random(POSITIONS) < flip, rng.integers(0, K, POSITIONS), truth)
        for layers in (1, 2, 3):
            for budget in ("64", "128", "256", "512"):
                noise = rng.random(POSITIONS) < 0.2
                argmaxes.append(np.where(noise, rng.integers(0, K, POSITIONS), type_stream))
                ids.append(f"{model_type}-{layers}L-{budget}")
    return argmaxes, ids


def c_like_text(rng: np.random.Generator) -> bytes:
    """Functions with nested blocks, plus strings, char literals and comments holding braces."""
    lines = ["/* generated { */"]

    def block(depth: int) -> None:
        for _ in range(rng.integers(1, 6)):
            choice = rng.integers(0, 6)
            indent = "\t" * depth
            if choice == 0 and depth < 5:
                lines.append(f"{indent}if (x_{depth} > {rng.integers(100)}) {{")
                block(depth + 1)
                lines.append(f"{indent}}}")
            elif choice == 1:
                lines.append(f'{indent}printk("value {{%d}} \\" }}\\n", v);')
            elif choice == 2:
                lines.append(f"{indent}c = '{{'; d = '\\''; // }} in a comment")
            else:
                lines.append(f"{indent}v = v * {rng.integers(1000)} + w; /* }} */")

    while sum(len(line) + 1 for line in lines) < TEXT_BYTES:
        lines.append(f"static int f_{len(lines)}(int v, int w)\n{{")
        block(1)
        lines.append("}\n")
    return ("\n".join(lines) + "\n").encode()[:TEXT_BYTES]


def logprob_chunks(rng: np.random.Generator) -> list[torch.Tensor]:
    return [
        torch.log_softmax(torch.from_numpy(rng.normal(0, 2, (CHUNK, K)).astype(np.float32)), 1)
        for _ in range(POSITIONS // CHUNK)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=Path, help="also draw each figure into this folder")
    args = parser.parse_args()
    figures: Path | None = args.figures
    rng = np.random.default_rng(0)
    print(f"torch threads: {torch.get_num_threads()}")

    argmaxes, ids = synthetic_argmaxes(rng)
    with timed(f"agreement matrix ({len(ids)} x {POSITIONS:,})"):
        agreement = agreement_matrix(argmaxes)
    with timed("t-SNE of the agreement"):
        embedding = tsne_embedding(agreement, seed=0)
    if figures:
        plot_agreement_tsne(embedding, ids, figures / "agreement.png")

    target = rng.integers(0, K - 1, size=POSITIONS)
    shapes = {"lstm": 4.0, "5-NN": 3.0, "20-gram": 3.5}
    p_target = {name: rng.beta(a, 2.0, POSITIONS) for name, a in shapes.items()}
    with timed("error overlap (3 models)"):
        overlap = error_overlap(p_target)
    if figures:
        plot_error_overlap(overlap, list(p_target), figures / "overlap.png")

    vocab = Vocab(tuple(range(32, 32 + K - 1)))
    # The 20-gram: the LSTM's probabilities moved by a per-character offset, either way.
    offset = rng.normal(0.0, 0.1, size=K)[target]
    p_ngram = np.clip(p_target["lstm"] + offset + rng.normal(0, 0.05, POSITIONS), 0.0, 1.0)
    with timed("per-character advantage"):
        means = per_character_means(target, p_target["lstm"], p_ngram, vocab.size)
        leading = leading_characters(*means, vocab, "lstm", "20-gram")
    if figures:
        plot_leading_characters(leading, "lstm", "20-gram", figures / "advantage.png")

    text = c_like_text(rng)
    p_brace = {name: rng.random(len(text)) for name in ("lstm", "20-gram")}
    with timed(f"brace matching ({len(text):,} bytes)"):
        pairs = match_braces(text)
    with timed(f"closing-brace buckets ({len(pairs):,} pairs)"):
        brace_rows = closing_brace_rows(text, p_brace)
    if figures:
        colors = {"lstm": TYPE_COLORS["lstm"], "20-gram": TYPE_COLORS["ngram"]}
        plot_closing_brace(brace_rows, figures / "braces.png", colors)

    snapshot, baseline = logprob_chunks(rng), logprob_chunks(rng)
    kl_targets = rng.integers(0, K, size=POSITIONS)
    with timed(f"symmetric KL ({POSITIONS:,} x {K}, chunks of {CHUNK:,})"):
        result = compare_streams(iter(snapshot), iter(baseline), kl_targets)
    # The paper config: 11 LSTM snapshots against 12 n-NN models, every pair in one pass.
    snapshots = {iteration: iter(snapshot) for iteration in range(11)}
    baselines = {f"{n}-NN": iter(baseline) for n in range(1, 13)}
    with timed(f"symmetric KL, 11 snapshots x 12 n-NN ({POSITIONS:,} x {K})"):
        compare_all(snapshots, baselines, kl_targets)
    if figures:
        rows = [
            {"iteration": it, "baseline": f"{n}-NN", "kl": result["kl"] / (1 + it * n / 100)}
            | {"loss_difference": (it - 50 * n) / 500}
            for it in range(0, 400, 50)
            for n in range(1, 6)
        ]
        plot_dynamics(rows, figures / "dynamics.png")


if __name__ == "__main__":
    main()
