"""Figure 5 (left): p("}") by distance to the matching "{", best LSTM against the n-gram."""

from pathlib import Path

from visrnn.common.files import read_table, write_csv
from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.figures.braces import BRACE_COLUMNS, closing_brace_rows, plot_closing_brace
from visrnn.scoring.choice import best_model
from visrnn.scoring.scores import read_comparable, require_test_split

with script(snakemake) as log:
    lstm = best_model(read_table(snakemake.input.test_losses), "lstm")
    lstm_path = next(p for p in snakemake.input.evals if Path(p).stem == lstm)
    scores = read_comparable([lstm_path, snakemake.input.ngram])
    test_ids = load_split(snakemake.input.test)
    require_test_split(scores[0], test_ids, lstm_path, snakemake.input.test)
    # Scores position t predicts test character t + 1: the text the braces are matched in.
    text = Vocab.load(snakemake.input.vocab).decode(test_ids[1:])
    rows = closing_brace_rows(text, {s.model: s.p_target for s in scores})
    write_csv(snakemake.output.table, rows, BRACE_COLUMNS)
    plot_closing_brace(rows, snakemake.output.figure)
    log.info("closing braces: %d buckets for %s and %s", len(rows) // 2, *[s.model for s in scores])
