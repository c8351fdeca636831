"""Vocabulary from the training split; train/val/test as compact id arrays."""

from visrnn.common.files import read_json, write_csv
from visrnn.common.runner import script
from visrnn.data.corpora import CORPUS_FILE_COLUMNS, corpus_file_rows, corpus_file_warnings
from visrnn.data.splits import (
    SPLIT_COLUMNS,
    SPLIT_NAMES,
    Vocab,
    read_corpus,
    save_split,
    split_bounds,
)

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
    splits, sizes = {}, []
    for (start, stop), split in zip(bounds, SPLIT_NAMES, strict=True):
        ids = splits[split] = vocab.encode(corpus[start:stop])
        save_split(snakemake.output[split], ids)
        unseen = int((ids == vocab.unk_id).sum())
        sizes.append(
            {"split": split, "start": start, "stop": stop, "characters": len(ids), "unseen": unseen}
        )
        log.info(
            "%s: %d characters, %d unseen in training",
            split,
            len(ids),
            unseen,
        )
    write_csv(snakemake.output.sizes, sizes, SPLIT_COLUMNS)
    info = read_json(snakemake.input.info)
    dropped = info.get("filter", {}).get("dropped", [])
    files = corpus_file_rows(info["files"], bounds, SPLIT_NAMES, dropped)
    write_csv(snakemake.output.files, files, CORPUS_FILE_COLUMNS)
    if snakemake.params.kind == "kernel_tarball":
        for warning in corpus_file_warnings(files):
            log.warning("%s: %s", snakemake.wildcards.ds, warning)
    vocab.save(snakemake.output.vocab, splits)
    log.info("vocabulary: %d symbols + 1 reserved id", len(vocab.symbols))
