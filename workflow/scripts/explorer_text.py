"""The explorer's text store: the test split's bytes and its annotation tracks."""

import numpy as np

from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.explorer.store import Track, char_classes, write_text_store
from visrnn.inside.signals import BINARY_SIGNALS, structural_signals
from visrnn.scoring.scores import read_scores, require_test_split

with script(snakemake) as log:
    vocab = Vocab.load(snakemake.input.vocab)
    test_ids = load_split(snakemake.input.test)
    text = vocab.decode(test_ids)
    tracks = {
        Track(
            name, name in BINARY_SIGNALS, f"structural signal {name} (visrnn.inside.signals)"
        ): values
        for name, values in structural_signals(text, code=snakemake.params.code).items()
    }
    tracks[Track("char_class", False, "character class (store.CHAR_CLASSES)")] = char_classes(
        np.frombuffer(text, dtype=np.uint8)
    )
    ngram = read_scores(snakemake.input.ngram)
    require_test_split(ngram, test_ids, snakemake.input.ngram, snakemake.input.test)
    loss = np.full(len(test_ids), np.nan, dtype=np.float32)
    loss[: len(ngram.nll)] = ngram.nll  # position t predicts character t + 1
    tracks[Track("ngram_loss", False, f"{ngram.model} loss (nats) of the next character")] = loss
    write_text_store(snakemake.output[0], snakemake.wildcards.ds, text, vocab.symbols, tracks)
    log.info("%s: %d positions, %d tracks", snakemake.wildcards.ds, len(text), len(tracks))
