"""Vocabulary and splits: the compact arrays every later stage reads.

A corpus is a byte string. The vocabulary is the set of byte values of the training split,
sorted; id ``len(symbols)`` is reserved for bytes never seen in training. Splits are stored
once as ``.npy`` arrays of ids (uint8, or uint16 for vocabularies over 256 ids).

The vocabulary file, written with the splits, records each split's length and fingerprint,
and ``load_split`` checks the array against it: a split truncated, damaged or swapped with
another after the fact is refused with a message naming both files. ``read_corpus`` checks
the corpus bytes against ``corpus.json`` the same way.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visrnn.common.files import REBUILD, atomic_path, read_json

SPLIT_NAMES = ("train", "val", "test")
#: Columns of ``tables/splits.csv``: each split's byte range of the corpus, its length and
#: how many of its characters are unseen in training.
SPLIT_COLUMNS = ("split", "start", "stop", "characters", "unseen")

_NAMED_BYTES = {0x20: "<sp>", 0x0A: "<nl>", 0x0D: "<cr>", 0x09: "<tab>"}


def symbol_name(byte: int) -> str:
    """A unique, whitespace-free, readable name for a byte value.

    Printable ASCII stands for itself; space, newline, carriage return and tab have names;
    every other byte is ``<0xHH>``. KenLM tokens and figure labels both use these names.
    """
    if byte in _NAMED_BYTES:
        return _NAMED_BYTES[byte]
    if 0x21 <= byte <= 0x7E:
        return chr(byte)
    return f"<0x{byte:02X}>"


@dataclass(frozen=True)
class Vocab:
    """Byte values seen in training, in id order, plus one reserved id for unseen bytes."""

    symbols: tuple[int, ...]

    @property
    def unk_id(self) -> int:
        return len(self.symbols)

    @property
    def size(self) -> int:
        """Number of ids, the reserved one included (the models' K)."""
        return len(self.symbols) + 1

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8 if self.size <= 256 else np.uint16)

    @property
    def sha256(self) -> str:
        """Fingerprint stored with every result, so results of different vocabularies never mix."""
        return hashlib.sha256(json.dumps(list(self.symbols)).encode()).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes) -> Vocab:
        counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
        return cls(tuple(int(b) for b in np.flatnonzero(counts)))

    def encode(self, data: bytes) -> np.ndarray:
        table = np.full(256, self.unk_id, dtype=self.dtype)
        table[list(self.symbols)] = np.arange(len(self.symbols), dtype=self.dtype)
        return table[np.frombuffer(data, dtype=np.uint8)]

    def decode(self, ids: np.ndarray | Sequence[int]) -> bytes:
        """Bytes for ``ids``; the reserved id decodes to ``?``."""
        table = np.array([*self.symbols, ord("?")], dtype=np.uint8)
        return table[np.asarray(ids, dtype=np.int64)].tobytes()

    def name(self, token_id: int) -> str:
        """Readable name of an id (see ``symbol_name``); ``<unk>`` for the reserved id."""
        return "<unk>" if token_id == self.unk_id else symbol_name(self.symbols[token_id])

    def save(
        self, path: str | os.PathLike[str], splits: Mapping[str, np.ndarray] | None = None
    ) -> None:
        """Write the vocabulary, with the fingerprints of the ``splits`` encoded with it."""
        doc = {
            "symbols": list(self.symbols),
            "names": [self.name(i) for i in range(self.size)],
            "unk_id": self.unk_id,
            "size": self.size,
            "sha256": self.sha256,
            "splits": {
                name: {"length": len(ids), "sha256": array_sha256(ids)}
                for name, ids in (splits or {}).items()
            },
        }
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(doc, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocab:
        doc = read_json(path)
        try:
            vocab = cls(tuple(int(symbol) for symbol in doc["symbols"]))
            intact = vocab.sha256 == doc["sha256"]
        except (KeyError, TypeError, ValueError):
            intact = False
        if not intact:
            raise ValueError(f"{path} is not an intact vocabulary file; {REBUILD}")
        return vocab


def split_bounds(n: int, fractions: Sequence[float]) -> list[tuple[int, int]]:
    """Contiguous [start, stop) bounds of train/val/test for ``n`` items."""
    edges = [0]
    for fraction in fractions[:-1]:
        edges.append(edges[-1] + round(n * fraction))
    edges.append(n)
    return list(itertools.pairwise(edges))


def array_sha256(array: np.ndarray) -> str:
    """Fingerprint of an id array (dtype and contents)."""
    digest = hashlib.sha256(str(array.dtype).encode())
    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def save_split(path: str | os.PathLike[str], ids: np.ndarray) -> None:
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.save(handle, ids)


def load_split(path: str | os.PathLike[str]) -> np.ndarray:
    """The id array at ``path``, checked against the fingerprint that the ``vocab.json``
    beside it records (when it records one for this split)."""
    try:
        ids = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(
            f"{path} is not a readable id array (truncated or damaged); {REBUILD}"
        ) from None
    if not isinstance(ids, np.ndarray) or ids.ndim != 1 or ids.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"{path} is not a split of ids (a 1-D uint8/uint16 array); {REBUILD}")
    vocab_path = Path(path).with_name("vocab.json")
    if vocab_path.is_file():
        record = read_json(vocab_path).get("splits", {}).get(Path(path).stem)
        if record is not None and (
            record["length"] != len(ids) or record["sha256"] != array_sha256(ids)
        ):
            raise ValueError(
                f"{path} is not the split that {vocab_path} was written with "
                f"({len(ids)} ids, recorded {record['length']}): it was changed afterwards; "
                f"delete it and {vocab_path.name} and run snakemake again to rebuild both"
            )
    return ids


def corpus_record(corpus: bytes) -> dict[str, object]:
    """What ``corpus.json`` records of the corpus bytes, for ``read_corpus`` to check."""
    return {"bytes": len(corpus), "sha256": hashlib.sha256(corpus).hexdigest()}


def read_corpus(path: str | os.PathLike[str], info_path: str | os.PathLike[str]) -> bytes:
    """The corpus bytes at ``path``, refused unless they are those ``info_path`` records."""
    corpus = Path(path).read_bytes()
    info = read_json(info_path)
    if {key: info.get(key) for key in ("bytes", "sha256")} != corpus_record(corpus):
        raise ValueError(
            f"{path} is not the corpus that {info_path} records ({len(corpus)} bytes, recorded "
            f"{info.get('bytes')}): it was changed afterwards; delete it and run snakemake "
            "again to rebuild it"
        )
    return corpus
