"""Score the test split with an n-gram model, per character, into the common Parquet."""

from visrnn.data import Vocab, array_sha256, load_split
from visrnn.ngram import score_ngram
from visrnn.runner import script
from visrnn.scores import Scores, write_scores

with script(snakemake) as log:
    vocab = Vocab.load(snakemake.input.vocab)
    test_ids = load_split(snakemake.input.test)
    p_target, argmax = score_ngram(snakemake.input.model, test_ids, vocab)
    scores = Scores(
        model=f"ngram-{snakemake.wildcards.n}",
        dataset=snakemake.wildcards.ds,
        vocab_sha256=vocab.sha256,
        test_sha256=array_sha256(test_ids),
        target=test_ids[1:],
        p_target=p_target,
        argmax=argmax,
    )
    write_scores(snakemake.output[0], scores)
    log.info("%s: test loss %.4f nats", scores.model, scores.loss)
