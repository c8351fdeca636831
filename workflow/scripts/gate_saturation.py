"""Figure 3 data: the fraction of test steps each gate unit spends saturated, streamed over
the whole test split (not the truncated activation dump)."""

from visrnn.common.files import write_csv
from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.inside.saturation import ROW_COLUMNS, saturation_counts, saturation_rows
from visrnn.models.checkpoints import load_checkpoint

with script(snakemake) as log:
    model, _ = load_checkpoint(
        snakemake.input.checkpoint,
        model_id=snakemake.wildcards.model,
        vocab_sha256=Vocab.load(snakemake.input.vocab).sha256,
        gru_variant=snakemake.params.gru_variant,
    )
    test_ids = load_split(snakemake.input.test)
    counts = saturation_counts(model, test_ids)
    rows = saturation_rows(snakemake.wildcards.model, counts, len(test_ids))
    write_csv(snakemake.output[0], rows, ROW_COLUMNS)
    log.info("%s: %d gate units over %d steps", snakemake.wildcards.model, len(rows), len(test_ids))
