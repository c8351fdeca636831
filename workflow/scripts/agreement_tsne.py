"""Figure 1 (right): how often models agree on the most likely character, in t-SNE."""

from visrnn.common.files import write_csv
from visrnn.common.runner import script
from visrnn.figures.agreement import (
    agreement_matrix,
    agreement_rows,
    plot_agreement_tsne,
    tsne_embedding,
)
from visrnn.scoring.scores import read_comparable

with script(snakemake) as log:
    scores = read_comparable(snakemake.input.evals)
    models = [s.model for s in scores]
    agreement = agreement_matrix([s.argmax for s in scores])
    rows = agreement_rows(agreement, models)
    write_csv(snakemake.output.table, rows, ["model", *models])
    plot_agreement_tsne(
        tsne_embedding(agreement, snakemake.params.seed), models, snakemake.output.figure
    )
    log.info("agreement of %d models: %.3f to %.3f", len(models), agreement.min(), agreement.max())
