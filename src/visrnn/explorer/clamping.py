"""Silencing and clamped sampling in the explorer: what the selected units are worth on the
shown text, and what the model writes from the current position with them held.

Both run the grid model's checkpoint through ``visrnn.inside.interventions``, the engine of the
pipeline's ablation and of ``visrnn sample`` (the checkpoint's own equations, step by step):

- ``silence_window``: the intact model and the model with the units held (at zero, or at
  their mean over the stored positions) score the window side by side, as two rows of one
  pass; the state at the window's start comes from the ``CONTEXT`` characters before it (from
  the text's start when the window starts within them, as the stored scores do).
  ``category_summary`` groups the window's positions by the Figure 6 category the pipeline
  gave the intact model's error there (the explorer's stored peel of the whole test split;
  ``no error`` where it was right, so the errors a silencing adds land there).
- ``sample_pair``: from the text up to and including the current position (at most
  ``CONTEXT`` characters of it as the prime), the sample with nothing held and the one with
  the units clamped, drawn with the same seed (``visrnn.inside.sampling.sample``).

Bounds, as the live text's (``visrnn.explorer.live``): at most ``live.MAX_CHARS`` characters
read per request, a silencing stops after the chunk during which ``live.TIMEOUT_S`` passed,
samples are at most ``MAX_SAMPLE`` characters, and the server runs one computation per model
at a time (429 to the next).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from visrnn.data.splits import Vocab
from visrnn.explorer import live
from visrnn.scoring.choice import ERROR_THRESHOLD

if TYPE_CHECKING:  # the engine imports torch: only when a computation runs (as live text)
    from visrnn.inside.interventions import Clamp

#: Characters read before a silenced window or the sampling position, at most.
CONTEXT = 1000
#: Most positions one silencing scores (with its context, at most ``live.MAX_CHARS`` read).
MAX_SILENCED = live.MAX_CHARS - CONTEXT
#: Longest sample, in characters.
MAX_SAMPLE = 2000
#: The name of the positions the intact model gets right (``oracle.npy`` code 0).
NO_ERROR = "no error"


@dataclass(frozen=True)
class Silenced:
    """Scores of positions [start, stop) by the intact model (row 0) and the silenced one
    (row 1): p(next character) (NaN at the text's last position, which has none) and the
    likeliest next character's id."""

    start: int
    stop: int
    read_from: int  # the position the computation started at, from the zero state
    p_target: np.ndarray  # (2, positions)
    argmax: np.ndarray  # (2, positions)


def silence_window(
    model: Any,
    vocab: Vocab,
    text: np.ndarray,
    start: int,
    stop: int,
    clamps: Sequence[Clamp],
    timeout: float = live.TIMEOUT_S,
) -> Silenced:
    """The window [start, stop) of ``text`` (the test split's bytes) scored intact and with
    ``clamps`` held; a ``live.LiveError``: 504 when it takes longer than ``timeout``, 400 for
    a clamp that does not fit the model."""
    from visrnn.inside.interventions import score_interventions

    read_from = 0 if start <= CONTEXT else start - CONTEXT
    ids = vocab.encode(np.asarray(text[read_from : stop + 1], dtype=np.uint8).tobytes())
    try:
        p_target, argmax = score_interventions(
            model, ids, [[], list(clamps)], chunk=live.CHUNK, timeout=timeout
        )
    except TimeoutError:
        raise live.LiveError(
            504, f"the silencing took longer than {timeout:g} s; stopped (try fewer positions)"
        ) from None
    except ValueError as error:  # a clamp that does not fit the model
        raise live.LiveError(400, str(error)) from None
    skip = start - read_from
    p_target, argmax = p_target[:, skip:], argmax[:, skip:]
    missing = (stop - start) - p_target.shape[1]  # the text's last position: no next character
    if missing:
        p_target = np.pad(p_target, ((0, 0), (0, missing)), constant_values=np.nan)
        argmax = np.pad(argmax, ((0, 0), (0, missing)), constant_values=-1)
    return Silenced(start, stop, read_from, p_target, argmax)


def _group(p_intact: np.ndarray, p_silenced: np.ndarray, name: str) -> dict[str, Any]:
    scored = np.isfinite(p_intact) & np.isfinite(p_silenced)
    loss, silenced_loss = -np.log(p_intact[scored]), -np.log(p_silenced[scored])
    mean = float(loss.mean()) if len(loss) else None
    silenced_mean = float(silenced_loss.mean()) if len(loss) else None
    return {
        "category": name,
        "positions": int(scored.sum()),
        "loss": mean,
        "silenced_loss": silenced_mean,
        "delta_loss": None if mean is None else silenced_mean - mean,
        "errors": int((p_intact[scored] < ERROR_THRESHOLD).sum()),
        "silenced_errors": int((p_silenced[scored] < ERROR_THRESHOLD).sum()),
    }


def category_summary(
    silenced: Silenced, codes: np.ndarray | None, names: Sequence[str] | None
) -> list[dict[str, Any]]:
    """The loss and errors (p < 0.5) of the intact and the silenced model over the window,
    then per Figure 6 category of the intact model's error at each position (``codes``, the
    store's ``oracle.npy`` of the window, and their ``names``; none: the overall row only)."""
    p_intact, p_silenced = silenced.p_target
    rows = [_group(p_intact, p_silenced, "all positions")]
    if codes is not None and names is not None:
        codes = np.asarray(codes)
        for code in np.unique(codes):
            mask = codes == code
            rows.append(_group(p_intact[mask], p_silenced[mask], names[int(code)]))
    return rows


def sample_pair(
    model: Any,
    vocab: Vocab,
    text: np.ndarray,
    position: int,
    clamps: Sequence[Clamp],
    length: int,
    temperature: float,
    seed: int,
) -> tuple[bytes, bytes, bytes]:
    """The prime (``text`` up to and including ``position``, its last ``CONTEXT``
    characters), then what the model writes after it with nothing held and with ``clamps``
    held, with the same seed. A ``live.LiveError`` (400) for a prime the model cannot read."""
    from visrnn.inside.sampling import sample

    prime = np.asarray(text[max(0, position + 1 - CONTEXT) : position + 1], dtype=np.uint8)
    prime_bytes = prime.tobytes()
    try:
        free = sample(model, vocab, prime_bytes, length, temperature, seed)
        held = sample(model, vocab, prime_bytes, length, temperature, seed, clamps=clamps)
    except ValueError as error:
        raise live.LiveError(400, str(error)) from None
    return prime_bytes, free, held
