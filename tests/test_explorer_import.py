"""Any network in the explorer: an LSTMVis project written with h5py as LSTMVis documents it
(word-level, <s>/<unk>/</s>, two state layers, a discrete meta track, top-k predictions as
``wordvec``) with a planted unit, its bad variants, and the ``write_explorer`` entry point,
including the exact example of docs/explorer-import.md."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from test_explorer import tree_digest

from visrnn import cli
from visrnn.explorer import imports, queries
from visrnn.explorer.imports import ProjectError, explorer_roots, import_project, write_explorer
from visrnn.explorer.server import create_app

try:
    import h5py
except ImportError:  # requirements.txt pins it; the entry point's tests run without it
    h5py = None
#: The LSTMVis tests write their projects with h5py.
needs_h5py = pytest.mark.skipif(
    h5py is None, reason="h5py missing: pip install -r requirements.txt"
)

LOCAL = "http://127.0.0.1:8000"
PLANTED = 5  # unit of layer 2's cell state on exactly across each planted phrase
UNITS = 16
PHRASE = ("of", "war", "and", "peace")
WORDS = ("the", "prince", "said", "she", "was", "in", "to", "him", "a", "letter")
SPECIALS = ("<s>", "<unk>", "</s>")
DOC = Path(__file__).parents[1] / "docs" / "explorer-import.md"

LSTM_YML = """\
name: toy
description: a word-level LSTM with a planted unit
files:
  states: states.h5
  train: train.h5
  words: words.dict
  phrase: phrase.h5
  phrase_dict: phrase.dict
  preds: preds.h5
word_sequence:
  file: train
  path: words
  dict_file: words
states:
  file: states
  types: [
    {type: state, layer: 1, path: states1},
    {type: state, layer: 2, path: states2},
    {type: output, layer: 2, path: output2, transform: none}
  ]
meta:
  phrase:
    file: phrase
    path: phrase
    dict: phrase_dict
    vis:
      type: discrete
      range: dict
  surprisal:
    file: phrase
    path: surprisal
    vis:
      type: scalar
      range: [0, 1]
  predictions:
    type: wordvec
    file: preds
    path: preds
    weights_path: scores
    dict: words
    vis:
      type: discrete
"""


def vocabulary() -> list[str]:
    return [*SPECIALS, " ", *WORDS, *PHRASE]


def write_project(root: Path, positions: int = 3000, seed: int = 0) -> dict:
    """The project and where its phrases and its decoy are: the planted unit is also on over
    four random words (the decoy) and two positions before them, off just before them."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary()
    index = {w: i for i, w in enumerate(vocab)}
    ids: list[int] = []
    spans: list[tuple[int, int]] = []
    while len(ids) < positions - 20:
        ids.append(index["<s>"])
        for _ in range(rng.integers(4, 9)):
            ids.append(index[WORDS[rng.integers(len(WORDS))]] if rng.random() > 0.02 else 1)
        if rng.random() < 0.3:
            spans.append((len(ids), len(ids) + len(PHRASE)))
            ids.extend(index[w] for w in PHRASE)
        ids.extend(index[WORDS[rng.integers(len(WORDS))]] for _ in range(3))
        ids.append(index["</s>"])
    ids.extend([index["the"]] * (positions - len(ids)))
    ids_array = np.array(ids, dtype=np.int32)
    inside = np.zeros(positions, dtype=bool)
    for start, stop in spans:
        inside[start:stop] = True
    # The decoy: four words far from every phrase.
    decoy = next(
        p
        for p in range(100, positions - 10)
        if not inside[p - 8 : p + 12].any() and not np.isin(ids_array[p - 3 : p + 4], [0, 2]).any()
    )
    root.mkdir(parents=True, exist_ok=True)
    noise = lambda: rng.uniform(-0.4, 0.4, (positions, UNITS)).astype(np.float32)  # noqa: E731
    layer2 = noise()
    layer2[:, PLANTED] = np.where(inside, 3.0, -3.0)
    layer2[decoy : decoy + 4, PLANTED] = 3.0
    layer2[decoy - 2, PLANTED] = 3.0
    with h5py.File(root / "states.h5", "w") as f:
        f["states1"] = noise()
        f["states2"] = layer2
        f["output2"] = np.tanh(layer2) * 0.5
    with h5py.File(root / "train.h5", "w") as f:
        f["words"] = ids_array
    with h5py.File(root / "phrase.h5", "w") as f:
        f["phrase"] = inside.astype(np.int32)
        f["surprisal"] = rng.random(positions).astype(np.float32)
    with h5py.File(root / "preds.h5", "w") as f:
        f["preds"] = rng.integers(0, len(vocab), (positions, 5)).astype(np.int32)
        f["scores"] = np.sort(rng.dirichlet(np.ones(8), positions)[:, :5], axis=1)[:, ::-1]
    lines = [f"{w} {i}" if w != " " else f" {i}" for i, w in enumerate(vocab)]
    (root / "words.dict").write_text("\n".join(lines) + "\n")
    (root / "phrase.dict").write_text("outside 0\ninside 1\n")
    (root / "lstm.yml").write_text(LSTM_YML)
    return {"ids": ids_array, "spans": spans, "decoy": (decoy, decoy + 4), "inside": inside}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("lstmvis") / "toy"
    planted = write_project(root, positions=1500)
    # Every phrase and the decoy among the candidates a match ranks in full.
    assert 10 < len(planted["spans"]) < queries.UNION_CANDIDATES - 2
    return root, planted


@pytest.fixture(scope="module")
def imported(project, tmp_path_factory) -> tuple[TestClient, Path]:
    root, _ = project
    cache = tmp_path_factory.mktemp("cache")
    before = tree_digest(root)
    roots = explorer_roots(root.parent, cache)
    assert tree_digest(root) == before, "the import wrote into the project"
    return TestClient(create_app(roots), base_url=LOCAL), cache


@needs_h5py
def test_the_dict_is_read_as_lstmvis_reads_it(project) -> None:
    root, _ = project
    known = imports.read_dict(root / "words.dict")
    assert known[0] == "<s>" and known[1] == "<unk>" and known[2] == "</s>" and known[3] == " "


@needs_h5py
def test_the_project_is_listed_with_its_words_layers_and_tracks(project, imported) -> None:
    client, cache = imported
    _, planted = project
    body = client.get("/api/datasets").json()["datasets"]
    assert list(body) == ["toy"]
    toy = body["toy"]
    assert toy["tokens"] and toy["num_positions"] == len(planted["ids"])
    meta = toy["models"]["states"]
    assert (meta["layers"], meta["hidden_size"], meta["states"]) == (2, UNITS, ["c", "h"])
    assert meta["default_transforms"]["l1.c"] == "tanh"
    assert meta["default_transforms"]["l1.h"] == "none"  # transform: none in lstm.yml
    phrase = next(t for t in toy["tracks"] if t["name"] == "phrase")
    assert phrase["categories"] == ["outside", "inside"] and phrase["binary"]
    surprisal = next(t for t in toy["tracks"] if t["name"] == "surprisal")
    assert not surprisal["binary"] and surprisal["categories"] is None
    text = client.get("/api/toy/text", params={"start": 0, "stop": 30}).json()
    vocab = vocabulary()
    assert text["tokens"] == [vocab[i] for i in planted["ids"][:30]]
    assert text["tokens"][0] == "<s>"
    pred = client.get("/api/toy/states/predictions", params={"start": 0, "stop": 3}).json()
    assert len(pred["top_tokens"][0]) == 5 and all(t in vocab for t in pred["top_tokens"][0])
    # Layer 0 has only a cell state (the project gives no output for layer 1).
    missing = client.get(
        "/api/toy/states/window", params={"layer": 0, "state": "h", "start": 0, "stop": 5}
    )
    assert missing.status_code == 404 and "has c" in missing.json()["detail"]
    assert [p.name for p in (cache / "lstmvis").iterdir()] and not list(cache.glob("**/*.tmp"))


@needs_h5py
def test_a_planted_span_selects_the_unit_and_matches_the_other_spans(project, imported) -> None:
    client, _ = imported
    _, planted = project
    start, stop = planted["spans"][0]
    common = {"layer": 1, "state": "c", "threshold": 0.5}
    found = client.get(
        "/api/toy/states/hypothesis",
        params={**common, "start": start, "stop": stop, "before": 2, "after": 2},
    ).json()
    assert found["transform"] == "tanh" and found["selected"] == [PLANTED]
    match = {**common, "units": PLANTED, "limit": 500}
    # Off-widths of 3: the decoy has the unit on two positions before it, so it does not
    # count for the unit; every planted phrase does.
    strict = client.get("/api/toy/states/match", params={**match, "before": 3, "after": 3}).json()
    hits = {(m["start"], m["stop"]) for m in strict["matches"] if m["intersection"] == 1}
    assert hits == set(planted["spans"])
    assert {(m["start"], m["stop"]): m["intersection"] for m in strict["matches"]}[
        planted["decoy"]
    ] == 0
    # LSTMVis's one-position constraint does not see it; a phrase length of exactly 4 keeps
    # the phrases and the decoy, and drops the decoy's one-word run before it.
    loose = client.get(
        "/api/toy/states/match",
        params={**match, "before": 1, "after": 1, "min_length": 4, "max_length": 4},
    ).json()
    loose_hits = {(m["start"], m["stop"]) for m in loose["matches"] if m["intersection"] == 1}
    assert loose_hits == set(planted["spans"]) | {planted["decoy"]}
    assert all(m["stop"] - m["start"] == 4 for m in loose["matches"])
    # The threshold is on tanh(c): 0.999 > tanh(3) selects nothing; raw, 2.5 < 3 still does.
    none = client.get("/api/toy/states/match", params={**match, "threshold": 0.999}).json()
    assert none["matches"] == []
    raw = client.get(
        "/api/toy/states/match", params={**match, "threshold": 2.5, "transform": "none"}
    ).json()
    assert {(m["start"], m["stop"]) for m in raw["matches"]} >= set(planted["spans"])
    pr = client.get(
        "/api/toy/states/precision",
        params={**common, "units": PLANTED, "track": "phrase", "before": 0},
    ).json()
    assert pr["recall"] == 1.0 and pr["precision"] > 0.9
    span = client.get("/api/toy/states/range", params={"layer": 1, "state": "h"}).json()
    assert span["transform"] == "none" and not span["bounded"] and 0 < span["max"] <= 0.5


@needs_h5py
def test_the_cache_is_built_once_and_keyed_by_content(tmp_path) -> None:
    root = tmp_path / "project"
    write_project(root, positions=400)
    cache = tmp_path / "cache"
    entry = import_project(root / "lstm.yml", cache)
    stamp = (entry / "toy/explorer/done.json").stat().st_mtime_ns
    assert import_project(root / "lstm.yml", cache) == entry
    assert (entry / "toy/explorer/done.json").stat().st_mtime_ns == stamp
    with h5py.File(root / "states.h5", "r+") as f:
        f["states1"][0, 0] = 0.123
    changed = import_project(root / "lstm.yml", cache)
    assert changed != entry and changed.parent == entry.parent
    with pytest.raises(ProjectError, match="inside the project"):
        import_project(root / "lstm.yml", root / "cache")


def test_the_default_cache_is_the_users(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert imports.default_cache_dir() == tmp_path / "xdg" / "visrnn"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert imports.default_cache_dir() == Path.home() / ".cache" / "visrnn"


def edit_yml(root: Path, old: str, new: str) -> None:
    text = (root / "lstm.yml").read_text()
    assert old in text
    (root / "lstm.yml").write_text(text.replace(old, new))


def _absolute(root: Path) -> str:
    return f"  states: {root / 'states.h5'}"


@needs_h5py
@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (lambda r: edit_yml(r, "  states: states.h5", _absolute(r)), "files.states", "absolute"),
        (
            lambda r: edit_yml(r, "  words: words.dict", "  words: ../words.dict"),
            "files.words",
            "'..'",
        ),
        (
            lambda r: (
                (r / "sub").mkdir()
                or (r / "sub/link.h5").symlink_to(r.parent / "outside.h5")
                or edit_yml(r, "  train: train.h5", "  train: sub/link.h5")
            ),
            "files.train",
            "outside the project",
        ),
        (lambda r: (r / "phrase.h5").unlink(), "meta.phrase.file", "does not exist"),
        (
            lambda r: edit_yml(r, "path: states2}", "path: nothing}"),
            "states.types[1].path",
            "no dataset 'nothing'",
        ),
        (
            lambda r: rewrite(r, "train.h5", "words", lambda a: a[:-1]),
            "states.types[0].path",
            "time steps but word_sequence has",
        ),
        (
            lambda r: rewrite(r, "train.h5", "words", lambda a: a + 1000),
            "word_sequence.path",
            "not in the dictionary",
        ),
        (
            lambda r: rewrite(r, "states.h5", "states1", lambda a: a[:, 0]),
            "states.types[0].path",
            "need 2-D",
        ),
        (
            lambda r: edit_yml(
                r,
                "word_sequence:\n",
                "word_sequence: !!python/object/apply:os.system ['true']\nx:\n",
            ),
            "lstm.yml",
            "not readable YAML",
        ),
        (lambda r: edit_yml(r, "  dict_file: words\n", ""), "word_sequence.dict_file", "missing"),
        (
            lambda r: edit_yml(r, "transform: none", "transform: log"),
            "states.types[2].transform",
            "'log'",
        ),
    ],
    ids=[
        "absolute",
        "dotdot",
        "symlink",
        "missing-file",
        "missing-dataset",
        "lengths",
        "ids",
        "1-D",
        "unsafe-yaml",
        "no-dict",
        "transform",
    ],
)
def test_a_malformed_project_is_one_message_and_nothing_is_cached(
    tmp_path, change, key, problem
) -> None:
    root = tmp_path / "project"
    write_project(root, positions=300)
    with h5py.File(tmp_path / "outside.h5", "w") as f:
        f["words"] = np.zeros(300, dtype=np.int32)
    change(root)
    cache = tmp_path / "cache"
    with pytest.raises(ProjectError) as raised:
        import_project(root / "lstm.yml", cache)
    message = str(raised.value)
    assert str(root / "lstm.yml") in message and key in message and problem in message, message
    assert not cache.exists() or not any(cache.rglob("*.npy"))


def rewrite(root: Path, file: str, path: str, how) -> None:
    with h5py.File(root / file, "r+") as f:
        values = how(f[path][...])
        del f[path]
        f[path] = values


@needs_h5py
def test_two_projects_of_one_name_are_refused(tmp_path) -> None:
    write_project(tmp_path / "a", positions=200)
    write_project(tmp_path / "b", positions=200, seed=1)
    with pytest.raises(ProjectError, match="'toy' is also the name of"):
        explorer_roots(tmp_path, tmp_path.parent / f"{tmp_path.name}-cache")


@needs_h5py
def test_visrnn_explore_says_what_is_wrong_with_a_project(tmp_path, capsys) -> None:
    root = tmp_path / "project"
    write_project(root, positions=300)
    (root / "preds.h5").unlink()
    assert cli.main(["explore", str(tmp_path), "--cache", str(tmp_path / "cache")]) == 2
    error = capsys.readouterr().err
    assert "meta.predictions.file" in error and "preds.h5 does not exist" in error


# --- your own arrays ---------------------------------------------------------------------


def test_write_explorer_takes_strings_documents_and_tracks(tmp_path) -> None:
    rng = np.random.default_rng(1)
    tokens = ["Hello", ",", " wör", "ld", "!"] * 40  # subwords of any length
    states = {(0, "h"): rng.uniform(-0.3, 0.3, (200, 8)).astype(np.float32)}
    states[0, "h"][:, 3] = -0.9
    states[0, "h"][40:50, 3] = 0.9  # one run across the document start at 45
    out = write_explorer(
        tmp_path / "mine", tokens, states, documents=[45], tracks={"mark": np.arange(200) % 2}
    )
    client = TestClient(create_app(out), base_url=LOCAL)
    meta = client.get("/api/datasets").json()["datasets"]["mine"]
    assert meta["tokens"] and meta["documents"] == 2
    text = client.get("/api/mine/text", params={"start": 40, "stop": 50}).json()
    assert text["tokens"] == tokens[40:50] and text["document_starts"] == [45]
    found = client.get(
        "/api/mine/model/match", params={"layer": 0, "state": "h", "threshold": 0.5, "units": 3}
    ).json()
    assert sorted((m["start"], m["stop"]) for m in found["matches"]) == [(40, 45), (45, 50)]
    with pytest.raises(ValueError, match="need \\(positions, units\\) with 200 positions"):
        write_explorer(tmp_path / "bad", tokens, {(0, "h"): np.zeros((199, 8))})
    with pytest.raises(ValueError, match="outside the vocabulary"):
        write_explorer(tmp_path / "bad", [0, 5], {(0, "h"): np.zeros((2, 8))}, vocabulary=["a"])


README = DOC.parents[1] / "README.md"


def examples(path: Path) -> list[str]:
    """The python blocks of ``path`` that call ``write_explorer``: the runnable examples."""
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)
    return [block for block in blocks if "write_explorer(" in block]


@pytest.mark.parametrize("path", [DOC, README], ids=["docs", "README"])
def test_the_documented_nn_lstm_example_runs_and_opens(path, tmp_path, monkeypatch) -> None:
    found = examples(path)
    assert found, f"no python example calling write_explorer in {path}"
    monkeypatch.chdir(tmp_path)
    exec(compile(found[0], str(path), "exec"), {"__name__": "__doc_example__"})
    (out,) = tmp_path.iterdir()
    client = TestClient(create_app(explorer_roots(out)), base_url=LOCAL)
    body = client.get("/api/datasets").json()["datasets"]
    (name,) = body
    meta = body[name]["models"]
    ((model, info),) = meta.items()
    assert info["layers"] == 2 and set(info["states"]) == {"h", "c"}
    text = client.get(f"/api/{name}/text", params={"start": 0, "stop": 6}).json()
    assert all(isinstance(t, str) and t for t in text["tokens"])
    window = client.get(
        f"/api/{name}/{model}/window", params={"layer": 1, "state": "c", "start": 0, "stop": 6}
    )
    assert window.status_code == 200
    assert np.isfinite(np.frombuffer(window.content, dtype="<f2")).all()
