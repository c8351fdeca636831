"""The explorer's model store: a dump in unit-major memory-mappable form, with predictions."""

from visrnn.activations import ActivationDump
from visrnn.data import Vocab, load_split
from visrnn.explorer.store import write_model_store
from visrnn.models import load_checkpoint
from visrnn.runner import script
from visrnn.scores import read_scores, require_test_split

with script(snakemake) as log:
    vocab = Vocab.load(snakemake.input.vocab)
    ActivationDump(snakemake.input.dump).check_vocab(vocab.sha256)
    model, _ = load_checkpoint(snakemake.input.checkpoint)
    scores = read_scores(snakemake.input.scores)
    require_test_split(
        scores, load_split(snakemake.input.test), snakemake.input.scores, snakemake.input.test
    )
    write_model_store(
        snakemake.output[0],
        snakemake.input.dump,
        model.decoder,
        scores.p_target,
        extra={"test_loss": scores.loss},
    )
    log.info("%s: explorer layout written", snakemake.wildcards.model)
