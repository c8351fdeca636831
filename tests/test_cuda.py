"""The CUDA paths, on a real CUDA device: ``pytest -m cuda`` on a GPU box (docs/testing.md, CUDA).

Skipped, with the reason, where ``torch.cuda.is_available()`` is false (CI, laptops). What can
run without a GPU is tested elsewhere on the CPU: the reproducible set-up and the device slots
with faked devices (test_devices.py), the benchmark's projection (test_bench_training.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from test_devices import _Job

from visrnn.common.determinism import reproducible
from visrnn.common.devices import RUNS_PER_GPU_ENV
from visrnn.common.files import read_table
from visrnn.inside.activations import ActivationDump, dump_activations
from visrnn.models.checkpoints import load_checkpoint
from visrnn.models.gates import ACTIVATIONS, GRU_VARIANTS
from visrnn.models.recurrent import CharRNN, ModelConfig

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(
        not torch.cuda.is_available(),
        reason="no CUDA device: torch.cuda.is_available() is False",
    ),
]

#: (model type, GRU variant): both GRUs, the paper's and cuDNN's.
VARIANTS = [("rnn", None), ("lstm", None)] + [("gru", variant) for variant in GRU_VARIANTS]


def make_config(model_type: str, variant: str | None, **sizes: object) -> ModelConfig:
    extra = {} if variant is None else {"gru_variant": variant}
    return ModelConfig(model_type=model_type, **sizes, **extra)  # type: ignore[arg-type]


def _on(state, device: torch.device):
    return tuple(s.to(device) for s in state) if isinstance(state, tuple) else state.to(device)


def _parts(state) -> tuple[torch.Tensor, ...]:
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize(("model_type", "variant"), VARIANTS)
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_fused_equals_stepwise_and_the_cpu_on_cuda(
    model_type: str, variant: str | None, layers: int
) -> None:
    """Under the settings a GPU job runs with (``reproducible``: IEEE float32 in cuDNN)."""
    cuda = torch.device("cuda")
    torch.manual_seed(layers)
    config = make_config(
        model_type, variant, vocab_size=31, hidden_size=19, num_layers=layers, dropout=0.5
    )
    model = CharRNN(config)
    model.init_uniform(0.08)
    model.eval()
    ids = torch.randint(0, 31, (3, 41))
    state = tuple(torch.randn_like(s) * 0.5 for s in _parts(model.zero_state(3)))
    state = state if len(state) == 2 else state[0]
    with torch.no_grad():
        cpu_logits, cpu_state = model(ids, state)
    model.to(cuda)
    with reproducible(cuda), torch.no_grad():
        fused_logits, fused_state = model(ids.to(cuda), _on(state, cuda))
        logits, step_state, activations = model.stepwise(ids.to(cuda), _on(state, cuda))
    assert fused_logits.is_cuda and logits.is_cuda
    torch.testing.assert_close(fused_logits, logits, atol=1e-5, rtol=1e-5)
    for fused, stepped, on_cpu in zip(
        _parts(fused_state), _parts(step_state), _parts(cpu_state), strict=True
    ):
        torch.testing.assert_close(fused, stepped, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(fused.cpu(), on_cpu, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fused_logits.cpu(), cpu_logits, atol=1e-5, rtol=1e-5)
    assert len(activations) == layers


@pytest.mark.parametrize(("model_type", "variant"), VARIANTS)
def test_activation_dumps_on_cuda_equal_the_cpu_ones_in_float16(
    tmp_path: Path, model_type: str, variant: str | None
) -> None:
    torch.manual_seed(0)
    config = make_config(model_type, variant, vocab_size=7, hidden_size=10, num_layers=2)
    model = CharRNN(config)
    model.init_uniform(0.5)  # large weights: the state matters
    model.eval()
    ids = np.random.default_rng(0).integers(0, 7, size=300).astype(np.uint8)
    options = {"model_id": "m", "vocab_sha256": "v", "chunk": 64, "row_group": 100}
    dump_activations(model, ids, tmp_path / "cpu.parquet", **options)
    cuda = torch.device("cuda")
    with reproducible(cuda):
        dump_activations(model.to(cuda), ids, tmp_path / "cuda.parquet", **options)
    on_cpu, on_cuda = (
        ActivationDump(tmp_path / "cpu.parquet"),
        ActivationDump(tmp_path / "cuda.parquet"),
    )
    for layer in range(2):
        for name in ACTIVATIONS[model_type]:
            # float16 keeps 11 significant bits: values within one float16 step of each other
            np.testing.assert_allclose(
                on_cuda.matrix(layer, name), on_cpu.matrix(layer, name), rtol=2**-10, atol=1e-4
            )


# A pipeline training run in its own process: train_run takes a device slot (a real GPU),
# runs it reproducibly and writes the resume checkpoint after every epoch.
RUN_SCRIPT = textwrap.dedent(
    """
    import logging, sys, numpy as np
    from pathlib import Path
    logging.basicConfig(level=logging.INFO)
    from visrnn.models.recurrent import CharRNN, ModelConfig
    from visrnn.training.loop import TrainingConfig, train_run
    out, model_type, variant = Path(sys.argv[1]), sys.argv[3], sys.argv[4]
    rng = np.random.default_rng(0)
    ids = np.tile(rng.integers(0, 9, 50), 400).astype(np.uint8)
    model = CharRNN(ModelConfig(model_type, 10, 32, 2, dropout=0.25, gru_variant=variant))
    config = TrainingConfig(batch_size=8, seq_length=20, epochs=int(sys.argv[2]), lr_decay_after=2)
    train_run(model, ids[:18000], ids[18000:], config, out / "best.pt", out / "train_log.csv",
              model_id=f"{model_type}-2L-test", vocab_sha256="test", data_name="test")
    """
)


def _run(out: Path, epochs: int, model_type: str, variant: str) -> subprocess.Popen:
    env = {**os.environ, "VISRNN_LOCK_DIR": str(out.parent / "locks"), RUNS_PER_GPU_ENV: "1"}
    return subprocess.Popen(
        [sys.executable, "-c", RUN_SCRIPT, str(out), str(epochs), model_type, variant],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("model_type", "variant"), [("lstm", "paper"), *(("gru", v) for v in GRU_VARIANTS)]
)
def test_a_killed_cuda_run_resumes_bitwise_equal(
    tmp_path: Path, model_type: str, variant: str
) -> None:
    """2 layers with dropout between them: cuDNN's own dropout RNG must resume too."""
    epochs = 5
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    first = _run(whole, epochs, model_type, variant)
    _, whole_log = first.communicate()
    assert first.returncode == 0, whole_log
    assert "holding GPU" in whole_log  # a real device slot, not the CPU fallback

    victim = _run(resumed, epochs, model_type, variant)
    deadline = time.time() + 300
    while not (resumed / "resume.pt").exists():
        assert victim.poll() is None and time.time() < deadline, victim.stderr.read()
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert not (resumed / "best.pt").exists()

    rerun = _run(resumed, epochs, model_type, variant)
    _, log = rerun.communicate()
    assert rerun.returncode == 0, log
    assert "resuming from" in log
    # An op without a deterministic CUDA kernel warns (devices.reproducible): say which.
    unsafe = [line for line in (whole_log + log).splitlines() if "deterministic" in line]
    model_id = f"{model_type}-2L-test"
    a, _ = load_checkpoint(whole / "best.pt", model_id=model_id)
    b, _ = load_checkpoint(resumed / "best.pt", model_id=model_id)
    for (key, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), (key, unsafe)
    columns = ("epoch", "train_loss", "val_loss")
    assert [[r[c] for c in columns] for r in read_table(whole / "train_log.csv")] == [
        [r[c] for c in columns] for r in read_table(resumed / "train_log.csv")
    ]


def test_real_devices_take_n_runs_each_and_the_next_job_waits(tmp_path: Path) -> None:
    """Every device of this machine gets two jobs (runs_per_gpu 2), one more job waits."""
    count = torch.cuda.device_count()
    jobs = [_Job(tmp_path, str(i), devices="real", runs_per_gpu=2) for i in range(2 * count)]
    try:
        held = [job.device(timeout=120) for job in jobs]
        assert sorted(held) == sorted(list(range(count)) * 2)
        waiting = _Job(tmp_path, "waiting", devices="real", runs_per_gpu=2)
        jobs.append(waiting)
        assert waiting.next_line(rf"all {count} GPUs are held by other jobs", timeout=120)
        assert waiting.device(timeout=1) is None
        jobs[0].release.touch()
        assert jobs[0].process.wait(timeout=60) == 0
        assert waiting.device(timeout=60) == held[0]
        for job in jobs[1:]:
            job.release.touch()
            assert job.process.wait(timeout=60) == 0
    finally:
        for job in jobs:
            if job.process.poll() is None:
                job.process.kill()
            job.process.wait()
