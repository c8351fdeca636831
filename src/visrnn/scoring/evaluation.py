"""Scoring the test split: one stream, state carried from the first character to the last.

Position t of the result is the prediction of test character t + 1 after reading characters
0..t, so every model (and every baseline) scores the same N - 1 positions. The per-position
arrays are the input of every analysis; the test loss and its bootstrap spread come from them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import numpy as np
import torch

from visrnn.models.recurrent import LanguageModel

logger = logging.getLogger(__name__)


@torch.no_grad()
def log_prob_chunks(
    model: LanguageModel, ids: np.ndarray, device: torch.device, chunk: int = 4096
) -> Iterator[torch.Tensor]:
    """Log-probabilities (chunk, K) of the next character at positions 0..N-2, in order.

    The full (N, K) distribution never exists at once: callers reduce each chunk as it comes.
    """
    model.eval()
    inputs = torch.from_numpy(ids[:-1].astype(np.int64)).unsqueeze(0)
    state = model.zero_state(1, device)
    for start in range(0, inputs.shape[1], chunk):
        logits, state = model(inputs[:, start : start + chunk].to(device), state)
        yield torch.log_softmax(logits[0].float(), dim=-1)


def score_sequence(
    model: LanguageModel, ids: np.ndarray, device: torch.device, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """p(target) and argmax id at every position of ``ids`` (length N - 1), state carried."""
    targets = torch.from_numpy(ids[1:].astype(np.int64))
    p_target = np.empty(len(targets), dtype=np.float32)
    argmax = np.empty(len(targets), dtype=np.int64)
    started, start = time.perf_counter(), 0
    for log_probs in log_prob_chunks(model, ids, device, chunk):
        stop = start + len(log_probs)
        index = targets[start:stop].to(log_probs.device).unsqueeze(1)
        p_target[start:stop] = log_probs.gather(1, index).squeeze(1).exp().cpu().numpy()
        argmax[start:stop] = log_probs.argmax(dim=-1).cpu().numpy()
        start = stop
        if (start // chunk) % 20 == 0:
            logger.info("scored %d/%d positions", stop, len(targets))
    seconds = time.perf_counter() - started
    logger.info(
        "scored %d positions in %.1f s (%.0f chars/s)",
        len(targets),
        seconds,
        len(targets) / max(seconds, 1e-9),
    )
    return p_target, argmax
