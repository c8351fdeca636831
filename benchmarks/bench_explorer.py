"""Time the explorer's queries at a million positions, and its precompute at the paper's size.

1. Synthetic: 1,000,000 positions x 512 units (visrnn.explorer.synthetic: noise, and one unit
   on exactly inside double quotes). ``visrnn explore`` runs as its own process; over HTTP,
   as the page asks: a match with 20 selected units (target 300 ms), a 2,000-character
   window of all units of one layer/state (target 50 ms), a hypothesis, precision/recall,
   top examples; then the server's peak and current memory (target 2 GB).
2. Real dump, full test split: a randomly initialised model of the paper's lstm-3L-1.3m shape
   (3 layers of 241 cells, War and Peace's 88 ids) dumped by ``dump_activations`` over the
   whole War and Peace test split (the last 10 %, 325,825 characters), then converted to the
   explorer's layout by ``write_model_store``: time and disk per model, one Parquet trace
   read against one layout read, and the same queries in process.

    .venv/bin/python benchmarks/bench_explorer.py [--positions N] [--units N] [--skip-real]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import numpy as np
from paper_corpora import paper_corpus

from visrnn.explorer import queries
from visrnn.explorer.store import ModelStore
from visrnn.explorer.synthetic import PLANTED, write_synthetic_results

MATCH_UNITS = 20
WINDOW = 2000
#: The paper's War and Peace vocabulary, 87 symbols, plus the unknown id.
VOCAB_SIZE = 88


def median_ms(run: Callable[[int], object], repeats: int = 9) -> tuple[float, float]:
    """(median, max) milliseconds of ``run(k)`` for k in range(repeats)."""
    times = []
    for k in range(repeats):
        start = time.perf_counter()
        run(k)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), max(times)


def ms(since: float) -> float:
    return 1000 * (time.perf_counter() - since)


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def memory_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def get(base: str, path: str, **params: object) -> bytes:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url) as answer:
        return answer.read()


def synthetic(root: Path, positions: int, units: int) -> None:
    start = time.perf_counter()
    write_synthetic_results(root, positions, units, models=(("rnn-1L-syn", "rnn", ("h",)),))
    print(
        f"synthetic {positions:,} x {units} written in {time.perf_counter() - start:.0f} s, "
        f"{disk_mb(root):.0f} MB"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "visrnn.cli", "explore", str(root), "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                get(base, "/api/datasets")
                break
            except OSError:
                time.sleep(0.1)
        print(f"server up; memory {memory_mb(server.pid)}")
        api = "/api/syn/rnn-1L-syn"
        rng = np.random.default_rng(1)
        others = rng.choice([u for u in range(units) if u != PLANTED], MATCH_UNITS - 1, False)
        selected = ",".join(map(str, [PLANTED, *others.tolist()]))
        common = {"layer": 0, "state": "h", "threshold": 0.5}
        cold = time.perf_counter()
        get(base, f"{api}/match", **common, units=selected, min_units=1)
        print(f"match, {MATCH_UNITS} units, first (cold) {ms(cold):7.0f} ms")
        for label, params in (
            (f"match, {MATCH_UNITS} units, >= 1 on", {"units": selected, "min_units": 1}),
            (f"match, {MATCH_UNITS} units, all on", {"units": selected}),
            ("match, 1 unit (planted)", {"units": PLANTED}),
        ):
            med, worst = median_ms(lambda _, p=params: get(base, f"{api}/match", **common, **p))
            print(f"{label:34s} {med:7.0f} ms median, {worst:.0f} max (target 300)")
        starts = rng.integers(0, positions - WINDOW, 30)
        med, worst = median_ms(
            lambda k: get(
                base,
                f"{api}/window",
                layer=0,
                state="h",
                start=int(starts[k]),
                stop=int(starts[k]) + WINDOW,
            ),
            repeats=30,
        )
        print(
            f"window {WINDOW} x {units} (HTTP, float16) {med:7.1f} ms median, {worst:.1f} max"
            " (target 50)"
        )
        med, worst = median_ms(
            lambda k: get(
                base,
                f"{api}/hypothesis",
                **common,
                start=int(starts[k]),
                stop=int(starts[k]) + 20,
                before=3,
                after=3,
            )
        )
        print(f"hypothesis, 20 chars              {med:7.1f} ms median, {worst:.1f} max")
        med, worst = median_ms(
            lambda _: get(
                base,
                f"{api}/precision",
                **common,
                units=selected,
                min_units=1,
                track="in_double_quotes",
            )
        )
        print(
            f"precision/recall, {MATCH_UNITS} units         {med:7.0f} ms median, {worst:.0f} max"
        )
        med, worst = median_ms(lambda k: get(base, f"{api}/top", layer=0, state="h", unit=k, k=10))
        print(f"top examples, 10 each way         {med:7.0f} ms median, {worst:.0f} max")
        found = json.loads(
            get(base, f"{api}/precision", **common, units=PLANTED, track="in_double_quotes")
        )
        print(
            f"planted unit vs quotes: precision {found['precision']:.3f}"
            f" recall {found['recall']:.3f}"
        )
        mem = memory_mb(server.pid)
        print(
            f"server memory after the queries: peak {mem['VmHWM']:.0f} MB,"
            f" now {mem['VmRSS']:.0f} MB "
            f"({mem['RssAnon']:.0f} MB anonymous, {mem['RssFile']:.0f} MB mapped file pages) "
            "(target 2048)"
        )
    finally:
        server.terminate()
        server.wait(10)


def real(root: Path, text_path: Path) -> None:
    import torch

    from visrnn.data.splits import Vocab
    from visrnn.explorer.store import write_model_store
    from visrnn.inside.activations import ActivationDump, dump_activations
    from visrnn.models.recurrent import CharRNN, ModelConfig

    corpus = text_path.read_bytes().replace(b"\r", b"\r\n")  # the paper's form: 87 symbols
    train_end, val_end = int(0.8 * len(corpus)), int(0.9 * len(corpus))
    vocab = Vocab.from_bytes(corpus[:train_end])
    test = vocab.encode(corpus[val_end:])
    torch.manual_seed(0)
    model = CharRNN(ModelConfig("lstm", max(VOCAB_SIZE, vocab.size), 241, 3))
    model.init_uniform(0.08)
    model.eval()
    dump_path = root / "lstm-3L-1.3m.parquet"
    start = time.perf_counter()
    dump_activations(model, test, dump_path, model_id="lstm-3L-1.3m", vocab_sha256=vocab.sha256)
    dumped = time.perf_counter() - start
    print(f"real: lstm 3x241 over the full test split, {len(test):,} positions")
    print(f"dump (Parquet)         {dumped:7.0f} s, {dump_path.stat().st_size / 1e6:7.0f} MB")
    store_path = root / "explorer-lstm-3L-1.3m"
    start = time.perf_counter()
    write_model_store(store_path, dump_path, model.decoder, np.full(len(test) - 1, 0.5))
    print(f"explorer layout        {ms(start) / 1000:7.0f} s, {disk_mb(store_path):7.0f} MB")
    dump = ActivationDump(dump_path)
    store = ModelStore(store_path)
    med, _ = median_ms(lambda k: dump.trace(2, "c", 7 * k))
    print(f"one unit's trace over {len(test):,}: Parquet {med:.0f} ms", end=", ")
    med, _ = median_ms(lambda k: np.asarray(store.values(2, "c")[7 * k], dtype=np.float32))
    print(f"layout {med:.1f} ms")
    values = store.values(2, "c")
    units = list(range(0, 241, 12))[:MATCH_UNITS]
    med, worst = median_ms(lambda _: queries.match(values, units, 0.5, 1, min_units=1))
    print(f"match, {len(units)} units (in process)   {med:7.0f} ms median, {worst:.0f} max")
    rng = np.random.default_rng(2)
    starts = rng.integers(0, len(test) - WINDOW, 30)
    med, worst = median_ms(
        lambda k: np.asarray(values[:, starts[k] : starts[k] + WINDOW], dtype=np.float32), 30
    )
    print(f"window {WINDOW} x 241 (in process)  {med:7.2f} ms median, {worst:.2f} max")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=512)
    parser.add_argument(
        "--text", type=Path, help="War and Peace (default: found like the workflow finds it)"
    )
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cpus")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_synthetic:
            synthetic(Path(tmp) / "synthetic", args.positions, args.units)
        if not args.skip_real:
            (Path(tmp) / "real").mkdir()
            real(Path(tmp) / "real", args.text or paper_corpus("wp"))


if __name__ == "__main__":
    main()
