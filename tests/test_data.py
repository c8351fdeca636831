from __future__ import annotations

import numpy as np

from visrnn.data import Vocab, array_sha256, load_split, save_split, split_bounds, symbol_name


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
