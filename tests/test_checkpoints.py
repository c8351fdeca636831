"""Checkpoint files: round trips, and every way a reader refuses a file that is not the one
its rule expects, with a message naming the file."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

from visrnn.common.files import write_csv
from visrnn.models.checkpoints import (
    CheckpointError,
    expected_architecture,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from visrnn.models.nnn import NNN, NNNConfig
from visrnn.models.recurrent import CharRNN, ModelConfig
from visrnn.training.selection import select_run

SRC = Path(__file__).resolve().parents[1] / "src" / "visrnn"


def _save(path: Path, model_id: str = "gru-2L-x", layers: int = 2, **config) -> CharRNN:
    model = CharRNN(ModelConfig("gru", 13, 9, layers, **config))
    save_checkpoint(path, model, model_id=model_id, vocab_sha256="abc")
    return model


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    model = _save(tmp_path / "m.pt", dropout=0.25)
    loaded, meta = load_checkpoint(tmp_path / "m.pt", model_id="gru-2L-x", vocab_sha256="abc")
    assert loaded.config == model.config and meta == {"model_id": "gru-2L-x", "vocab_sha256": "abc"}
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    nnn = NNN(NNNConfig(3, 13, 8))
    save_checkpoint(tmp_path / "n.pt", nnn, model_id="nnn-3", vocab_sha256="abc")
    loaded, _ = load_checkpoint(tmp_path / "n.pt", model_id="nnn-3", hidden_size=8)
    assert loaded.config == nnn.config


def test_a_model_id_implies_its_architecture() -> None:
    assert expected_architecture("lstm-3L-10k") == (
        "CharRNN",
        {"model_type": "lstm", "num_layers": 3},
    )
    assert expected_architecture("nnn-15") == ("NNN", {"context": 15})


@pytest.mark.parametrize(
    ("saved", "expected", "config"),
    [
        ({"model_id": "gru-1L-x", "layers": 1}, "gru-2L-x", {}),  # another model's file
        ({"model_id": "gru-2L-x", "layers": 1}, "gru-2L-x", {}),  # id and weights disagree
        ({}, "nnn-2", {}),  # a recurrent model where an n-NN is expected
        ({}, "gru-2L-x", {"dropout": 0.5}),  # another run's (dropout 0) checkpoint
    ],
)
def test_a_checkpoint_of_another_model_is_refused_naming_both(
    tmp_path: Path, saved, expected, config
) -> None:
    _save(tmp_path / "best.pt", **saved)
    with pytest.raises(CheckpointError) as refused:
        load_checkpoint(tmp_path / "best.pt", model_id=expected, **config)
    message = str(refused.value)
    assert str(tmp_path / "best.pt") in message and expected in message
    assert saved.get("model_id", "gru-2L-x") in message and "delete it" in message


def test_a_checkpoint_of_another_vocabulary_is_refused(tmp_path: Path) -> None:
    _save(tmp_path / "best.pt")
    with pytest.raises(CheckpointError, match=r"best.pt was trained on another vocabulary"):
        read_checkpoint(tmp_path / "best.pt", model_id="gru-2L-x", vocab_sha256="def")


class _Evil:  # pickled objects other than tensors and plain values are never built
    pass


@pytest.mark.parametrize(
    ("write", "reason"),
    [
        (lambda p: p.write_bytes(b"garbage" * 100), "not a visrnn checkpoint"),
        (lambda p: p.write_bytes(p.read_bytes()[:200]), "truncated or damaged"),
        (lambda p: p.write_bytes(b""), "not a visrnn checkpoint"),
        (lambda p: torch.save({"format": 1, "x": _Evil()}, p), "not a visrnn checkpoint"),
        (lambda p: torch.save([1, 2], p), "no mapping inside"),
        (lambda p: torch.save({"architecture": "CharRNN"}, p), "another version of visrnn"),
    ],
    ids=["garbage", "truncated", "empty", "pickled-object", "not-a-dict", "old-format"],
)
def test_an_unreadable_checkpoint_names_the_file_and_what_to_do(
    tmp_path: Path, write, reason
) -> None:
    path = tmp_path / "best.pt"
    _save(path)
    write(path)
    with pytest.raises(CheckpointError) as refused:
        load_checkpoint(path, model_id="gru-2L-x")
    message = str(refused.value)
    assert message.startswith(str(path)) and reason in message
    assert "delete it and run snakemake again" in message
    assert "weights_only" not in message and "\n" not in message


def test_every_torch_load_in_the_package_reads_weights_only() -> None:
    calls = []
    for source in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load":
                keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
                calls.append((source.name, keywords.get("weights_only")))
    assert calls and all(flag == "True" for _, flag in calls), calls


def _run(run_dir: Path, model_id: str, layers: int, val_loss: float, **config) -> Path:
    _save(run_dir / "best.pt", model_id=model_id, layers=layers, **config)
    row = {"epoch": 1, "val_loss": val_loss}
    write_csv(run_dir / "train_log.csv", [row], list(row))
    return run_dir / "best.pt"


def test_the_selection_refuses_a_run_checkpoint_of_another_run(tmp_path: Path) -> None:
    runs = [
        _run(tmp_path / "dropout-0", "gru-2L-x", 2, 1.5),
        _run(tmp_path / "dropout-0.25", "gru-2L-x", 2, 1.4, dropout=0.25),
    ]
    assert select_run(runs, "gru-2L-x", "abc")["dropout"] == 0.25
    # The dropout-0 run's checkpoint copied over the dropout-0.25 run's.
    runs[1].write_bytes(runs[0].read_bytes())
    with pytest.raises(CheckpointError, match=r"dropout-0.25/best.pt holds gru-2L-x .*0.0"):
        select_run(runs, "gru-2L-x", "abc")
    _run(tmp_path / "dropout-0.25", "gru-1L-x", 1, 1.4, dropout=0.25)
    with pytest.raises(CheckpointError, match=r"holds gru-1L-x .* expects gru-2L-x"):
        select_run(runs, "gru-2L-x", "abc")
