"""The explorer's on-disk layout: unit-major float16 ``.npy`` files read through memory maps.

A Parquet dump (``visrnn.inside.activations``) is time-major in column blocks: one unit's trace over
1M positions decodes a whole block of 32 units in every row group, far too slow to scan 20
units per query. The explorer reads this layout instead, precomputed once per model:

``results/{ds}/explorer/text/``
    ``text.npy`` (uint8, the test split's bytes), one ``track.<name>.npy`` (float32) per
    annotation track, and ``text.json`` describing them. A text of tokens other than bytes
    (words, subwords: an imported network's, ``visrnn.explorer.imports``) keeps token ids in
    ``text.npy`` and their strings in ``vocabulary.json``; ``documents.npy``, when present,
    holds the start position of each document (no match crosses one).
``results/{ds}/explorer/models/{model}/``
    one ``l<layer>.<state>.npy`` (float16, shape (units, positions)) per layer and state, so
    that a unit's trace is one contiguous run of bytes and a window of all units is one
    strided read; ``top_ids.npy`` / ``top_p.npy`` (the model's ``TOP_K`` likeliest next
    characters and their probabilities, from the last layer's h through the checkpoint's
    decoder), ``p_target.npy`` (from the eval Parquet) and ``model.json``.

Every file is opened with ``mmap_mode="r"``: the server's memory does not grow with the dump.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from visrnn.common.files import read_json, write_json

if TYPE_CHECKING:
    import torch

#: Next-character predictions kept per position for the text strip's hover.
TOP_K = 5
#: Positions converted per read of the Parquet dump (bounds the precompute's memory).
CHUNK = 16384
#: Character classes of the ``char_class`` track, in code order.
CHAR_CLASSES = ("other", "letter", "digit", "space", "newline", "punctuation")
#: Format version written into the json files; readers refuse another.
LAYOUT_VERSION = 1


@dataclass(frozen=True)
class Track:
    """An annotation track: one float32 value per test position. A discrete track's values
    are indices into ``categories`` (its names)."""

    name: str
    binary: bool
    description: str
    categories: tuple[str, ...] | None = None


def char_classes(text: np.ndarray) -> np.ndarray:
    """Code of each byte's class, an index into ``CHAR_CLASSES``."""
    text = np.asarray(text, dtype=np.uint8)
    codes = np.zeros(len(text), dtype=np.float32)
    letters = ((text >= 65) & (text <= 90)) | ((text >= 97) & (text <= 122))
    digits = (text >= 48) & (text <= 57)
    spaces = (text == 32) | (text == 9)
    newlines = (text == 10) | (text == 13)
    punct = (text > 32) & (text < 127) & ~letters & ~digits
    for code, mask in enumerate((letters, digits, spaces, newlines, punct), start=1):
        codes[mask] = code
    return codes


def oracle_codes(steps: Sequence[Any], positions: int) -> tuple[np.ndarray, list[str]]:
    """Each position's Figure 6 error category, from ``visrnn.figures.oracles.peel``'s steps.

    Returns uint8 codes (0: not an error; k: the k-th family of the chain, in peeling
    order, ``remaining`` last) padded to ``positions``, and the names of the codes.
    """
    names = ["no error"]
    codes = np.zeros(positions, dtype=np.uint8)
    for step in steps:
        family = step.oracle.family
        if family not in names:
            names.append(family)
        removed = np.flatnonzero(step.removed)
        codes[removed[removed < positions]] = names.index(family)
    return codes, names


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; it replaces ``path`` if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        tmp.chmod(0o777 & ~_umask())
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_store(
    path: str | os.PathLike[str],
    dataset: str,
    text: bytes | np.ndarray,
    symbols: list[int],
    tracks: Mapping[Track, np.ndarray],
    vocabulary: Sequence[str] | None = None,
    documents: Sequence[int] | np.ndarray | None = None,
) -> None:
    """Write the test text, the vocabulary's bytes (``symbols[id]``) and the tracks.

    With ``vocabulary``, ``text`` is an array of token ids and ``vocabulary[id]`` each
    token's string (the predictions' ids index it too); ``documents`` are sorted document
    start positions.
    """
    ids = (
        np.frombuffer(text, dtype=np.uint8)
        if isinstance(text, bytes | bytearray)
        else np.asarray(text)
    )
    if vocabulary is not None:
        ids = ids.astype(np.uint32)
    with atomic_directory(path) as tmp:
        np.save(tmp / "text.npy", ids)
        for track, values in tracks.items():
            if len(values) != len(ids):
                raise ValueError(
                    f"track {track.name!r} has {len(values)} values for {len(ids)} positions"
                )
            np.save(tmp / f"track.{track.name}.npy", np.asarray(values, dtype=np.float32))
        if vocabulary is not None:
            write_json(tmp / "vocabulary.json", [str(v) for v in vocabulary])
        if documents is not None:
            np.save(tmp / "documents.npy", np.asarray(documents, dtype=np.int64))
        write_json(
            tmp / "text.json",
            {
                "version": LAYOUT_VERSION,
                "dataset": dataset,
                "num_positions": len(ids),
                "symbols": [int(b) for b in symbols],
                "tracks": [
                    {**vars(track), "categories": list(track.categories or []) or None}
                    for track in tracks
                ],
                "char_classes": list(CHAR_CLASSES),
            },
        )


def write_model_store(
    path: str | os.PathLike[str],
    dump_path: str | os.PathLike[str],
    decoder: torch.nn.Linear,
    p_target: np.ndarray,
    extra: Mapping[str, Any] | None = None,
    oracle_steps: Sequence[Any] | None = None,
) -> None:
    """Convert the dump at ``dump_path`` to the unit-major layout, with the top predictions.

    ``oracle_steps`` (``visrnn.figures.oracles.peel`` of this model's errors), when given, become a
    per-position error-category track (``oracle.npy``, names in ``model.json``).

    ``decoder`` maps the last layer's h to next-character logits (the model's own decoder;
    dropout is off at test time). ``p_target[t]`` is the eval Parquet's probability of the
    character after position ``t`` (one fewer than the test positions: the last has none).
    """
    import torch  # the precompute's only; the server reads the layout without it

    from visrnn.inside.activations import ActivationDump

    dump = ActivationDump(dump_path)
    positions = dump.num_positions
    with atomic_directory(path) as tmp:
        outputs = {
            (layer, name): np.lib.format.open_memmap(
                tmp / f"l{layer}.{name}.npy",
                mode="w+",
                dtype=np.float16,
                shape=(dump.hidden_size, positions),
            )
            for layer in range(dump.layers)
            for name in dump.names
        }
        top_ids = np.zeros((positions, TOP_K), dtype=np.uint16)
        top_p = np.zeros((positions, TOP_K), dtype=np.float16)
        last = dump.layers - 1
        for start in range(0, positions, CHUNK):
            stop = min(start + CHUNK, positions)
            for (layer, name), out in outputs.items():
                values = dump.matrix(layer, name, start, stop)
                out[:, start:stop] = values.T
                if layer == last and name == "h":
                    with torch.no_grad():
                        logits = decoder(torch.from_numpy(values).to(decoder.weight.dtype))
                        probs, ids = logits.softmax(-1).topk(min(TOP_K, logits.shape[-1]))
                    top_ids[start:stop, : ids.shape[1]] = ids.numpy()
                    top_p[start:stop, : ids.shape[1]] = probs.numpy()
        for out in outputs.values():
            out.flush()
        del outputs
        meta = {
            "model_id": dump.model_id,
            "model_type": dump.model_type,
            "layers": dump.layers,
            "hidden_size": dump.hidden_size,
            "states": list(dump.names),
            "num_positions": positions,
            "vocab_sha256": dump.vocab_sha256,
            **(extra or {}),
        }
        if oracle_steps is not None:
            codes, meta["oracle_categories"] = oracle_codes(oracle_steps, positions)
            np.save(tmp / "oracle.npy", codes)
        _write_predictions(tmp, meta, top_ids, top_p, p_target)


def _write_predictions(
    directory: Path,
    meta: Mapping[str, Any],
    top_ids: np.ndarray,
    top_p: np.ndarray,
    p_target: np.ndarray,
) -> None:
    positions = meta["num_positions"]
    top_ids = np.asarray(top_ids)
    wide = top_ids.size and int(top_ids.max()) > np.iinfo(np.uint16).max
    np.save(directory / "top_ids.npy", top_ids.astype(np.uint32 if wide else np.uint16))
    np.save(directory / "top_p.npy", np.asarray(top_p, dtype=np.float16))
    padded = np.full(positions, np.nan, dtype=np.float32)
    known = min(positions, len(p_target))
    padded[:known] = p_target[:known]
    np.save(directory / "p_target.npy", padded)
    write_json(directory / "model.json", {"version": LAYOUT_VERSION, **meta})


def write_model_arrays(
    path: str | os.PathLike[str],
    model_id: str,
    model_type: str,
    values: Mapping[tuple[int, str], np.ndarray],
    top_ids: np.ndarray,
    top_p: np.ndarray,
    p_target: np.ndarray,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write a model store from (units, positions) arrays per (layer, state) in memory,
    memory-mapped or read lazily by ``[:, start:stop]`` blocks: synthetic dumps for the tests
    and the benchmark, imported networks (``visrnn.explorer.imports``). A layer may lack a
    state (an LSTMVis project may give one layer's cell state only): ``pairs`` then lists
    those present."""
    layers = sorted({layer for layer, _ in values})
    states = list(dict.fromkeys(state for _, state in values))
    shapes = {tuple(array.shape) for array in values.values()}
    if len(shapes) != 1 or layers != list(range(len(layers))):
        raise ValueError(f"{path}: need one (units, positions) shape and layers 0..L-1")
    ((units, positions),) = shapes
    with atomic_directory(path) as tmp:
        for (layer, state), array in values.items():
            out = np.lib.format.open_memmap(
                tmp / f"l{layer}.{state}.npy", mode="w+", dtype=np.float16, shape=array.shape
            )
            for start in range(0, positions, CHUNK * 8):
                out[:, start : start + CHUNK * 8] = array[:, start : start + CHUNK * 8]
            out.flush()
            del out
        meta = {
            "model_id": model_id,
            "model_type": model_type,
            "layers": len(layers),
            "hidden_size": units,
            "states": states,
            "num_positions": positions,
            **(extra or {}),
        }
        if len(values) != len(layers) * len(states):
            meta["pairs"] = [[layer, state] for layer, state in values]
        _write_predictions(tmp, meta, top_ids, top_p, p_target)


def _check_version(meta: Mapping[str, Any], path: Path) -> None:
    if meta.get("version") != LAYOUT_VERSION:
        raise ValueError(
            f"{path} has layout version {meta.get('version')}, this code reads "
            f"{LAYOUT_VERSION}; rerun the explorer rules (snakemake rebuilds them)"
        )


class TextStore:
    """The test text and its annotation tracks, memory-mapped."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.meta = read_json(self.path / "text.json")
        _check_version(self.meta, self.path / "text.json")
        self.text = np.load(self.path / "text.npy", mmap_mode="r")
        self.tracks = {
            t["name"]: Track(**{**t, "categories": tuple(t.get("categories") or ()) or None})
            for t in self.meta["tracks"]
        }
        self._values = {
            name: np.load(self.path / f"track.{name}.npy", mmap_mode="r") for name in self.tracks
        }
        vocabulary = self.path / "vocabulary.json"
        self.vocabulary: list[str] | None = read_json(vocabulary) if vocabulary.is_file() else None
        documents = self.path / "documents.npy"
        self.documents: np.ndarray | None = np.load(documents) if documents.is_file() else None

    def strings(self, ids: np.ndarray) -> list[str]:
        """Each token id's string (a text of tokens; ``vocabulary``)."""
        vocabulary = self.vocabulary or []
        return [vocabulary[i] if i < len(vocabulary) else "<unk>" for i in np.asarray(ids).tolist()]

    @property
    def num_positions(self) -> int:
        return len(self.text)

    def track(self, name: str) -> np.ndarray:
        return self._values[name]

    def add_track(self, track: Track, values: np.ndarray) -> None:
        """Serve one more track (a user's, ``visrnn.explorer.tracks``) beside the stored ones."""
        if track.name in self.tracks:
            raise ValueError(f"{self.path}: a track named {track.name!r} exists already")
        if len(values) != self.num_positions:
            raise ValueError(
                f"track {track.name!r} has {len(values)} values for {self.num_positions} positions"
            )
        self.tracks[track.name] = track
        self._values[track.name] = np.asarray(values, dtype=np.float32)


class ModelStore:
    """One model's unit-major activations and predictions, memory-mapped."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.meta = read_json(self.path / "model.json")
        _check_version(self.meta, self.path / "model.json")
        self.states: tuple[str, ...] = tuple(self.meta["states"])
        self.layers: int = self.meta["layers"]
        self.hidden_size: int = self.meta["hidden_size"]
        self.num_positions: int = self.meta["num_positions"]
        self._maps: dict[tuple[int, str], np.ndarray] = {}
        self.pairs = {(int(layer), str(state)) for layer, state in self.meta.get("pairs", [])}
        if not self.pairs:
            self.pairs = {(layer, state) for layer in range(self.layers) for state in self.states}
        for layer, state in self.pairs:
            if not self._values_path(layer, state).is_file():
                raise ValueError(
                    f"{self._values_path(layer, state)} missing; rerun the explorer rules"
                )
        self.top_ids = np.load(self.path / "top_ids.npy", mmap_mode="r")
        self.top_p = np.load(self.path / "top_p.npy", mmap_mode="r")
        self.p_target = np.load(self.path / "p_target.npy", mmap_mode="r")
        oracle = self.path / "oracle.npy"
        self.oracle = np.load(oracle, mmap_mode="r") if oracle.is_file() else None

    def _values_path(self, layer: int, state: str) -> Path:
        return self.path / f"l{layer}.{state}.npy"

    def values(self, layer: int, state: str) -> np.ndarray:
        """(units, positions) float16 memory map of one layer's state.

        Maps are kept between queries (a page already mapped costs nothing to read again)
        until ``release_maps``, which the server calls when its resident memory passes
        ``server.RELEASE_RSS_MB``: the mapped pages then leave the process with the maps.
        """
        key = (layer, state)
        if key not in self._maps:
            self._maps[key] = np.load(self._values_path(layer, state), mmap_mode="r")
        return self._maps[key]

    def release_maps(self) -> None:
        self._maps.clear()
