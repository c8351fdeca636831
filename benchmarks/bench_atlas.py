"""Time the atlas of cells across the grid over synthetic dumps of the paper's grid.

The paper's run has 216 trained models: 3 types x 3 depths x 4 budgets x 3 dropouts x 2
datasets. Each gets a dump of its memory (an LSTM's c, a GRU's or RNN's h; the columns the
atlas reads) with its hidden size solved for War and Peace's 87 symbols, over ``--positions``
test characters (the paper config dumps 100,000), filled with noise: the atlas's cost does
not depend on the values. Then ``atlas_rows`` ranks every unit of every model against the
six prose signals of a synthetic text, as ``rule atlas`` does, and prints its time. Last, one
matching of the explorer's compare view (``match_units`` of the two largest layers, the 1-layer
1.3M GRU's 596 units against the 1-layer 1.3M LSTM's 512, over ``COUNTERPART_POSITIONS``).

Dumps are written one at a time into a temporary folder (about 180 KB per 1,000 units and
1,000 positions, float16; 216 models at 100,000 positions are about 18 GB) and removed at the
end; writing them is not timed. ``--models N`` takes the first N of the 216 (in grid order:
budget, type, depth, dropout, dataset), so that a loaded machine can measure a part.

    .venv/bin/python benchmarks/bench_atlas.py [--positions 100000] [--models 216]
"""

from __future__ import annotations

import argparse
import logging
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from visrnn.explorer.server import COUNTERPART_POSITIONS
from visrnn.explorer.synthetic import synthetic_text
from visrnn.inside.activations import write_activation_arrays
from visrnn.inside.atlas import MEMORY_STATE, AtlasRun, atlas_rows, match_units
from visrnn.inside.signals import structural_signals
from visrnn.models.grid import model_grid

#: The paper's grid (config.yaml): types, depths, budgets (1-layer LSTM cells), dropouts.
TYPES, LAYERS, DROPOUTS = ("rnn", "lstm", "gru"), (1, 2, 3), (0.0, 0.25, 0.5)
BUDGETS = {"50k": 64, "130k": 128, "400k": 256, "1.3m": 512}
DATASETS = ("wp", "lk")
#: War and Peace's symbols (the hidden sizes are solved for them).
VOCAB_SIZE = 87


def paper_runs() -> list[tuple[str, str, float, int, int]]:
    """(dataset, model id, dropout, layers, hidden size) of the 216 trained models."""
    runs = []
    for spec in model_grid(TYPES, LAYERS, list(BUDGETS)):
        hidden = spec.hidden_size(VOCAB_SIZE, BUDGETS)
        for dropout in DROPOUTS:
            for ds in DATASETS:
                runs.append((ds, spec.model_id, dropout, spec.num_layers, hidden))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--positions", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=216, help="the first N of the 216")
    args = parser.parse_args()
    chosen = paper_runs()[: args.models]
    positions = args.positions
    rng = np.random.default_rng(0)
    widest = max(layers * hidden for *_, layers, hidden in chosen)
    # One block of noise for every dump: the atlas's cost does not depend on the values.
    noise = rng.standard_normal((positions, widest), dtype=np.float32).astype(np.float16)
    # Prose with quotes: line position and quotes vary, the depths and indentation do not
    # (each model's warning about them is silenced). Every unit is correlated with all six
    # signals either way; quotes are the one binary signal of prose.
    logging.getLogger("visrnn.inside.cells").setLevel(logging.ERROR)
    text = synthetic_text(positions)
    signals = structural_signals(text, code=False)
    ids = np.frombuffer(text, dtype=np.uint8) % VOCAB_SIZE
    units = sum(layers * hidden for *_, layers, hidden in chosen)
    print(
        f"{len(chosen)} models, {units} units in all, {positions} positions, "
        f"{len(signals)} signals",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-atlas-") as folder:
        runs = []
        started = time.perf_counter()
        for ds, model, dropout, layers, hidden in chosen:
            kind = model.split("-")[0]
            arrays = {
                (layer, MEMORY_STATE[kind]): noise[:, layer * hidden : (layer + 1) * hidden]
                for layer in range(layers)
            }
            path = Path(folder) / ds / model / f"dropout-{dropout:g}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_activation_arrays(
                path, arrays, ids, model_id=model, model_type=kind, vocab_sha256="0" * 64
            )
            runs.append(AtlasRun(model, f"dropout-{dropout:g}", dropout, False, str(path)))
        size = sum(Path(run.dump).stat().st_size for run in runs)
        print(f"wrote the dumps in {time.perf_counter() - started:.1f} s ({size / 1e9:.2f} GB)")

        started = time.perf_counter()
        cpu = time.process_time()
        rows = atlas_rows(runs, signals, threshold=0.5)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"atlas over {len(runs)} models: {seconds:.1f} s wall, {cpu:.1f} s CPU "
            f"({seconds / len(runs):.2f} s per model), {len(rows)} rows",
            flush=True,
        )

    count = min(positions, COUNTERPART_POSITIONS)
    a = np.tanh(rng.standard_normal((count, 512), dtype=np.float32))
    b = rng.standard_normal((count, 596), dtype=np.float32)
    started = time.perf_counter()
    match_units(a, b)
    print(
        f"matching 512 x 596 units over {count} positions: {time.perf_counter() - started:.2f} s",
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
