"""Build and score the n-gram baseline on full War and Peace, printing what it costs.

The corpus is read byte-wise with every ``\\r`` turned into ``\\r\\n`` (3,258,250 bytes),
split contiguously 80/10/10, with the vocabulary of the training split. Prints the build's
wall and CPU seconds, peak RSS (largest child, and lmplz + build_binary sampled together),
binary size, scoring throughput for p(target) alone and with the argmax, and the test loss.
Target: the 20-gram (order 21) built in under 2 minutes in under 4 GB on 2 cores.

    .venv/bin/python benchmarks/bench_ngram.py [--n 20 | --order 21] [--max-bytes N]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from paper_corpora import paper_corpus

from visrnn.data.splits import Vocab, split_bounds
from visrnn.scoring.ngram import build_ngram, score_ngram, target_probabilities


def child_rss_kb() -> int:
    """Summed resident memory of this process's children (lmplz and build_binary)."""
    total = 0
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue  # it just ended
            rss = [line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")]
            total += int(rss[0]) if rss else 0
    return total


class PeakSampler(threading.Thread):
    """Samples ``child_rss_kb`` until stopped; keeps the largest value seen."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak_kb, self.done = interval, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.peak_kb = max(self.peak_kb, child_rss_kb())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--n", type=int, help="context length n; the order is n + 1 (default 20)")
    size.add_argument("--order", type=int, help="KenLM order, n + 1")
    parser.add_argument("--max-bytes", type=int, help="use only the corpus's first bytes")
    parser.add_argument("--memory", default="1G", help="lmplz/build_binary -S (default 1G)")
    parser.add_argument("--tmp-dir", default=None, help="where the binary and temp files go")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    n = args.n if args.n is not None else (args.order - 1 if args.order is not None else 20)

    corpus = paper_corpus("wp").read_bytes().replace(b"\r", b"\r\n")[: args.max_bytes]
    (train_lo, train_hi), _, (test_lo, test_hi) = split_bounds(len(corpus), (0.8, 0.1, 0.1))
    vocab = Vocab.from_bytes(corpus[train_lo:train_hi])
    train, test = vocab.encode(corpus[train_lo:train_hi]), vocab.encode(corpus[test_lo:test_hi])
    print(f"corpus {len(corpus):,} bytes, vocab {vocab.size}, ", end="")
    print(f"train {len(train):,}, test {len(test):,}")

    with tempfile.TemporaryDirectory(prefix="bench-ngram-", dir=args.tmp_dir) as work:
        binary = Path(work, f"ngram{n}.bin")
        sampler = PeakSampler()
        sampler.start()
        start = time.perf_counter()
        build_ngram(train, vocab, n, binary, memory=args.memory, tmp_dir=work)
        build_s = time.perf_counter() - start
        sampler.done.set()
        sampler.join()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(
            f"order {n + 1} build: {build_s:.1f} s wall, "
            f"{children.ru_utime + children.ru_stime:.1f} s CPU of lmplz + build_binary"
        )
        print(
            f"peak RSS: largest child {children.ru_maxrss / 1024:.0f} MB, "
            f"both together (sampled) {sampler.peak_kb / 1024:.0f} MB"
        )
        print(f"binary size: {binary.stat().st_size / 1e6:.1f} MB")

        wall, cpu = time.perf_counter(), time.process_time()
        p_only = target_probabilities(binary, test, vocab)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"p(target): {len(p_only) / wall:,.0f} chars/s wall, {len(p_only) / cpu:,.0f} per CPU s"
        )

        wall, cpu = time.perf_counter(), time.process_time()
        p_target, argmax = score_ngram(binary, test, vocab)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"p(target) + argmax: {len(p_target) / wall:,.0f} chars/s wall, "
            f"{len(p_target) / cpu:,.0f} per CPU s; "
            f"{np.mean(p_target <= 0.5):.1%} of positions needed a full scan"
        )

    assert np.array_equal(p_only, p_target), "the two scoring paths disagree"
    loss = float(-np.log(p_target.astype(np.float64)).mean())
    accuracy = float(np.mean(argmax == test[1:]))
    print(
        f"test loss: {loss:.4f} nats/char over {len(p_target):,} positions "
        f"(argmax accuracy {accuracy:.1%})"
    )


if __name__ == "__main__":
    main()
