"""What a cell writes: the best LSTM samples with each signal's top-ranked cells free, held on
and held off, and the signal is measured on the samples (tables/clamped_samples.csv,
figures/clamped_samples.html)."""

from pathlib import Path

from visrnn.common.devices import acquire_device
from visrnn.common.files import atomic_path, read_table, write_csv
from visrnn.common.runner import script
from visrnn.data.splits import Vocab
from visrnn.inside.sampling import (
    CLAMPED_SAMPLE_COLUMNS,
    clamped_sample_rows,
    render_clamped_samples,
    sample_ranked_cells,
)
from visrnn.models.checkpoints import load_checkpoint
from visrnn.scoring.choice import best_model

with script(snakemake) as log:
    settings = snakemake.params.settings
    lstm = best_model(read_table(snakemake.input.test_losses), "lstm")
    vocab = Vocab.load(snakemake.input.vocab)
    checkpoint = next(p for p in snakemake.input.checkpoints if Path(p).parent.name == lstm)
    with acquire_device() as slot:
        model, _ = load_checkpoint(
            checkpoint, slot.device, model_id=lstm, vocab_sha256=vocab.sha256
        )
        cells = sample_ranked_cells(model, vocab, read_table(snakemake.input.ranking), **settings)
    log.info("%s: %d cells, each sampled free, held on and held off", lstm, len(cells))
    rows = clamped_sample_rows(lstm, cells, snakemake.params.code)
    for row in rows:
        log.info(
            "%s layer %d unit %d %s: %.3f on",
            row["signal"],
            row["layer"],
            row["unit"],
            row["clamp"],
            row["fraction_on"],
        )
    write_csv(snakemake.output.table, rows, CLAMPED_SAMPLE_COLUMNS)
    page = render_clamped_samples(lstm, cells, rows, settings, snakemake.params.code)
    with atomic_path(snakemake.output.page) as tmp:
        tmp.write_text(page, encoding="utf-8")
