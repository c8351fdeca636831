"""Activation dumps: every gate, cell and hidden state of a model over a stretch of test text.

A dump is one Parquet file, time-major: one row per test position with its ``position``, the
``input`` id read at that step, and for each layer and activation name the unit values as
fixed-size lists of float16. The cell pages, the saturation plots and the explorer read one
cell's trace or one position's state from it without loading the file, so:

- rows are written in row groups of a fixed number of positions, so that a position range
  maps to a few row groups;
- each (layer, name) is split into blocks of ``units_per_column`` units, one column per block
  (``l0.c[0:32]``, ``l0.c[32:64]``, ...), so that one unit's trace decodes only its block.
  Measured on a 100K-position dump of a 512-cell LSTM on a shared 2-core machine: one
  trace decodes in about 1 s from a whole-width column, 70-90 ms from 64-unit blocks and
  35-50 ms from 32-unit blocks;
- float columns use byte-stream-split encoding without dictionaries, which decodes float16
  several times faster than the default dictionary encoding and compresses better under zstd.

The values come from ``iter_activations``, which computes what ``CharRNN.stepwise`` returns
from the fused recurrent kernels, several times faster. ``ActivationDump`` is the reader.
Model and data fingerprints live in the schema metadata.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from visrnn.common.files import REBUILD, atomic_path
from visrnn.models.gates import ACTIVATIONS, layer_gates, lstm_cell_states
from visrnn.models.recurrent import CharRNN, PaperGRU, State

logger = logging.getLogger(__name__)

#: Units per column block; see the module docstring for the measurement behind it.
UNITS_PER_COLUMN = 32
#: Positions per row group: one position's state decodes a row group of every block.
ROW_GROUP = 2048

_META_PREFIX = "visrnn."
_META_KEYS = (
    "model_id",
    "model_type",
    "layers",
    "hidden_size",
    "names",
    "vocab_sha256",
    "num_positions",
    "units_per_column",
)


@dataclass(frozen=True)
class ColumnBlock:
    """One Parquet column: units ``[start, stop)`` of activation ``name`` in ``layer``."""

    layer: int
    name: str
    start: int
    stop: int

    @property
    def column(self) -> str:
        return f"l{self.layer}.{self.name}[{self.start}:{self.stop}]"


def column_blocks(
    layers: int, names: Sequence[str], hidden_size: int, units_per_column: int
) -> list[ColumnBlock]:
    """The column layout of a dump, in file order (layer, then name, then units)."""
    return [
        ColumnBlock(layer, name, start, min(start + units_per_column, hidden_size))
        for layer in range(layers)
        for name in names
        for start in range(0, hidden_size, units_per_column)
    ]


def _schema(blocks: Sequence[ColumnBlock], metadata: dict[str, str]) -> pa.Schema:
    fields = [pa.field("position", pa.int32()), pa.field("input", pa.uint16())]
    fields += [pa.field(b.column, pa.list_(pa.float16(), b.stop - b.start)) for b in blocks]
    return pa.schema(fields, metadata={_META_PREFIX + k: v for k, v in metadata.items()})


def _float16_column(values: np.ndarray, width: int) -> pa.FixedSizeListArray:
    flat = pa.array(np.ascontiguousarray(values, dtype=np.float16).reshape(-1))
    return pa.FixedSizeListArray.from_arrays(flat, width)


def dump_activations(
    model: CharRNN,
    ids: np.ndarray,
    path: str | os.PathLike[str],
    *,
    model_id: str,
    vocab_sha256: str,
    chunk: int = 4096,
    row_group: int = ROW_GROUP,
    units_per_column: int = UNITS_PER_COLUMN,
) -> None:
    """Write every activation of ``model`` over ``ids`` to ``path`` (see ``iter_activations``).

    ``ids`` is the text to dump (the caller slices the first ``max_chars`` test ids). It runs
    in chunks of ``chunk`` steps with batch 1 and the state carried across chunks, so memory
    is bounded by one chunk plus one row group, whatever the length; the file is written
    atomically.
    """
    cfg = model.config
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) == 0:
        raise ValueError(f"{path}: ids must be a non-empty 1-D array, got shape {ids.shape}")
    if ids.min() < 0 or ids.max() >= cfg.vocab_size:
        raise ValueError(
            f"{path}: ids outside [0, {cfg.vocab_size}) for model {model_id}; "
            "was the text encoded with the model's vocabulary?"
        )
    if min(chunk, row_group, units_per_column) < 1:
        raise ValueError("chunk, row_group and units_per_column must be positive")
    metadata = _metadata(
        model_id,
        cfg.model_type,
        cfg.num_layers,
        cfg.hidden_size,
        ACTIVATIONS[cfg.model_type],
        vocab_sha256,
        len(ids),
        units_per_column,
    )
    groups = _row_groups(model, ids, chunk, row_group, model_id)
    _write_dump(path, ids, groups, metadata)


def _metadata(
    model_id: str,
    model_type: str,
    layers: int,
    hidden_size: int,
    names: Sequence[str],
    vocab_sha256: str,
    num_positions: int,
    units_per_column: int,
) -> dict[str, str]:
    """A dump's fingerprints and layout, as its schema metadata holds them (``_META_KEYS``)."""
    values = (model_id, model_type, layers, hidden_size, ",".join(names))
    values += (vocab_sha256, num_positions, units_per_column)
    return {key: str(value) for key, value in zip(_META_KEYS, values, strict=True)}


def write_activation_arrays(
    path: str | os.PathLike[str],
    arrays: Mapping[tuple[int, str], np.ndarray],
    ids: np.ndarray,
    *,
    model_id: str,
    model_type: str,
    vocab_sha256: str,
    row_group: int = ROW_GROUP,
    units_per_column: int = UNITS_PER_COLUMN,
) -> None:
    """Write given (positions, units) arrays per (layer, name) as a dump in the same format
    as ``dump_activations``: states that come from elsewhere than a ``CharRNN`` (synthetic
    states with planted units for tests and benchmarks). Every layer must have the same
    names, each array the shape (len(ids), H)."""
    ids = np.asarray(ids)
    layers = sorted({layer for layer, _ in arrays})
    names = tuple(dict.fromkeys(name for layer, name in arrays if layer == layers[0]))
    shapes = {np.shape(values) for values in arrays.values()}
    if layers != list(range(len(layers))) or set(arrays) != {
        (layer, name) for layer in layers for name in names
    }:
        raise ValueError(f"{path}: arrays must hold the same names for layers 0..n-1")
    if len(shapes) != 1 or len(next(iter(shapes))) != 2 or next(iter(shapes))[0] != len(ids):
        raise ValueError(f"{path}: every array must be (len(ids), H) alike, got {shapes}")
    if min(row_group, units_per_column) < 1:
        raise ValueError("row_group and units_per_column must be positive")
    hidden_size = next(iter(shapes))[1]
    metadata = _metadata(
        model_id,
        model_type,
        len(layers),
        hidden_size,
        names,
        vocab_sha256,
        len(ids),
        units_per_column,
    )
    groups = (
        (first, {key: values[first : first + row_group] for key, values in arrays.items()})
        for first in range(0, len(ids), row_group)
    )
    _write_dump(path, ids, groups, metadata)


def _write_dump(
    path: str | os.PathLike[str],
    ids: np.ndarray,
    groups: Iterable[tuple[int, Mapping[tuple[int, str], np.ndarray]]],
    metadata: dict[str, str],
) -> None:
    """Write row groups of (first position, (rows, H) per (layer, name)) under ``metadata``
    (``_META_KEYS``) to ``path``, atomically."""
    blocks = column_blocks(
        int(metadata["layers"]),
        metadata["names"].split(","),
        int(metadata["hidden_size"]),
        int(metadata["units_per_column"]),
    )
    schema = _schema(blocks, metadata)
    with (
        atomic_path(path) as tmp,
        pq.ParquetWriter(
            tmp,
            schema,
            compression="zstd",
            use_dictionary=False,
            column_encoding={b.column: "BYTE_STREAM_SPLIT" for b in blocks},
            write_statistics=["position"],
        ) as writer,
    ):
        for first, values in groups:
            rows = len(values[blocks[0].layer, blocks[0].name])
            columns = [
                pa.array(np.arange(first, first + rows, dtype=np.int32)),
                pa.array(ids[first : first + rows].astype(np.uint16)),
            ]
            columns += [
                _float16_column(values[b.layer, b.name][:, b.start : b.stop], b.stop - b.start)
                for b in blocks
            ]
            table = pa.Table.from_arrays(columns, schema=schema)
            writer.write_table(table, row_group_size=rows)


def _row_groups(
    model: CharRNN, ids: np.ndarray, chunk: int, row_group: int, model_id: str
) -> Iterator[tuple[int, dict[tuple[int, str], np.ndarray]]]:
    """Yield (first position, float16 (rows, H) per (layer, name)), ``row_group`` rows at a time.

    The forward pass runs ``chunk`` steps at a time with the state carried, independently of
    the row group size; rows computed but not yet yielded wait in a buffer.
    """
    pending: dict[tuple[int, str], np.ndarray] = {}
    computed = yielded = 0
    for activations in iter_activations(model, ids, chunk):
        for layer, by_name in enumerate(activations):
            for name, value in by_name.items():
                new = value[0].cpu().numpy().astype(np.float16)
                old = pending.get((layer, name))
                pending[layer, name] = new if old is None else np.concatenate([old, new])
        computed += activations[0]["h"].shape[1]
        while computed - yielded >= row_group or (computed == len(ids) > yielded):
            rows = min(row_group, computed - yielded)
            yield yielded, {key: values[:rows] for key, values in pending.items()}
            pending = {key: values[rows:] for key, values in pending.items()}
            yielded += rows
        logger.info("%s: dumped %d / %d positions", model_id, computed, len(ids))


@torch.no_grad()
def iter_activations(
    model: CharRNN, ids: np.ndarray, chunk: int = 4096, names: Sequence[str] | None = None
) -> Iterator[list[dict[str, Tensor]]]:
    """Yield ``model.stepwise``'s activations over ``ids``, ``chunk`` steps at a time.

    Batch 1, starting from the zero state, the state carried from chunk to chunk. The values
    are ``stepwise``'s (tests hold them to agree to float32 rounding) but several times
    faster: ``stepwise`` pays a Python-level matrix-vector product per step, while here each
    layer's hidden states come from the fused kernel (the paper GRU's from its own time loop),
    and since a gate at step t depends only on the layer input at t and the hidden state at
    t - 1, a whole chunk's gates follow from them in one matrix product. Only the LSTM cell
    state needs a loop over steps, an elementwise one, run only when ``names`` (default: all
    of ``ACTIVATIONS``) asks for "c".
    Each yield is ``[layer][name] -> (1, T, H)`` like ``stepwise``'s.
    """
    cfg = model.config
    wanted = tuple(ACTIVATIONS[cfg.model_type] if names is None else names)
    unknown = set(wanted) - set(ACTIVATIONS[cfg.model_type])
    if unknown:
        raise ValueError(
            f"no activations {sorted(unknown)} in a {cfg.model_type} model; "
            f"expected some of {ACTIVATIONS[cfg.model_type]}"
        )
    layers = _single_layers(model)
    weight = model.decoder.weight
    all_ids = torch.as_tensor(np.asarray(ids, dtype=np.int64), device=weight.device)
    zero = torch.zeros(1, 1, cfg.hidden_size, device=weight.device, dtype=weight.dtype)
    states: list[State] = [(zero, zero) if cfg.model_type == "lstm" else zero for _ in layers]
    for start in range(0, len(all_ids), chunk):
        x = F.one_hot(all_ids[None, start : start + chunk], cfg.vocab_size).to(weight.dtype)
        chunk_activations = []
        for layer, rnn in enumerate(layers):
            by_name, states[layer] = _layer_activations(
                rnn, cfg.model_type, x, states[layer], wanted
            )
            x = by_name["h"]
            chunk_activations.append({name: by_name[name] for name in wanted})
        yield chunk_activations


def _single_layers(model: CharRNN) -> list[nn.RNNBase]:
    """Each layer of ``model.rnn`` as its own one-layer module (fused, or ``PaperGRU``) with
    the same weights."""
    cfg = model.config
    weight = model.decoder.weight
    layers = []
    for layer in range(cfg.num_layers):
        input_size = cfg.vocab_size if layer == 0 else cfg.hidden_size
        if isinstance(model.rnn, PaperGRU):
            single = PaperGRU(input_size, cfg.hidden_size, 1)
        else:
            single = type(model.rnn)(input_size, cfg.hidden_size, 1, batch_first=True)
        single = single.to(device=weight.device, dtype=weight.dtype).eval()
        single.load_state_dict(
            {
                f"{kind}_l0": getattr(model.rnn, f"{kind}_l{layer}")
                for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            }
        )
        layers.append(single)
    return layers


def _layer_activations(
    rnn: nn.Module, model_type: str, x: Tensor, state: State, wanted: Sequence[str]
) -> tuple[dict[str, Tensor], State]:
    """One layer over a chunk: every activation (B, T, H), and the state after it.

    The gates come from ``visrnn.models.gates`` (the equations ``CharRNN.stepwise`` uses) over
    the whole chunk, h from the fused kernel; a GRU's z in the paper's convention.
    """
    with _recurrence_threads(x.device):
        hidden, new_state = rnn(x, state)
    if model_type == "rnn":
        return {"h": hidden}, new_state
    h_before, c_before = state if isinstance(state, tuple) else (state, None)  # (1, B, H)
    h_prev = torch.cat([h_before.transpose(0, 1), hidden[:, :-1]], dim=1)
    from_input = x @ rnn.weight_ih_l0.T + rnn.bias_ih_l0
    from_hidden = h_prev @ rnn.weight_hh_l0.T + rnn.bias_hh_l0
    variant = "paper" if isinstance(rnn, PaperGRU) else "cudnn"  # GRUs only
    out = layer_gates(
        model_type, variant, from_input, from_hidden, h_prev, rnn.weight_hh_l0, rnn.bias_hh_l0
    )
    if model_type == "lstm" and "c" in wanted and c_before is not None:
        out["c"] = lstm_cell_states(out["i"] * out["g"], out["f"], c_before[0])
    return {**out, "h": hidden}, new_state


@contextlib.contextmanager
def _recurrence_threads(device: torch.device) -> Iterator[None]:
    """Run a batch-1 recurrence on one CPU thread, then restore the thread count.

    A batch-1 step is too small to split (about 90 us for a 512-cell LSTM), and the threads
    meet at a barrier every step: on a shared 2-core machine running other jobs, two threads
    made the fused kernel 10 to 30 times slower than one.
    """
    if device.type != "cpu":
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class ActivationDump:
    """Random access to an activation dump, reading only the row groups and columns needed.

    Values come back as float32 (stored as float16). Positions are test-split offsets from
    the start of the dump, ``0 <= position < num_positions``; ranges are ``[start, stop)``.
    """

    def __init__(self, path: str | os.PathLike[str], model_id: str | None = None) -> None:
        """Open the dump at ``path``; refuse it unless it is ``model_id``'s, when given."""
        self.path = Path(path)
        try:
            self._file = pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError) as error:
            if isinstance(error, FileNotFoundError):
                raise
            raise ValueError(
                f"{self.path} is not a readable Parquet file (truncated or damaged); {REBUILD}"
            ) from None
        raw = self._file.schema_arrow.metadata or {}
        meta = {k.decode(): v.decode() for k, v in raw.items()}
        missing = [key for key in _META_KEYS if _META_PREFIX + key not in meta]
        if missing:
            raise ValueError(
                f"{self.path} is not a visrnn activation dump (metadata lacks {missing}); {REBUILD}"
            )
        self._meta = {key: meta[_META_PREFIX + key] for key in _META_KEYS}
        if model_id is not None and self.model_id != model_id:
            raise ValueError(
                f"{self.path} holds the activations of {self.model_id}, not of {model_id}; "
                f"{REBUILD}"
            )
        self._blocks = column_blocks(
            self.layers, self.names, self.hidden_size, int(self._meta["units_per_column"])
        )
        rows = [self._file.metadata.row_group(i).num_rows for i in range(self._file.num_row_groups)]
        self._group_starts = np.cumsum([0, *rows])
        if self._group_starts[-1] != self.num_positions:
            raise ValueError(
                f"{self.path} holds {self._group_starts[-1]} rows but its metadata says "
                f"{self.num_positions}: the file is damaged; {REBUILD}"
            )

    @property
    def model_id(self) -> str:
        return self._meta["model_id"]

    @property
    def model_type(self) -> str:
        return self._meta["model_type"]

    @property
    def layers(self) -> int:
        return int(self._meta["layers"])

    @property
    def hidden_size(self) -> int:
        return int(self._meta["hidden_size"])

    @property
    def names(self) -> tuple[str, ...]:
        """Activation names per layer, e.g. ``("i", "f", "g", "o", "c", "h")`` for an LSTM."""
        return tuple(self._meta["names"].split(","))

    @property
    def num_positions(self) -> int:
        return int(self._meta["num_positions"])

    @property
    def vocab_sha256(self) -> str:
        return self._meta["vocab_sha256"]

    def check_vocab(self, vocab_sha256: str) -> None:
        """Refuse a dump made with another vocabulary than the one the caller decodes with."""
        if vocab_sha256 != self.vocab_sha256:
            raise ValueError(
                f"{self.path} was dumped with another vocabulary "
                f"(vocab_sha256 {self.vocab_sha256[:12]} != {vocab_sha256[:12]}); "
                "rerun its activations rule with this dataset's model and data"
            )

    def trace(
        self, layer: int, name: str, unit: int, start: int = 0, stop: int | None = None
    ) -> np.ndarray:
        """One unit's values over positions ``[start, stop)``, shape (T,)."""
        if not 0 <= unit < self.hidden_size:
            raise ValueError(
                f"{self.path}: unit {unit} out of range; layers have {self.hidden_size} units"
            )
        block = next(b for b in self._blocks_of(layer, name) if b.start <= unit < b.stop)
        values = self._read([block], start, self._stop(stop))[block]
        return values[:, unit - block.start].astype(np.float32)

    def state(self, position: int, layer: int, name: str) -> np.ndarray:
        """All units of one activation at one position, shape (H,)."""
        if not 0 <= position < self.num_positions:
            raise ValueError(
                f"{self.path}: position {position} out of range [0, {self.num_positions})"
            )
        return self.matrix(layer, name, position, position + 1)[0]

    def matrix(self, layer: int, name: str, start: int = 0, stop: int | None = None) -> np.ndarray:
        """All units of one activation over positions ``[start, stop)``, shape (T, H)."""
        blocks = self._blocks_of(layer, name)
        values = self._read(blocks, start, self._stop(stop))
        return np.concatenate([values[b] for b in blocks], axis=1, dtype=np.float32)

    def inputs(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """The input ids read at positions ``[start, stop)``, shape (T,)."""
        table = self._read_table(["input"], start, self._stop(stop))
        return table.column("input").to_numpy().astype(np.int64)

    def _stop(self, stop: int | None) -> int:
        return self.num_positions if stop is None else stop

    def _blocks_of(self, layer: int, name: str) -> list[ColumnBlock]:
        if not 0 <= layer < self.layers:
            raise ValueError(f"{self.path}: layer {layer} out of range; it has {self.layers}")
        if name not in self.names:
            raise ValueError(
                f"{self.path}: no activation {name!r} in a {self.model_type} dump; "
                f"expected one of {self.names}"
            )
        return [b for b in self._blocks if b.layer == layer and b.name == name]

    def _read(
        self, blocks: Sequence[ColumnBlock], start: int, stop: int
    ) -> dict[ColumnBlock, np.ndarray]:
        """The stored float16 values of each block over ``[start, stop)``, (T, width) each."""
        table = self._read_table([b.column for b in blocks], start, stop)
        out: dict[ColumnBlock, np.ndarray] = {}
        for block in blocks:
            width = block.stop - block.start
            column = table.column(block.column).combine_chunks()
            flat = column.flatten().to_numpy(zero_copy_only=False)
            out[block] = flat.reshape(-1, width)
        return out

    def _read_table(self, columns: list[str], start: int, stop: int) -> pa.Table:
        """Rows ``[start, stop)`` of ``columns``, decoding only the row groups they lie in."""
        if not 0 <= start <= stop <= self.num_positions:
            raise ValueError(
                f"{self.path}: range [{start}, {stop}) is not within [0, {self.num_positions}]"
            )
        if start == stop:
            return self._file.schema_arrow.empty_table().select(columns)
        first = int(np.searchsorted(self._group_starts, start, side="right")) - 1
        last = int(np.searchsorted(self._group_starts, stop, side="left"))
        table = self._file.read_row_groups(list(range(first, last)), columns=columns)
        return table.slice(start - int(self._group_starts[first]), stop - start)
