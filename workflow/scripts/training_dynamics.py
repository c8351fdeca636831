"""Figure 5 (right): symmetric KL between each LSTM snapshot and each trained n-NN."""

from pathlib import Path

from visrnn.common.devices import acquire_device
from visrnn.common.files import write_csv
from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.figures.dynamics import DYNAMICS_COLUMNS, compare_all, plot_dynamics
from visrnn.models.checkpoints import load_checkpoint
from visrnn.scoring.evaluation import log_prob_chunks

with script(snakemake) as log:
    test_ids = load_split(snakemake.input.test)
    vocab_sha256 = Vocab.load(snakemake.input.vocab).sha256
    with acquire_device() as slot:
        snapshots, baselines = {}, {}
        for path in sorted(Path(snakemake.input.snapshots).glob("iter-*.pt")):
            model, meta = load_checkpoint(
                path, slot.device, model_id=snakemake.params.model, vocab_sha256=vocab_sha256
            )
            snapshots[meta["iteration"]] = log_prob_chunks(model, test_ids, slot.device)
        for path in snakemake.input.nnn:
            model, meta = load_checkpoint(
                path, slot.device, model_id=Path(path).parent.name, vocab_sha256=vocab_sha256
            )
            name = f"{model.config.context}-NN"
            baselines[name] = log_prob_chunks(model, test_ids, slot.device)
        log.info(
            "%d snapshots x %d n-NN models over %d positions",
            len(snapshots),
            len(baselines),
            len(test_ids) - 1,
        )
        rows = compare_all(snapshots, baselines, test_ids[1:])
    write_csv(snakemake.output.table, rows, [*DYNAMICS_COLUMNS, "snapshot_loss", "baseline_loss"])
    plot_dynamics(rows, snakemake.output.figure)
