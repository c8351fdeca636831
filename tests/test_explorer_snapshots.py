"""The explorer's training-snapshot selector through the API: a tiny LSTM checkpoint dumped
over the synthetic text (visrnn.explorer.synthetic) with two snapshots of its run, one with
its own weights (its units must come back equal to the store's) and one with others."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from visrnn import plan
from visrnn.common.files import write_csv
from visrnn.data.splits import Vocab
from visrnn.explorer import snapshots
from visrnn.explorer.server import create_app
from visrnn.explorer.store import ModelStore
from visrnn.explorer.synthetic import write_checkpoint_model, write_synthetic_results
from visrnn.inside.activations import iter_activations
from visrnn.models.checkpoints import load_checkpoint, save_checkpoint
from visrnn.models.recurrent import CharRNN

LOCAL = "http://127.0.0.1:8000"
TINY = "lstm-2L-tiny"
OTHER = "lstm-1L-tiny"
POSITIONS = 3000


def write_snapshots(root: Path, model_id: str = TINY) -> None:
    """Snapshots at iterations 5 (the checkpoint's own weights) and 10 (other weights) of
    a run of 10 iterations per epoch."""
    trained, _ = load_checkpoint(root / f"syn/checkpoints/{model_id}/best.pt", model_id=model_id)
    vocab_sha256 = ModelStore(root / f"syn/explorer/models/{model_id}").meta["vocab_sha256"]
    directory = Path(plan.dynamics_snapshots("syn", root))
    save_checkpoint(
        directory / "iter-000005.pt",
        trained,
        model_id=model_id,
        vocab_sha256=vocab_sha256,
        iteration=5,
    )
    torch.manual_seed(7)
    other = CharRNN(trained.config)
    other.init_uniform(0.5)
    save_checkpoint(
        directory / "iter-000010.pt",
        other,
        model_id=model_id,
        vocab_sha256=vocab_sha256,
        iteration=10,
    )
    write_csv(
        plan.dynamics_log("syn", root),
        [{"epoch": 1, "iteration": 10, "val_loss": 3.0}],
        ("epoch", "iteration", "val_loss"),
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    root = write_synthetic_results(tmp_path_factory.mktemp("snapshots"), POSITIONS, 32)
    write_checkpoint_model(root, TINY, hidden=16)
    write_checkpoint_model(root, OTHER, hidden=8)
    write_snapshots(root)
    return root


@pytest.fixture
def app(results: Path):
    return create_app(results)


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app, base_url=LOCAL)


def window(client: TestClient, path: str, **params: object) -> np.ndarray:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    shape = int(response.headers["X-Units"]), int(response.headers["X-Positions"])
    return np.frombuffer(response.content, dtype="<f2").reshape(shape).astype(np.float32)


def test_the_dynamics_models_snapshots_are_listed_with_their_epochs(client) -> None:
    body = client.get(f"/api/syn/{TINY}/snapshots").json()
    assert body["snapshots"] == [
        {"name": "iter-000005", "iteration": 5, "epoch": 0.5},
        {"name": "iter-000010", "iteration": 10, "epoch": 1.0},
    ]
    assert body["note"] == "" and body["max_positions"] == snapshots.SNAPSHOT_CHARS
    # A store without a checkpoint (synthetic or imported states), another model's store.
    none = client.get("/api/syn/lstm-1L-syn/snapshots").json()
    assert none["snapshots"] == [] and "no checkpoint" in none["note"]
    other = client.get(f"/api/syn/{OTHER}/snapshots").json()
    assert other["snapshots"] == [] and f"those of syn are of {TINY}" in other["note"]


def test_a_snapshot_shows_the_same_units_as_its_checkpoint_computes_them(client, results) -> None:
    where = {"layer": 1, "state": "c", "start": 100, "stop": 220}
    stored = window(client, f"/api/syn/{TINY}/window", **where)
    # The snapshot with the trained weights: the store's values, unit for unit.
    same = window(client, f"/api/syn/{TINY}/snapshot_window", snapshot="iter-000005", **where)
    np.testing.assert_allclose(same, stored, atol=2e-3)
    # Another snapshot: its own checkpoint's values of the same units over the same text.
    earlier = window(client, f"/api/syn/{TINY}/snapshot_window", snapshot="iter-000010", **where)
    model, _ = load_checkpoint(
        Path(plan.dynamics_snapshots("syn", results)) / "iter-000010.pt", model_id=TINY
    )
    text = np.load(results / "syn/explorer/text/text.npy")
    symbols = tuple(client.get("/api/datasets").json()["datasets"]["syn"]["symbols"])
    ids = Vocab(symbols).encode(text[:220].tobytes())
    (chunk,) = iter_activations(model, ids)
    expected = chunk[1]["c"][0].numpy().T[:, 100:220]
    np.testing.assert_allclose(earlier, expected, atol=2e-3)
    assert np.abs(earlier - stored).max() > 0.05


def test_a_snapshots_states_are_computed_once(client, app, monkeypatch) -> None:
    calls = []
    original = snapshots.compute
    monkeypatch.setattr(
        snapshots, "compute", lambda *args: calls.append(args[3:]) or original(*args)
    )
    url = f"/api/syn/{TINY}/snapshot_window"
    for start in (0, 50, 300):
        window(client, url, snapshot="iter-000010", layer=0, state="h", start=start, stop=start + 9)
    window(client, url, snapshot="iter-000010", layer=0, state="c", start=0, stop=9)
    assert calls == [(0, "h"), (0, "c")]
    assert app.state.snapshot_values.cache_info().currsize == 2


def test_bad_snapshot_requests_say_why(client, app, monkeypatch) -> None:
    url = f"/api/syn/{TINY}/snapshot_window"
    where = {"layer": 0, "state": "h", "start": 0, "stop": 10}
    unknown = client.get(url, params={**where, "snapshot": "iter-000999"})
    assert unknown.status_code == 404
    assert "iter-000005, iter-000010" in unknown.json()["detail"]
    none = client.get("/api/syn/lstm-1L-syn/snapshot_window", params={**where, "snapshot": "x"})
    assert none.status_code == 404 and "no checkpoint" in none.json()["detail"]
    monkeypatch.setattr(snapshots, "SNAPSHOT_CHARS", 100)
    beyond = client.get(url, params={**where, "start": 95, "stop": 105, "snapshot": "iter-000005"})
    assert beyond.status_code == 400 and "stop <= 100" in beyond.json()["detail"]
    lock = app.state.live_lock("syn", TINY)
    assert lock.acquire(blocking=False)
    try:
        busy = client.get(url, params={**where, "snapshot": "iter-000005"})
        assert busy.status_code == 429 and "try again" in busy.json()["detail"]
    finally:
        lock.release()
