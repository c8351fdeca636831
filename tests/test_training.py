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

from visrnn.common.files import read_table
from visrnn.models.checkpoints import load_checkpoint
from visrnn.models.recurrent import CharRNN, ModelConfig
from visrnn.training.loop import (
    RunPaths,
    TrainingConfig,
    _backward_and_clip,
    _initialise,
    batches,
    run_fingerprint,
    stream_layout,
    train,
    training_config,
)


def test_streams_are_contiguous_and_targets_are_shifted_by_one() -> None:
    ids = np.arange(23)
    inputs, targets = stream_layout(ids, batch_size=2)
    assert inputs.tolist() == [list(range(0, 11)), list(range(11, 22))]
    assert np.array_equal(targets, inputs + 1)
    blocks = list(batches(ids, 2, 4, drop_last=True))
    assert len(blocks) == 2  # 11 steps per stream: two full blocks of 4
    assert blocks[1][0][0].tolist() == [4, 5, 6, 7]


def test_learning_rate_is_constant_then_decays_each_epoch() -> None:
    config = TrainingConfig(learning_rate=2e-3, lr_decay=0.95, lr_decay_after=10)
    assert config.learning_rate_at(1) == config.learning_rate_at(10) == 2e-3
    assert config.learning_rate_at(11) == pytest.approx(2e-3 * 0.95)
    assert config.learning_rate_at(13) == pytest.approx(2e-3 * 0.95**3)


def test_training_config_from_the_config_section() -> None:
    config = training_config({"epochs": 3, "threads": 4, "snapshot_iterations": [5, 1]})
    assert config.epochs == 3 and config.snapshot_iterations == (5, 1)


def _tiny_run(tmp_path: Path, epochs: int = 3, **overrides) -> tuple[CharRNN, RunPaths, dict]:
    rng = np.random.default_rng(0)
    ids = np.tile(rng.integers(0, 9, 50), 40).astype(np.uint8)
    model = CharRNN(ModelConfig("lstm", 10, 12, 2, dropout=0.25))
    config = TrainingConfig(
        batch_size=4, seq_length=10, epochs=epochs, lr_decay_after=1, **overrides
    )
    paths = RunPaths(
        tmp_path / "best.pt",
        tmp_path / "train_log.csv",
        tmp_path / "resume.pt",
        snapshots=tmp_path / "snapshots",
    )
    summary = train(
        model,
        ids[:1600],
        ids[1600:],
        config,
        paths,
        device=torch.device("cpu"),
        fingerprint="tiny",
        checkpoint_meta={"model_id": "lstm-2L-t"},
    )
    return model, paths, summary


def test_training_learns_logs_every_epoch_and_keeps_the_best(tmp_path: Path) -> None:
    _, paths, summary = _tiny_run(tmp_path)
    rows = read_table(paths.log)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert set(rows[0]) >= {"train_loss", "val_loss", "learning_rate", "chars_per_second"}
    assert rows[-1]["val_loss"] < rows[0]["val_loss"]
    best_row = min(rows, key=lambda r: r["val_loss"])
    _, meta = load_checkpoint(paths.best, model_id="lstm-2L-t")
    assert meta["epoch"] == best_row["epoch"] == summary["best_epoch"]
    assert not paths.resume.exists()  # removed once the run completes
    assert not list(tmp_path.glob(".*.tmp"))


def test_patience_stops_early(tmp_path: Path) -> None:
    # With a zero learning rate validation never improves on the first epoch: patience 2
    # allows epochs 2 and 3, then stops.
    _, paths, summary = _tiny_run(tmp_path, epochs=8, patience=2, learning_rate=0.0)
    assert len(read_table(paths.log)) == 3 and summary["best_epoch"] == 1


def test_too_short_a_corpus_is_a_clear_error(tmp_path: Path) -> None:
    model = CharRNN(ModelConfig("rnn", 5, 4, 1))
    paths = RunPaths(tmp_path / "best.pt", tmp_path / "log.csv", tmp_path / "resume.pt")
    with pytest.raises(ValueError, match=r"datasets.tiny: .*too short for one batch of 100 x 100"):
        train(
            model,
            np.zeros(500, np.uint8),
            np.zeros(50, np.uint8),
            TrainingConfig(),
            paths,
            device=torch.device("cpu"),
            fingerprint="x",
            checkpoint_meta={},
            data_name="datasets.tiny",
        )
    assert not paths.best.exists() and not paths.log.exists()


RUN_SCRIPT = textwrap.dedent(
    """
    import logging, sys, numpy as np, torch
    from pathlib import Path
    logging.basicConfig(level=logging.INFO)
    from visrnn.models.recurrent import CharRNN, ModelConfig
    from visrnn.training.loop import RunPaths, TrainingConfig, train
    torch.set_num_threads(1)
    out = Path(sys.argv[1])
    rng = np.random.default_rng(0)
    ids = np.tile(rng.integers(0, 9, 50), 200).astype(np.uint8)
    model = CharRNN(ModelConfig("lstm", 10, 32, 2, dropout=0.25))
    config = TrainingConfig(batch_size=8, seq_length=20, epochs=int(sys.argv[2]), lr_decay_after=2)
    paths = RunPaths(out / "best.pt", out / "train_log.csv", out / "resume.pt")
    train(model, ids[:9000], ids[9000:], config, paths, device=torch.device("cpu"),
          fingerprint="resume-test", checkpoint_meta={"model_id": "lstm-2L-r"})
    """
)


def _run(out: Path, epochs: int) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", RUN_SCRIPT, str(out), str(epochs)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_killed_run_resumes_and_ends_with_identical_weights(tmp_path: Path) -> None:
    epochs = 6
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    assert _run(whole, epochs).wait() == 0

    victim = _run(resumed, epochs)
    deadline = time.time() + 120
    while not (resumed / "resume.pt").exists():  # wait for the first epoch checkpoint
        assert victim.poll() is None and time.time() < deadline, victim.stderr.read()
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert (resumed / "resume.pt").exists()
    # Nothing of an unfinished run looks finished (Snakemake would delete it anyway).
    assert not (resumed / "best.pt").exists() and not (resumed / "train_log.csv").exists()

    rerun = _run(resumed, epochs)
    _, stderr = rerun.communicate()
    assert rerun.returncode == 0, stderr
    assert "resuming from" in stderr
    for name in ("best.pt", "train_log.csv"):
        assert (resumed / name).exists()
    a, _ = load_checkpoint(whole / "best.pt", model_id="lstm-2L-r")
    b, _ = load_checkpoint(resumed / "best.pt", model_id="lstm-2L-r")
    for (key, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), key
    columns = ("epoch", "train_loss", "val_loss")
    assert [[r[c] for c in columns] for r in read_table(whole / "train_log.csv")] == [
        [r[c] for c in columns] for r in read_table(resumed / "train_log.csv")
    ]


def _stale_resume(path: Path) -> None:
    torch.save(
        {"format": 3, "fingerprint": run_fingerprint(other=True), "model_id": "lstm-2L-t"}, path
    )


def _truncated_resume(path: Path) -> None:
    torch.save({"format": 3, "model": torch.zeros(1000)}, path)
    path.write_bytes(path.read_bytes()[:300])


class _Evil:  # a pickled object: weights_only=True must refuse to build it
    pass


@pytest.mark.parametrize(
    "write",
    [
        _stale_resume,
        _truncated_resume,
        lambda path: path.write_bytes(b"not a checkpoint at all" * 10),
        lambda path: torch.save({"format": 3, "progress": _Evil()}, path),
        lambda path: torch.save({"format": 2, "fingerprint": "tiny"}, path),
    ],
    ids=["other-run", "truncated", "garbage", "pickled-object", "old-format"],
)
def test_a_resume_file_that_cannot_be_resumed_is_set_aside(tmp_path: Path, write, caplog) -> None:
    _tiny_run(tmp_path, epochs=1)
    fresh = read_table(tmp_path / "train_log.csv")
    # A resume file that is not this run's, or cannot be read, must not be picked up nor
    # block the run: it is renamed aside (never deleted) and the run starts over, giving
    # exactly the fresh result.
    write(tmp_path / "resume.pt")
    original = (tmp_path / "resume.pt").read_bytes()
    with caplog.at_level("WARNING"):
        _tiny_run(tmp_path, epochs=1)
    again = read_table(tmp_path / "train_log.csv")
    assert [r["train_loss"] for r in again] == [r["train_loss"] for r in fresh]
    (aside,) = tmp_path.glob("resume.pt.set-aside-*")
    assert aside.read_bytes() == original and not (tmp_path / "resume.pt").exists()
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert str(tmp_path / "resume.pt") in warning and str(aside) in warning
    assert "weights_only" not in warning


def test_snapshots_are_kept_at_the_configured_iterations(tmp_path: Path) -> None:
    model, _, _ = _tiny_run(tmp_path, epochs=2, snapshot_iterations=(1, 3, 78))
    # 1599 characters in 4 streams of 399 steps: 39 batches of 10 per epoch, 78 in all.
    snaps = sorted(p.name for p in (tmp_path / "snapshots").iterdir())
    assert snaps == ["iter-000001.pt", "iter-000003.pt", "iter-000078.pt"]
    last, meta = load_checkpoint(tmp_path / "snapshots" / "iter-000078.pt", model_id="lstm-2L-t")
    assert meta["iteration"] == 78 and meta["model_id"] == "lstm-2L-t"
    for (key, value), trained in zip(
        last.state_dict().items(), model.state_dict().values(), strict=True
    ):
        assert torch.equal(value, trained), key


# The recipe keys (docs/recipe.md): char-rnn's choices behind config values, defaults unchanged.


def test_forget_bias_sets_the_forget_block_of_every_lstm_input_bias_only() -> None:
    hidden, layers, init_range = 6, 3, 0.08
    model = CharRNN(ModelConfig("lstm", 10, hidden, layers))
    torch.manual_seed(0)
    model.init_uniform(init_range)
    drawn = {k: v.clone() for k, v in model.state_dict().items()}
    assert model.init_forget_bias(1.0) == layers
    forget = slice(hidden, 2 * hidden)  # PyTorch's gate order: i, f, g, o
    for name, value in model.state_dict().items():
        if name.startswith("rnn.bias_ih_l"):
            assert torch.equal(value[forget], torch.ones(hidden)), name
            rest = torch.cat([value[:hidden], value[2 * hidden :]])
            drawn_rest = torch.cat([drawn[name][:hidden], drawn[name][2 * hidden :]])
            assert torch.equal(rest, drawn_rest), name
        else:
            assert torch.equal(value, drawn[name]), name
    for layer in range(layers):
        effective = (
            getattr(model.rnn, f"bias_ih_l{layer}") + getattr(model.rnn, f"bias_hh_l{layer}")
        )[forget]
        assert effective.min() >= 1 - init_range and effective.max() <= 1 + init_range
        assert effective.std() > 0  # the recurrent bias keeps its uniform draw, as in char-rnn


@pytest.mark.parametrize("model_type", ["rnn", "gru"])
def test_forget_bias_leaves_models_without_a_forget_gate_alone(model_type: str) -> None:
    model = CharRNN(ModelConfig(model_type, 10, 6, 2))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert model.init_forget_bias(1.0) == 0
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def _gradients(config: TrainingConfig, seq_length: int = 7) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = CharRNN(ModelConfig("lstm", 10, 8, 1))
    model.init_uniform(1.0)  # large weights: large gradients, so that clipping bites
    ids = torch.randint(0, 10, (3, seq_length + 1))
    logits, _ = model(ids[:, :-1])
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), ids[:, 1:].flatten())
    _backward_and_clip(model, loss, seq_length, config)
    return {name: param.grad.clone() for name, param in model.named_parameters()}


def test_sum_over_steps_scales_the_gradient_by_the_number_of_steps() -> None:
    unclipped = {"grad_clip": 1e9}
    mean = _gradients(TrainingConfig(**unclipped))
    summed = _gradients(TrainingConfig(loss_reduction="sum_over_steps", **unclipped))
    for name, grad in mean.items():
        torch.testing.assert_close(summed[name], 7 * grad, msg=name)


def test_value_clipping_clamps_each_element_and_norm_clipping_scales_the_whole() -> None:
    raw = _gradients(TrainingConfig(grad_clip=1e9, loss_reduction="sum_over_steps"))
    limit = 0.05
    assert max(g.abs().max() for g in raw.values()) > limit  # the threshold bites
    by_value = _gradients(
        TrainingConfig(grad_clip=limit, grad_clip_mode="value", loss_reduction="sum_over_steps")
    )
    for name, grad in raw.items():
        assert torch.equal(by_value[name], grad.clamp(-limit, limit)), name
    by_norm = _gradients(TrainingConfig(grad_clip=limit, loss_reduction="sum_over_steps"))
    norm = torch.cat([g.flatten() for g in by_norm.values()]).norm()
    assert norm == pytest.approx(limit, rel=1e-4)
    for name, grad in raw.items():  # one common factor: the direction is kept
        torch.testing.assert_close(by_norm[name], grad * (by_norm[name].norm() / grad.norm()))


def test_recipe_keys_come_from_the_config_section_and_are_checked() -> None:
    config = training_config(
        {"forget_bias": 1.0, "grad_clip_mode": "value", "loss_reduction": "sum_over_steps"}
    )
    assert (config.forget_bias, config.grad_clip_mode, config.loss_reduction) == (
        1.0,
        "value",
        "sum_over_steps",
    )
    assert training_config({}).forget_bias is None
    with pytest.raises(ValueError, match=r"training.grad_clip_mode is 'clamp'"):
        training_config({"grad_clip_mode": "clamp"})
    with pytest.raises(ValueError, match=r"training.loss_reduction is 'sum'"):
        training_config({"loss_reduction": "sum"})


def test_the_default_recipe_is_uniform_init_and_norm_clipping_of_the_mean_loss(
    tmp_path: Path,
) -> None:
    """The defaults train exactly as a plain loop with the paper's text and nothing else:
    uniform weights, the mean loss's gradient, its norm clipped (so no earlier result moves)."""
    trained, _, _ = _tiny_run(tmp_path, epochs=2)
    rng = np.random.default_rng(0)
    ids = np.tile(rng.integers(0, 9, 50), 40).astype(np.uint8)[:1600]
    config = TrainingConfig(batch_size=4, seq_length=10, epochs=2, lr_decay_after=1)
    torch.manual_seed(config.seed)
    model = CharRNN(ModelConfig("lstm", 10, 12, 2, dropout=0.25))
    torch.manual_seed(config.seed)
    model.init_uniform(config.init_range)
    optimizer = torch.optim.RMSprop(
        model.parameters(), lr=config.learning_rate, alpha=0.95, eps=1e-8
    )
    model.train()
    for epoch in (1, 2):
        for group in optimizer.param_groups:
            group["lr"] = config.learning_rate_at(epoch)
        state = model.zero_state(4)
        for inputs, targets in batches(ids, 4, 10, drop_last=True):
            logits, state = model(inputs, state)
            state = tuple(s.detach() for s in state)
            loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
    for (name, expected), actual in zip(
        model.state_dict().items(), trained.state_dict().values(), strict=True
    ):
        assert torch.equal(actual, expected), name


def test_the_loop_sets_the_forget_bias_after_the_same_uniform_draw() -> None:
    plain, biased = (CharRNN(ModelConfig("lstm", 10, 6, 2)) for _ in range(2))
    _initialise(plain, TrainingConfig(), torch.device("cpu"))
    _initialise(biased, TrainingConfig(forget_bias=1.0), torch.device("cpu"))
    for (name, a), b in zip(plain.state_dict().items(), biased.state_dict().values(), strict=True):
        if name.startswith("rnn.bias_ih_l"):
            assert torch.equal(b[6:12], torch.ones(6)) and not torch.equal(a[6:12], b[6:12])
            assert torch.equal(a[:6], b[:6]) and torch.equal(a[12:], b[12:]), name
        else:
            assert torch.equal(a, b), name  # the draw itself is the default's
