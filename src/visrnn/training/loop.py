"""Training with the paper's optimisation (Sec. 3.3, gaps filled with char-rnn's defaults).

The training split is cut into ``batch_size`` contiguous streams; each batch is the next
``seq_length`` characters of every stream, and the hidden state is carried from one batch to the
next (truncated backpropagation through time). RMSProp, gradient clipping, learning-rate
decay after ``lr_decay_after`` epochs, and the checkpoint with the best validation loss kept.

Three keys choose between the paper's text and char-rnn's ``train.lua`` where the two may
differ (docs/recipe.md): ``forget_bias`` (LSTM forget-gate biases after the uniform draw),
``loss_reduction`` (the gradient of the mean loss, or of the loss summed over the unrolled
steps) and ``grad_clip_mode`` (clip the gradient's norm, or each element). Their defaults keep
the uniform initialisation the paper states and norm clipping of the mean loss's gradient.

A run writes a resume checkpoint after every epoch. Rerun after a crash, it continues from
there and ends with the same weights as an uninterrupted run (bitwise on CPU): optimizer state,
random-number state and the best weights so far are part of the checkpoint, and every epoch
starts from a zero state. The best checkpoint and the log are written once, when the run
completes, so their presence means a finished run (Snakemake may delete them after a crash).
A resume file that cannot be read, or that is another run's, is renamed aside with a warning
and the run starts over.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from visrnn.common.determinism import reseed_cudnn_dropout
from visrnn.common.devices import acquire_device
from visrnn.common.files import write_csv
from visrnn.data.splits import array_sha256
from visrnn.models.checkpoints import read_resume, save_checkpoint, save_resume
from visrnn.models.recurrent import CharRNN, LanguageModel, detach_state

logger = logging.getLogger(__name__)

#: ``grad_clip_mode``: clip the gradient's global norm, or each element (char-rnn's ``clamp``).
GRAD_CLIP_MODES = ("norm", "value")
#: ``loss_reduction``: the gradient of the mean loss over batch and steps, or of the per-step
#: batch means summed over the unrolled steps (char-rnn's ``train.lua``).
LOSS_REDUCTIONS = ("mean", "sum_over_steps")

LOG_COLUMNS = (
    "epoch",
    "iteration",
    "learning_rate",
    "train_loss",
    "val_loss",
    "seconds",
    "chars_per_second",
)


@dataclass(frozen=True)
class TrainingConfig:
    batch_size: int = 100
    seq_length: int = 100
    epochs: int = 50
    learning_rate: float = 2e-3
    rmsprop_alpha: float = 0.95
    rmsprop_eps: float = 1e-8
    grad_clip: float = 5.0
    grad_clip_mode: str = "norm"  # GRAD_CLIP_MODES
    loss_reduction: str = "mean"  # LOSS_REDUCTIONS
    init_range: float = 0.08
    forget_bias: float | None = None  # LSTM forget-gate bias after the uniform draw; None: none
    lr_decay: float = 0.95
    lr_decay_after: int = 10
    patience: int | None = None  # epochs without validation improvement before stopping
    seed: int = 123
    snapshot_iterations: tuple[int, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for key, allowed in (
            ("grad_clip_mode", GRAD_CLIP_MODES),
            ("loss_reduction", LOSS_REDUCTIONS),
        ):
            if getattr(self, key) not in allowed:
                raise ValueError(
                    f"training.{key} is {getattr(self, key)!r}; use one of {list(allowed)}"
                )

    def learning_rate_at(self, epoch: int) -> float:
        """Learning rate of 1-based ``epoch``: constant, then times ``lr_decay`` per epoch."""
        return self.learning_rate * self.lr_decay ** max(0, epoch - self.lr_decay_after)


def stream_layout(ids: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets as ``batch_size`` contiguous streams, shape (batch_size, L)."""
    length = (len(ids) - 1) // batch_size
    if length < 1:
        raise ValueError(
            f"a split of {len(ids)} characters is too short for {batch_size} streams; "
            "use a longer corpus or a smaller batch_size"
        )
    used = batch_size * length
    inputs = ids[:used].reshape(batch_size, length)
    targets = ids[1 : used + 1].reshape(batch_size, length)
    return inputs, targets


def batches(
    ids: np.ndarray, batch_size: int, seq_length: int, *, drop_last: bool
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Successive (inputs, targets) blocks of ``seq_length`` steps of every stream."""
    inputs, targets = stream_layout(ids, batch_size)
    length = inputs.shape[1]
    stop = length - length % seq_length if drop_last else length
    for start in range(0, stop, seq_length):
        block = slice(start, min(start + seq_length, length))
        yield (
            torch.from_numpy(inputs[:, block].astype(np.int64)),
            torch.from_numpy(targets[:, block].astype(np.int64)),
        )


def batches_per_epoch(n_chars: int, batch_size: int, seq_length: int) -> int:
    return ((n_chars - 1) // batch_size) // seq_length


@torch.no_grad()
def stream_loss(
    model: LanguageModel, ids: np.ndarray, batch_size: int, seq_length: int, device: torch.device
) -> float:
    """Mean cross-entropy (nats) over ``batch_size`` streams of ``ids``, state carried."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    state = model.zero_state(min(batch_size, len(ids) - 1), device)
    for inputs, targets in batches(ids, min(batch_size, len(ids) - 1), seq_length, drop_last=False):
        logits, state = model(inputs.to(device), state)
        total += F.cross_entropy(
            logits.flatten(0, 1), targets.to(device).flatten(), reduction="sum"
        ).item()
        count += targets.numel()
    model.train(was_training)
    return total / count


def run_fingerprint(**parts: object) -> str:
    """Identity of a training run; a resume checkpoint of another run is never resumed."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class RunPaths:
    best: Path  # best checkpoint (by validation loss)
    log: Path  # per-epoch CSV
    resume: Path  # last epoch's full training state, removed when the run completes
    snapshots: Path | None = None  # directory for iteration snapshots, if any are configured


@dataclass
class Progress:
    """A run's state between epochs; the resume file keeps it (``as_payload``)."""

    epoch: int = 0  # epochs done
    iteration: int = 0  # batches done, over all epochs
    best_val: float = math.inf
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] | None = None  # the best epoch's weights, on the CPU
    log: list[dict[str, int | float]] = field(default_factory=list)  # a LOG_COLUMNS row per epoch

    def as_payload(self) -> dict[str, object]:
        """Plain types and tensors, for ``torch.load(weights_only=True)`` (not ``asdict``:
        it would deep-copy the best weights)."""
        return {item.name: getattr(self, item.name) for item in fields(self)}


def train(
    model: LanguageModel,
    train_ids: np.ndarray,
    val_ids: np.ndarray,
    config: TrainingConfig,
    paths: RunPaths,
    *,
    device: torch.device,
    fingerprint: str,
    checkpoint_meta: dict[str, object],
    data_name: str = "the training data",
) -> dict[str, float]:
    """Train ``model`` and write the best checkpoint and the log; returns a summary."""
    _check_split(train_ids, config, data_name)
    optimizer = _initialise(model, config, device)
    progress = Progress()
    if paths.resume.exists():
        model_id = checkpoint_meta.get("model_id")
        progress = _resume(paths.resume, model, optimizer, fingerprint, model_id) or progress
    snapshots = _snapshot_dir(config, paths)
    for epoch in range(progress.epoch + 1, config.epochs + 1):
        if _patience_exhausted(config, progress):
            logger.info("early stop: no validation improvement for %d epochs", config.patience)
            break
        learning_rate = config.learning_rate_at(epoch)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate
        loss_sum, steps, seconds = _train_epoch(
            model, optimizer, train_ids, config, device, progress, epoch, snapshots, checkpoint_meta
        )
        val_loss = stream_loss(model, val_ids, config.batch_size, config.seq_length, device)
        row = {
            "epoch": epoch,
            "iteration": progress.iteration,
            "learning_rate": learning_rate,
            "train_loss": round(loss_sum / steps, 6),
            "val_loss": round(val_loss, 6),
            "seconds": round(seconds, 3),
            "chars_per_second": round(steps * config.batch_size * config.seq_length / seconds),
        }
        _end_epoch(model, config, progress, row, val_loss)
        _save_resume(paths.resume, model, optimizer, progress, fingerprint, checkpoint_meta)
    return _finish(model, paths, progress, checkpoint_meta)


def _check_split(train_ids: np.ndarray, config: TrainingConfig, data_name: str) -> None:
    """Refuse a training split too short for one batch, naming the settings to change."""
    if batches_per_epoch(len(train_ids), config.batch_size, config.seq_length) < 1:
        raise ValueError(
            f"{data_name}: the training split ({len(train_ids)} characters) is too short for "
            f"one batch of {config.batch_size} x {config.seq_length}; use a longer corpus or "
            "a smaller training.batch_size / training.seq_length"
        )


def _initialise(
    model: LanguageModel, config: TrainingConfig, device: torch.device
) -> torch.optim.Optimizer:
    """Seed, draw the initial weights (paper, Sec. 3.3), set an LSTM's forget-gate biases if
    ``forget_bias`` says so, move to ``device``; the optimizer."""
    torch.manual_seed(config.seed)
    model.init_uniform(config.init_range)
    if config.forget_bias is not None:
        _set_forget_bias(model, config.forget_bias)
    model.to(device)
    return torch.optim.RMSprop(
        model.parameters(),
        lr=config.learning_rate,
        alpha=config.rmsprop_alpha,
        eps=config.rmsprop_eps,
    )


def _set_forget_bias(model: LanguageModel, value: float) -> None:
    """``forget_bias`` on an LSTM; any other model has no forget gate, which the log says."""
    layers = model.init_forget_bias(value) if isinstance(model, CharRNN) else 0
    if layers:
        logger.info("forget-gate biases of %d LSTM layer(s) set to %g", layers, value)
    else:
        kind = model.config.model_type if isinstance(model, CharRNN) else type(model).__name__
        logger.info("training.forget_bias=%g not used: the %s has no forget gate", value, kind)


def _snapshot_dir(config: TrainingConfig, paths: RunPaths) -> Path | None:
    """Where iteration snapshots go (created), or None when the run takes none."""
    if not config.snapshot_iterations or paths.snapshots is None:
        return None
    paths.snapshots.mkdir(parents=True, exist_ok=True)
    return paths.snapshots


def _train_epoch(
    model: LanguageModel,
    optimizer: torch.optim.Optimizer,
    train_ids: np.ndarray,
    config: TrainingConfig,
    device: torch.device,
    progress: Progress,
    epoch: int,
    snapshots: Path | None,
    checkpoint_meta: dict[str, object],
) -> tuple[float, int, float]:
    """One pass over the training streams, state carried from batch to batch (truncated
    BPTT), a snapshot at each configured iteration; returns (sum of the batch losses,
    number of batches, seconds)."""
    model.train()
    reseed_cudnn_dropout(device)  # resumable on CUDA: dropout masks from the saved RNG
    state = model.zero_state(config.batch_size, device)
    started, loss_sum, steps = time.perf_counter(), 0.0, 0
    # A progress bar where a terminal is attached (tqdm's disable=None); logs get a line per
    # epoch (_end_epoch).
    for inputs, targets in tqdm(
        batches(train_ids, config.batch_size, config.seq_length, drop_last=True),
        total=batches_per_epoch(len(train_ids), config.batch_size, config.seq_length),
        desc=f"{checkpoint_meta.get('model_id', 'model')} epoch {epoch}/{config.epochs}",
        unit="batch",
        leave=False,
        disable=None,
    ):
        logits, state = model(inputs.to(device), state)
        state = detach_state(state)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.to(device).flatten())
        optimizer.zero_grad(set_to_none=True)
        _backward_and_clip(model, loss, inputs.shape[1], config)
        optimizer.step()
        loss_sum += loss.item()
        steps += 1
        progress.iteration += 1
        if snapshots is not None and progress.iteration in config.snapshot_iterations:
            save_checkpoint(
                snapshots / f"iter-{progress.iteration:06d}.pt",
                model,
                iteration=progress.iteration,
                **checkpoint_meta,
            )
    return loss_sum, steps, time.perf_counter() - started


def _backward_and_clip(
    model: LanguageModel, loss: torch.Tensor, steps: int, config: TrainingConfig
) -> None:
    """The gradient of the batch's loss, clipped as ``config`` says.

    ``loss`` is the mean over batch and ``steps``; ``sum_over_steps`` backpropagates the sum of
    the per-step batch means, ``steps`` times the mean (char-rnn sums its per-step criteria and
    leaves out the division, which RMSProp would undo, but not the clipping threshold).
    """
    (loss * steps if config.loss_reduction == "sum_over_steps" else loss).backward()
    if config.grad_clip_mode == "value":
        torch.nn.utils.clip_grad_value_(model.parameters(), config.grad_clip)
    else:
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)


def _end_epoch(
    model: LanguageModel,
    config: TrainingConfig,
    progress: Progress,
    row: dict[str, int | float],
    val_loss: float,
) -> None:
    """Log the epoch's row, keep the weights if the validation loss is the best so far."""
    progress.log.append(row)
    logger.info(
        "epoch %d/%d  train %.4f  val %.4f  lr %.2e  %.1f s  %.0f chars/s",
        row["epoch"],
        config.epochs,
        row["train_loss"],
        val_loss,
        row["learning_rate"],
        row["seconds"],
        row["chars_per_second"],
    )
    if val_loss < progress.best_val:
        progress.best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        progress.best_val, progress.best_epoch = val_loss, row["epoch"]
    progress.epoch = row["epoch"]


def _finish(
    model: LanguageModel, paths: RunPaths, progress: Progress, checkpoint_meta: dict[str, object]
) -> dict[str, float]:
    """Write the best checkpoint and the log (their presence means a finished run), drop the
    resume file; the run's summary."""
    save_checkpoint(
        paths.best,
        model,
        state_dict=progress.best_state,
        epoch=progress.best_epoch,
        val_loss=progress.best_val,
        **checkpoint_meta,
    )
    write_csv(paths.log, progress.log, LOG_COLUMNS)
    paths.resume.unlink(missing_ok=True)
    return {"best_val_loss": progress.best_val, "best_epoch": progress.best_epoch}


def train_run(
    model: LanguageModel,
    train_ids: np.ndarray,
    val_ids: np.ndarray,
    config: TrainingConfig,
    best: str | os.PathLike[str],
    log: str | os.PathLike[str],
    *,
    model_id: str,
    vocab_sha256: str,
    data_name: str,
    snapshots: str | os.PathLike[str] | None = None,
) -> dict[str, float]:
    """One run of a pipeline stage: fingerprint it, take a device slot, train, write files.

    The resume checkpoint lives beside ``best``; it is only resumed by a run with the same
    architecture, settings and data.
    """
    fingerprint = run_fingerprint(
        architecture=type(model).__name__,
        model=asdict(model.config),
        training=asdict(config),
        vocab=vocab_sha256,
        train=array_sha256(train_ids),
        val=array_sha256(val_ids),
    )
    paths = RunPaths(
        best=Path(best),
        log=Path(log),
        resume=Path(best).parent / "resume.pt",
        snapshots=Path(snapshots) if snapshots is not None else None,
    )
    with acquire_device() as slot:
        return train(
            model,
            train_ids,
            val_ids,
            config,
            paths,
            device=slot.device,
            fingerprint=fingerprint,
            checkpoint_meta={"model_id": model_id, "vocab_sha256": vocab_sha256},
            data_name=data_name,
        )


def _patience_exhausted(config: TrainingConfig, progress: Progress) -> bool:
    return config.patience is not None and progress.epoch - progress.best_epoch >= config.patience


def _save_resume(
    path: Path,
    model: LanguageModel,
    optimizer: torch.optim.Optimizer,
    progress: Progress,
    fingerprint: str,
    checkpoint_meta: dict[str, object],
) -> None:
    save_resume(
        path,
        {
            "fingerprint": fingerprint,
            "model_id": checkpoint_meta.get("model_id"),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "progress": progress.as_payload(),
        },
    )


def _resume(
    path: Path,
    model: LanguageModel,
    optimizer: torch.optim.Optimizer,
    fingerprint: str,
    model_id: object,
) -> Progress | None:
    payload = read_resume(path, fingerprint, model_id if isinstance(model_id, str) else None)
    if payload is None:
        return None
    model.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    torch.set_rng_state(payload["torch_rng"])
    if payload["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(payload["cuda_rng"])
    progress = Progress(**payload["progress"])
    logger.info("resuming from %s after epoch %d", path, progress.epoch)
    return progress


def training_config(section: dict[str, object], **overrides: object) -> TrainingConfig:
    """A ``TrainingConfig`` from the config file's ``training`` section."""
    known = {f for f in TrainingConfig.__dataclass_fields__}
    values = {k: v for k, v in {**section, **overrides}.items() if k in known}
    if "snapshot_iterations" in values:
        values["snapshot_iterations"] = tuple(values["snapshot_iterations"])  # type: ignore[arg-type]
    return TrainingConfig(**values)  # type: ignore[arg-type]
