"""How far the training runs of a results directory are, for ``visrnn status``.

Read-only: it looks at what the workflow writes and never at a running job. The runs and
their files are the plan's (``visrnn.plan.training_runs``). A run is *done* when its best
checkpoint and log exist (``runs/{model}/{variant}/best.pt``, ``train_log.csv``), *started*
when its rule log or its resume checkpoint (``resume.pt``, written after every epoch)
exists, and *left* otherwise. A started run is *running* while
Snakemake holds a lock on the working directory and the run wrote something lately, else
*interrupted* (a rerun resumes it after its last epoch).

The time left is an estimate: each run still to train costs its remaining epochs times the
seconds per epoch seen for the same model (another dropout or hidden size), else for the
same parameter budget (n-NN: any n-NN), else for any run; divided by the number of runs
training at once now.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from visrnn import plan
from visrnn.common.files import read_table

# A started run that has written nothing for this long (and three epochs' time) is taken
# for stopped, although Snakemake still runs.
_STALE_AFTER_S = 600


@dataclass
class RunStatus:
    """How far one training run of the plan is."""

    run: plan.TrainingRun
    state: str = "left"  # left, running, interrupted, done
    epoch: int = 0  # epochs finished
    best_val_loss: float | None = None
    epoch_seconds: list[float] = field(default_factory=list)
    last_write: float | None = None  # time of the run's last file write

    @property
    def name(self) -> str:
        return f"{self.run.model}/{self.run.variant}"

    @property
    def model(self) -> str:
        return self.run.model

    @property
    def group(self) -> str:
        return self.run.group

    @property
    def epochs(self) -> int:
        return self.run.epochs

    @property
    def seconds_per_epoch(self) -> float | None:
        return statistics.fmean(self.epoch_seconds) if self.epoch_seconds else None


@dataclass
class DatasetStatus:
    dataset: str
    runs: list[RunStatus]

    def count(self, state: str) -> int:
        return sum(run.state == state for run in self.runs)

    def remaining_seconds(self) -> float | None:
        """Training time still to spend on this dataset's runs, one run at a time."""
        total = 0.0
        for run in self.runs:
            if run.state == "done":
                continue
            rate = run.seconds_per_epoch or _estimated_rate(run, self.runs)
            if rate is None:
                return None
            total += rate * max(0, run.epochs - run.epoch)
        return total


def load_config(path: Path) -> dict[str, Any]:
    """The config as the workflow sees it (``visrnn.plan.settle_config``)."""
    config = yaml.safe_load(path.read_text())
    plan.settle_config(config)
    return config


def expected_runs(config: Mapping[str, Any], dataset: str) -> list[RunStatus]:
    """Every training run the config asks for on ``dataset`` (train_model and train_nnn jobs),
    not started."""
    return [RunStatus(run) for run in plan.training_runs(config, dataset)]


def dataset_status(
    results: Path, dataset: str, config: Mapping[str, Any], *, snakemake_running: bool
) -> DatasetStatus:
    """The state of every expected run of ``dataset`` under ``results``."""
    runs = expected_runs(config, dataset)
    now = time.time()
    for run in runs:
        run_dir = Path(run.run.directory(dataset, results))
        _read_run(run, run_dir, Path(run.run.log(dataset, results)))
        if run.state == "started":
            run.state = "running" if snakemake_running and not _stale(run, now) else "interrupted"
    return DatasetStatus(dataset, runs)


def snakemake_holds_lock(workdir: Path) -> bool:
    """Whether a Snakemake process is running in ``workdir`` (it keeps lock files there)."""
    locks = workdir / ".snakemake" / "locks"
    return locks.is_dir() and any(locks.iterdir())


def format_status(statuses: Sequence[DatasetStatus]) -> str:
    """The report ``visrnn status`` prints."""
    parallel = sum(status.count("running") for status in statuses)
    lines = []
    total_left: float | None = 0.0
    for status in statuses:
        runs = status.runs
        lines.append(
            f"{status.dataset}: {status.count('done')} done, {status.count('running')} running, "
            f"{status.count('interrupted')} interrupted, {status.count('left')} left "
            f"of {len(runs)} training runs"
        )
        for run in runs:
            if run.state in ("running", "interrupted"):
                lines.append("  " + _run_line(run))
        remaining = status.remaining_seconds()
        lines.append("  " + _time_left_line(remaining, parallel))
        total_left = None if remaining is None or total_left is None else total_left + remaining
    if len(statuses) > 1:
        lines.append(f"all datasets: {_time_left_line(total_left, parallel)}")
    return "\n".join(lines)


def _run_line(run: RunStatus) -> str:
    best = f"{run.best_val_loss:.4f}" if run.best_val_loss is not None else "-"
    rate = run.seconds_per_epoch
    per_epoch = f"{_duration(rate)}/epoch" if rate is not None else "first epoch"
    note = "  (interrupted: a rerun resumes it)" if run.state == "interrupted" else ""
    return f"{run.name}: epoch {run.epoch}/{run.epochs}, best val loss {best}, {per_epoch}{note}"


def _time_left_line(seconds: float | None, parallel: int) -> str:
    if seconds is None:
        return "time left: unknown until a run has finished an epoch"
    if seconds == 0:
        return "time left: none, every run is done"
    at_once = max(1, parallel)
    return (
        f"time left: about {_duration(seconds / at_once)} at the current rate "
        f"({at_once} run{'s' if at_once > 1 else ''} at once)"
    )


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _estimated_rate(run: RunStatus, runs: Sequence[RunStatus]) -> float | None:
    """Seconds per epoch of a run not yet timed: from the most similar runs that were."""
    for similar in (
        lambda other: other.model == run.model,
        lambda other: other.group == run.group,
        lambda other: True,
    ):
        seen = [other.seconds_per_epoch for other in runs if similar(other)]
        rates = [rate for rate in seen if rate is not None]
        if rates:
            return statistics.fmean(rates)
    return None


def _stale(run: RunStatus, now: float) -> bool:
    if run.last_write is None:
        return False
    patience = max(_STALE_AFTER_S, 3 * (run.seconds_per_epoch or 0))
    return now - run.last_write > patience


def _read_run(run: RunStatus, run_dir: Path, rule_log: Path) -> None:
    """Fill in ``run`` from its files: the finished log, else the resume checkpoint."""
    best, log, resume = run_dir / "best.pt", run_dir / "train_log.csv", run_dir / "resume.pt"
    if best.is_file() and log.is_file() and not resume.exists():
        rows = read_table(log)
        run.state, run.epoch = "done", len(rows)
        run.epoch_seconds = [row["seconds"] for row in rows]
        run.best_val_loss = min((row["val_loss"] for row in rows), default=None)
        return
    written = [path.stat().st_mtime for path in (resume, rule_log) if path.is_file()]
    if not written:
        return
    run.state, run.last_write = "started", max(written)
    if resume.is_file():
        progress = _resume_progress(resume)
        rows = progress.get("log", [])
        run.epoch = int(progress.get("epoch", len(rows)))
        run.epoch_seconds = [float(row["seconds"]) for row in rows if "seconds" in row]
        best = progress.get("best_val")
        run.best_val_loss = float(best) if best is not None and math.isfinite(best) else None


def _resume_progress(path: Path) -> dict[str, Any]:
    """The progress record of a resume checkpoint (``visrnn.training.loop.Progress``); {} if
    unreadable."""
    import torch  # only here: the rest of the status needs no torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except (OSError, RuntimeError, EOFError, ValueError):  # being replaced, or another format
        return {}
    progress = payload.get("progress") if isinstance(payload, dict) else None
    return progress if isinstance(progress, dict) else {}
