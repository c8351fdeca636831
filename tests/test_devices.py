from __future__ import annotations

import fcntl

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
