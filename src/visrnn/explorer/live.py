"""Live text: a grid model's states, top predictions and loss on text the user types.

The values come from ``visrnn.inside.activations.iter_activations``, the code the activation
dumps use (the checkpoint's step-by-step equations of ``visrnn.models.gates``), from the zero
state at the text's first character, the state carried across its chunks. The model is the
checkpoint a pipeline model store records (``model.json``'s ``checkpoint``, relative to the
store); an imported network has none.

Bounds: at most ``MAX_CHARS`` characters; the computation stops after the chunk during which
``TIMEOUT_S`` passed; one computation per model at a time (the server answers 429 to the
next); bytes outside the model's vocabulary are refused, listed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from visrnn.explorer.store import TOP_K

#: Longest live text, in characters.
MAX_CHARS = 4000
#: Seconds a live computation may take; it stops after the chunk that passes them.
TIMEOUT_S = 10.0
#: Steps computed between two looks at the clock.
CHUNK = 256


class LiveError(ValueError):
    """A live-text request that cannot be answered; ``status`` is the HTTP status to give."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def checkpoint_of(store_path: Path, meta: dict[str, Any], roots: list[Path]) -> Path | None:
    """The checkpoint a model store records, if it has one: resolved from the store's
    directory, and only if it lies inside one of the served ``roots``."""
    recorded = meta.get("checkpoint")
    if not recorded:
        return None
    path = (store_path / str(recorded)).resolve()
    if not any(path.is_relative_to(root) for root in roots):
        raise LiveError(403, f"{store_path}/model.json names a checkpoint outside the results")
    if not path.is_file():
        raise LiveError(404, f"{path}: the model's checkpoint is missing (rerun its training)")
    return path


def encode(text: str, symbols: list[int]) -> np.ndarray:
    """The ids of ``text``'s UTF-8 bytes; a ``LiveError`` (400) lists the characters whose
    bytes are outside the vocabulary ``symbols`` (the bytes of ids 0, 1, ...)."""
    table = np.full(256, -1, dtype=np.int64)
    table[np.asarray(symbols, dtype=np.int64)] = np.arange(len(symbols))
    ids = table[np.frombuffer(text.encode("utf-8"), dtype=np.uint8)]
    if (ids < 0).any():
        outside = sorted(
            {c for c in text if (table[np.frombuffer(c.encode("utf-8"), dtype=np.uint8)] < 0).any()}
        )
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in outside[:20])
        more = f" and {len(outside) - 20} more" if len(outside) > 20 else ""
        raise LiveError(
            400, f"characters outside the model's vocabulary: {shown}{more}; remove them"
        )
    return ids


def load_model(path: Path, meta: dict[str, Any]) -> Any:
    """The checkpoint's model, checked against the store's model id and vocabulary."""
    import torch

    from visrnn.models.checkpoints import CheckpointError, load_checkpoint

    # One thread: a batch-1 step is too small to split, and on a busy machine threads that
    # meet at a barrier every step made the recurrence many times slower
    # (visrnn.inside.activations runs its recurrence on one thread for the same reason).
    torch.set_num_threads(1)
    try:
        model, _ = load_checkpoint(
            path, model_id=meta["model_id"], vocab_sha256=meta.get("vocab_sha256")
        )
    except CheckpointError as error:
        raise LiveError(409, str(error)) from None
    return model


@dataclass(frozen=True)
class LiveAnswer:
    values: np.ndarray  # (units, positions) float16 of the asked layer and state
    top_ids: np.ndarray  # (positions, TOP_K)
    top_p: np.ndarray  # (positions, TOP_K)
    loss: np.ndarray  # (positions,) -log p(next character); NaN at the last position
    seconds: float


def run(
    model: Any, ids: np.ndarray, layer: int, state: str, timeout: float = TIMEOUT_S
) -> LiveAnswer:
    """The model over ``ids`` from the zero state: the layer's state, top predictions, loss."""
    import torch

    from visrnn.inside.activations import iter_activations

    start = time.perf_counter()
    names = tuple(dict.fromkeys((state, "h")))
    values, last_h = [], []
    for chunk in iter_activations(model, ids, CHUNK, names=names):
        values.append(chunk[layer][state][0].float().numpy().T.astype(np.float16))
        last_h.append(chunk[-1]["h"][0])
        if time.perf_counter() - start > timeout and sum(v.shape[1] for v in values) < len(ids):
            raise LiveError(
                504, f"the live text took longer than {timeout:g} s; stopped (try a shorter text)"
            )
    with torch.no_grad():
        logits = model.decoder(torch.cat(last_h))
        log_p = logits.log_softmax(-1)
        top_log_p, top_ids = log_p.topk(min(TOP_K, log_p.shape[-1]), dim=-1)
        following = torch.as_tensor(np.asarray(ids[1:], dtype=np.int64))
        loss = -log_p[:-1].gather(1, following[:, None])[:, 0]
    return LiveAnswer(
        values=np.concatenate(values, axis=1),
        top_ids=top_ids.numpy(),
        top_p=top_log_p.exp().numpy(),
        loss=np.concatenate([loss.numpy(), [np.nan]]),
        seconds=time.perf_counter() - start,
    )
