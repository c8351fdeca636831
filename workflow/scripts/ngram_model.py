"""Estimate an (n+1)-gram Kneser-Ney model with lmplz, stored as a KenLM binary trie."""

from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.scoring.ngram import build_ngram

with script(snakemake):
    build_ngram(
        load_split(snakemake.input.train),
        Vocab.load(snakemake.input.vocab),
        int(snakemake.wildcards.n),
        snakemake.output[0],
        memory=snakemake.params.memory,
        tmp_dir=snakemake.resources.tmpdir,
    )
