from __future__ import annotations

import fcntl
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from visrnn.common.determinism import reproducible, reseed_cudnn_dropout
from visrnn.common.devices import (
    RUNS_PER_GPU_ENV,
    DeviceSlot,
    acquire_device,
    pack_gpu_pool,
    runs_per_gpu_from_env,
    slot_names,
    try_lock,
)


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


# A GPU job in its own process: it fakes N CUDA devices (or uses the real ones), takes a slot
# through the real acquire_device (whose log says when it has to wait; the slots per device
# come from the environment, as the workflow sets them), prints "device N" once it holds one,
# and keeps it until told to go.
_JOB = """
import logging, sys, time, types
from pathlib import Path
import torch
from visrnn.common.devices import acquire_device
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
real = sys.argv[3] == "real"  # else the number of devices to fake
if not real:
    torch.cuda.is_available = lambda: True
    torch.cuda.device_count = lambda: int(sys.argv[3])
    torch.cuda.get_device_properties = lambda i: types.SimpleNamespace(uuid=f"fake-{i}")
lock_dir, release = Path(sys.argv[1]), Path(sys.argv[2])
with acquire_device(lock_dir, poll_seconds=0.05) as slot:
    if real:
        assert torch.ones(8, device=slot.device).sum().item() == 8  # the device computes
    print("device", slot.device.index, flush=True)
    while not release.exists():
        time.sleep(0.05)
"""


class _Job:
    """One job process; a thread collects its output lines, so reads can time out."""

    def __init__(
        self, tmp_path: Path, name: str, devices: int | str = 2, runs_per_gpu: int = 1
    ) -> None:
        """``devices``: how many CUDA devices the job fakes, or "real" for the machine's."""
        self.release = tmp_path / f"release-{name}"
        args = [str(tmp_path / "locks"), str(self.release), str(devices)]
        self.process = subprocess.Popen(
            [sys.executable, "-c", _JOB, *args],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, RUNS_PER_GPU_ENV: str(runs_per_gpu)},
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
        assert jobs["c"].next_line(r"all 2 GPUs are held by other jobs \(runs_per_gpu 1\)", 60)
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


def test_n_runs_share_a_device_and_the_next_one_waits(tmp_path) -> None:
    """One (faked) device with two slots: two jobs hold it together, the third waits."""
    jobs = {name: _Job(tmp_path, name, devices=1, runs_per_gpu=2) for name in ("a", "b")}
    try:
        assert [job.device(timeout=60) for job in jobs.values()] == [0, 0]
        jobs["c"] = _Job(tmp_path, "c", devices=1, runs_per_gpu=2)
        assert jobs["c"].next_line(r"all 1 GPUs are held by other jobs \(runs_per_gpu 2\)", 60)
        assert jobs["c"].device(timeout=1) is None
        jobs["b"].release.touch()
        assert jobs["b"].process.wait(timeout=30) == 0
        assert jobs["c"].device(timeout=30) == 0
        for name in ("a", "c"):
            jobs[name].release.touch()
            assert jobs[name].process.wait(timeout=30) == 0
    finally:
        for job in jobs.values():
            if job.process.poll() is None:
                job.process.kill()
            job.process.wait()


def test_slots_fill_every_device_before_doubling_up() -> None:
    assert slot_names(["gpu-a", "gpu-b"], 1) == ["gpu-a", "gpu-b"]
    assert slot_names(["gpu-a", "gpu-b"], 3) == [
        "gpu-a",
        "gpu-b",
        "gpu-a-slot1",
        "gpu-b-slot1",
        "gpu-a-slot2",
        "gpu-b-slot2",
    ]


def test_runs_per_gpu_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv(RUNS_PER_GPU_ENV, raising=False)
    assert runs_per_gpu_from_env() == 1
    monkeypatch.setenv(RUNS_PER_GPU_ENV, "4")
    assert runs_per_gpu_from_env() == 4
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(RUNS_PER_GPU_ENV, bad)
        with pytest.raises(ValueError, match=r"devices\.runs_per_gpu"):
            runs_per_gpu_from_env()


def test_the_gpu_pool_is_multiplied_by_the_runs_per_device() -> None:
    from snakemake.resources import Resources

    given = Resources.parse(["gpu=2", "mem_mb=100"], allow_expressions=False)
    assert pack_gpu_pool(given, 3) == 6
    assert given["gpu"].value == 6 and given["mem_mb"].value == 100
    assert pack_gpu_pool(Resources.parse([], allow_expressions=False), 3) is None
    assert pack_gpu_pool({"gpu": 2}, 1) == 2


def test_snakemake_runs_n_gpu_jobs_per_device_at_once(tmp_path) -> None:
    """The real scheduler: with gpu=1 (one device) and two runs per device, four jobs of
    gpu=1 run two at a time, and each sees the slots per device in its environment."""
    src = Path(__file__).resolve().parents[1] / "src"
    (tmp_path / "Snakefile").write_text(
        f"""
import os, sys
sys.path.insert(0, {str(src)!r})
from visrnn.common.devices import RUNS_PER_GPU_ENV, pack_gpu_pool
os.environ[RUNS_PER_GPU_ENV] = "2"
pack_gpu_pool(workflow.global_resources, 2)
rule all:
    input: expand("out/{{i}}.txt", i=range(4))
rule job:
    output: "out/{{i}}.txt"
    resources: gpu=1
    shell: "s=$(date +%s.%N); sleep 1; echo $s $(date +%s.%N) ${RUNS_PER_GPU_ENV} > {{output}}"
"""
    )
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "4", "--resources", "gpu=1", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    spans = [(path.read_text().split()) for path in (tmp_path / "out").glob("*.txt")]
    assert {slots for *_, slots in spans} == {"2"}
    intervals = [(float(start), float(end)) for start, end, _ in spans]
    most = max(sum(s <= start < e for s, e in intervals) for start, _ in intervals)
    assert most == 2


def test_reproducible_cuda_settings_are_set_and_restored(monkeypatch) -> None:
    """The set-up a CUDA job runs under, exercised on any machine: it only sets flags."""
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    cudnn = torch.backends.cudnn
    before = (torch.are_deterministic_algorithms_enabled(), cudnn.deterministic, cudnn.benchmark)
    precision = cudnn.rnn.fp32_precision
    with reproducible(torch.device("cpu")):  # the CPU is deterministic already: untouched
        assert torch.are_deterministic_algorithms_enabled() == before[0]
        assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ
    with DeviceSlot(torch.device("cuda", 0), None):
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        assert cudnn.deterministic and not cudnn.benchmark
        assert cudnn.rnn.fp32_precision == "ieee"
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert (torch.are_deterministic_algorithms_enabled(), cudnn.deterministic) == before[:2]
    assert cudnn.benchmark == before[2] and cudnn.rnn.fp32_precision == precision


def test_reseeding_cudnn_dropout_leaves_the_cpu_generator_alone() -> None:
    state = torch.get_rng_state()
    reseed_cudnn_dropout(torch.device("cpu"))
    assert torch.equal(torch.get_rng_state(), state)
