"""What the LSTM resembles while it learns (paper Figure 5, right).

At each early training snapshot, the LSTM's predictive distribution over the test split is
compared with each trained n-NN's: a low symmetric KL says the LSTM predicts like a model
that sees only the last n characters. The paper finds it resembles the 1-NN first, then the
2-, 3- and 4-NN in turn. Full (T, K) distributions never sit in memory: both models' log
probabilities arrive as aligned chunks and are reduced chunk by chunk.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import count

import numpy as np
import torch
from matplotlib import colormaps

from visrnn.common.plotting import new_figure, save_figure
from visrnn.training.loop import batches_per_epoch

logger = logging.getLogger(__name__)

#: Columns of one row per (snapshot, baseline), as ``plot_dynamics`` reads them.
DYNAMICS_COLUMNS = ("iteration", "baseline", "kl", "loss_difference")

LogProbs = np.ndarray | torch.Tensor


def snapshot_iterations(
    epoch_fractions: Iterable[float],
    train_chars: int,
    batch_size: int,
    seq_length: int,
    epochs: int,
) -> tuple[int, ...]:
    """Training iterations of the snapshots at ``epoch_fractions`` epochs of this dataset.

    An epoch is ``batches_per_epoch`` iterations of this training split, so that "the first
    3 epochs" span 3 epochs on every dataset whatever its size. Each fraction rounds to the
    nearest iteration (at least 1); fractions that round to the same iteration give one
    snapshot. Fractions beyond ``epochs`` are refused: the run stops there.
    """
    fractions = sorted(float(f) for f in epoch_fractions)
    if not fractions or fractions[0] <= 0 or fractions[-1] > epochs:
        raise ValueError(
            f"analysis.dynamics.epoch_fractions {fractions} must be in (0, {epochs}] "
            "(analysis.dynamics.epochs)"
        )
    per_epoch = batches_per_epoch(train_chars, batch_size, seq_length)
    if per_epoch < 1:
        raise ValueError(
            f"a training split of {train_chars} characters holds no batch of "
            f"{batch_size} x {seq_length}; use a longer corpus or smaller training batches"
        )
    iterations = sorted({max(1, round(f * per_epoch)) for f in fractions})
    if len(iterations) < len(fractions):
        logger.warning(
            "epoch fractions %s give only %d distinct iterations at %d iterations per epoch",
            fractions,
            len(iterations),
            per_epoch,
        )
    return tuple(iterations)


def _as_float64(values: LogProbs) -> torch.Tensor:
    return torch.as_tensor(values).to(torch.float64)


def symmetric_kl(logp: LogProbs, logq: LogProbs) -> LogProbs:
    """Per-position symmetric KL divergence, in nats, between two categorical distributions.

    ``logp`` and ``logq`` hold normalised log probabilities over the last axis (K symbols).
    The symmetric KL is KL(p||q) + KL(q||p) = sum_k (p_k - q_k) (log p_k - log q_k): zero
    exactly when p = q, and symmetric in its arguments. Symbols that both give probability 0
    contribute 0; a symbol only one of them rules out makes it infinite. Returns the same kind
    (NumPy array or tensor, on its device) as ``logp``, one value per position.
    """
    if tuple(np.shape(logp)) != tuple(np.shape(logq)):
        raise ValueError(f"log-probability shapes differ: {np.shape(logp)} vs {np.shape(logq)}")
    log_p = _as_float64(logp)
    log_q = _as_float64(logq).to(log_p.device)
    terms = (log_p.exp() - log_q.exp()) * (log_p - log_q)
    both_impossible = torch.isneginf(log_p) & torch.isneginf(log_q)
    values = torch.where(both_impossible, torch.zeros_like(terms), terms).sum(dim=-1)
    return values.numpy() if isinstance(logp, np.ndarray) else values


def compare_all(
    snapshots: Mapping[int, Iterable[LogProbs]],
    baselines: Mapping[str, Iterable[LogProbs]],
    targets: np.ndarray,
) -> list[dict[str, object]]:
    """Mean symmetric KL and loss difference of every (snapshot, baseline) pair, in one pass.

    Every stream yields aligned (chunk, K) log-probability arrays covering the positions of
    ``targets`` in order; all streams advance together, so each model runs over the test
    split once whatever the number of pairs. ``loss_difference`` is the baseline's loss minus
    the snapshot's (nats per character): positive when the LSTM snapshot predicts better, as
    in the paper. Rows have the ``DYNAMICS_COLUMNS`` plus both losses.
    """
    targets = torch.as_tensor(np.asarray(targets, dtype=np.int64))
    streams = [iter(stream) for stream in (*snapshots.values(), *baselines.values())]
    n_snapshots = len(snapshots)
    kl_sum = np.zeros((n_snapshots, len(baselines)))
    nll = np.zeros(len(streams))
    start = 0
    for chunk in count():
        arrays = [next(stream, None) for stream in streams]
        if all(array is None for array in arrays):
            break
        if any(array is None for array in arrays):
            raise ValueError(f"the log-probability streams end at different chunks ({chunk})")
        # Reduce where the first stream's chunk lives (the GPU, say): only scalars come back.
        logs = [_as_float64(array) for array in arrays]
        logs = [log.to(logs[0].device) for log in logs]
        if any(log.shape != logs[0].shape for log in logs) or logs[0].ndim != 2:
            raise ValueError(
                f"chunk {chunk}: log-probability chunks {[tuple(log.shape) for log in logs]} "
                "must be equal (positions, K) arrays"
            )
        stop = start + len(logs[0])
        if stop > len(targets):
            raise ValueError(f"the streams run past the {len(targets)} target positions")
        index = targets[start:stop, None].to(logs[0].device)
        for i, log in enumerate(logs):
            nll[i] -= float(log.gather(1, index).sum())
        kl_sum += _chunk_kl_sums(torch.stack(logs[:n_snapshots]), torch.stack(logs[n_snapshots:]))
        start = stop
        logger.debug("chunk %d: %d of %d positions compared", chunk, stop, len(targets))
    if start != len(targets) or start == 0:
        raise ValueError(
            f"the streams cover {start} positions but there are {len(targets)} targets"
        )
    return [
        {
            "iteration": iteration,
            "baseline": baseline,
            "kl": kl_sum[i, j] / start,
            "snapshot_loss": nll[i] / start,
            "baseline_loss": nll[n_snapshots + j] / start,
            "loss_difference": (nll[n_snapshots + j] - nll[i]) / start,
        }
        for i, iteration in enumerate(snapshots)
        for j, baseline in enumerate(baselines)
    ]


def _chunk_kl_sums(snapshots: torch.Tensor, baselines: torch.Tensor) -> np.ndarray:
    """Symmetric KL summed over a chunk's positions for every (snapshot, baseline) pair.

    sum_tk (p - q)(log p - log q) = sum p log p + sum q log q - sum p log q - sum q log p;
    the cross terms of all pairs are two matrix products over the flattened (position,
    symbol) axis instead of one elementwise pass per pair. Log-probabilities of -inf are
    floored so that 0 * log 0 counts as 0, as in ``symmetric_kl``.
    """
    floor = -1e300
    log_s = snapshots.clamp(min=floor).flatten(1)  # (S, chunk * K)
    log_b = baselines.clamp(min=floor).flatten(1)  # (B, chunk * K)
    p_s, p_b = log_s.exp(), log_b.exp()
    self_s = (p_s * log_s).sum(dim=1)
    self_b = (p_b * log_b).sum(dim=1)
    cross = p_s @ log_b.T + (p_b @ log_s.T).T  # (S, B)
    return (self_s[:, None] + self_b[None, :] - cross).cpu().numpy()


def compare_streams(
    snapshot_logprobs: Iterable[LogProbs],
    baseline_logprobs: Iterable[LogProbs],
    targets: np.ndarray,
) -> dict[str, float]:
    """``compare_all`` for one snapshot and one baseline: kl, both losses, loss_difference."""
    (row,) = compare_all({0: snapshot_logprobs}, {"baseline": baseline_logprobs}, targets)
    return {
        key: float(row[key]) for key in ("kl", "snapshot_loss", "baseline_loss", "loss_difference")
    }


def _natural_key(name: str) -> tuple[object, ...]:
    """Sort ``2-NN`` before ``10-NN``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def plot_dynamics(rows: Sequence[Mapping[str, object]], path: str | os.PathLike[str]) -> None:
    """Two panels against the snapshot's training iteration, one line per baseline n-NN:
    mean symmetric KL (left) and baseline loss minus LSTM loss (right)."""
    baselines = sorted({str(row["baseline"]) for row in rows}, key=_natural_key)
    if not baselines:
        raise ValueError("no dynamics rows to plot; compute them with compare_streams")
    cmap = colormaps["viridis"]
    fig = new_figure(10.0, 4.0)
    kl_ax, loss_ax = fig.subplots(1, 2)
    for i, baseline in enumerate(baselines):
        own = sorted(
            (row for row in rows if str(row["baseline"]) == baseline),
            key=lambda row: row["iteration"],
        )
        iterations = [row["iteration"] for row in own]
        color = cmap(i / max(len(baselines) - 1, 1))
        kl_ax.plot(iterations, [r["kl"] for r in own], color=color, label=baseline)
        loss_ax.plot(iterations, [r["loss_difference"] for r in own], color=color)
    kl_ax.set_ylabel("symmetric KL (nats)")
    loss_ax.set_ylabel("baseline loss - LSTM loss (nats/char)")
    loss_ax.axhline(0.0, color="black", lw=0.8)
    for ax in (kl_ax, loss_ax):
        ax.set_xlabel("LSTM training iteration")
    kl_ax.legend(fontsize=8)
    save_figure(fig, path)
