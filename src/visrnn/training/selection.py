"""Cross-validation: of a model's training runs, the one with the lowest validation loss.

A run directory is named after the setting it varies (``dropout-0.25``, ``hidden-256``); its
``train_log.csv`` holds the validation loss of every epoch. The chosen run's checkpoint and
log are copied to the model's directory, with a ``selection.json`` that records why. Each
run's checkpoint is checked first (model id, architecture, the setting its directory names,
vocabulary), so a checkpoint copied into the wrong run directory stops the selection.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from visrnn.common.files import REBUILD, atomic_path, read_table, write_json
from visrnn.models.checkpoints import read_checkpoint

#: Config field of the checkpoint that each run-directory setting names.
_SETTING_FIELDS = {"dropout": "dropout", "hidden": "hidden_size"}


def run_setting(run_dir: Path) -> tuple[str, float]:
    """(name, value) of the setting a run directory varies: ``dropout-0.25`` gives
    ("dropout", 0.25)."""
    name, _, value = run_dir.name.rpartition("-")
    return name, float(value)


def best_validation(log_path: str | os.PathLike[str]) -> tuple[float, int]:
    """(lowest validation loss, its epoch) in a training log."""
    rows = read_table(log_path)
    try:
        best = min(rows, key=lambda row: row["val_loss"])
        return best["val_loss"], best["epoch"]
    except (KeyError, TypeError, ValueError):  # min() of no rows is a ValueError too
        raise ValueError(f"{log_path} is not a training log with epochs; {REBUILD}") from None


def select_run(
    checkpoints: Sequence[str | os.PathLike[str]], model_id: str, vocab_sha256: str
) -> dict[str, Any]:
    """Choose among ``model_id``'s runs given by their ``best.pt`` paths; returns the
    selection record."""
    candidates = []
    for checkpoint in checkpoints:
        run_dir = Path(checkpoint).parent
        name, value = run_setting(run_dir)
        setting = int(value) if name == "hidden" else value
        read_checkpoint(
            checkpoint,
            model_id=model_id,
            vocab_sha256=vocab_sha256,
            **{_SETTING_FIELDS[name]: setting},
        )
        val_loss, epoch = best_validation(run_dir / "train_log.csv")
        candidates.append(
            {"run": str(run_dir), name: value, "val_loss": val_loss, "best_epoch": epoch}
        )
    chosen = min(candidates, key=lambda c: c["val_loss"])
    return {**chosen, "candidates": candidates}


def install_selection(
    selection: dict[str, Any],
    best: str | os.PathLike[str],
    log: str | os.PathLike[str],
    record: str | os.PathLike[str],
) -> None:
    """Copy the chosen run's checkpoint and log into place and write the record."""
    run_dir = Path(selection["run"])
    for source, target in ((run_dir / "best.pt", best), (run_dir / "train_log.csv", log)):
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    write_json(record, selection)
