"""Solve the hidden size of every (type, layers, budget) and tabulate the counts."""

from visrnn.common.files import write_csv
from visrnn.common.runner import script
from visrnn.data.splits import Vocab
from visrnn.models.grid import BUDGET_TOLERANCE, model_grid, size_table

with script(snakemake) as log:
    grid = snakemake.params.grid
    vocab = Vocab.load(snakemake.input.vocab)
    specs = model_grid(grid["types"], grid["layers"], list(grid["budgets"]))
    rows = size_table(specs, vocab.size, grid["budgets"])
    write_csv(snakemake.output[0], rows, list(rows[0]))
    for row in rows:
        if row["off_budget"]:
            log.warning(
                "%s: hidden size %d gives %d parameters, %+.1f%% off its budget of %d (more "
                "than %.0f%%): no hidden size comes closer; choose a larger budget for it",
                row["model"],
                row["hidden_size"],
                row["parameters"],
                100 * row["relative_error"],
                row["budget_parameters"],
                100 * BUDGET_TOLERANCE,
            )
    worst = max(abs(row["relative_error"]) for row in rows)
    log.info(
        "%d models, K=%d, largest deviation from budget %.2f%%", len(rows), vocab.size, 100 * worst
    )
