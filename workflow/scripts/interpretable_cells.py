"""Figure 2: rank every cell of the best LSTM against structural signals of the text and
render the best cells' activations over the text as HTML and PNG pages."""

from pathlib import Path

from visrnn.common.files import read_table, write_csv
from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.inside.activations import ActivationDump
from visrnn.inside.cells import RANK_COLUMNS, lstm_cell_values, rank_cells, write_cell_pages
from visrnn.inside.signals import structural_signals
from visrnn.scoring.choice import best_model

with script(snakemake) as log:
    lstm = best_model(read_table(snakemake.input.test_losses), "lstm")
    dump = ActivationDump(next(p for p in snakemake.input.dumps if Path(p).stem == lstm), lstm)
    vocab = Vocab.load(snakemake.input.vocab)
    dump.check_vocab(vocab.sha256)
    # Dump row t is the state after reading test character t.
    text = vocab.decode(load_split(snakemake.input.test)[: dump.num_positions])
    signals = structural_signals(text, code=snakemake.params.code)
    cells = lstm_cell_values(dump)
    ranking = rank_cells(cells, signals, snakemake.params.top_k)
    write_csv(snakemake.output.table, ranking, RANK_COLUMNS)
    shown = text[: snakemake.params.render_chars]
    write_cell_pages(snakemake.output.pages, lstm, shown, cells, ranking)
    log.info(
        "%s: ranked %d cells against %d signals",
        lstm,
        cells[(0, "c")].shape[1] * dump.layers,
        len(signals),
    )
