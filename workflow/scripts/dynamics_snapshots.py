"""Retrain the dynamics LSTM (its selected dropout, same seed) for its first epochs, keeping
snapshots at the configured fractions of an epoch of this dataset."""

from dataclasses import replace

from visrnn.common.files import read_json
from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.figures.dynamics import snapshot_iterations
from visrnn.models.grid import ModelSpec
from visrnn.models.recurrent import grid_model
from visrnn.training.loop import train_run, training_config

with script(snakemake) as log:
    dynamics = snakemake.params.dynamics
    spec = ModelSpec.parse(snakemake.params.model)
    vocab = Vocab.load(snakemake.input.vocab)
    dropout = read_json(snakemake.input.selection)["dropout"]
    model = grid_model(
        spec, vocab.size, snakemake.params.budgets, dropout, snakemake.params.gru_variant
    )
    train_ids = load_split(snakemake.input.train)
    config = training_config(snakemake.params.training, epochs=dynamics["epochs"], patience=None)
    iterations = snapshot_iterations(
        dynamics["epoch_fractions"],
        len(train_ids),
        config.batch_size,
        config.seq_length,
        config.epochs,
    )
    config = replace(config, snapshot_iterations=iterations)
    log.info(
        "%s (dropout %g): snapshots at epochs %s = iterations %s",
        spec.model_id,
        dropout,
        dynamics["epoch_fractions"],
        iterations,
    )
    train_run(
        model,
        train_ids,
        load_split(snakemake.input.val),
        config,
        f"{snakemake.output.snapshots}/final.pt",
        snakemake.output.log,
        model_id=spec.model_id,
        vocab_sha256=vocab.sha256,
        data_name=f"datasets.{snakemake.wildcards.ds}",
        snapshots=snakemake.output.snapshots,
    )
