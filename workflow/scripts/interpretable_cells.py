"""Figure 2: rank every cell of the best LSTM against structural signals of the text and
render the best cells' activations over the text as HTML and PNG pages."""

from pathlib import Path

import numpy as np

from visrnn.activations import ActivationDump
from visrnn.cells import rank_cells, render_html, render_png, write_index
from visrnn.data import Vocab, load_split
from visrnn.files import atomic_path, read_csv, write_csv
from visrnn.losses import best_model
from visrnn.runner import script
from visrnn.signals import structural_signals

RANK_COLUMNS = ("signal", "rank", "layer", "activation", "unit", "correlation")

with script(snakemake) as log:
    lstm = best_model(read_csv(snakemake.input.test_losses), "lstm")
    dump = ActivationDump(next(p for p in snakemake.input.dumps if Path(p).stem == lstm), lstm)
    vocab = Vocab.load(snakemake.input.vocab)
    dump.check_vocab(vocab.sha256)
    # Dump row t is the state after reading test character t.
    text = vocab.decode(load_split(snakemake.input.test)[: dump.num_positions])
    signals = structural_signals(text, code=snakemake.params.code)
    cells = {
        (layer, "c"): np.tanh(dump.matrix(layer, "c").astype(np.float32))
        for layer in range(dump.layers)
    }
    ranking = rank_cells(cells, signals, snakemake.params.top_k)
    write_csv(snakemake.output.table, ranking, RANK_COLUMNS)

    pages = Path(snakemake.output.pages)
    pages.mkdir(parents=True, exist_ok=True)
    shown = snakemake.params.render_chars
    entries = []
    for row in ranking:
        name = f"{row['signal']}-{row['rank']}-l{row['layer']}-u{row['unit']}"
        values = cells[(row["layer"], "c")][:shown, row["unit"]]
        title = (
            f"{lstm}, layer {row['layer']}, cell {row['unit']}: tanh(c), "
            f"r = {row['correlation']:+.2f} with {row['signal']}"
        )
        with atomic_path(pages / f"{name}.html") as tmp:
            tmp.write_text(render_html(text[:shown], values, title), encoding="utf-8")
        render_png(text[:shown], values, pages / f"{name}.png", title)
        entries.append({**row, "href": f"{name}.html", "png": f"{name}.png"})
    write_index(pages / "index.html", entries, f"Interpretable cells of {lstm}")
    log.info(
        "%s: ranked %d cells against %d signals",
        lstm,
        cells[(0, "c")].shape[1] * dump.layers,
        len(signals),
    )
