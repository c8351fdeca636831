from __future__ import annotations

import fcntl
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch

from visrnn.devices import acquire_device, try_lock


def test_slots_are_exclusive_until_released(tmp_path) -> None:
    names = ["gpu-a", "gpu-b"]
    first = try_lock(tmp_path, names)
    second = try_lock(tmp_path, names)
    assert first is not None and second is not None
    assert {first[0], second[0]} == {0, 1}
    assert try_lock(tmp_path, names) is None  # both slots held: nobody else gets one
    fcntl.flock(first[1], fcntl.LOCK_UN)
    first[1].close()
    third = try_lock(tmp_path, names)
    assert third is not None and third[0] == first[0]


def test_without_cuda_jobs_run_on_the_cpu(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with acquire_device(tmp_path) as slot:
        assert slot.device == torch.device("cpu")


# A GPU job in its own process: it fakes two CUDA devices, takes a slot through the real
# acquire_device (whose log says when it has to wait), prints "device N" once it holds one,
# and keeps it until told to go.
_JOB = """
import logging, sys, time, types
from pathlib import Path
import torch
from visrnn.devices import acquire_device
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
torch.cuda.is_available = lambda: True
torch.cuda.device_count = lambda: 2
torch.cuda.get_device_properties = lambda i: types.SimpleNamespace(uuid=f"fake-{i}")
lock_dir, release = Path(sys.argv[1]), Path(sys.argv[2])
with acquire_device(lock_dir, poll_seconds=0.05) as slot:
    print("device", slot.device.index, flush=True)
    while not release.exists():
        time.sleep(0.05)
"""


class _Job:
    """One job process; a thread collects its output lines, so reads can time out."""

    def __init__(self, tmp_path: Path, name: str) -> None:
        self.release = tmp_path / f"release-{name}"
        self.process = subprocess.Popen(
            [sys.executable, "-c", _JOB, str(tmp_path / "locks"), str(self.release)],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.strip())

    def next_line(self, pattern: str, timeout: float) -> re.Match | None:
        """The next output line matching ``pattern`` within ``timeout`` seconds, else None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if match := re.search(pattern, line):
                return match
        return None

    def device(self, timeout: float) -> int | None:
        """The device this job reports holding within ``timeout`` seconds, else None."""
        match = self.next_line(r"^device (\d+)$", timeout)
        return int(match[1]) if match else None


def test_concurrent_jobs_get_different_devices_and_a_third_waits(tmp_path) -> None:
    jobs = {name: _Job(tmp_path, name) for name in ("a", "b")}
    try:
        held = {name: job.device(timeout=60) for name, job in jobs.items()}
        assert sorted(held.values()) == [0, 1]  # two jobs, two devices, one each
        jobs["c"] = _Job(tmp_path, "c")
        # Both devices are held: the third job finds no free one and waits, polling every
        # 0.05 s, rather than doubling up on one.
        assert jobs["c"].next_line(r"all 2 GPUs are held by other jobs; waiting", timeout=60)
        assert jobs["c"].device(timeout=1) is None
        assert jobs["c"].process.poll() is None
        jobs["a"].release.touch()
        assert jobs["a"].process.wait(timeout=30) == 0
        # The device the first job gave back goes to the waiting one.
        assert jobs["c"].device(timeout=30) == held["a"]
        for name in ("b", "c"):
            jobs[name].release.touch()
            assert jobs[name].process.wait(timeout=30) == 0
    finally:
        for job in jobs.values():
            if job.process.poll() is None:
                job.process.kill()
            job.process.wait()
