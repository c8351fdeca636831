"""Score the whole test split with one model; write its per-position Parquet."""

from visrnn.common.devices import acquire_device
from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.models.checkpoints import load_checkpoint
from visrnn.scoring.evaluation import score_sequence
from visrnn.scoring.scores import scores_for_test_split, write_scores

with script(snakemake) as log:
    vocab = Vocab.load(snakemake.input.vocab)
    test_ids = load_split(snakemake.input.test)
    with acquire_device() as slot:
        model, _ = load_checkpoint(
            snakemake.input.checkpoint,
            slot.device,
            model_id=snakemake.wildcards.model,
            vocab_sha256=vocab.sha256,
            gru_variant=snakemake.params.gru_variant,
        )
        p_target, argmax = score_sequence(model, test_ids, slot.device)
    scores = scores_for_test_split(
        snakemake.wildcards.model, snakemake.wildcards.ds, vocab.sha256, test_ids, p_target, argmax
    )
    write_scores(snakemake.output[0], scores)
    log.info("%s: test loss %.4f nats over %d positions", scores.model, scores.loss, len(p_target))
