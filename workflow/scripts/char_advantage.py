"""Figure 4 (middle/right): the characters where the best LSTM or the n-gram leads most."""

from pathlib import Path

from visrnn.common.files import read_table, write_csv
from visrnn.common.runner import script
from visrnn.data.splits import Vocab
from visrnn.figures.advantage import (
    LEADING_COLUMNS,
    leading_characters,
    per_character_means,
    plot_leading_characters,
)
from visrnn.scoring.choice import best_model
from visrnn.scoring.scores import read_comparable

with script(snakemake) as log:
    lstm = best_model(read_table(snakemake.input.test_losses), "lstm")
    lstm_path = next(p for p in snakemake.input.evals if Path(p).stem == lstm)
    lstm_scores, ngram_scores = read_comparable([lstm_path, snakemake.input.ngram])
    vocab = Vocab.load(snakemake.input.vocab)
    means = per_character_means(
        lstm_scores.target, lstm_scores.p_target, ngram_scores.p_target, vocab.size
    )
    rows = leading_characters(*means, vocab, lstm, ngram_scores.model)
    write_csv(snakemake.output.table, rows, LEADING_COLUMNS)
    plot_leading_characters(rows, lstm, ngram_scores.model, snakemake.output.figure)
    log.info("%s vs %s: %d leading characters", lstm, ngram_scores.model, len(rows))
