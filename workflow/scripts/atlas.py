"""The atlas of cells across the grid: per trained model (every run) and structural signal,
the best unit's r, and precision/recall/F1 for a binary signal (tables/atlas.csv), as a
heatmap (figures/atlas.png)."""

from pathlib import Path

from visrnn.common.files import read_json, write_csv
from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.figures.atlas import plot_atlas
from visrnn.inside.activations import ActivationDump
from visrnn.inside.atlas import ATLAS_COLUMNS, AtlasRun, atlas_rows
from visrnn.inside.signals import structural_signals
from visrnn.training.selection import run_setting

with script(snakemake) as log:
    vocab = Vocab.load(snakemake.input.vocab)
    chosen = {
        (record["model"], Path(record["run"]).name)
        for record in map(read_json, snakemake.input.selections)
    }
    runs = [
        AtlasRun(model, run, run_setting(Path(run))[1], (model, run) in chosen, dump)
        for (model, run), dump in zip(snakemake.params.runs, snakemake.input.dumps, strict=True)
    ]
    # Dump row t is the state after reading test character t; every dump covers the same.
    positions = ActivationDump(runs[0].dump, runs[0].model).num_positions
    text = vocab.decode(load_split(snakemake.input.test)[:positions])
    signals = structural_signals(text, code=snakemake.params.code)
    rows = atlas_rows(runs, signals, snakemake.params.threshold, vocab.sha256)
    write_csv(snakemake.output.table, rows, ATLAS_COLUMNS)
    ds = snakemake.wildcards.ds
    plot_atlas(rows, snakemake.output.figure, f"{ds}: the best unit of each signal, every model")
    log.info("%s: %d trained models, %d signals", ds, len(runs), len(signals))
