"""Figure 4 (left): overlap of the errors of the best 3-layer LSTM, n-NN and n-gram."""

from pathlib import Path

from visrnn.common.files import read_table, write_csv
from visrnn.common.runner import script
from visrnn.figures.baselines import best_baseline
from visrnn.figures.overlap import OVERLAP_COLUMNS, error_overlap, plot_error_overlap
from visrnn.scoring.choice import best_model
from visrnn.scoring.scores import read_comparable

with script(snakemake) as log:
    baselines = read_table(snakemake.input.baselines)
    chosen = [
        best_model(read_table(snakemake.input.test_losses), "lstm", deepest=True),
        best_baseline(baselines, "nnn"),
        best_baseline(baselines, "ngram"),
    ]
    paths = {Path(path).stem: path for path in snakemake.input.evals}
    scores = read_comparable([paths[model] for model in chosen])
    rows = error_overlap({s.model: s.p_target for s in scores})
    write_csv(snakemake.output.table, rows, OVERLAP_COLUMNS)
    plot_error_overlap(rows, chosen, snakemake.output.figure)
    log.info("error overlap of %s", ", ".join(chosen))
