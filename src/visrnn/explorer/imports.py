"""Any recurrent network in the explorer: an LSTMVis project, or your own arrays.

``write_explorer`` takes a network's tokens, their strings and its states per (layer, name)
(NumPy arrays or PyTorch tensors, time-major as ``nn.LSTM`` returns them), with optional
document starts, annotation tracks and top-k predictions, and writes the explorer's layout
(``visrnn.explorer.store``) under a directory that ``visrnn explore DIR`` opens.

``import_project`` reads an LSTMVis project (Strobelt et al.'s tool; its ``lstm.yml`` as its
``lstmdata/data_handler.LSTMDataHandler`` reads it) and builds the same layout once into a
cache directory outside the project, keyed by the content of every file it names:

``files:``
    names -> files of the project; ``.h5``/``.hdf5`` are HDF5, ``.dict``/``.txt`` dictionaries
    of ``token id`` lines (a line starting with a space is the space token, as LSTMVis reads it).
``word_sequence: {file, path, dict_file}``
    the 1-D array of token ids, and the dictionary naming them.
``states: {file, types: [{type: state|output, layer, path, file, transform: tanh|none}]}``
    2-D (time, cells) arrays; ``state`` is the cell state (here ``c``), ``output`` the
    hidden output (``h``); ``transform`` defaults to ``tanh`` as in LSTMVis and is how the
    page shows and thresholds the state (``queries.default_transform``).
``meta: {name: {file, path, dict, type: general|wordvec, weights_path, vis: {type}}}``
    per-position tracks (``vis.type`` ``discrete``, with a ``dict`` naming the values, or
    ``scalar``); a ``wordvec`` entry is the top-k predictions: ``path`` (time, k) token ids,
    ``weights_path`` their scores.

The project is checked before anything is written: ``yaml.safe_load``; every path inside the
project directory (absolute paths and ``..`` refused); every file and dataset present; words,
states and tracks of one length; token ids in the dictionary; states 2-D. A problem is one
``ProjectError`` naming the file and the key, and leaves no cache entry; an entry is built in
a temporary directory and renamed into place when complete (``store.atomic_directory``).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import yaml

from visrnn.common.files import read_json, sha256_file, write_json
from visrnn.explorer.queries import TRANSFORMS
from visrnn.explorer.store import (
    CHUNK,
    LAYOUT_VERSION,
    Track,
    atomic_directory,
    write_model_arrays,
    write_text_store,
)

#: The file LSTMVis looks for in every directory of its data root.
PROJECT_FILE = "lstm.yml"
#: LSTMVis's state types and the explorer's state names for them.
STATE_NAMES = {"state": "c", "output": "h"}
#: Bumped when the import's output changes: a new version builds new cache entries.
IMPORT_VERSION = 1
NAME = re.compile(r"[^A-Za-z0-9._-]+")


class ProjectError(ValueError):
    """An LSTMVis project the explorer cannot read: the message names the file and the key."""


def default_cache_dir() -> Path:
    """Where imported projects are built: ``$XDG_CACHE_HOME/visrnn`` (``~/.cache/visrnn``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "visrnn"


def safe_name(name: str) -> str:
    """A dataset or model name usable in the explorer's URLs."""
    cleaned = NAME.sub("-", str(name)).strip("-.")
    return cleaned or "project"


# --- your own arrays ---------------------------------------------------------------------


def _array(values: Any) -> np.ndarray:
    """A NumPy array of ``values`` (a PyTorch tensor is detached and moved to the CPU)."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values)


def write_explorer(
    directory: str | os.PathLike[str],
    tokens: Sequence[int] | Sequence[str] | Any,
    states: Mapping[tuple[int, str], Any],
    vocabulary: Sequence[str] | None = None,
    documents: Sequence[int] | None = None,
    tracks: Mapping[str, Any] | None = None,
    predictions: tuple[Any, Any] | None = None,
    transforms: Mapping[tuple[int, str], str] | None = None,
    dataset: str = "mine",
    model: str = "model",
    model_type: str = "custom",
) -> Path:
    """Write one network's states over one text as an explorer directory; returns it.

    ``tokens``: the text as token ids into ``vocabulary`` (each id's string), or as the
    strings themselves (``vocabulary`` then built from them). Tokens of any length render:
    bytes, characters, words, subwords. ``states[layer, name]``: a (positions, units) array
    or tensor per layer (0, 1, ...) and state name (``"h"``, ``"c"``, anything), every one of
    the same shape. ``documents``: the start position of each document (matches never cross
    one). ``tracks[name]``: one value per position (0/1 values make a binary track, which the
    page's precision/recall uses). ``predictions``: (ids, probabilities), each (positions, k),
    the network's top-k next tokens. ``transforms[layer, name]``: ``tanh`` or ``none``, how
    the page shows and thresholds the state (default: ``tanh`` for ``c``, else ``none``).

    Writes ``directory/{dataset}/explorer/text`` and ``.../models/{model}``; open it with
    ``visrnn explore directory``.
    """
    dataset, model = safe_name(dataset), safe_name(model)
    ids, vocabulary = _token_ids(tokens, vocabulary)
    positions = len(ids)
    values = {}
    for (layer, name), array in states.items():
        array = _array(array)
        if array.ndim != 2 or array.shape[0] != positions:
            raise ValueError(
                f"states[{layer}, {name!r}] has shape {array.shape}; need (positions, units) "
                f"with {positions} positions, one per token"
            )
        values[int(layer), str(name)] = array.T
    track_values = {}
    for name, array in (tracks or {}).items():
        array = _array(array).astype(np.float32).reshape(-1)
        if len(array) != positions:
            raise ValueError(f"track {name!r} has {len(array)} values for {positions} tokens")
        binary = bool(np.isin(array[np.isfinite(array)], (0, 1)).all())
        track_values[Track(safe_name(name), binary, f"your track {name}")] = array
    top_ids, top_p = _predictions(predictions, positions)
    root = Path(directory)
    explorer = root / dataset / "explorer"
    write_text_store(
        explorer / "text",
        dataset,
        ids,
        [],
        track_values,
        vocabulary=vocabulary,
        documents=_documents(documents, positions),
    )
    declared = {f"l{layer}.{name}": check for (layer, name), check in (transforms or {}).items()}
    bad = {k: v for k, v in declared.items() if v not in TRANSFORMS}
    if bad:
        raise ValueError(f"transforms {bad}: each must be one of {', '.join(TRANSFORMS)}")
    write_model_arrays(
        explorer / "models" / model,
        model,
        model_type,
        values,
        top_ids,
        top_p,
        np.full(positions, np.nan, dtype=np.float32),
        extra={"transforms": declared},
    )
    return root


def _token_ids(tokens: Any, vocabulary: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    if vocabulary is None:
        strings = [str(t) for t in tokens]
        vocabulary = list(dict.fromkeys(strings))
        index = {s: i for i, s in enumerate(vocabulary)}
        return np.array([index[s] for s in strings], dtype=np.int64), vocabulary
    ids = _array(tokens).astype(np.int64).reshape(-1)
    outside = ids[(ids < 0) | (ids >= len(vocabulary))]
    if len(outside):
        raise ValueError(
            f"token ids {sorted(set(outside.tolist()))[:10]} outside the vocabulary of "
            f"{len(vocabulary)} strings"
        )
    return ids, [str(v) for v in vocabulary]


def _documents(documents: Sequence[int] | None, positions: int) -> np.ndarray | None:
    if documents is None:
        return None
    starts = np.unique(np.concatenate([[0], _array(documents).astype(np.int64).reshape(-1)]))
    if starts[-1] >= positions or starts[0] < 0:
        raise ValueError(f"document starts must be in 0..{positions - 1}, got {starts.tolist()}")
    return starts


def _predictions(predictions: tuple[Any, Any] | None, positions: int) -> tuple[Any, Any]:
    if predictions is None:
        return np.zeros((positions, 0), np.uint16), np.zeros((positions, 0), np.float16)
    ids, probabilities = (_array(p) for p in predictions)
    if ids.shape != probabilities.shape or ids.ndim != 2 or len(ids) != positions:
        raise ValueError(
            f"predictions: ids {ids.shape} and probabilities {probabilities.shape} must both "
            f"be (positions, k) with {positions} positions"
        )
    return ids, probabilities


# --- LSTMVis projects --------------------------------------------------------------------


@dataclass
class Project:
    """A checked LSTMVis project: what to read, where; built by ``read_project``."""

    config_path: Path
    directory: Path
    name: str
    files: dict[str, Path]
    words: tuple[str, str]  # (file name key, dataset path)
    vocabulary: list[str]
    states: dict[tuple[int, str], tuple[str, str]] = field(default_factory=dict)
    transforms: dict[str, str] = field(default_factory=dict)
    tracks: dict[str, tuple[str, str, tuple[str, ...] | None]] = field(default_factory=dict)
    predictions: tuple[str, str, str | None] | None = None
    positions: int = 0
    units: int = 0


def read_dict(path: Path) -> dict[int, str]:
    """A dictionary file as LSTMVis reads it: ``token id`` per line; a line starting with a
    space (and holding only the id) is the space token; other lines are skipped."""
    out: dict[int, str] = {}
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            parts = line.split()
            if len(parts) == 2 and parts[1].lstrip("-").isdigit():
                out[int(parts[1])] = parts[0]
            elif line.startswith(" ") and line.strip().isdigit():
                out[int(line.strip())] = " "
    return out


def _vocabulary(known: dict[int, str]) -> list[str]:
    size = max(known) + 1 if known else 0
    return [known.get(i, "") for i in range(size)]


class _Reader:
    """The project's files, opened read-only, with errors that name the file and the key."""

    def __init__(self, config_path: Path, config: Mapping[str, Any]) -> None:
        import h5py  # imported projects only; the pipeline's explorer does not need it

        self.h5py = h5py
        self.config_path = config_path
        self.directory = config_path.parent.resolve()
        self.config = config
        files = self.require(config, "files", dict, "files")
        self.files = {str(k): self.inside(str(v), f"files.{k}") for k, v in files.items()}
        self.opened: dict[str, Any] = {}

    def fail(self, key: str, problem: str) -> ProjectError:
        return ProjectError(f"{self.config_path}: {key}: {problem}")

    def require(self, mapping: Any, name: str, kind: type, key: str) -> Any:
        if not isinstance(mapping, dict) or name not in mapping:
            raise self.fail(key, "missing")
        if not isinstance(mapping[name], kind):
            raise self.fail(key, f"must be a {kind.__name__}, got {mapping[name]!r}")
        return mapping[name]

    def inside(self, name: str, key: str) -> Path:
        """``name`` resolved inside the project directory, else refused naming the key."""
        relative = PurePosixPath(name.replace("\\", "/"))
        if relative.is_absolute() or Path(name).is_absolute():
            raise self.fail(key, f"absolute path {name!r} refused; name a file in the project")
        if ".." in relative.parts:
            raise self.fail(key, f"path {name!r} with '..' refused; name a file in the project")
        resolved = (self.directory / relative).resolve()
        if not resolved.is_relative_to(self.directory):
            raise self.fail(key, f"{name!r} resolves to {resolved}, outside the project")
        return resolved

    def file(self, name: Any, key: str, kinds: tuple[str, ...]) -> Path:
        if name not in self.files:
            raise self.fail(key, f"{name!r} is not in files: ({', '.join(self.files)})")
        path = self.files[name]
        if path.suffix.lower() not in kinds:
            raise self.fail(key, f"files.{name} ({path.name}) is not a {'/'.join(kinds)} file")
        if not path.is_file():
            raise self.fail(key, f"files.{name}: {path} does not exist")
        return path

    def dataset(self, name: Any, path: Any, key: str, ndim: int | tuple[int, ...]) -> Any:
        file = self.file(name, f"{key}.file", (".h5", ".hdf5"))
        if name not in self.opened:
            try:
                self.opened[name] = self.h5py.File(file, "r")
            except OSError as error:
                raise self.fail(f"{key}.file", f"{file} is not HDF5 ({error})") from None
        handle = self.opened[name]
        if not isinstance(path, str) or path not in handle:
            raise self.fail(f"{key}.path", f"no dataset {path!r} in {file.name}")
        data = handle[path]
        if not isinstance(data, self.h5py.Dataset):
            raise self.fail(f"{key}.path", f"{path!r} in {file.name} is a group, not a dataset")
        wanted = (ndim,) if isinstance(ndim, int) else ndim
        if data.ndim not in wanted:
            raise self.fail(
                f"{key}.path",
                f"{file.name}:{path} has shape {data.shape}; "
                f"need {' or '.join(map(str, wanted))}-D",
            )
        return data

    def dictionary(self, name: Any, key: str) -> dict[int, str]:
        return read_dict(self.file(name, key, (".dict", ".txt")))

    def close(self) -> None:
        for handle in self.opened.values():
            handle.close()


def _chunks(size: int, step: int = CHUNK * 8) -> Iterator[slice]:
    for start in range(0, size, step):
        yield slice(start, min(size, start + step))


def _check_ids(reader: _Reader, data: Any, known: dict[int, str], key: str) -> None:
    """Every id in ``data`` names a dictionary entry (read in chunks)."""
    if not np.issubdtype(data.dtype, np.integer):
        raise reader.fail(key, f"token ids must be integers, got {data.dtype}")
    lookup = np.zeros(max(known, default=-1) + 1, dtype=bool)
    lookup[[i for i in known if i >= 0]] = True
    for part in _chunks(len(data)):
        ids = np.asarray(data[part]).reshape(-1).astype(np.int64)
        bad = ids[(ids < 0) | (ids >= len(lookup))]
        if not len(bad):
            bad = ids[~lookup[ids]]
        if len(bad):
            raise reader.fail(
                key,
                f"ids {sorted(set(bad.tolist()))[:10]} are not in the dictionary "
                f"({len(known)} entries)",
            )


def read_project(config_path: str | os.PathLike[str]) -> tuple[Project, _Reader]:
    """Check an LSTMVis project's ``lstm.yml`` and every file it names; nothing is written."""
    config_path = Path(config_path)
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as error:
        raise ProjectError(f"{config_path}: not readable YAML ({error})") from None
    if not isinstance(config, dict):
        raise ProjectError(f"{config_path}: not a mapping of keys (files:, states:, ...)")
    reader = _Reader(config_path, config)
    try:
        return _read(reader, config), reader
    except BaseException:
        reader.close()
        raise


def _read(reader: _Reader, config: dict[str, Any]) -> Project:
    words = reader.require(config, "word_sequence", dict, "word_sequence")
    sequence = reader.dataset(words.get("file"), words.get("path"), "word_sequence", 1)
    if "dict_file" not in words:
        raise reader.fail("word_sequence.dict_file", "missing")
    known = reader.dictionary(words["dict_file"], "word_sequence.dict_file")
    _check_ids(reader, sequence, known, "word_sequence.path")
    positions = len(sequence)
    name = safe_name(config.get("name") or reader.directory.name)
    project = Project(
        reader.config_path,
        reader.directory,
        name,
        reader.files,
        (words["file"], words["path"]),
        _vocabulary(known),
        positions=positions,
    )
    states = reader.require(config, "states", dict, "states")
    types = reader.require(states, "types", list, "states.types")
    if not types:
        raise reader.fail("states.types", "empty; list at least one {type, layer, path}")
    layers = sorted({t.get("layer", 0) for t in types if isinstance(t, dict)})
    for index, entry in enumerate(types):
        key = f"states.types[{index}]"
        if not isinstance(entry, dict):
            raise reader.fail(key, f"must be a mapping {{type, layer, path}}, got {entry!r}")
        kind = entry.get("type", "state")
        if kind not in STATE_NAMES:
            raise reader.fail(f"{key}.type", f"{kind!r}; LSTMVis's types are state, output")
        transform = entry.get("transform", "tanh")
        if transform not in TRANSFORMS:
            raise reader.fail(f"{key}.transform", f"{transform!r}; one of {', '.join(TRANSFORMS)}")
        data = reader.dataset(entry.get("file", states.get("file")), entry.get("path"), key, 2)
        if data.shape[0] != positions:
            raise reader.fail(
                f"{key}.path",
                f"{data.shape[0]} time steps but word_sequence has {positions} words",
            )
        if project.units and data.shape[1] != project.units:
            raise reader.fail(
                f"{key}.path", f"{data.shape[1]} cells; the other states have {project.units}"
            )
        project.units = data.shape[1]
        layer, state = layers.index(entry.get("layer", 0)), STATE_NAMES[kind]
        if (layer, state) in project.states:
            raise reader.fail(key, f"a second {kind} of layer {entry.get('layer', 0)}")
        project.states[layer, state] = (entry.get("file", states.get("file")), entry["path"])
        project.transforms[f"l{layer}.{state}"] = transform
    for track, entry in (config.get("meta") or {}).items():
        _read_meta(reader, project, str(track), entry, known)
    return project


def _read_meta(
    reader: _Reader, project: Project, track: str, entry: Any, known: dict[int, str]
) -> None:
    key = f"meta.{track}"
    if not isinstance(entry, dict):
        raise reader.fail(key, f"must be a mapping {{file, path, vis}}, got {entry!r}")
    if entry.get("index", "self") != "self":
        raise reader.fail(f"{key}.index", "only per-position tracks (index: self) are read")
    kind = entry.get("type", "general")
    if kind == "wordvec":
        data = reader.dataset(entry.get("file"), entry.get("path"), key, (1, 2))
        if data.shape[0] != project.positions:
            raise reader.fail(
                f"{key}.path", f"{data.shape[0]} rows but word_sequence has {project.positions}"
            )
        _check_ids(
            reader,
            data,
            known if "dict" not in entry else reader.dictionary(entry["dict"], f"{key}.dict"),
            f"{key}.path",
        )
        weights = entry.get("weights_path")
        if weights is not None:
            scores = reader.dataset(entry.get("file"), weights, f"{key}.weights_path", (1, 2))
            if scores.shape != data.shape:
                raise reader.fail(
                    f"{key}.weights_path", f"shape {scores.shape}; its ids have {data.shape}"
                )
        project.predictions = (entry["file"], entry["path"], weights)
        return
    if kind != "general":
        raise reader.fail(f"{key}.type", f"{kind!r}; LSTMVis's are general, wordvec")
    data = reader.dataset(entry.get("file"), entry.get("path"), key, 1)
    if data.shape[0] != project.positions:
        raise reader.fail(
            f"{key}.path", f"{data.shape[0]} values but word_sequence has {project.positions}"
        )
    categories = None
    if "dict" in entry:
        names = reader.dictionary(entry["dict"], f"{key}.dict")
        _check_ids(reader, data, names, f"{key}.path")
        categories = tuple(_vocabulary(names))
    project.tracks[safe_name(track)] = (entry["file"], entry["path"], categories)


def content_key(project: Project, memo: Path | None = None) -> str:
    """The cache key: the import's version and the content of lstm.yml and every file.

    Hashing gigabytes of states on every start is slow, so each file's hash is remembered in
    ``memo`` (a json in the cache) with the size, modification time and inode it had; a file
    whose three are unchanged is not read again.
    """
    known = read_json(memo) if memo is not None and memo.is_file() else {}
    digest = hashlib.sha256(f"import {IMPORT_VERSION} layout {LAYOUT_VERSION}\n".encode())
    digest.update(project.config_path.read_bytes())
    for name in sorted(project.files):
        path = project.files[name]
        digest.update(f"\n{name}\n".encode())
        if path.is_file():
            digest.update(_file_hash(path, known).encode())
    if memo is not None:
        write_json(memo, known)
    return digest.hexdigest()


def _file_hash(path: Path, known: dict[str, Any]) -> str:
    stat = path.stat()
    signature = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
    remembered = known.get(str(path))
    if remembered and remembered["signature"] == signature:
        return str(remembered["sha256"])
    sha256 = sha256_file(path)
    known[str(path)] = {"signature": signature, "sha256": sha256}
    return sha256


class _TimeMajor:
    """A (time, units) HDF5 dataset seen as (units, time), read a block of time at a time
    (``store.write_model_arrays`` slices it as ``[:, start:stop]``)."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.shape = (data.shape[1], data.shape[0])

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        return np.asarray(self.data[key[1]], dtype=np.float32).T


def import_project(
    config_path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Build (once) the explorer layout of the LSTMVis project at ``config_path``; returns
    the cache entry, a directory ``visrnn explore`` serves like a results directory."""
    project, reader = read_project(config_path)
    try:
        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        if cache.resolve().is_relative_to(project.directory):
            raise ProjectError(
                f"{project.config_path}: the cache {cache} is inside the project; the import "
                "never writes into a project (give --cache elsewhere)"
            )
        entry = cache / "lstmvis" / content_key(project, cache / "lstmvis" / "hashes.json")[:32]
        if not (entry / project.name / "explorer" / "done.json").is_file():
            with atomic_directory(entry) as tmp:
                _build(project, reader, tmp / project.name / "explorer")
        return entry
    finally:
        reader.close()


def _build(project: Project, reader: _Reader, explorer: Path) -> None:
    words = reader.opened[project.words[0]][project.words[1]]
    ids = np.concatenate([np.asarray(words[part]) for part in _chunks(len(words))])
    tracks = {}
    for name, (file, path, categories) in project.tracks.items():
        values = np.asarray(reader.opened[file][path], dtype=np.float32)
        binary = bool(np.isin(values[np.isfinite(values)], (0, 1)).all())
        tracks[Track(name, binary, f"LSTMVis meta {name}", categories)] = values
    write_text_store(
        explorer / "text", project.name, ids, [], tracks, vocabulary=project.vocabulary
    )
    values = {
        key: _TimeMajor(reader.opened[file][path]) for key, (file, path) in project.states.items()
    }
    if project.predictions is not None:
        file, path, weights = project.predictions
        top_ids = np.asarray(reader.opened[file][path]).reshape(project.positions, -1)
        top_p = (
            np.asarray(reader.opened[file][weights], dtype=np.float32).reshape(top_ids.shape)
            if weights is not None
            else np.full(top_ids.shape, np.nan, np.float32)
        )
    else:
        top_ids = np.zeros((project.positions, 0), np.uint16)
        top_p = np.zeros((project.positions, 0), np.float16)
    write_model_arrays(
        explorer / "models" / "states",
        "states",
        "lstmvis",
        values,
        top_ids,
        top_p,
        np.full(project.positions, np.nan, dtype=np.float32),
        extra={"transforms": project.transforms, "source": str(project.config_path)},
    )
    write_json(explorer / "done.json", {"source": str(project.config_path)})


def explorer_roots(
    path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
) -> list[Path]:
    """What ``visrnn explore PATH`` serves: PATH itself (a run's results, or a directory
    ``write_explorer`` wrote) and the cache entry of every LSTMVis project under it."""
    root = Path(path)
    projects = sorted(root.rglob(PROJECT_FILE))
    roots = [root] if not projects or any(root.glob("*/explorer/text/text.json")) else []
    named: dict[str, Path] = {}
    for config in projects:
        entry = import_project(config, cache_dir)
        (name,) = (p.name for p in entry.iterdir())
        if name in named:
            raise ProjectError(
                f"{config}: name: {name!r} is also the name of {named[name]}; "
                "give each project its own name"
            )
        named[name] = config
        roots.append(entry)
    return roots


__all__ = [
    "ProjectError",
    "default_cache_dir",
    "explorer_roots",
    "import_project",
    "read_dict",
    "read_project",
    "write_explorer",
]
