"""Training snapshots in the explorer: the same units as a snapshot's checkpoint computes them.

The dynamics model (``analysis.dynamics.model``) keeps checkpoints during its first epochs
(``plan.dynamics_snapshots``, paper Figure 5). A unit keeps its index through training, so
the page can show unit 17 of layer 1 as the trained model has it (the store's dump) or as
any snapshot had it: the snapshot's checkpoint reads the same test text from the zero state
(``visrnn.explorer.live.run``, the dumps' code). A store has snapshots when its model is the
dynamics model (a ``best-lstm`` store too, when the dynamics model is the best LSTM); an
imported network's states have none, and the page says so.

Bounds: a snapshot's states cover the first ``SNAPSHOT_CHARS`` test positions; one
computation per model at a time (the live text's lock); it stops after ``TIMEOUT_S``; the
last ``CACHED`` (snapshot, layer, state) results are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from visrnn import plan
from visrnn.common.files import read_table
from visrnn.inside.histories import iterations_per_epoch, snapshot_checkpoints

#: Test positions a snapshot's states cover (from the start of the text).
SNAPSHOT_CHARS = 20000
#: Seconds one snapshot's computation may take.
TIMEOUT_S = 60.0
#: (snapshot, layer, state) results kept; 20,000 positions of 512 units are 20 MB each.
CACHED = 8


@dataclass(frozen=True)
class Snapshot:
    """One snapshot checkpoint of a model's training run."""

    name: str  # its file stem: iter-000010
    iteration: int
    epoch: float | None  # None when the run's log is missing
    path: Path

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "iteration": self.iteration, "epoch": self.epoch}


def find_snapshots(root: Path, ds: str, meta: Mapping[str, Any]) -> tuple[list[Snapshot], str]:
    """The training snapshots of a model store's model in results directory ``root``, and
    a note for the page saying why there are none (empty when there are)."""
    import torch

    model_id = meta["model_id"]
    if not meta.get("checkpoint"):
        return [], f"{model_id} has no checkpoint (imported states): no training snapshots"
    paths = snapshot_checkpoints(plan.dynamics_snapshots(ds, root))
    if not paths:
        return [], (
            f"no training snapshots on {ds}: only analysis.dynamics.model keeps them "
            "(rule dynamics_snapshots)"
        )
    log = Path(plan.dynamics_log(ds, root))
    per_epoch = iterations_per_epoch(read_table(log)) if log.is_file() else None
    found = []
    for path in paths:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("model_id") != model_id:
            return [], (
                f"{model_id} has no training snapshots: those of {ds} are of "
                f"{payload.get('model_id')}"
            )
        iteration = int(payload["iteration"])
        epoch = round(iteration / per_epoch, 4) if per_epoch else None
        found.append(Snapshot(path.stem, iteration, epoch, path))
    return found, ""


def compute(
    snapshot: Snapshot, meta: Mapping[str, Any], ids: np.ndarray, layer: int, state: str
) -> np.ndarray:
    """(units, positions) float16 of ``layer``'s ``state`` over ``ids`` (the first
    ``SNAPSHOT_CHARS`` test positions) as ``snapshot``'s checkpoint computes it."""
    from visrnn.explorer import live

    model = live.load_model(snapshot.path, dict(meta))
    return live.run(model, np.asarray(ids[:SNAPSHOT_CHARS]), layer, state, TIMEOUT_S).values
