"""Time the activation dump, its reader, and gate saturation at the paper's largest size.

A randomly initialised 1.3M-parameter LSTM (1 layer, 512 cells, War and Peace's 88 ids,
uniform init in [-0.08, 0.08]) over War and Peace test text: dump 100K characters, read one
cell's trace, one position's state and a 1000-step matrix back, and count gate saturation
over 300K characters. Targets: dump under a minute and 2 GB, trace under 100 ms.

    .venv/bin/python benchmarks/bench_activations.py [--text PATH]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from paper_corpora import paper_corpus

from visrnn.data.splits import Vocab
from visrnn.inside.activations import ActivationDump, dump_activations
from visrnn.inside.saturation import saturation_counts
from visrnn.models.recurrent import CharRNN, ModelConfig

DUMP_CHARS = 100_000
SATURATION_CHARS = 300_000
STEPWISE_SAMPLE = 4096
#: The paper's War and Peace vocabulary, 87 symbols, plus the unknown id.
VOCAB_SIZE = 88


def median_ms(read: Callable[[int], object], repeats: int = 15) -> float:
    times = []
    for k in range(repeats):
        start = time.perf_counter()
        read(k)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, help="War and Peace (default: the paper config's)")
    args = parser.parse_args()
    text = args.text or paper_corpus("wp")
    corpus = text.read_bytes().replace(b"\r", b"\r\n")  # the paper's form: 87 symbols
    train_end, val_end = int(0.8 * len(corpus)), int(0.9 * len(corpus))
    vocab = Vocab.from_bytes(corpus[:train_end])
    test = vocab.encode(corpus[val_end:])
    torch.manual_seed(0)
    model = CharRNN(ModelConfig("lstm", max(VOCAB_SIZE, vocab.size), 512, 1))
    model.init_uniform(0.08)
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    print(f"model: lstm 1x512, vocab {model.config.vocab_size}, {params:,} parameters")
    print(f"cpu threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lstm.parquet"
        rss_before = peak_rss_mb()
        start = time.perf_counter()
        dump_activations(
            model, test[:DUMP_CHARS], path, model_id="bench", vocab_sha256=vocab.sha256
        )
        print(f"dump {DUMP_CHARS:,} chars           {time.perf_counter() - start:8.1f} s")
        print(f"peak RSS                       {peak_rss_mb():8.0f} MB (before: {rss_before:.0f})")
        print(f"file size                      {path.stat().st_size / 1e6:8.1f} MB")
        dump = ActivationDump(path)
        rng = np.random.default_rng(0)
        units = rng.integers(0, 512, size=15)
        positions = rng.integers(0, DUMP_CHARS, size=15)
        starts = rng.integers(0, DUMP_CHARS - 1000, size=15)
        trace = median_ms(lambda k: dump.trace(0, "c", int(units[k])))
        state = median_ms(lambda k: dump.state(int(positions[k]), 0, "c"))
        matrix = median_ms(lambda k: dump.matrix(0, "f", int(starts[k]), int(starts[k]) + 1000))
        print(f"trace, one cell, all positions {trace:8.1f} ms (median of 15)")
        print(f"state, one position            {state:8.1f} ms")
        print(f"matrix, 1000 positions x 512   {matrix:8.1f} ms")

    ids = test[:SATURATION_CHARS]
    start = time.perf_counter()
    counts = saturation_counts(model, ids)
    seconds = time.perf_counter() - start
    print(f"saturation {len(ids):,} chars      {seconds:8.1f} s ({len(counts)} gates)")
    sample = torch.as_tensor(ids[:STEPWISE_SAMPLE].astype(np.int64))[None]
    start = time.perf_counter()
    model.stepwise(sample)
    per_step = (time.perf_counter() - start) / STEPWISE_SAMPLE
    print(f"stepwise loop, extrapolated    {per_step * len(ids):8.1f} s for {len(ids):,} chars")


if __name__ == "__main__":
    main()
