"""Retrain the dynamics LSTM (its selected dropout, same seed) for its first epochs, keeping
snapshots at the configured iterations."""

from visrnn.data import Vocab, load_split
from visrnn.files import read_json
from visrnn.grid import ModelSpec
from visrnn.models import CharRNN, ModelConfig
from visrnn.runner import script
from visrnn.training import train_run, training_config

with script(snakemake) as log:
    dynamics = snakemake.params.dynamics
    spec = ModelSpec.parse(snakemake.params.model)
    vocab = Vocab.load(snakemake.input.vocab)
    dropout = read_json(snakemake.input.selection)["dropout"]
    hidden = spec.hidden_size(vocab.size, snakemake.params.budgets)
    model = CharRNN(
        ModelConfig(
            spec.model_type,
            vocab.size,
            hidden,
            spec.num_layers,
            dropout,
            gru_variant=snakemake.params.gru_variant,
        )
    )
    config = training_config(
        snakemake.params.training,
        epochs=dynamics["epochs"],
        patience=None,
        snapshot_iterations=dynamics["iterations"],
    )
    log.info(
        "%s (dropout %g): snapshots at iterations %s",
        spec.model_id,
        dropout,
        dynamics["iterations"],
    )
    train_run(
        model,
        load_split(snakemake.input.train),
        load_split(snakemake.input.val),
        config,
        f"{snakemake.output.snapshots}/final.pt",
        snakemake.output.log,
        model_id=spec.model_id,
        vocab_sha256=vocab.sha256,
        data_name=f"datasets.{snakemake.wildcards.ds}",
        snapshots=snakemake.output.snapshots,
    )
