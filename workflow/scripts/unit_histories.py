"""Unit histories: the dynamics model's best cell per structural signal, followed by its unit
index through the training-dynamics snapshots, beside Figure 5 (right)."""

from itertools import chain

from visrnn.common.files import read_table, write_csv
from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.inside.cells import rank_cells
from visrnn.inside.histories import (
    CONVERGED,
    HISTORY_COLUMNS,
    Snapshot,
    cell_values,
    iterations_per_epoch,
    load_snapshots,
    plot_histories,
    same_start,
    snapshot_checkpoints,
    unit_histories,
)
from visrnn.inside.signals import structural_signals
from visrnn.models.checkpoints import load_checkpoint

with script(snakemake) as log:
    model_id = snakemake.params.model
    vocab = Vocab.load(snakemake.input.vocab)
    # The test characters the activation dumps and the cell ranking read.
    ids = load_split(snakemake.input.test)[: snakemake.params.max_chars]
    signals = structural_signals(vocab.decode(ids), code=snakemake.params.code)
    snapshots_log = read_table(snakemake.input.snapshots_log)
    per_epoch = iterations_per_epoch(snapshots_log)
    paths = snapshot_checkpoints(snakemake.input.snapshots)
    if not paths:
        raise FileNotFoundError(
            f"{snakemake.input.snapshots} holds no iter-*.pt; rerun rule dynamics_snapshots"
        )
    if same_start(snapshots_log, read_table(snakemake.input.model_log)):
        model, meta = load_checkpoint(
            snakemake.input.checkpoint, model_id=model_id, vocab_sha256=vocab.sha256
        )
        epoch = int(meta["epoch"])
        reference = (Snapshot(CONVERGED, epoch * per_epoch, float(epoch)), cell_values(model, ids))
        earlier = paths
        log.info("%s: cells ranked on the converged checkpoint (epoch %d)", model_id, epoch)
    else:
        log.warning(
            "%s: its training run did not retrace the snapshot run (validation losses differ "
            "over the first epochs); cells ranked on the last snapshot, the converged model "
            "left out",
            model_id,
        )
        earlier = paths[:-1]
        reference = next(load_snapshots(paths[-1:], per_epoch, ids, model_id, vocab.sha256))
    chosen = rank_cells(reference[1], signals, top_k=1)
    snapshots = chain(load_snapshots(earlier, per_epoch, ids, model_id, vocab.sha256), [reference])
    rows = unit_histories(chosen, snapshots, signals)
    write_csv(snakemake.output.table, rows, HISTORY_COLUMNS)
    plot_histories(
        rows,
        read_table(snakemake.input.dynamics),
        per_epoch,
        snakemake.output.figure,
        f"{model_id}: when each signal's cell appears ({len(ids)} test characters)",
    )
    log.info("%s: %d cells over %d snapshots", model_id, len(chosen), len(paths))
