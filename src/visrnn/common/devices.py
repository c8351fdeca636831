"""Device slots: each GPU job holds a slot of one device for its lifetime.

Snakemake's ``--resources gpu=N`` bounds how many GPU jobs run at once but does not say which
device each one gets. A job therefore takes the first free slot by holding an exclusive
``flock`` on a per-slot lock file; the lock dies with the process, so a crashed job never
leaves a slot taken. Each device has ``runs_per_gpu`` slots (config ``devices.runs_per_gpu``,
default 1): the grid's models are too small to keep a GPU busy alone, so several runs may
share one. Without CUDA every job runs on the CPU.

A job holding a CUDA device also runs it reproducibly (``determinism.reproducible``). That
module, unlike this one, can change results, so it is an input of the rules that use it.

torch is imported where it is used: the Snakefile reads this module's pool and environment
helpers, and every Snakemake start (and every cluster job) would otherwise load torch.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
import time
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from visrnn.common.determinism import reproducible

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

#: Environment variable through which the workflow tells every GPU job its slots per device.
RUNS_PER_GPU_ENV = "VISRNN_RUNS_PER_GPU"


def default_lock_dir() -> Path:
    """Lock files live on the machine that owns the devices (``VISRNN_LOCK_DIR`` overrides)."""
    configured = os.environ.get("VISRNN_LOCK_DIR")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "visrnn-gpu-locks"


def runs_per_gpu_from_env() -> int:
    """Slots per device as the workflow set them (``devices.runs_per_gpu``), else 1."""
    value = os.environ.get(RUNS_PER_GPU_ENV, "1")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(
            f"{RUNS_PER_GPU_ENV}={value!r}: expected a positive integer "
            "(set devices.runs_per_gpu in the config file)"
        )
    return int(value)


def slot_names(device_names: Sequence[str], runs_per_gpu: int) -> list[str]:
    """Lock names of every slot, slot 0 of each device first, so jobs spread over devices.

    Slot 0 keeps the device's own name, so one-run-per-device jobs share locks with packed ones.
    """
    return [
        name if slot == 0 else f"{name}-slot{slot}"
        for slot in range(runs_per_gpu)
        for name in device_names
    ]


def pack_gpu_pool(resources: MutableMapping[str, Any], runs_per_gpu: int) -> int | None:
    """Multiply Snakemake's ``gpu`` pool (``--resources gpu=N``: N devices) by the slots.

    Snakemake resources are integers, so a rule cannot declare a fraction of a GPU; with
    ``runs_per_gpu`` = K the pool of N devices becomes N * K jobs of ``gpu=1``, and the device
    slots put K of them on each device. Returns the new pool, or None where none was given
    (then Snakemake does not limit GPU jobs at all). With K = 1 the pool is left untouched.
    """
    if "gpu" not in resources:
        return None
    devices = getattr(resources["gpu"], "value", resources["gpu"])
    if not isinstance(devices, int):
        return None
    if runs_per_gpu == 1:
        return devices
    resources["gpu"] = devices * runs_per_gpu
    return devices * runs_per_gpu


class DeviceSlot:
    """A held device slot, run ``reproducible``; release it with ``close`` or a ``with`` block."""

    def __init__(self, device: torch.device, handle: IO[str] | None) -> None:
        self.device = device
        self._handle = handle
        self._settings = contextlib.ExitStack()

    def close(self) -> None:
        self._settings.close()
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> DeviceSlot:
        self._settings.enter_context(reproducible(self.device))
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
    lock_dir: Path | None = None,
    poll_seconds: float = 5.0,
    prefer: str = "auto",
    runs_per_gpu: int | None = None,
) -> DeviceSlot:
    """Wait for a free slot of a CUDA device and hold it; the CPU without CUDA or with
    ``prefer='cpu'``. ``runs_per_gpu`` (default: ``runs_per_gpu_from_env``) slots per device.
    """
    import torch

    if prefer == "cpu" or not torch.cuda.is_available():
        return DeviceSlot(torch.device("cpu"), None)
    lock_dir = lock_dir or default_lock_dir()
    runs_per_gpu = runs_per_gpu or runs_per_gpu_from_env()
    # Name locks by device UUID, so jobs that see different CUDA_VISIBLE_DEVICES still agree.
    devices = [
        f"gpu-{getattr(torch.cuda.get_device_properties(i), 'uuid', i)}"
        for i in range(torch.cuda.device_count())
    ]
    names = slot_names(devices, runs_per_gpu)
    waited = 0.0
    while (taken := try_lock(lock_dir, names)) is None:
        if waited % 60 == 0:
            logger.info(
                "all %d GPUs are held by other jobs (runs_per_gpu %d); waiting",
                len(devices),
                runs_per_gpu,
            )
        time.sleep(poll_seconds)
        waited += poll_seconds
    index, handle = taken
    logger.info("holding GPU %d (%s)", index % len(devices), names[index])
    return DeviceSlot(torch.device("cuda", index % len(devices)), handle)
