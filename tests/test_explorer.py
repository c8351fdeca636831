"""The explorer: its layout, its queries, and every API endpoint, on a synthetic dump with a
planted quote unit (visrnn.explorer.synthetic) and on the demo run's real outputs."""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import yaml
from fastapi.testclient import TestClient

from visrnn import cli
from visrnn.explorer import queries
from visrnn.explorer.server import DEFAULT_HOST, MAX_UNITS, create_app, serve
from visrnn.explorer.store import ModelStore, TextStore, oracle_codes, write_model_store
from visrnn.explorer.synthetic import PLANTED, write_synthetic_results
from visrnn.inside.activations import ActivationDump, dump_activations
from visrnn.inside.signals import structural_signals
from visrnn.models.recurrent import CharRNN, ModelConfig
from visrnn.plan import ConfigError, check_config

POSITIONS, UNITS = 20000, 64
#: What a browser on this machine sends as Host (the server refuses other names).
LOCAL = "http://127.0.0.1:8000"
LSTM = "lstm-1L-syn"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    return write_synthetic_results(tmp_path_factory.mktemp("explorer"), POSITIONS, UNITS)


@pytest.fixture(scope="module")
def client(results: Path) -> TestClient:
    return TestClient(create_app(results), base_url=LOCAL)


def quoted_spans(results: Path) -> list[tuple[int, int]]:
    quotes = TextStore(results / "syn/explorer/text").track("in_double_quotes") > 0.5
    return list(zip(*(a.tolist() for a in queries.runs(quotes)), strict=True))


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


# --- queries -------------------------------------------------------------------------------


def test_runs_are_maximal_and_half_open() -> None:
    starts, stops = queries.runs(np.array([1, 1, 0, 1, 0, 0, 1], dtype=bool))
    assert starts.tolist() == [0, 3, 6] and stops.tolist() == [2, 4, 7]


def test_hypothesis_needs_on_inside_and_off_in_the_off_widths() -> None:
    values = np.full((4, 20), -1.0, dtype=np.float16)
    values[0, 5:10] = 1  # on exactly in the range
    values[1, 3:12] = 1  # on, but also on in the off-widths
    values[2, 5:9] = 1  # off at the range's last position
    values[3, 5:10] = 0.6  # on, less strongly
    found = queries.hypothesis(values, 5, 10, threshold=0.5, before=2, after=2)
    assert found.selected == [0, 3]
    assert queries.hypothesis(values, 5, 10, 0.5).selected == [0, 1, 3]
    assert sum(found.histogram) == 4
    assert queries.hypothesis(-values, 5, 10, 0.5, sign=-1, before=2, after=2).selected == [0, 3]


def test_match_ranks_by_intersection_then_union_then_length() -> None:
    values = np.full((3, 40), -1.0, dtype=np.float16)
    values[0:2, 2:5] = 1  # both selected units, unit 2 also on: union 3
    values[0:2, 10:12] = 1  # both selected, nothing else: union 2, shorter
    values[0:2, 20:26] = 1  # both selected, nothing else, longer: first
    values[2, 2:5] = 1
    values[0, 30:38] = 1  # one selected unit only
    found, starts, _ = queries.match(values, [0, 1], 0.5, min_units=1)
    assert [(m.start, m.stop) for m in found] == [(20, 26), (10, 12), (2, 5), (30, 38)]
    assert [(m.intersection, m.union) for m in found] == [(2, 2), (2, 2), (2, 3), (1, 2)]
    assert len(starts) == 4
    strict, _, _ = queries.match(values, [0, 1], 0.5)
    assert [(m.start, m.stop) for m in strict] == [(20, 26), (10, 12), (2, 5)]


def planted_spans() -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Unit 0 on over four spans: one clean (off around it), one with unit 0 on just before
    (a near miss the off-widths rank lower), one of length 2, one across a document start."""
    values = np.full((3, 60), -0.5, dtype=np.float16)
    spans = [(5, 9), (20, 24), (33, 35), (44, 50)]
    for start, stop in spans:
        values[0, start:stop] = 0.9
    values[0, 18] = 0.9  # on two positions before the second span, off just before it
    values[1, 20:24] = 0.9  # another unit with the second span's pattern
    return values, spans


def test_match_ranks_by_the_off_widths_as_lstmvis_does() -> None:
    values, _ = planted_spans()
    plain, _, _ = queries.match(values, [0], 0.5)
    assert {(m.start, m.stop) for m in plain} == {(5, 9), (18, 19), (20, 24), (33, 35), (44, 50)}
    assert all(m.intersection == 1 for m in plain)
    # Off-width 3 before: the second span has unit 0 on at 18, so it is not a match of unit 0
    # (intersection 0); a width of 1 (LSTMVis's one position) does not see it.
    wide, _, _ = queries.match(values, [0], 0.5, before=3, after=3)
    scored = {(m.start, m.stop): m.intersection for m in wide}
    assert scored[20, 24] == 0 and scored[5, 9] == 1 and scored[33, 35] == 1
    assert [(m.start, m.stop) for m in wide][-1] in {(20, 24), (18, 19)}
    narrow, _, _ = queries.match(values, [0], 0.5, before=1, after=1)
    assert {(m.start, m.stop): m.intersection for m in narrow}[20, 24] == 1
    # |A∪C| counts the other units with the same on/off pattern: unit 1 at the second span.
    assert {(m.start, m.stop): m.union for m in narrow}[20, 24] == 2


def test_match_phrase_length_range_and_documents() -> None:
    values, _ = planted_spans()
    found, starts, _ = queries.match(values, [0], 0.5, min_length=3, max_length=4)
    assert {(m.start, m.stop) for m in found} == {(5, 9), (20, 24)} and len(starts) == 2
    exact, _, _ = queries.match(values, [0], 0.5, min_length=2, max_length=2)
    assert [(m.start, m.stop) for m in exact] == [(33, 35)]
    # A document starting at 47 splits the last span: no match crosses the boundary, and the
    # off-width stops at the document's edge (the span at 47 starts its document: no "before").
    split, _, _ = queries.match(values, [0], 0.5, before=2, after=2, documents=np.array([0, 47]))
    spans = {(m.start, m.stop): m.intersection for m in split}
    assert (44, 50) not in spans and spans[47, 50] == 1
    assert spans[44, 47] == 1  # its "after" would be 47, 48: the next document's, not seen
    assert queries.runs(np.ones(6, dtype=bool), np.array([0, 2, 4]))[0].tolist() == [0, 2, 4]


def test_the_threshold_is_on_the_shown_value() -> None:
    values = np.zeros((2, 10), dtype=np.float16)
    values[0, 2:6] = 2.0  # tanh(2) = 0.964
    values[1, 2:6] = 0.8  # tanh(0.8) = 0.664
    shown = queries.hypothesis(values, 2, 6, 0.7, transform="tanh")
    assert shown.selected == [0]
    assert shown.inside_min[0] == pytest.approx(np.tanh(2.0), abs=1e-3)
    assert queries.hypothesis(values, 2, 6, 0.7, transform="none").selected == [0, 1]
    assert queries.raw_threshold(0.5, "tanh") == pytest.approx(np.arctanh(0.5))
    assert queries.raw_threshold(1.0, "tanh") == float("inf")
    found, _, _ = queries.match(values, [1], 0.7, transform="tanh")
    assert found == []
    assert len(queries.match(values, [1], 0.7)[0]) == 1
    track = np.zeros(10)
    track[2:6] = 1
    pr = queries.precision_recall(values, [0, 1], 0.7, 1, track, min_units=1, transform="tanh")
    assert pr["precision"] == 1 and pr["recall"] == 1
    assert queries.default_transform({}, 0, "c") == "tanh"
    assert queries.default_transform({}, 0, "h") == "none"
    declared = {"transforms": {"l1.h": "tanh"}}
    assert queries.default_transform(declared, 1, "h") == "tanh"
    with pytest.raises(ValueError, match="tanh, none"):
        queries.shown(values, "log")


def test_an_unbounded_states_range_is_its_observed_quantiles() -> None:
    rng = np.random.default_rng(0)
    values = (rng.standard_normal((8, 5000)) * 4).astype(np.float16)
    found = queries.value_range(values, "none", is_bounded=False)
    assert not found["bounded"]
    assert found["max"] == pytest.approx(
        np.quantile(np.abs(values.astype(np.float32)), 0.999), rel=0.1
    )
    assert queries.value_range(values, "tanh", is_bounded=True)["max"] == 1.0


def test_precision_recall_against_a_binary_track() -> None:
    values = np.zeros((1, 10), dtype=np.float16)
    values[0, 2:6] = 1
    track = np.zeros(10)
    track[4:8] = 1
    pr = queries.precision_recall(values, [0], 0.5, 1, track)
    assert (pr["precision"], pr["recall"], pr["both"]) == (0.5, 0.5, 2)


def test_top_positions_are_apart() -> None:
    trace = np.zeros(100)
    trace[[10, 11, 50, 90]] = [5, 4, 3, 2]
    assert queries.top_positions(trace, 3, width=5) == [10, 50, 90]
    assert queries.top_positions(-trace, 1, width=5, lowest=True) == [10]


# --- layout --------------------------------------------------------------------------------


def test_model_store_is_the_dump_unit_major_with_the_decoders_predictions(tmp_path) -> None:
    torch.manual_seed(0)
    model = CharRNN(ModelConfig("lstm", 11, 8, 2)).eval()
    ids = np.random.default_rng(0).integers(0, 11, 300)
    dump_activations(
        model, ids, tmp_path / "d.parquet", model_id="lstm-2L-x", vocab_sha256="v", row_group=64
    )
    dump = ActivationDump(tmp_path / "d.parquet")
    p_target = np.linspace(0.1, 0.9, 299).astype(np.float32)
    write_model_store(tmp_path / "m", tmp_path / "d.parquet", model.decoder, p_target)
    store = ModelStore(tmp_path / "m")
    assert store.states == ("i", "f", "g", "o", "c", "h") and store.layers == 2
    for layer in range(2):
        for state in store.states:
            np.testing.assert_array_equal(
                store.values(layer, state), dump.matrix(layer, state).T.astype(np.float16)
            )
    with torch.no_grad():
        logits = model.decoder(torch.from_numpy(dump.matrix(1, "h")))
    np.testing.assert_array_equal(store.top_ids[:, 0], logits.argmax(-1).numpy())
    assert np.isnan(store.p_target[-1]) and store.p_target[0] == pytest.approx(0.1)
    assert not list(tmp_path.glob(".m.*")), "temporary directory left behind"


def test_oracle_codes_number_the_families_in_peeling_order() -> None:
    step = lambda family, removed: SimpleNamespace(  # noqa: E731
        oracle=SimpleNamespace(family=family), removed=np.array(removed, dtype=bool)
    )
    steps = [
        step("ngram", [1, 0, 0, 0]),
        step("ngram", [0, 0, 1, 0]),
        step("remaining", [0, 0, 0, 1]),
    ]
    codes, names = oracle_codes(steps, 5)
    assert names == ["no error", "ngram", "remaining"]
    assert codes.tolist() == [1, 0, 1, 2, 0]


def test_full_test_types_must_be_in_the_grid() -> None:
    config = yaml.safe_load((Path(__file__).parents[1] / "config.yaml").read_text())
    config["grid"]["types"] = ["lstm", "gru"]
    with pytest.raises(ConfigError, match=r"activations.full_test: \['rnn'\]"):
        check_config(config)


# --- API -----------------------------------------------------------------------------------


def test_datasets_lists_models_with_their_states(client) -> None:
    body = client.get("/api/datasets").json()["datasets"]["syn"]
    assert body["num_positions"] == POSITIONS
    assert body["models"][LSTM]["states"] == ["c", "h"]
    assert body["models"]["gru-1L-syn"]["states"] == ["r", "z", "n", "h"]
    assert {t["name"] for t in body["tracks"] if t["binary"]} == {"in_double_quotes"}


def test_page_and_its_files_are_served_offline(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "explorer.js" in page.text
    for name in ("explorer.js", "explorer.css"):
        served = client.get(f"/static/{name}")
        assert served.status_code == 200
        assert "http://" not in served.text and "https://" not in served.text, "no CDN"
    assert "http://" not in page.text and "https://" not in page.text


def test_text_and_window_and_predictions(client, results) -> None:
    text = client.get("/api/syn/text", params={"start": 100, "stop": 150}).json()
    store = TextStore(results / "syn/explorer/text")
    assert bytes(text["text"]) == bytes(store.text[100:150])
    assert len(text["tracks"]["in_double_quotes"]) == 50
    window = client.get(
        f"/api/syn/{LSTM}/window", params={"layer": 0, "state": "h", "start": 10, "stop": 2010}
    )
    assert window.headers["x-units"] == str(UNITS) and window.headers["x-positions"] == "2000"
    values = np.frombuffer(window.content, dtype="<f2").reshape(UNITS, 2000)
    model = ModelStore(results / f"syn/explorer/models/{LSTM}")
    np.testing.assert_array_equal(values, model.values(0, "h")[:, 10:2010])
    pred = client.get(f"/api/syn/{LSTM}/predictions", params={"start": 0, "stop": 5}).json()
    assert len(pred["top_ids"]) == 5 and len(pred["top_ids"][0]) == 5
    assert pred["loss"][0] == pytest.approx(-np.log(pred["p_target"][0]), abs=1e-3)
    assert len(pred["loss_minus_ngram"]) == 5


def test_a_quoted_span_finds_the_planted_unit_and_the_other_quotes(client, results) -> None:
    spans = quoted_spans(results)
    start, stop = next(s for s in spans if s[1] - s[0] >= 8)
    common = {"layer": 0, "state": "h", "threshold": 0.5}
    found = client.get(
        f"/api/syn/{LSTM}/hypothesis",
        params={**common, "start": start, "stop": stop, "before": 3, "after": 3},
    ).json()
    assert found["selected"][0] == PLANTED
    assert sum(found["histogram"]) == UNITS
    matches = client.get(f"/api/syn/{LSTM}/match", params={**common, "units": PLANTED}).json()
    assert matches["candidates"] == len(spans)
    top = [(m["start"], m["stop"]) for m in matches["matches"][:10]]
    assert set(top) <= set(spans) and len(top) == 10
    pr = client.get(
        f"/api/syn/{LSTM}/precision",
        params={**common, "units": PLANTED, "track": "in_double_quotes"},
    ).json()
    assert pr["precision"] >= 0.99 and pr["recall"] >= 0.99
    best = client.get(
        f"/api/syn/{LSTM}/top", params={"layer": 0, "state": "h", "unit": PLANTED, "k": 3}
    ).json()
    quotes = TextStore(results / "syn/explorer/text").track("in_double_quotes")
    assert all(quotes[row["position"]] == 1 for row in best["highest"])
    assert all(quotes[row["position"]] == 0 for row in best["lowest"])


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("/api/nope/text?start=0&stop=5", "syn"),
        ("/api/syn/nope/window?layer=0&state=h&start=0&stop=5", LSTM),
        (f"/api/syn/{LSTM}/window?layer=3&state=h&start=0&stop=5", "layers 0..0"),
        (f"/api/syn/{LSTM}/window?layer=0&state=f&start=0&stop=5", "c, h"),
        (f"/api/syn/{LSTM}/precision?layer=0&state=h&units=1&threshold=0.5&track=x", "in_double"),
    ],
)
def test_unknown_names_are_404_naming_what_exists(client, url, named) -> None:
    response = client.get(url)
    assert response.status_code == 404 and named in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": -1, "stop": 5}, "greater than or equal to 0"),
        ({"start": 5, "stop": 5}, "start < stop"),
        ({"start": 0, "stop": POSITIONS + 1}, "stop <= 20000"),
        ({"start": 0, "stop": 5, "threshold": 1e6}, "less than or equal to 100"),
        ({"start": 0, "stop": 5, "sign": 2}, "sign must be 1 or -1"),
        ({"start": "x", "stop": 5}, "valid integer"),
    ],
)
def test_bad_hypothesis_parameters_say_why(client, params, message) -> None:
    query = {"layer": 0, "state": "h", "threshold": 0.5, **params}
    response = client.get(f"/api/syn/{LSTM}/hypothesis", params=query)
    assert response.status_code in (400, 422)
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("units", "message"),
    [
        (",".join(["1"] * 10000), f"at most {MAX_UNITS}"),
        ("1,x", "comma-separated integers"),
        ("", "at least one unit"),
        (str(UNITS), "out of range"),
    ],
)
def test_bad_unit_lists_say_why(client, units, message) -> None:
    params = {"layer": 0, "state": "h", "threshold": 0.5, "units": units}
    response = client.get(f"/api/syn/{LSTM}/match", params=params)
    assert response.status_code == 400 and message in response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static//etc/passwd",
        "/api/..%2F..%2F..%2Fetc/text?start=0&stop=5",
        "/api/%2Fetc%2Fpasswd/text?start=0&stop=5",
        "/api/syn/..%2F..%2Fsyn%2Fexplorer%2Ftext/window?layer=0&state=h&start=0&stop=5",
        "/api/syn/%2Fetc/predictions?start=0&stop=5",
    ],
)
def test_no_file_outside_the_results_is_readable(client, url) -> None:
    response = client.get(url)
    assert response.status_code in (404, 400)
    assert "root:" not in response.text


def test_it_binds_localhost_and_never_writes_into_results(results, client) -> None:
    assert DEFAULT_HOST == "127.0.0.1"
    assert serve.__defaults__[0] == DEFAULT_HOST
    before = tree_digest(results)
    params = {"layer": 0, "state": "c", "threshold": 0.5}
    client.get(f"/api/syn/{LSTM}/hypothesis", params={**params, "start": 0, "stop": 9})
    client.get(f"/api/syn/{LSTM}/match", params={**params, "units": "1,2"})
    client.get("/api/datasets")
    assert tree_digest(results) == before


def test_visrnn_explore_binds_localhost_by_default_and_serves(results) -> None:
    parser = argparse.ArgumentParser()
    cli.COMMANDS["explore"].add_arguments(parser)
    args = parser.parse_args([str(results)])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    assert cli.main(["explore", str(results / "missing")]) == 2
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "visrnn.cli", "explore", str(results), "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/datasets") as answer:
                    assert list(json.load(answer)["datasets"]) == ["syn"]
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "visrnn explore did not answer in 60 s"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(10)


def test_quote_signal_is_what_the_planted_unit_follows(results) -> None:
    text = bytes(TextStore(results / "syn/explorer/text").text)
    quotes = structural_signals(text, code=False)["in_double_quotes"] > 0.5
    planted = ModelStore(results / f"syn/explorer/models/{LSTM}").values(0, "h")[PLANTED] > 0
    np.testing.assert_array_equal(planted, quotes)


def test_match_and_range_endpoints_take_the_off_widths_lengths_and_transform(
    client, results
) -> None:
    spans = quoted_spans(results)
    common = {"layer": 0, "state": "h", "threshold": 0.5, "units": PLANTED}
    found = client.get(
        f"/api/syn/{LSTM}/match", params={**common, "before": 2, "after": 2, "min_length": 10}
    ).json()
    assert found["transform"] == "none"
    assert {(m["start"], m["stop"]) for m in found["matches"]} <= {
        s for s in spans if s[1] - s[0] >= 10
    }
    assert all(m["intersection"] == 1 for m in found["matches"])
    bad = client.get(f"/api/syn/{LSTM}/match", params={**common, "min_length": 5, "max_length": 2})
    assert bad.status_code == 400 and "max_length=2 < min_length=5" in bad.json()["detail"]
    bad = client.get(f"/api/syn/{LSTM}/match", params={**common, "transform": "log"})
    assert bad.status_code == 400 and "tanh, none" in bad.json()["detail"]
    c_range = client.get(f"/api/syn/{LSTM}/range", params={"layer": 0, "state": "c"}).json()
    assert c_range["transform"] == "tanh" and c_range["bounded"] and c_range["max"] == 1
    raw = client.get(
        f"/api/syn/{LSTM}/range", params={"layer": 0, "state": "c", "transform": "none"}
    ).json()
    assert not raw["bounded"] and 0 < raw["max"] < 1  # the synthetic noise is within ±0.5
    meta = client.get("/api/datasets").json()["datasets"]["syn"]["models"][LSTM]
    assert meta["default_transforms"] == {"l0.c": "tanh", "l0.h": "none"}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example"])
def test_a_foreign_host_header_is_refused(results, host) -> None:
    """DNS rebinding: a page from another origin reaching 127.0.0.1 still names its own host."""
    foreign = TestClient(create_app(results), base_url=f"http://{host}")
    for url in ("/", "/api/datasets", f"/api/syn/{LSTM}/window?layer=0&state=h&start=0&stop=5"):
        response = foreign.get(url)
        assert response.status_code == 421, url
        assert "DNS rebinding" in response.json()["detail"]


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8000", "localhost", "localhost:1234", "[::1]:8000", "127.0.0.1"]
)
def test_local_host_headers_are_answered(results, host) -> None:
    assert TestClient(create_app(results), base_url=f"http://{host}").get("/").status_code == 200


def test_the_bound_address_is_answered_too(results) -> None:
    app = create_app(results, host="10.1.2.3")
    assert TestClient(app, base_url="http://10.1.2.3:8000").get("/").status_code == 200
    assert TestClient(app, base_url="http://10.1.2.4:8000").get("/").status_code == 421


# --- the demo run --------------------------------------------------------------------------


@pytest.mark.e2e
def test_rule_all_builds_the_explorer_and_the_server_serves_it(demo_run) -> None:
    client = TestClient(create_app(demo_run / "results"), base_url=LOCAL)
    found = client.get("/api/datasets").json()["datasets"]
    assert set(found) == {"wp", "lk"}
    for ds, body in found.items():
        assert set(body["models"]) == {"best-lstm", "best-gru"}, ds
        assert body["models"]["best-lstm"]["num_positions"] == body["num_positions"]
        for model_id, meta in body["models"].items():
            response = client.get(
                f"/api/{ds}/{model_id}/window",
                params={"layer": meta["layers"] - 1, "state": "h", "start": 0, "stop": 100},
            )
            assert response.status_code == 200, response.text
            values = np.frombuffer(response.content, dtype="<f2")
            assert values.size == meta["hidden_size"] * 100 and np.isfinite(values).all()
        text = client.get(f"/api/{ds}/text", params={"start": 0, "stop": 50}).json()
        assert "ngram_loss" in text["tracks"]
    # The error categories of the best LSTM on wp are Figure 6's, position by position.
    meta = found["wp"]["models"]["best-lstm"]
    codes = ModelStore(demo_run / "results/wp/explorer/models/best-lstm").oracle
    counted = Counter(meta["oracle_categories"][code] for code in codes if code)
    rows = [
        row
        for row in csv.DictReader((demo_run / "results/wp/tables/oracles.csv").open())
        if row["model"] == meta["model_id"]
    ]
    expected = Counter()
    for row in rows:
        if row["role"] == rows[0]["role"]:  # one role: both may name the same model
            expected[row["family"]] += int(row["errors_removed"])
    if expected:  # the best LSTM is one of the two models the oracles peel
        assert counted == expected
    else:
        assert sum(counted.values()) > 0
    assert ModelStore(demo_run / "results/lk/explorer/models/best-lstm").oracle is None
