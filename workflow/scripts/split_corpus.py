"""Vocabulary from the training split; train/val/test as compact id arrays."""

from visrnn.data import SPLIT_NAMES, Vocab, read_corpus, save_split, split_bounds
from visrnn.runner import script

with script(snakemake) as log:
    corpus = read_corpus(snakemake.input.corpus, snakemake.input.info)
    bounds = split_bounds(len(corpus), snakemake.params.split)
    for (start, stop), split in zip(bounds, SPLIT_NAMES, strict=True):
        if stop - start < 2:
            raise ValueError(
                f"datasets.{snakemake.wildcards.ds}: the {split} split has {stop - start} "
                f"characters of a {len(corpus)}-byte corpus; use a longer corpus or other "
                "split fractions"
            )
    train_start, train_stop = bounds[0]
    vocab = Vocab.from_bytes(corpus[train_start:train_stop])
    splits = {}
    for (start, stop), split in zip(bounds, SPLIT_NAMES, strict=True):
        ids = splits[split] = vocab.encode(corpus[start:stop])
        save_split(snakemake.output[split], ids)
        log.info(
            "%s: %d characters, %d unseen in training",
            split,
            len(ids),
            int((ids == vocab.unk_id).sum()),
        )
    vocab.save(snakemake.output.vocab, splits)
    log.info("vocabulary: %d symbols + 1 reserved id", len(vocab.symbols))
