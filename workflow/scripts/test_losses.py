"""Figure 1 (left): the table of test losses with bootstrap spread, and its figure."""

from visrnn.common.files import read_json, read_table, write_csv
from visrnn.common.runner import script
from visrnn.figures.losses import COLUMNS, plot_test_losses, test_loss_rows
from visrnn.scoring.scores import read_comparable

with script(snakemake) as log:
    scores = read_comparable(snakemake.input.evals)
    selections = {
        (record := read_json(path))["model"]: record for path in snakemake.input.selections
    }
    sizes = {row["model"]: row for row in read_table(snakemake.input.sizes)}
    rows = test_loss_rows(
        scores,
        selections,
        sizes,
        samples=snakemake.params.bootstrap_samples,
        seed=snakemake.params.bootstrap_seed,
    )
    write_csv(snakemake.output.table, rows, COLUMNS)
    plot_test_losses(
        rows, snakemake.output.figure, f"{snakemake.wildcards.ds}: test loss (nats per character)"
    )
    best = min(rows, key=lambda row: row["test_loss"])
    log.info("best model %s: %.4f nats", best["model"], best["test_loss"])
