"""Keep the run with the lowest validation loss as "the" model."""

from pathlib import Path

from visrnn.common.runner import script
from visrnn.data.splits import Vocab
from visrnn.training.selection import install_selection, select_run

with script(snakemake) as log:
    model = Path(snakemake.output.best).parent.name
    vocab = Vocab.load(snakemake.input.vocab)
    selection = {"model": model, **select_run(snakemake.input.runs, model, vocab.sha256)}
    install_selection(
        selection, snakemake.output.best, snakemake.output.log, snakemake.output.selection
    )
    log.info("%s: chose %s (validation loss %.4f)", model, selection["run"], selection["val_loss"])
