from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from visrnn.common.files import write_json
from visrnn.data.splits import (
    Vocab,
    array_sha256,
    corpus_record,
    load_split,
    read_corpus,
    save_split,
    split_bounds,
    symbol_name,
)


def test_vocab_from_training_bytes_reserves_one_id_for_unseen() -> None:
    vocab = Vocab.from_bytes(b"abcab")
    assert vocab.symbols == (ord("a"), ord("b"), ord("c"))
    assert vocab.size == 4 and vocab.unk_id == 3
    ids = vocab.encode(b"abz")
    assert ids.tolist() == [0, 1, 3]
    assert vocab.decode(ids) == b"ab?"


def test_vocab_round_trips_through_json(tmp_path) -> None:
    vocab = Vocab.from_bytes(bytes(range(256)))
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocab.load(tmp_path / "vocab.json")
    assert loaded == vocab and loaded.sha256 == vocab.sha256
    assert vocab.dtype == np.uint16  # 256 symbols + the reserved id


def test_symbol_names_are_unique_and_whitespace_free() -> None:
    names = [symbol_name(b) for b in range(256)]
    assert len(set(names)) == 256
    assert not any(any(ch.isspace() for ch in name) for name in names)
    assert symbol_name(ord(" ")) == "<sp>" and symbol_name(ord("\n")) == "<nl>"


def test_split_bounds_are_contiguous_and_cover_everything() -> None:
    assert split_bounds(1000, [0.8, 0.1, 0.1]) == [(0, 800), (800, 900), (900, 1000)]
    assert split_bounds(101, [0.9, 0.05, 0.05])[-1][1] == 101


def test_splits_are_stored_compactly(tmp_path) -> None:
    ids = Vocab.from_bytes(b"hello").encode(b"hello world")
    save_split(tmp_path / "test.npy", ids)
    loaded = load_split(tmp_path / "test.npy")
    assert loaded.dtype == np.uint8 and np.array_equal(loaded, ids)
    assert array_sha256(loaded) == array_sha256(ids)
    assert array_sha256(ids[:-1]) != array_sha256(ids)


def _written_splits(tmp_path: Path) -> dict[str, np.ndarray]:
    corpus = b"the quick brown fox jumps over the lazy dog\n" * 20
    vocab = Vocab.from_bytes(corpus)
    splits = {"train": vocab.encode(corpus[:600]), "test": vocab.encode(corpus[600:])}
    for name, ids in splits.items():
        save_split(tmp_path / f"{name}.npy", ids)
    vocab.save(tmp_path / "vocab.json", splits)
    return splits


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[:100]), "is not a readable id array"),
        (lambda p: p.write_bytes(b"garbage" * 40), "is not a readable id array"),
        (lambda p: np.save(p, np.zeros((3, 3), np.uint8)), "is not a split of ids"),
        (lambda p: np.save(p, np.zeros(40, np.float64)), "is not a split of ids"),
        (
            lambda p: p.write_bytes(p.with_name("test.npy").read_bytes()),
            "is not the split that .*vocab.json was written with",
        ),
    ],
    ids=["truncated", "garbage", "2-d", "floats", "swapped"],
)
def test_a_damaged_or_swapped_split_names_the_file(tmp_path: Path, damage, message) -> None:
    splits = _written_splits(tmp_path)
    assert np.array_equal(load_split(tmp_path / "train.npy"), splits["train"])
    damage(tmp_path / "train.npy")
    with pytest.raises(ValueError, match=message) as refused:
        load_split(tmp_path / "train.npy")
    assert str(refused.value).startswith(str(tmp_path / "train.npy"))
    assert "run snakemake again" in str(refused.value)


@pytest.mark.parametrize(
    "text",
    ["{not json", '{"symbols": [1, 2]}', '{"symbols": [1, 2], "sha256": "edited"}', "[]"],
    ids=["garbage", "no-fingerprint", "edited", "not-a-mapping"],
)
def test_a_damaged_vocabulary_names_the_file(tmp_path: Path, text: str) -> None:
    (tmp_path / "vocab.json").write_text(text)
    with pytest.raises(ValueError) as refused:
        Vocab.load(tmp_path / "vocab.json")
    assert str(refused.value).startswith(str(tmp_path / "vocab.json"))
    assert "delete it and run snakemake again" in str(refused.value)


def test_a_corpus_changed_after_its_record_is_refused(tmp_path: Path) -> None:
    corpus = b"some corpus bytes\n" * 10
    (tmp_path / "corpus.bin").write_bytes(corpus)
    write_json(tmp_path / "corpus.json", {"dataset": "x", **corpus_record(corpus)})
    assert read_corpus(tmp_path / "corpus.bin", tmp_path / "corpus.json") == corpus
    (tmp_path / "corpus.bin").write_bytes(corpus[:-5])
    with pytest.raises(ValueError, match=r"corpus.bin is not the corpus that .*corpus.json"):
        read_corpus(tmp_path / "corpus.bin", tmp_path / "corpus.json")
