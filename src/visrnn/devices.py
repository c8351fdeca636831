"""Device slots: each GPU job holds one device exclusively for its lifetime.

Snakemake's ``--resources gpu=N`` bounds how many GPU jobs run at once but does not say which
device each one gets. A job therefore takes the first free slot by holding an exclusive
``flock`` on a per-device lock file; the lock dies with the process, so a crashed job never
leaves a slot taken. Without CUDA every job runs on the CPU.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import torch

logger = logging.getLogger(__name__)


def default_lock_dir() -> Path:
    """Lock files live on the machine that owns the devices (``VISRNN_LOCK_DIR`` overrides)."""
    configured = os.environ.get("VISRNN_LOCK_DIR")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "visrnn-gpu-locks"


class DeviceSlot:
    """An exclusively held device; release it with ``close`` or a ``with`` block."""

    def __init__(self, device: torch.device, handle: IO[str] | None) -> None:
        self.device = device
        self._handle = handle

    def close(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> DeviceSlot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def try_lock(lock_dir: Path, names: Sequence[str]) -> tuple[int, IO[str]] | None:
    """Lock the first free name; returns (index, open lock file) or None if all are taken."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(names):
        handle = (lock_dir / f"{name}.lock").open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return index, handle
    return None


def acquire_device(
    lock_dir: Path | None = None, poll_seconds: float = 5.0, prefer: str = "auto"
) -> DeviceSlot:
    """Wait for a free CUDA device and hold it; the CPU without CUDA or with ``prefer='cpu'``."""
    if prefer == "cpu" or not torch.cuda.is_available():
        return DeviceSlot(torch.device("cpu"), None)
    lock_dir = lock_dir or default_lock_dir()
    # Name locks by device UUID, so jobs that see different CUDA_VISIBLE_DEVICES still agree.
    names = [
        f"gpu-{getattr(torch.cuda.get_device_properties(i), 'uuid', i)}"
        for i in range(torch.cuda.device_count())
    ]
    waited = 0.0
    while (taken := try_lock(lock_dir, names)) is None:
        if waited % 60 == 0:
            logger.info("all %d GPUs are held by other jobs; waiting", len(names))
        time.sleep(poll_seconds)
        waited += poll_seconds
    index, handle = taken
    logger.info("holding GPU %d (%s)", index, names[index])
    return DeviceSlot(torch.device("cuda", index), handle)
