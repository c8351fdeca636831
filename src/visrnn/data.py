"""Vocabulary and splits: the compact arrays every later stage reads.

A corpus is a byte string. The vocabulary is the set of byte values of the training split,
sorted; id ``len(symbols)`` is reserved for bytes never seen in training. Splits are stored
once as ``.npy`` arrays of ids (uint8, or uint16 for vocabularies over 256 ids).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visrnn.files import atomic_path

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

    def save(self, path: str | os.PathLike[str]) -> None:
        doc = {
            "symbols": list(self.symbols),
            "names": [self.name(i) for i in range(self.size)],
            "unk_id": self.unk_id,
            "size": self.size,
            "sha256": self.sha256,
        }
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(doc, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocab:
        return cls(tuple(json.loads(Path(path).read_text())["symbols"]))


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
    return np.load(path)
