"""Dump cell, hidden state and every gate to Parquet: a grid model over the first max_chars
test characters, or (dump_best_activations) the best model of a type over the whole split."""

from pathlib import Path

from visrnn.common.files import read_table
from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.inside.activations import dump_activations
from visrnn.models.checkpoints import load_checkpoint
from visrnn.scoring.choice import best_model

with script(snakemake) as log:
    vocab = Vocab.load(snakemake.input.vocab)
    if hasattr(snakemake.input, "test_losses"):
        model_id = best_model(read_table(snakemake.input.test_losses), snakemake.wildcards.type)
        checkpoint = next(p for p in snakemake.input.checkpoints if Path(p).parent.name == model_id)
    else:
        model_id, checkpoint = snakemake.wildcards.model, snakemake.input.checkpoint
    model, _ = load_checkpoint(
        checkpoint,
        model_id=model_id,
        vocab_sha256=vocab.sha256,
        gru_variant=snakemake.params.gru_variant,
    )
    test_ids = load_split(snakemake.input.test)[: snakemake.params.max_chars]
    dump_activations(
        model,
        test_ids,
        snakemake.output[0],
        model_id=model_id,
        vocab_sha256=vocab.sha256,
        row_group=snakemake.params.row_group,
    )
    log.info("%s: %d positions dumped", model_id, len(test_ids))
