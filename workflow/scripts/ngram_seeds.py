"""The reference n-gram's test loss over shuffle seeds of a kernel corpus: table and figure."""

from visrnn.common.files import read_table, write_csv
from visrnn.common.runner import script
from visrnn.figures.baselines import baseline_rows
from visrnn.figures.seed_spread import SEED_COLUMNS, plot_seed_spread, seed_rows, spread_summary
from visrnn.scorecard.paper import PAPER
from visrnn.scoring.scores import read_scores

with script(snakemake) as log:
    seeds = snakemake.params.seeds
    losses = {
        seed: baseline_rows(
            [read_scores(snakemake.input[f"scores_{seed}"])],
            samples=snakemake.params.bootstrap_samples,
            seed=snakemake.params.bootstrap_seed,
        )[0]
        for seed in seeds
    }
    files = {seed: read_table(snakemake.input[f"files_{seed}"]) for seed in seeds}
    rows = seed_rows(losses, files)
    write_csv(snakemake.output.table, rows, SEED_COLUMNS)
    ds = snakemake.wildcards.ds
    comparable = snakemake.params.reference_ngram == PAPER.reference_ngram
    plot_seed_spread(
        rows,
        PAPER.ngram_loss.get(ds) if comparable else None,
        snakemake.output.figure,
        f"{ds}: the file draw against the n-gram's test loss",
    )
    log.info("%s", spread_summary(rows))
