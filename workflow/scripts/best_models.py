"""The models the analyses single out ("the best LSTM", ...), named, with their test loss."""

from visrnn.common.files import read_table, write_csv
from visrnn.common.runner import script
from visrnn.figures.baselines import BEST_COLUMNS, best_model_rows

with script(snakemake) as log:
    rows = best_model_rows(
        read_table(snakemake.input.test_losses), read_table(snakemake.input.baselines)
    )
    write_csv(snakemake.output[0], rows, BEST_COLUMNS)
    for row in rows:
        log.info("%s: %s (%s nats)", row["role"], row["model"], row["test_loss"])
