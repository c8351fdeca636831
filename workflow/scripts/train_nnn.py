"""Train one (n, hidden size) run of the n-NN baseline, like the recurrent models."""

from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.models.nnn import NNN, NNNConfig
from visrnn.training.loop import train_run, training_config

with script(snakemake) as log:
    wildcards = snakemake.wildcards
    vocab = Vocab.load(snakemake.input.vocab)
    model = NNN(NNNConfig(int(wildcards.n), vocab.size, int(wildcards.hidden)))
    summary = train_run(
        model,
        load_split(snakemake.input.train),
        load_split(snakemake.input.val),
        training_config(snakemake.params.training),
        snakemake.output.best,
        snakemake.output.log,
        model_id=f"nnn-{wildcards.n}",
        vocab_sha256=vocab.sha256,
        data_name=f"datasets.{wildcards.ds}",
    )
    log.info("best validation loss %.4f at epoch %d", *summary.values())
