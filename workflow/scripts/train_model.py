"""Train one (model, dropout) run of the grid on the first free device."""

from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.models.grid import ModelSpec
from visrnn.models.recurrent import grid_model
from visrnn.training.loop import train_run, training_config

with script(snakemake) as log:
    wildcards = snakemake.wildcards
    spec = ModelSpec.parse(wildcards.model)
    vocab = Vocab.load(snakemake.input.vocab)
    dropout = float(wildcards.dropout)
    model = grid_model(
        spec, vocab.size, snakemake.params.budgets, dropout, snakemake.params.gru_variant
    )
    log.info("%s dropout %g: hidden size %d", spec.model_id, dropout, model.config.hidden_size)
    summary = train_run(
        model,
        load_split(snakemake.input.train),
        load_split(snakemake.input.val),
        training_config(snakemake.params.training),
        snakemake.output.best,
        snakemake.output.log,
        model_id=spec.model_id,
        vocab_sha256=vocab.sha256,
        data_name=f"datasets.{wildcards.ds}",
    )
    log.info("best validation loss %.4f at epoch %d", *summary.values())
