"""Dump cell, hidden state and every gate over the first test characters to Parquet."""

from visrnn.activations import dump_activations
from visrnn.checkpoints import load_checkpoint
from visrnn.data import Vocab, load_split
from visrnn.runner import script

with script(snakemake) as log:
    vocab = Vocab.load(snakemake.input.vocab)
    model, _ = load_checkpoint(
        snakemake.input.checkpoint,
        model_id=snakemake.wildcards.model,
        vocab_sha256=vocab.sha256,
        gru_variant=snakemake.params.gru_variant,
    )
    test_ids = load_split(snakemake.input.test)[: snakemake.params.max_chars]
    dump_activations(
        model,
        test_ids,
        snakemake.output[0],
        model_id=snakemake.wildcards.model,
        vocab_sha256=vocab.sha256,
        row_group=snakemake.params.row_group,
    )
    log.info("%s: %d positions dumped", snakemake.wildcards.model, len(test_ids))
