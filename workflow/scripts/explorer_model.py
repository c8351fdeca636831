"""The explorer's model store: a dump in unit-major memory-mappable form, with predictions, and
the checkpoint's path relative to the store (the explorer's live text runs it)."""

import os
from pathlib import Path

from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.explorer.store import write_model_store
from visrnn.figures.oracles import TextWords, oracles, peel
from visrnn.inside.activations import ActivationDump
from visrnn.models.checkpoints import load_checkpoint
from visrnn.scoring.choice import ERROR_THRESHOLD
from visrnn.scoring.scores import read_comparable, read_scores, require_test_split

with script(snakemake) as log:
    vocab = Vocab.load(snakemake.input.vocab)
    dump = ActivationDump(snakemake.input.dump)
    dump.check_vocab(vocab.sha256)
    # The model the dump names (for best-<type>, the one dump_best_activations chose).
    checkpoint = next(
        p for p in snakemake.input.checkpoints if Path(p).parent.name == dump.model_id
    )
    scores_path = next(p for p in snakemake.input.scores if Path(p).stem == dump.model_id)
    model, _ = load_checkpoint(
        checkpoint,
        model_id=dump.model_id,
        vocab_sha256=vocab.sha256,
        gru_variant=snakemake.params.gru_variant,
    )
    scores = read_scores(scores_path)
    require_test_split(scores, load_split(snakemake.input.test), scores_path, snakemake.input.test)
    steps = None
    if snakemake.params.oracles:  # Figure 6's categories of this model's errors
        settings = snakemake.params.oracles
        ngrams = read_comparable(snakemake.input.ngrams)
        test = TextWords.build(
            vocab.decode(load_split(snakemake.input.test)),
            vocab.decode(load_split(snakemake.input.train)),
            max_memory=max(settings.get("memory", [0])),
        )
        ngram = {n: s.p_target for n, s in zip(settings["ngram"], ngrams, strict=True)}
        steps = peel(
            scores.p_target < ERROR_THRESHOLD, oracles(test, scores.p_target, ngram, settings)
        )
    write_model_store(
        snakemake.output[0],
        snakemake.input.dump,
        model.decoder,
        scores.p_target,
        extra={
            "test_loss": scores.loss,
            "entry": snakemake.wildcards.model,
            "checkpoint": os.path.relpath(checkpoint, snakemake.output[0]),
        },
        oracle_steps=steps,
    )
    log.info("%s (%s): explorer layout written", snakemake.wildcards.model, dump.model_id)
