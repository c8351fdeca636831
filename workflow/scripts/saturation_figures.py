"""Figure 3: saturation scatter plots of the best deepest LSTM and GRU, and the table of
every gated model's fractions."""

from pathlib import Path

from visrnn.common.files import read_table, write_csv
from visrnn.common.runner import script
from visrnn.inside.saturation import ROW_COLUMNS, plot_saturation
from visrnn.scoring.choice import best_model

with script(snakemake) as log:
    per_model = {Path(path).stem: read_table(path) for path in snakemake.input.counts}
    write_csv(
        snakemake.output.table, [row for rows in per_model.values() for row in rows], ROW_COLUMNS
    )
    losses = read_table(snakemake.input.test_losses)
    figures = Path(snakemake.output.figures)
    figures.mkdir(parents=True, exist_ok=True)
    for model_type in sorted({row["type"] for row in losses} & {"lstm", "gru"}):
        model = best_model(losses, model_type, deepest=True)
        plot_saturation(
            per_model[model],
            figures / f"{model}.png",
            f"{snakemake.wildcards.ds}: gate saturation of {model}",
        )
        log.info("saturation figure for %s", model)
