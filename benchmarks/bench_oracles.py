"""Time the error-oracle chain (Fig. 6) for one model over the full War and Peace test split.

The text is the real WP corpus (CRLF line ends, contiguous 80/10/10 split, as the paper
config builds it), found by the paper config's sha256 (in $VISRNN_CORPUS_DIRS, for one); the
probabilities are synthetic (about 42% errors for the model, as the paper's best LSTM, and
nine n-gram streams), written to and read back from
scores Parquet files like the pipeline's. Everything ``error_oracles.py`` does for one model
is timed: reading scores, words and their history, the oracles, peeling, the table rows, the
pie and the example page. The issue asks for under a minute on 2 CPU cores.

    .venv/bin/python benchmarks/bench_oracles.py [--corpus PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from paper_corpora import paper_corpus

from visrnn.data.corpora import read_text_corpus
from visrnn.data.splits import Vocab, split_bounds
from visrnn.figures.oracle_figures import plot_oracle_pie, render_examples, write_examples
from visrnn.figures.oracles import TextWords, oracle_rows, oracles, peel
from visrnn.scoring.scores import read_comparable, scores_for_test_split, write_scores

SETTINGS = {
    "order": ["ngram", "memory", "rare_words", "word_model", "punctuation", "boost"],
    "ngram": list(range(1, 10)),
    "memory": [100, 500, 1000, 5000],
    "rare_words": list(range(6)),
    "boost": [0.1, 0.2, 0.3, 0.4, 0.5],
}


@contextmanager
def timed(name: str, totals: list[float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    totals.append(seconds)
    print(f"{name:<36s} {seconds:8.3f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="War and Peace (default: the paper config's)")
    parser.add_argument("--out", type=Path, help="keep the pie and example page here")
    args = parser.parse_args()

    corpus = read_text_corpus(args.corpus or paper_corpus("wp"), "crlf")
    (train_start, train_stop), _, (test_start, test_stop) = split_bounds(
        len(corpus), [0.8, 0.1, 0.1]
    )
    vocab = Vocab.from_bytes(corpus[train_start:train_stop])
    test_ids = vocab.encode(corpus[test_start:test_stop])
    train_ids = vocab.encode(corpus[train_start:train_stop])
    positions = len(test_ids) - 1
    rng = np.random.default_rng(0)
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-oracles-"))
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, power in [("lstm", 0.8)] + [(f"ngram-{n}", 8.0) for n in SETTINGS["ngram"]]:
        p = (rng.random(positions) ** power).astype(np.float32)  # P(p < 0.5) = 0.5 ** (1 / power)
        scores = scores_for_test_split(
            name, "wp", vocab.sha256, test_ids, p, np.zeros(positions, np.int64)
        )
        paths.append(out / f"{name}.parquet")
        write_scores(paths[-1], scores)
    print(f"WP test split: {positions:,} positions; train split: {len(train_ids):,} bytes")

    totals: list[float] = []
    with timed("read 10 scores files", totals):
        lstm, *ngrams = read_comparable(paths)
    with timed("words, training counts, history", totals):
        text = TextWords.build(
            vocab.decode(test_ids), vocab.decode(train_ids), max(SETTINGS["memory"])
        )
    with timed("oracles and peeling", totals):
        ngram = {n: s.p_target for n, s in zip(SETTINGS["ngram"], ngrams, strict=True)}
        steps = peel(lstm.p_target < 0.5, oracles(text, lstm.p_target, ngram, SETTINGS))
        rows = oracle_rows("lstm", "large", steps)
    with timed("pie chart", totals):
        plot_oracle_pie(rows, positions, out / "pie.png")
    with timed("example page", totals):
        write_examples(out / "examples.html", render_examples(text, steps, "lstm", 3))
    errors = sum(row["errors_removed"] for row in rows)
    print(f"{errors:,} errors ({100 * errors / positions:.1f}%) in {len(rows)} categories")
    print(f"{'whole chain, one model':<36s} {sum(totals):8.3f} s")


if __name__ == "__main__":
    main()
