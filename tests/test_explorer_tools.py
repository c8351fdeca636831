"""The explorer's search, "which units track this?" ranking, user tracks and live text, through
the API (FastAPI's TestClient), on the synthetic dump with a planted quote unit, a tiny LSTM
checkpoint dumped over its text (visrnn.explorer.synthetic), and a word-level network of
visrnn.explorer.imports.write_explorer; each bad input once."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from scipy.stats import pearsonr, rankdata, spearmanr
from sklearn.metrics import roc_auc_score

from visrnn import cli
from visrnn.explorer import live, queries, search
from visrnn.explorer.imports import write_explorer
from visrnn.explorer.server import create_app
from visrnn.explorer.store import ModelStore, TextStore
from visrnn.explorer.synthetic import PLANTED, write_checkpoint_model, write_synthetic_results
from visrnn.explorer.tracks import TrackFileError, read_track, read_tracks
from visrnn.models.checkpoints import load_checkpoint

LOCAL = "http://127.0.0.1:8000"
POSITIONS, UNITS = 20000, 64
LSTM = "lstm-1L-syn"
TINY = "lstm-2L-tiny"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    root = write_synthetic_results(tmp_path_factory.mktemp("tools"), POSITIONS, UNITS)
    write_checkpoint_model(root, TINY, hidden=16)
    return root


@pytest.fixture(scope="module")
def app(results: Path):
    return create_app(results)


@pytest.fixture(scope="module")
def client(app) -> TestClient:
    return TestClient(app, base_url=LOCAL)


@pytest.fixture(scope="module")
def text(results: Path) -> bytes:
    return np.load(results / "syn/explorer/text/text.npy").tobytes()


def quoted_spans(results: Path) -> np.ndarray:
    quotes = TextStore(results / "syn/explorer/text").track("in_double_quotes") > 0.5
    return np.stack(queries.runs(quotes), axis=1)


# --- search --------------------------------------------------------------------------------


def test_search_finds_every_literal_hit_with_its_context(client, text) -> None:
    body = client.get("/api/syn/search", params={"pattern": "prince said", "limit": 500}).json()
    expected = [m.start() for m in re.finditer(b"prince said", text)]
    assert body["count"] == len(expected) > 5
    assert body["starts"] == expected
    first = body["hits"][0]
    assert (first["start"], first["stop"]) == (expected[0], expected[0] + len("prince said"))
    assert first["match"] == "prince said"
    assert (first["before"] + first["match"] + first["after"]) in text.decode()


def test_search_by_regular_expression_and_ignoring_case(client, text) -> None:
    body = client.get("/api/syn/search", params={"pattern": r'"(\w+ ){2}\w+,"', "regex": True})
    assert body.status_code == 200, body.text
    expected = [m.span() for m in re.finditer(rb'"(\w+ ){2}\w+,"', text)]
    assert body.json()["count"] == len(expected) > 0
    assert [(h["start"], h["stop"]) for h in body.json()["hits"]] == expected[:100]
    upper = client.get("/api/syn/search", params={"pattern": "PRINCE", "case": False}).json()
    assert upper["count"] == text.count(b"prince") > 0
    assert client.get("/api/syn/search", params={"pattern": "PRINCE"}).json()["count"] == 0


def test_bad_patterns_are_refused_naming_them(client, monkeypatch) -> None:
    long = client.get("/api/syn/search", params={"pattern": "a" * (search.MAX_PATTERN + 1)})
    assert long.status_code == 400 and f"at most {search.MAX_PATTERN}" in long.json()["detail"]
    bad = client.get("/api/syn/search", params={"pattern": "(unclosed", "regex": True})
    assert bad.status_code == 400
    assert "bad regular expression '(unclosed'" in bad.json()["detail"]
    # Nested repetition over a text with no digit backtracks for ever: stopped in time.
    monkeypatch.setattr(search, "TIMEOUT_S", 0.5)
    slow = client.get("/api/syn/search", params={"pattern": r"(\D*)*\d", "regex": True})
    assert slow.status_code == 400 and "longer than 0.5 s" in slow.json()["detail"]
    unknown = client.get("/api/nope/search", params={"pattern": "a"})
    assert unknown.status_code == 404 and "syn" in unknown.json()["detail"]


def test_search_on_words_maps_hits_to_the_tokens_they_touch(tmp_path) -> None:
    words = [
        "the",
        "prince",
        "said",
        "war",
        "and",
        "peace",
        "to",
        "him",
        "and",
        "war",
        "and",
        "peace",
        "again",
    ]
    states = {(0, "h"): np.random.default_rng(0).uniform(-1, 1, (len(words), 4))}
    write_explorer(tmp_path, words, states, dataset="words")
    client = TestClient(create_app(tmp_path), base_url=LOCAL)
    body = client.get("/api/words/search", params={"pattern": "war and"}).json()
    assert [(h["start"], h["stop"]) for h in body["hits"]] == [(3, 5), (9, 11)]
    assert body["hits"][0]["before"].endswith("said ") and body["hits"][0]["match"] == "war and"
    part = client.get("/api/words/search", params={"pattern": "r an"}).json()  # inside words
    assert [(h["start"], h["stop"]) for h in part["hits"]] == [(3, 5), (9, 11)]
    regex = client.get("/api/words/search", params={"pattern": r"\bp\w+", "regex": True}).json()
    assert [h["start"] for h in regex["hits"]] == [1, 5, 11]


# --- which units track this? ---------------------------------------------------------------


def test_ranking_matches_the_textbook_measures(results) -> None:
    store = ModelStore(results / f"syn/explorer/models/{LSTM}")
    values = np.asarray(store.values(0, "h"))
    text = TextStore(results / "syn/explorer/text")
    quotes = np.asarray(text.track("in_double_quotes"))
    binary = queries.rank_binary(values, quotes, 0.3, 1, "none")
    for unit in (0, PLANTED, 40):
        x = values[unit].astype(np.float64)
        assert binary["auroc"][unit] == pytest.approx(roc_auc_score(quotes > 0.5, x))
        on, inside = x > 0.3, quotes > 0.5
        precision = (on & inside).sum() / max(on.sum(), 1)
        recall = (on & inside).sum() / inside.sum()
        assert binary["precision"][unit] == pytest.approx(precision)
        assert binary["recall"][unit] == pytest.approx(recall)
    negative = queries.rank_binary(values, quotes, 0.3, -1, "none")
    assert negative["auroc"][PLANTED] == pytest.approx(0.0)
    depth = np.asarray(text.track("line_position"), dtype=np.float64)
    scalar = queries.rank_scalar(values, depth, "tanh")
    for unit in (3, PLANTED):
        x = np.tanh(values[unit].astype(np.float64))
        assert scalar["pearson"][unit] == pytest.approx(pearsonr(x, depth)[0], abs=1e-9)
        assert scalar["spearman"][unit] == pytest.approx(spearmanr(x, depth)[0], abs=1e-9)


@pytest.mark.parametrize("share", [0.03, 0.7])  # the track's positions read, or the rest
def test_ranking_leaves_out_what_the_track_leaves_out(share: float) -> None:
    """NaN positions and positions past the track's end take no part; a dense track, a given
    ``value_counts``, infinite values, -0 and +0 all give the textbook measures."""
    rng = np.random.default_rng(7)
    values = (rng.standard_normal((5, 3000)) * 3).astype(np.float16)
    values[1, :40] = np.inf  # float16 overflow of an unbounded state
    values[2, ::7] = -0.0
    values[2, 1::7] = 0.0
    track = (rng.random(2900) < share).astype(np.float64)  # 100 positions short
    track[rng.choice(2900, 300, replace=False)] = np.nan
    kept = np.flatnonzero(np.isfinite(track))
    counts = queries.value_counts(values)
    binary = queries.rank_binary(values, track, 0.5, 1, "tanh", counts=counts)
    counted_here = queries.rank_binary(values, track, 0.5, 1, "tanh")
    for key, column in binary.items():
        np.testing.assert_array_equal(column, counted_here[key])
    scalar_track = np.where(np.isfinite(track), rng.standard_normal(2900), np.nan)
    scalar_track = scalar_track.astype(np.float32)  # as the explorer stores tracks
    scalar = queries.rank_scalar(values, scalar_track, "none")
    for unit in range(5):
        x = values[unit, kept].astype(np.float64)
        inside = track[kept] > 0.5
        ordered = np.where(np.isinf(x), 1e6, x)  # sklearn refuses infinities; same order
        assert binary["auroc"][unit] == pytest.approx(roc_auc_score(inside, ordered))
        on = np.tanh(x) > 0.5
        assert binary["both"][unit] == (on & inside).sum()
        assert binary["predicted"][unit] == on.sum()
        finite, y = np.isfinite(x), scalar_track[kept]
        # Pearson over the unit's finite values; Spearman over all, infinities ranked highest
        assert scalar["pearson"][unit] == pytest.approx(pearsonr(x[finite], y[finite])[0])
        assert scalar["spearman"][unit] == pytest.approx(spearmanr(x, y)[0], abs=1e-9)


def test_mean_ranks_are_scipys() -> None:
    """Ties (many, and -0 with +0) share their mean rank; negative, positive and infinite
    values, and values that differ only in a key's high or low bytes, keep their order."""
    rng = np.random.default_rng(11)
    tied = np.round(rng.standard_normal(5000), 1)
    tied[::13] = -0.0
    tied[1::13] = 0.0
    spread = rng.standard_normal(3001) * 10.0 ** rng.integers(-30, 30, 3001)
    spread[:4] = [np.inf, -np.inf, np.finfo(np.float32).tiny, -np.finfo(np.float32).tiny]
    close = 1 + np.arange(300) * np.finfo(np.float32).eps  # neighbours: only the low byte
    for values in (tied, spread, close[::-1], np.full(7, 2.5), np.array([1.0]), np.zeros(0)):
        values = values.astype(np.float32)
        np.testing.assert_array_equal(queries.mean_ranks(values), rankdata(values))


def test_ranking_on_threads_gives_one_threads_numbers(monkeypatch) -> None:
    """Blocks of units ranked on several threads give exactly what one thread gives, and the
    textbook measures."""
    rng = np.random.default_rng(3)
    values = (rng.standard_normal((7, 2500)) * 2).astype(np.float16)
    values[4, 100:130] = -np.inf
    values[5, 200:260] = np.inf
    binary_track = (rng.random(2500) < 0.2).astype(np.float64)
    scalar_track = rng.standard_normal(2400).astype(np.float32)  # 100 positions short
    monkeypatch.setattr(queries, "RANK_BLOCK", 2)
    rankings = []
    for threads in (1, 3):
        monkeypatch.setattr(queries, "RANK_THREADS", threads)
        counts = queries.value_counts(values)
        rankings.append(
            (
                counts,
                queries.rank_binary(values, binary_track, 0.2, 1, "tanh", counts=counts),
                queries.rank_scalar(values, scalar_track, "tanh"),
                queries.rank_scalar(values, scalar_track, "none"),
            )
        )
    (counts, *one), (counts_threads, *threads) = rankings
    np.testing.assert_array_equal(counts, counts_threads)
    for alone, together in zip(one, threads, strict=True):
        for key, column in alone.items():
            np.testing.assert_array_equal(column, together[key])
    binary, shown, raw = one
    for unit in range(7):
        x, y = values[unit, :2400].astype(np.float64), scalar_track
        finite = np.isfinite(x)
        ordered = np.clip(values[unit].astype(np.float64), -1e6, 1e6)  # sklearn: no infinities
        assert binary["auroc"][unit] == pytest.approx(roc_auc_score(binary_track > 0.5, ordered))
        assert shown["pearson"][unit] == pytest.approx(pearsonr(np.tanh(x), y)[0], abs=1e-9)
        assert shown["spearman"][unit] == pytest.approx(spearmanr(x, y)[0], abs=1e-9)
        assert raw["pearson"][unit] == pytest.approx(pearsonr(x[finite], y[finite])[0], abs=1e-9)
        assert raw["spearman"][unit] == shown["spearman"][unit]  # ranks: the same either way


def test_a_scalar_ranking_is_exact_whatever_the_track_s_offset() -> None:
    """The sums of products are centred in float64 after the pass: a track far from zero
    (1,000 plus a signal), a constant track and a track with one finite position give
    scipy's numbers, 0 and 0."""
    rng = np.random.default_rng(5)
    values = rng.standard_normal((3, 4000)).astype(np.float16)
    signal = values[0] * 1e-2 + rng.standard_normal(4000) * 1e-2
    far = (1000 + signal).astype(np.float32)
    ranking = queries.rank_scalar(values, far, "none")
    assert ranking["pearson"][0] > 0.5
    for unit in range(3):
        x, y = values[unit].astype(np.float64), far.astype(np.float64)
        assert ranking["pearson"][unit] == pytest.approx(pearsonr(x, y)[0], abs=1e-9)
        assert ranking["spearman"][unit] == pytest.approx(spearmanr(x, y)[0], abs=1e-9)
    lone = np.full(4000, np.nan, dtype=np.float32)
    lone[10] = 1.0
    for track in (np.full(4000, 7.0, dtype=np.float32), lone):
        for measure in queries.rank_scalar(values, track, "tanh").values():
            np.testing.assert_array_equal(measure, 0.0)


def test_the_planted_unit_ranks_first_against_the_quotes(client) -> None:
    params = {"layer": 0, "state": "h", "track": "in_double_quotes", "threshold": 0.5}
    body = client.get(f"/api/syn/{LSTM}/rank", params=params).json()
    assert body["kind"] == "binary" and body["by"] == "f1"
    assert body["units"][0] == PLANTED and sorted(body["units"]) == list(range(UNITS))
    assert body["scores"]["f1"][0] == 1.0 and body["scores"]["auroc"][0] == 1.0
    by_auroc = client.get(f"/api/syn/{LSTM}/rank", params={**params, "by": "auroc"}).json()
    assert by_auroc["units"][0] == PLANTED
    scalar = client.get(f"/api/syn/{LSTM}/rank", params={**params, "track": "line_position"}).json()
    assert scalar["kind"] == "scalar" and scalar["by"] == "pearson"
    assert set(scalar["scores"]) == {"pearson", "spearman"}
    strengths = np.abs(scalar["scores"]["pearson"])
    assert (np.diff(strengths) <= 1e-9).all()


def test_bad_ranking_requests_are_named(client) -> None:
    base = {"layer": 0, "state": "h", "threshold": 0.5}
    unknown = client.get(f"/api/syn/{LSTM}/rank", params={**base, "track": "nope"})
    assert unknown.status_code == 404 and "in_double_quotes" in unknown.json()["detail"]
    wrong = client.get(
        f"/api/syn/{LSTM}/rank", params={**base, "track": "in_double_quotes", "by": "pearson"}
    )
    assert wrong.status_code == 400 and "f1, auroc" in wrong.json()["detail"]
    state = client.get(
        f"/api/syn/{LSTM}/rank", params={**base, "state": "x", "track": "in_double_quotes"}
    )
    assert state.status_code == 404


def test_a_users_spans_track_ranks_the_planted_unit_first(results, tmp_path) -> None:
    spans = quoted_spans(results)
    path = tmp_path / "quotes.txt"
    path.write_text("# my quotes\n" + "".join(f"{a},{b}\n" for a, b in spans))
    values = tmp_path / "line.txt"
    line = TextStore(results / "syn/explorer/text").track("line_position")
    values.write_text("\n".join(str(float(v)) for v in line) + "\n")
    tracks = read_tracks([f"mine={path}", f"line={values}"])
    client = TestClient(create_app(results, tracks=tracks), base_url=LOCAL)
    listed = client.get("/api/datasets").json()["datasets"]["syn"]["tracks"]
    mine = next(t for t in listed if t["name"] == "mine")
    assert mine["binary"] and not next(t for t in listed if t["name"] == "line")["binary"]
    body = client.get(
        f"/api/syn/{LSTM}/rank",
        params={"layer": 0, "state": "h", "track": "mine", "threshold": 0.5},
    ).json()
    assert body["units"][0] == PLANTED and body["scores"]["f1"][0] == 1.0
    shown = client.get("/api/syn/text", params={"start": 0, "stop": 50}).json()["tracks"]
    assert shown["line"] == pytest.approx([float(v) for v in line[:50]])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1\n0\nx\n", "line 3: 'x' is not a number"),
        ("3,5\n7\n", "line 2: '7' is not 'start,end'"),
        ("3,5\n\n9,8\n", "line 3: span 9,8 is empty"),
        ("0.5\ninf\n", "line 2: 'inf' is infinite"),
        ("# nothing\n", "no values"),
    ],
)
def test_a_bad_track_file_names_the_file_and_the_line(tmp_path, content, message) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(TrackFileError, match=re.escape(message)) as error:
        read_track("bad", path)
    assert str(path) in str(error.value)


def test_explore_refuses_a_bad_track_in_one_line(results, tmp_path, capsys) -> None:
    short = tmp_path / "short.txt"
    short.write_text("1\n0\n1\n")
    assert cli.main(["explore", str(results), "--track", f"short={short}"]) == 2
    assert (
        f"{short}: 3 values fit no dataset (positions: syn {POSITIONS})" in capsys.readouterr().err
    )
    assert cli.main(["explore", str(results), "--track", "no file"]) == 2
    assert "give NAME=FILE" in capsys.readouterr().err
    missing = tmp_path / "missing.txt"
    assert cli.main(["explore", str(results), "--track", f"gone={missing}"]) == 2
    assert f"cannot read {missing}" in capsys.readouterr().err


# --- live text -----------------------------------------------------------------------------


def test_live_text_is_the_dump_from_the_start_of_the_text(client, results, text) -> None:
    prefix = text[:300].decode()
    body = client.post(f"/api/syn/{TINY}/live", json={"text": prefix, "layer": 1, "state": "c"})
    assert body.status_code == 200, body.text
    answer = body.json()
    assert (answer["units"], answer["positions"]) == (16, 300)
    live_values = np.array(answer["values"], dtype=np.float32).reshape(16, 300)
    stored = ModelStore(results / f"syn/explorer/models/{TINY}").values(1, "c")[:, :300]
    np.testing.assert_allclose(live_values, np.asarray(stored, dtype=np.float32), atol=2e-3)
    # The loss, against the model's own fused forward pass and cross entropy.
    checkpoint = results / f"syn/checkpoints/{TINY}/best.pt"
    model, _ = load_checkpoint(checkpoint, model_id=TINY)
    ids = live.encode(prefix, TextStore(results / "syn/explorer/text").meta["symbols"])
    with torch.no_grad():
        logits, _ = model(torch.from_numpy(ids[None]))
        expected = torch.nn.functional.cross_entropy(
            logits[0, :-1], torch.from_numpy(ids[1:])
        ).item()
    assert answer["mean_loss"] == pytest.approx(expected, rel=1e-4)
    assert answer["loss"][-1] is None and len(answer["top_ids"][0]) == 5
    assert answer["top_p"][0] == sorted(answer["top_p"][0], reverse=True)
    listed = client.get("/api/datasets").json()
    assert listed["limits"]["live_max_chars"] == live.MAX_CHARS
    assert listed["datasets"]["syn"]["models"][TINY]["checkpoint"]


def test_bad_live_text_is_refused_naming_why(client, app) -> None:
    url = f"/api/syn/{TINY}/live"
    long = client.post(url, json={"text": "a" * (live.MAX_CHARS + 1), "layer": 0, "state": "h"})
    assert long.status_code == 400 and f"at most {live.MAX_CHARS}" in long.json()["detail"]
    outside = client.post(url, json={"text": "café … ok", "layer": 0, "state": "h"})
    assert outside.status_code == 400
    assert "'é' (U+00E9), '…' (U+2026)" in outside.json()["detail"]
    state = client.post(url, json={"text": "abc", "layer": 0, "state": "q"})
    assert state.status_code == 404
    lock = app.state.live_lock("syn", TINY)
    assert lock.acquire(blocking=False)
    try:
        busy = client.post(url, json={"text": "abc", "layer": 0, "state": "h"})
        assert busy.status_code == 429 and "try again" in busy.json()["detail"]
    finally:
        lock.release()
    assert client.post(url, json={"text": "abc", "layer": 0, "state": "h"}).status_code == 200
    # A model without a checkpoint (the synthetic dumps, an imported network's states).
    none = client.post(f"/api/syn/{LSTM}/live", json={"text": "abc", "layer": 0, "state": "h"})
    assert none.status_code == 404 and "no checkpoint" in none.json()["detail"]


def test_live_text_stops_at_its_timeout(results, monkeypatch) -> None:
    model, _ = load_checkpoint(results / f"syn/checkpoints/{TINY}/best.pt", model_id=TINY)
    monkeypatch.setattr(live, "CHUNK", 8)
    with pytest.raises(live.LiveError, match="longer than 0 s") as error:
        live.run(model, np.zeros(100, dtype=np.int64), 0, "h", timeout=0.0)
    assert error.value.status == 504


def test_a_checkpoint_outside_the_results_is_refused(results, tmp_path) -> None:
    store = results / f"syn/explorer/models/{TINY}"
    meta = {"checkpoint": "../../../../../../elsewhere/best.pt"}
    with pytest.raises(live.LiveError, match="outside the results") as error:
        live.checkpoint_of(store, meta, [results.resolve()])
    assert error.value.status == 403
