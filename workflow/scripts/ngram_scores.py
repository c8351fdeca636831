"""Score the test split with an n-gram model, per character, into the common Parquet."""

from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.scoring.ngram import score_ngram
from visrnn.scoring.scores import scores_for_test_split, write_scores

with script(snakemake) as log:
    vocab = Vocab.load(snakemake.input.vocab)
    test_ids = load_split(snakemake.input.test)
    p_target, argmax = score_ngram(snakemake.input.model, test_ids, vocab)
    scores = scores_for_test_split(
        f"ngram-{snakemake.wildcards.n}",
        snakemake.wildcards.ds,
        vocab.sha256,
        test_ids,
        p_target,
        argmax,
    )
    write_scores(snakemake.output[0], scores)
    log.info("%s: test loss %.4f nats", scores.model, scores.loss)
