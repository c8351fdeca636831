"""The explorer's silencing and clamped sampling (``visrnn.explorer.clamping``) through the API,
on test_explorer_tools's tiny LSTM checkpoint (16 cells) dumped over the synthetic text: the
numbers are the intervention engine's, and bad requests, a busy model and states without a
checkpoint are refused, saying why."""

# ruff: noqa: F811 (test_explorer_tools's fixtures, imported, are the tests' parameters)
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from test_explorer_tools import LSTM as NO_CHECKPOINT
from test_explorer_tools import POSITIONS, TINY, app, client, results  # noqa: F401 (fixtures)

from visrnn.data.splits import Vocab
from visrnn.explorer import clamping, live
from visrnn.explorer.imports import write_explorer
from visrnn.explorer.server import create_app
from visrnn.explorer.store import ModelStore, TextStore
from visrnn.inside.interventions import Clamp, score_interventions
from visrnn.inside.sampling import sample
from visrnn.models.checkpoints import load_checkpoint

LOCAL = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def model(results: Path):
    return load_checkpoint(results / f"syn/checkpoints/{TINY}/best.pt", model_id=TINY)[0]


@pytest.fixture(scope="module")
def text(results: Path) -> tuple[np.ndarray, Vocab]:
    store = TextStore(results / "syn/explorer/text")
    return np.asarray(store.text), Vocab(tuple(store.meta["symbols"]))


def test_silencing_scores_the_window_intact_and_silenced(client, results, model, text) -> None:
    body = {"layer": 1, "state": "c", "units": "2,5", "start": 100, "stop": 400}
    answer = client.post(f"/api/syn/{TINY}/silence", json=body)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["read_from"] == 0 and found["clamps"] == ["1:c:2=0", "1:c:5=0"]
    # The intact row is the stored scores (the same pass from the text's start).
    stored = ModelStore(results / f"syn/explorer/models/{TINY}").p_target[100:400]
    np.testing.assert_allclose(found["p_target"], stored, atol=1e-4)
    # The silenced row is the engine's, with those units held at zero.
    bytes_, vocab = text
    ids = vocab.encode(bytes_[:401].tobytes())
    held = [Clamp(1, "c", 2, 0.0), Clamp(1, "c", 5, 0.0)]
    p_target, argmax = score_interventions(model, ids, [[], held])
    np.testing.assert_allclose(found["silenced_p_target"], p_target[1, 100:], atol=1e-6)
    assert found["silenced_argmax"] == argmax[1, 100:].tolist()
    assert found["p_target"] != found["silenced_p_target"]
    (overall,) = found["categories"]  # no oracle track for this model: the overall row
    assert overall["positions"] == 300
    assert overall["loss"] == pytest.approx(-np.log(p_target[0, 100:]).mean(), rel=1e-4)
    assert overall["delta_loss"] == pytest.approx(
        np.log(p_target[0, 100:] / p_target[1, 100:]).mean(), rel=1e-3, abs=1e-6
    )
    assert overall["silenced_errors"] == int((p_target[1, 100:] < 0.5).sum())


def test_a_late_window_reads_its_context_and_mean_silencing_holds_the_stored_mean(
    client, results, model, text
) -> None:
    start = clamping.CONTEXT + 500
    body = {"layer": 0, "state": "h", "units": "3", "start": start, "stop": start + 50}
    found = client.post(f"/api/syn/{TINY}/silence", json={**body, "silence": "mean"}).json()
    assert found["read_from"] == 500
    mean = np.asarray(ModelStore(results / f"syn/explorer/models/{TINY}").values(0, "h")[3])
    held = Clamp(0, "h", 3, float(mean.astype(np.float64).mean()))
    bytes_, vocab = text
    ids = vocab.encode(bytes_[500 : start + 51].tobytes())
    p_target, _ = score_interventions(model, ids, [[], [held]])
    np.testing.assert_allclose(found["silenced_p_target"], p_target[1, -50:], atol=1e-6)


def test_the_summary_groups_by_the_intact_models_error_category() -> None:
    p = np.array([[0.9, 0.2, 0.6, 0.1, np.nan], [0.4, 0.1, 0.7, 0.05, np.nan]])
    silenced = clamping.Silenced(0, 5, 0, p, np.zeros((2, 5), dtype=np.int64))
    rows = clamping.category_summary(silenced, np.array([0, 1, 0, 2, 0]), ["no error", "a", "b"])
    assert [r["category"] for r in rows] == ["all positions", "no error", "a", "b"]
    assert [r["positions"] for r in rows] == [4, 2, 1, 1]  # the last position has no target
    no_error = rows[1]
    assert (no_error["errors"], no_error["silenced_errors"]) == (0, 1)
    assert no_error["delta_loss"] == pytest.approx((np.log(0.9 / 0.4) + np.log(0.6 / 0.7)) / 2)


def test_sampling_writes_from_the_position_unclamped_and_clamped(client, model, text) -> None:
    body = {"layer": 1, "state": "c", "units": "4", "value": 3.0, "position": 250,
            "length": 80, "temperature": 0.7, "seed": 9}  # fmt: skip
    answer = client.post(f"/api/syn/{TINY}/sample", json=body)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    bytes_, vocab = text
    prime = bytes_[:251].tobytes()
    assert bytes(found["prime"]) == prime and found["clamps"] == ["1:c:4=3"]
    assert bytes(found["unclamped"]) == sample(model, vocab, prime, 80, 0.7, 9)
    held = sample(model, vocab, prime, 80, 0.7, 9, clamps=[Clamp(1, "c", 4, 3.0)])
    assert bytes(found["clamped"]) == held and len(held) == 80
    late = client.post(f"/api/syn/{TINY}/sample", json={**body, "position": 2300}).json()
    assert len(late["prime"]) == clamping.CONTEXT  # the last CONTEXT characters


@pytest.mark.parametrize(
    ("endpoint", "change", "status", "message"),
    [
        ("silence", {"units": "16"}, 400, "out of range"),
        ("silence", {"units": "x"}, 400, "comma-separated integers"),
        ("silence", {"state": "f"}, 400, "cannot be held"),
        ("silence", {"layer": 2}, 404, "unknown layer 2"),
        ("silence", {"silence": "loud"}, 400, "zero, mean"),
        ("silence", {"stop": 100 + clamping.MAX_SILENCED + 1}, 400, "at most"),
        ("silence", {"start": 300, "stop": 200}, 400, "start < stop"),
        ("sample", {"units": "-1"}, 400, "out of range"),
        ("sample", {"position": POSITIONS}, 400, "out of range"),
        ("sample", {"length": clamping.MAX_SAMPLE + 1}, 422, "length"),
        ("sample", {"value": "nan"}, 422, "value"),
    ],
)
def test_bad_requests_say_why(client, endpoint, change, status, message) -> None:
    body = {"layer": 0, "state": "c", "units": "1", "start": 100, "stop": 200, "value": 1.0,
            "position": 10, "length": 20}  # fmt: skip
    answer = client.post(f"/api/syn/{TINY}/{endpoint}", json={**body, **change})
    assert answer.status_code == status, answer.text
    assert message in answer.json()["detail"]


@pytest.mark.parametrize("endpoint", ["silence", "sample", "live"])
def test_one_computation_per_model_at_a_time(client, app, endpoint) -> None:
    body = {"layer": 0, "state": "h", "units": "1", "start": 0, "stop": 20, "value": 1.0,
            "position": 10, "length": 5, "text": "said the"}  # fmt: skip
    url = f"/api/syn/{TINY}/{endpoint}"
    lock = app.state.live_lock("syn", TINY)
    assert lock.acquire(blocking=False)
    try:
        busy = client.post(url, json=body)
        assert busy.status_code == 429 and "try again" in busy.json()["detail"]
    finally:
        lock.release()
    assert client.post(url, json=body).status_code == 200


def test_states_without_a_checkpoint_are_refused_saying_so(client, tmp_path) -> None:
    body = {"layer": 0, "state": "h", "units": "1", "start": 0, "stop": 20, "value": 1.0,
            "position": 10}  # fmt: skip
    for endpoint, what in (("silence", "silencing"), ("sample", "sampling")):
        refused = client.post(f"/api/syn/{NO_CHECKPOINT}/{endpoint}", json=body)
        assert refused.status_code == 404
        assert (
            f"no checkpoint (an imported network's states): {what} needs"
            in (refused.json()["detail"])
        )
    words = ["the", "war", "and", "the", "peace", "said", "the", "prince"] * 4
    states = {(0, "h"): np.random.default_rng(0).uniform(-1, 1, (len(words), 4))}
    write_explorer(tmp_path, words, states, dataset="words")
    imported = TestClient(create_app(tmp_path), base_url=LOCAL)
    for endpoint in ("silence", "sample"):
        refused = imported.post(f"/api/words/model/{endpoint}", json=body)
        assert refused.status_code == 404 and "no checkpoint" in refused.json()["detail"]


def test_a_slow_silencing_stops_at_its_timeout(model, text, monkeypatch) -> None:
    monkeypatch.setattr(live, "CHUNK", 8)
    bytes_, vocab = text
    with pytest.raises(live.LiveError, match="longer than 0 s") as error:
        clamping.silence_window(model, vocab, bytes_, 0, 200, [Clamp(0, "h", 1, 0.0)], 0.0)
    assert error.value.status == 504
