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

3. Your own states: a synthetic LSTMVis project of ``--positions`` words x ``--units`` cells in
   2 layers (float32 HDF5, written in chunks; a vocabulary of 2,000 words; the phrase "of war
   and peace" planted every ~300 words, with one cell of layer 2 on exactly across it, and
   a binary ``phrase`` and a scalar ``surprisal`` meta track), imported by ``visrnn explore
   PROJECT --cache DIR`` (time and disk per million steps); then over HTTP: search (a literal
   phrase, a regular expression), a match with off-width constraints, ranking all units
   against each track, a window, and the server's memory (targets 100 ms, 300 ms, 1 s,
   50 ms, 2 GB).
4. Live text: 1,000 characters POSTed to ``/live`` for models of the demo's and the paper's
   grid shapes (random weights, a checkpoint written with the grid code; target 300 ms).

``--ranking-cpu N`` runs only this instead: the CPU time of ranking N units (uniform float16
values in [-0.4, 0.4], in memory, like the imported project's) x ``--positions`` against a
scalar track (exponential, like its surprisal) on one thread, in process: ``value_counts``,
and ``rank_scalar`` raw and tanh, each the best of 3, at N / 8 units and
at N: the difference is the cost a value, the rest the cost a ranking.

    .venv/bin/python benchmarks/bench_explorer.py [--positions N] [--units N] [--skip-real]
        [--skip-synthetic] [--skip-lstmvis] [--skip-live] [--ranking-cpu N]
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
import urllib.error
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


def cpu_ms(pid: int) -> float:
    """CPU time (user and system) the process ``pid`` has used, in ms: on a busy machine the
    server's CPU time per request says what the request costs, its wall time what it waited."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def measure(
    label: str, run: Callable[[int], object], pid: int, target: float, repeats: int = 9
) -> None:
    """Print ``run``'s wall time (median, max) and the server's CPU time per call."""
    before = cpu_ms(pid)
    med, worst = median_ms(run, repeats)
    cpu = (cpu_ms(pid) - before) / repeats
    print(
        f"{label:44s} {med:7.0f} ms median, {worst:6.0f} max, "
        f"server CPU {cpu:6.0f} ms a call (target {target:g})"
    )


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


def time_window(
    base: str, api: str, layer: int, state: str, positions: int, units: int
) -> np.ndarray:
    """Time 30 windows of ``WINDOW`` positions of all units at random starts; returns them."""
    starts = np.random.default_rng(3).integers(0, positions - WINDOW, 30)
    med, worst = median_ms(
        lambda k: get(
            base,
            f"{api}/window",
            layer=layer,
            state=state,
            start=int(starts[k]),
            stop=int(starts[k]) + WINDOW,
        ),
        repeats=30,
    )
    print(
        f"window {WINDOW} x {units} (HTTP, float16) {med:7.1f} ms median, {worst:.1f} max"
        " (target 50)"
    )
    return starts


def print_memory(pid: int) -> None:
    mem = memory_mb(pid)
    print(
        f"server memory after the queries: peak {mem['VmHWM']:.0f} MB,"
        f" now {mem['VmRSS']:.0f} MB "
        f"({mem['RssAnon']:.0f} MB anonymous, {mem['RssFile']:.0f} MB mapped file pages) "
        "(target 2048)"
    )


def synthetic(root: Path, positions: int, units: int) -> None:
    start = time.perf_counter()
    write_synthetic_results(root, positions, units, models=(("rnn-1L-syn", "rnn", ("h",)),))
    print(
        f"synthetic {positions:,} x {units} written in {time.perf_counter() - start:.0f} s, "
        f"{disk_mb(root):.0f} MB"
    )
    server, base = start_server([str(root)])
    try:
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
        starts = time_window(base, api, 0, "h", positions, units)
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
        print_memory(server.pid)
    finally:
        server.terminate()
        server.wait(10)


def start_server(arguments: list[str]) -> tuple[subprocess.Popen, str]:
    """``visrnn explore ARGUMENTS`` on a free port; returns it once it answers, and its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "visrnn.cli", "explore", *arguments, "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(6000):
        try:
            get(base, "/api/datasets")
            return server, base
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"visrnn explore {' '.join(arguments)} exited") from None
            time.sleep(0.1)
    raise RuntimeError("the explorer did not answer in 10 minutes")


#: The planted cell of the LSTMVis project's layer 2, and its phrase.
LSTMVIS_PLANTED = 17
PHRASE = ("of", "war", "and", "peace")
LSTMVIS_YML = """\
name: bench
description: a synthetic word-level LSTM with a planted cell
files: {states: states.h5, train: train.h5, words: words.dict, meta: meta.h5,
  phrase_dict: phrase.dict}
word_sequence: {file: train, path: words, dict_file: words}
states:
  file: states
  types:
    - {type: state, layer: 1, path: states1}
    - {type: state, layer: 2, path: states2}
meta:
  phrase: {file: meta, path: phrase, dict: phrase_dict, vis: {type: discrete, range: dict}}
  surprisal: {file: meta, path: surprisal, vis: {type: scalar}}
"""


def write_lstmvis(root: Path, positions: int, units: int, chunk: int = 65536) -> None:
    """The synthetic LSTMVis project (module docstring, 3), written chunk by chunk."""
    import h5py

    rng = np.random.default_rng(0)
    vocab = ["<s>", "<unk>", "</s>", *PHRASE, *(f"w{i}" for i in range(2000))]
    ids = rng.integers(len(PHRASE) + 3, len(vocab), positions).astype(np.int32)
    ids[::25] = 0
    starts = np.arange(100, positions - 10, 300) + rng.integers(
        0, 50, len(range(100, positions - 10, 300))
    )
    inside = np.zeros(positions, dtype=bool)
    for k in range(len(PHRASE)):
        ids[starts + k] = 3 + k
        inside[starts + k] = True
    root.mkdir(parents=True)
    with h5py.File(root / "train.h5", "w") as f:
        f["words"] = ids
    with h5py.File(root / "meta.h5", "w") as f:
        f["phrase"] = inside.astype(np.int32)
        f["surprisal"] = rng.exponential(1.0, positions).astype(np.float32)
    with h5py.File(root / "states.h5", "w") as f:
        for layer in (1, 2):
            data = f.create_dataset(f"states{layer}", (positions, units), dtype=np.float32)
            for start in range(0, positions, chunk):
                stop = min(positions, start + chunk)
                block = rng.uniform(-0.4, 0.4, (stop - start, units)).astype(np.float32)
                if layer == 2:
                    block[:, LSTMVIS_PLANTED] = np.where(inside[start:stop], 3.0, -3.0)
                data[start:stop] = block
    (root / "words.dict").write_text("".join(f"{w} {i}\n" for i, w in enumerate(vocab)))
    (root / "phrase.dict").write_text("outside 0\ninside 1\n")
    (root / "lstm.yml").write_text(LSTMVIS_YML)


def lstmvis(root: Path, positions: int, units: int) -> None:
    project, cache = root / "project" / "bench", root / "cache"
    start = time.perf_counter()
    write_lstmvis(project, positions, units)
    print(
        f"lstmvis: project of {positions:,} words x {units} cells x 2 layers (float32 HDF5) "
        f"written in {time.perf_counter() - start:.0f} s, {disk_mb(project):.0f} MB"
    )
    start = time.perf_counter()
    server, base = start_server([str(project.parent), "--cache", str(cache)])
    seconds = time.perf_counter() - start
    per_million = 1e6 / positions
    print(
        f"import and start: {seconds:.0f} s ({seconds * per_million:.0f} s per million steps), "
        f"cache {disk_mb(cache):.0f} MB ({disk_mb(cache) * per_million:.0f} MB per million steps)"
    )
    try:
        print(f"server up; memory {memory_mb(server.pid)}")
        api = "/api/bench/states"
        cold = time.perf_counter()
        found = json.loads(get(base, "/api/bench/search", pattern="of war and peace"))
        print(f"search, first (builds the joined text) {ms(cold):6.0f} ms, {found['count']} hits")
        for label, params in (
            ("search, literal 'of war and peace'", {"pattern": "of war and peace"}),
            ("search, literal 'w1234'", {"pattern": "w1234"}),
            ("search, regex 'w12\\d\\b and'", {"pattern": r"w12\d\b and", "regex": "true"}),
        ):
            measure(label, lambda _, p=params: get(base, "/api/bench/search", **p), server.pid, 100)
        rng = np.random.default_rng(1)
        others = rng.choice(
            [u for u in range(units) if u != LSTMVIS_PLANTED], MATCH_UNITS - 1, False
        )
        selected = ",".join(map(str, [LSTMVIS_PLANTED, *others.tolist()]))
        common = {"layer": 1, "state": "c", "threshold": 0.5, "before": 3, "after": 3}
        for label, params in (
            (
                f"match, {MATCH_UNITS} units, >= 1 on, off-widths 3",
                {"units": selected, "min_units": 1},
            ),
            ("match, planted cell, off-widths 3", {"units": LSTMVIS_PLANTED}),
            (
                "match, planted cell, length 4 exactly",
                {"units": LSTMVIS_PLANTED, "min_length": 4, "max_length": 4},
            ),
        ):
            measure(
                label, lambda _, p=params: get(base, f"{api}/match", **common, **p), server.pid, 300
            )
        # Each ranking is cached by its parameters: every timed one asks a new threshold. The
        # first ranking of a layer and state also counts its values (kept by the server).
        times, cpus, first = [], [], None
        for k in range(6):
            start, before = time.perf_counter(), cpu_ms(server.pid)
            answer = json.loads(
                get(
                    base, f"{api}/rank", layer=1, state="c", track="phrase", threshold=0.5 + k / 100
                )
            )
            times.append(ms(start))
            cpus.append(cpu_ms(server.pid) - before)
            first = first or answer
        print(
            f"rank {units} units vs binary 'phrase': first {times[0]:.0f} ms (server CPU "
            f"{cpus[0]:.0f} ms, with the value counts), then {statistics.median(times[1:]):.0f} "
            f"ms median (server CPU {statistics.median(cpus[1:]):.0f} ms) (target 1000); "
            f"first unit {first['units'][0]} (planted {LSTMVIS_PLANTED}), "
            f"F1 {first['scores']['f1'][0]}"
        )
        # A scalar ranking needs no value counts: each of these is a whole one.
        times, cpus = [], []
        for layer, transform in ((1, "tanh"), (1, "none"), (0, "tanh"), (0, "none")):
            start, before = time.perf_counter(), cpu_ms(server.pid)
            get(base, f"{api}/rank", layer=layer, state="c", track="surprisal", transform=transform)
            times.append(ms(start))
            cpus.append(cpu_ms(server.pid) - before)
            print(
                f"rank {units} units vs scalar 'surprisal', layer {layer} {transform}: "
                f"{times[-1]:.0f} ms, server CPU {cpus[-1]:.0f} ms (target 1000)"
            )
        print(
            f"rank {units} units vs scalar 'surprisal': {statistics.median(times):.0f} ms "
            f"median, {max(times):.0f} max (server CPU {statistics.median(cpus):.0f} ms median)"
        )
        time_window(base, api, 1, "c", positions, units)
        print_memory(server.pid)
    finally:
        server.terminate()
        server.wait(10)


def live_text(root: Path, characters: int = 1000) -> None:
    """Live text of ``characters`` characters through models of the demo's and the paper's
    grid shapes, each written as a checkpoint with its explorer store."""
    from visrnn.data.splits import Vocab
    from visrnn.explorer.synthetic import SYMBOLS, synthetic_text, write_checkpoint_model
    from visrnn.models.grid import ModelSpec

    write_synthetic_results(root, 4000, 8, models=())
    vocab_size = Vocab(SYMBOLS).size
    shapes = (
        ("lstm-1L-10k", {"10k": 24}),
        ("lstm-3L-10k", {"10k": 24}),
        ("gru-3L-10k", {"10k": 24}),
        ("lstm-1L-1.3m", {"1.3m": 512}),
        ("lstm-3L-1.3m", {"1.3m": 512}),
    )
    hidden = {}
    for model_id, budgets in shapes:
        hidden[model_id] = ModelSpec.parse(model_id).hidden_size(vocab_size, budgets)
        write_checkpoint_model(root, model_id, hidden=hidden[model_id])
    server, base = start_server([str(root)])
    text = synthetic_text(characters, seed=5).decode()
    try:
        for model_id, _ in shapes:
            spec = ModelSpec.parse(model_id)
            layer = spec.num_layers - 1
            state = "c" if spec.model_type == "lstm" else "h"
            body = json.dumps({"text": text, "layer": layer, "state": state}).encode()

            def post(_: int, model_id: str = model_id, body: bytes = body) -> bytes:
                request = urllib.request.Request(
                    f"{base}/api/syn/{model_id}/live",
                    data=body,
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request) as answer:
                    return answer.read()

            cold = time.perf_counter()
            try:
                post(0)
            except urllib.error.HTTPError as error:
                print(f"live text, {model_id}: {error} ({error.read().decode()})")
                continue
            print(f"live text, {model_id}: first (loads the checkpoint) {ms(cold):.0f} ms")
            label = (
                f"live {characters:,} chars, {model_id} ({spec.num_layers} x "
                f"{hidden[model_id]} {spec.model_type})"
            )
            try:
                measure(label, post, server.pid, 300, repeats=5)
            except urllib.error.HTTPError as error:
                print(f"{label}: {error} ({error.read().decode()})")
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


def ranking_cpu(units: int, positions: int) -> None:
    """The CPU time of a scalar ranking, a value and a ranking (module docstring)."""
    rng = np.random.default_rng(0)
    values = rng.uniform(-0.4, 0.4, (units, positions)).astype(np.float16)
    track = rng.exponential(1.0, positions).astype(np.float32)
    queries.RANK_THREADS = 1
    queries.rank_scalar(values[:1, :1000], track[:1000], "tanh")  # imports

    def best(run: Callable[[], object]) -> float:
        spent = []
        for _ in range(3):
            start = time.process_time()
            run()
            spent.append(time.process_time() - start)
        return min(spent)

    few = max(1, units // 8)
    counted = {n: best(lambda n=n: queries.value_counts(values[:n])) for n in (few, units)}
    for label, seconds in (
        ("value_counts", counted),
        *(
            (
                f"rank_scalar {transform}",
                {
                    n: best(lambda n=n, t=transform: queries.rank_scalar(values[:n], track, t))
                    for n in (few, units)
                },
            )
            for transform in ("none", "tanh")
        ),
    ):
        a_value = (seconds[units] - seconds[few]) / ((units - few) * positions)
        print(
            f"{label}: {a_value * 1e9:.2f} ns of CPU a value, "
            f"{(seconds[units] - a_value * units * positions) * 1e3:.0f} ms a ranking "
            f"({units} units: {seconds[units] * 1e3:.0f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=512)
    parser.add_argument(
        "--text", type=Path, help="War and Peace (default: found like the workflow finds it)"
    )
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--skip-lstmvis", action="store_true")
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument("--ranking-cpu", type=int, metavar="UNITS")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cpus")
    if args.ranking_cpu:
        ranking_cpu(args.ranking_cpu, args.positions)
        return
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_live:
            live_text(Path(tmp) / "live")
        if not args.skip_lstmvis:
            lstmvis(Path(tmp) / "lstmvis", args.positions, args.units)
        if not args.skip_synthetic:
            synthetic(Path(tmp) / "synthetic", args.positions, args.units)
        if not args.skip_real:
            (Path(tmp) / "real").mkdir()
            real(Path(tmp) / "real", args.text or paper_corpus("wp"))


if __name__ == "__main__":
    main()
