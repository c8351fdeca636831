"""Table 2: n-gram and n-NN test losses against n, with the best RNN for reference."""

from visrnn.common.files import read_table, write_csv
from visrnn.common.runner import script
from visrnn.figures.baselines import COLUMNS, baseline_rows, plot_baselines
from visrnn.scoring.choice import best_model
from visrnn.scoring.scores import read_comparable

with script(snakemake) as log:
    rows = baseline_rows(
        read_comparable(snakemake.input.evals),
        samples=snakemake.params.bootstrap_samples,
        seed=snakemake.params.bootstrap_seed,
    )
    write_csv(snakemake.output.table, rows, COLUMNS)
    rnn_rows = read_table(snakemake.input.test_losses)
    best = best_model(rnn_rows)
    best_loss = next(row["test_loss"] for row in rnn_rows if row["model"] == best)
    plot_baselines(
        rows,
        (best, best_loss),
        snakemake.output.figure,
        f"{snakemake.wildcards.ds}: baselines against n",
    )
    log.info("%d baselines; best RNN %s at %.4f nats", len(rows), best, best_loss)
