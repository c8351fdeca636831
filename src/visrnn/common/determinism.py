"""Reproducible arithmetic on CUDA: what a job holding a GPU sets so that a rerun, or a run
resumed from its checkpoint, computes what an uninterrupted run computes.

Apart from ``devices`` (which only picks a device and can be edited without rerunning
anything), this module changes results, so it stays an input of every rule that uses it.
On the CPU every kernel used is deterministic already and nothing here changes anything.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

#: cuBLAS workspace settings under which its results are deterministic (CUDA docs).
DETERMINISTIC_CUBLAS = (":4096:8", ":16:8")


@contextlib.contextmanager
def reproducible(device: torch.device) -> Iterator[None]:
    """On CUDA: deterministic algorithms, a deterministic cuBLAS workspace, cuDNN without
    autotuning, and IEEE float32 in cuDNN's RNNs (not TF32), restored on exit.

    On the CPU every kernel we use is deterministic already: nothing changes. Ops without a
    deterministic CUDA kernel warn rather than fail (a multi-day run must not die on one), so
    a warning "does not have a deterministic implementation" in a log means bitwise equality
    is not guaranteed for that run. ``CUBLAS_WORKSPACE_CONFIG`` is read when cuBLAS first
    starts in a process, so it is set here, before a job's first CUDA operation.
    """
    if device.type != "cuda":
        yield
        return
    import torch

    workspace = os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", DETERMINISTIC_CUBLAS[0])
    if workspace not in DETERMINISTIC_CUBLAS:
        logger.warning(
            "CUBLAS_WORKSPACE_CONFIG=%s is not one of %s: cuBLAS may not be deterministic",
            workspace,
            DETERMINISTIC_CUBLAS,
        )
    cudnn = torch.backends.cudnn
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        cudnn.deterministic,
        cudnn.benchmark,
        cudnn.rnn.fp32_precision,
    )
    torch.use_deterministic_algorithms(True, warn_only=True)
    cudnn.deterministic, cudnn.benchmark, cudnn.rnn.fp32_precision = True, False, "ieee"
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        cudnn.deterministic, cudnn.benchmark, cudnn.rnn.fp32_precision = before[2:]


def reseed_cudnn_dropout(device: torch.device) -> None:
    """Make cuDNN's RNN dropout follow the CUDA generator's saved state from here on.

    cuDNN keeps the RNG of the dropout between stacked layers in a buffer of its own, seeded
    once from the CUDA generator, outside ``torch.cuda.get_rng_state``: a run resumed from a
    checkpoint would draw other masks than the uninterrupted run. Setting the generator's state
    (to itself) makes the next training RNN call reseed that buffer from the generator; done at
    every epoch start, both runs reseed from the same saved state. No-op off CUDA.
    """
    if device.type == "cuda":
        import torch

        torch.cuda.set_rng_state(torch.cuda.get_rng_state(device), device)
