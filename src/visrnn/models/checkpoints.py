"""Checkpoint files: what a run saves, and the checks every reader makes before using one.

A checkpoint (``best.pt``, a snapshot) holds a format version, the architecture, the model id,
the vocabulary fingerprint and the weights; a resume file holds a run's whole training state.
Both hold only tensors and plain types, so they are read with ``torch.load(weights_only=True)``:
a file from someone else's results folder cannot run code. A reader says which model it
expects and refuses any other, naming the file, what it holds and what to do.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from visrnn.common.files import REBUILD, atomic_path
from visrnn.models.grid import ModelSpec
from visrnn.models.recurrent import CharRNN, LanguageModel, ModelConfig

logger = logging.getLogger(__name__)

#: Version of the checkpoint layout (best.pt, snapshots); files of another version are refused.
CHECKPOINT_FORMAT = 1
#: Version of the resume file's layout; a file of another version is set aside, not resumed.
RESUME_FORMAT = 3

_NNN_ID = re.compile(r"^nnn-(?P<context>[1-9][0-9]*)$")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and what to do."""


def expected_architecture(model_id: str) -> tuple[str, dict[str, Any]]:
    """The architecture and config values a model id implies: ``lstm-3L-10k`` is a
    3-layer LSTM ``CharRNN``, ``nnn-5`` an ``NNN`` over 5 characters."""
    if match := _NNN_ID.match(model_id):
        return "NNN", {"context": int(match["context"])}
    spec = ModelSpec.parse(model_id)
    return "CharRNN", {"model_type": spec.model_type, "num_layers": spec.num_layers}


def save_checkpoint(
    path: str | os.PathLike[str],
    model: LanguageModel,
    state_dict: dict[str, Tensor] | None = None,
    **meta: Any,
) -> None:
    """Save architecture and weights (CPU tensors) with metadata (plain types), atomically.

    ``state_dict`` saves other weights for the same architecture (the best epoch's, say).
    ``meta`` should carry ``model_id`` and ``vocab_sha256``: readers check both.
    """
    weights = model.state_dict() if state_dict is None else state_dict
    payload = {
        **meta,
        "format": CHECKPOINT_FORMAT,
        "architecture": type(model).__name__,
        "config": asdict(model.config),
        "state_dict": {k: v.detach().cpu() for k, v in weights.items()},
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def read_checkpoint(
    path: str | os.PathLike[str],
    *,
    model_id: str,
    vocab_sha256: str | None = None,
    device: torch.device | str = "cpu",
    **config: Any,
) -> dict[str, Any]:
    """The payload of the checkpoint at ``path``, refused unless it is ``model_id``'s.

    Checked: the format version, the model id, the architecture the id implies, any
    ``config`` values given (``hidden_size=256``, ``dropout=0.25``, ``gru_variant="paper"``,
    the last checked for GRUs only) and, when given, the vocabulary fingerprint.
    """
    payload = _load(path, device)
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} was written by another version of visrnn (checkpoint format "
            f"{payload.get('format', 'none')}, this one reads {CHECKPOINT_FORMAT}); {REBUILD}"
        )
    architecture, implied = expected_architecture(model_id)
    if implied.get("model_type") != "gru":
        config.pop("gru_variant", None)  # only the GRU has two sets of equations
    expected = {**implied, **config}
    found_config = payload.get("config", {})
    found = {key: found_config.get(key) for key in expected}
    if (
        payload.get("model_id") != model_id
        or payload.get("architecture") != architecture
        or found != expected
    ):
        raise CheckpointError(
            f"{path} holds {payload.get('model_id')} ({payload.get('architecture')} {found}), "
            f"but this rule expects {model_id} ({architecture} {expected}); {REBUILD}"
        )
    if vocab_sha256 is not None and payload.get("vocab_sha256") != vocab_sha256:
        raise CheckpointError(
            f"{path} was trained on another vocabulary (vocab_sha256 "
            f"{str(payload.get('vocab_sha256'))[:12]}, this dataset's is {vocab_sha256[:12]}); "
            f"{REBUILD}"
        )
    return payload


def load_checkpoint(
    path: str | os.PathLike[str],
    device: torch.device | str = "cpu",
    *,
    model_id: str,
    vocab_sha256: str | None = None,
    **config: Any,
) -> tuple[LanguageModel, dict[str, Any]]:
    """Rebuild ``model_id``'s model saved at ``path`` (checked as in ``read_checkpoint``);
    returns (model in eval mode, metadata)."""
    payload = read_checkpoint(
        path, model_id=model_id, vocab_sha256=vocab_sha256, device=device, **config
    )
    model_class, config_class = _architecture(payload["architecture"])
    try:
        model = model_class(config_class(**payload["config"])).to(device)
        model.load_state_dict(payload["state_dict"])
    except (TypeError, ValueError, RuntimeError, KeyError):
        raise CheckpointError(
            f"{path}: its weights do not fit its architecture; {REBUILD}"
        ) from None
    model.eval()
    internal = ("format", "architecture", "config", "state_dict")
    return model, {k: v for k, v in payload.items() if k not in internal}


def _architecture(name: str) -> tuple[type[nn.Module], type]:
    """The model and config classes of architecture ``name``.

    The n-NN's module is imported by name, and only to rebuild an n-NN: ``code()`` in
    common.smk then does not count it among the sources of the rules that load recurrent
    models (evaluate_model, select_model ...), so an n-NN edit replans none of their jobs; the
    n-NN's own jobs rerun through ``train_nnn``, whose script imports it. The recurrent
    models' module is imported as usual: it is a source of every rule that loads them.
    """
    if name == "NNN":
        nnn = importlib.import_module("visrnn.models.nnn")
        return nnn.NNN, nnn.NNNConfig
    return CharRNN, ModelConfig


def save_resume(path: Path, payload: dict[str, Any]) -> None:
    """Write a run's training state (tensors and plain types only), atomically."""
    with atomic_path(path) as tmp:
        torch.save({**payload, "format": RESUME_FORMAT}, tmp)


def read_resume(path: Path, fingerprint: str, model_id: str | None) -> dict[str, Any] | None:
    """The training state saved at ``path`` if it is this run's, else None.

    A file that cannot be read, of another format, or of another run is renamed aside (never
    deleted: it may be someone's) with a warning, and the run starts over.
    """
    try:
        payload = _load(path, "cpu")
    except CheckpointError:
        return _set_aside(path, "it is truncated, damaged or not a resume file")
    if payload.get("format") != RESUME_FORMAT:
        return _set_aside(
            path,
            f"it was written by another version of visrnn (format {payload.get('format')}, "
            f"this one resumes {RESUME_FORMAT})",
        )
    if payload.get("model_id") != model_id or payload.get("fingerprint") != fingerprint:
        return _set_aside(
            path,
            f"it belongs to a run of {payload.get('model_id')} with other settings or data, "
            f"not to this run of {model_id}",
        )
    return payload


def _set_aside(path: Path, why: str) -> None:
    aside = path.with_name(f"{path.name}.set-aside-{time.strftime('%Y%m%dT%H%M%S')}")
    os.replace(path, aside)
    logger.warning("not resuming from %s: %s; moved it to %s and starting over", path, why, aside)
    return None


def _load(path: str | os.PathLike[str], device: torch.device | str) -> dict[str, Any]:
    """``torch.load`` with ``weights_only=True``, its failures turned into one line naming the
    file (never PyTorch's advice to load it with ``weights_only=False``, hence no chained
    cause)."""
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise
    except RuntimeError:
        raise CheckpointError(
            f"{path} is truncated or damaged (not a complete PyTorch file); {REBUILD}"
        ) from None
    except Exception as error:  # pickle errors, EOFError, zip errors: all mean the same
        raise CheckpointError(
            f"{path} is not a visrnn checkpoint (not a PyTorch file of tensors and plain "
            f"values: {type(error).__name__}); {REBUILD}"
        ) from None
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path} is not a visrnn checkpoint (no mapping inside); {REBUILD}")
    return payload
