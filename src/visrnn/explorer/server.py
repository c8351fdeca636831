"""The explorer's web app: a FastAPI app over the precomputed layout of a results directory.

Every dataset and model is found by scanning ``RESULTS_DIR/*/explorer/`` (of one directory,
or of several: a run's results and the cache entries of imported LSTMVis projects,
``visrnn.explorer.imports.explorer_roots``); requests name them, and only names found by that
scan are looked up, so no request can reach a path of its own making. Everything is opened
read-only and memory-mapped. Only requests whose Host header names the bound address or
localhost are answered (``allowed_host``): another origin's page cannot read the data by
rebinding its DNS name to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from visrnn import plan
from visrnn.data.splits import Vocab
from visrnn.explorer import clamping, kernels, live, queries, search, snapshots
from visrnn.explorer.store import ModelStore, TextStore
from visrnn.explorer.tracks import TrackFileError, UserTrack
from visrnn.inside.atlas import match_units
from visrnn.inside.cells import NEGATIVE_RGB, POSITIVE_RGB

STATIC = Path(__file__).parent / "static"
#: Largest window of positions one request may ask for.
MAX_WINDOW = 20000
#: Most units a match, precision or hypothesis query may select.
MAX_UNITS = 64
#: Most matches or top examples one request returns.
MAX_RESULTS = 500
DEFAULT_HOST = "127.0.0.1"
#: Resident memory (MB) past which the server drops its memory maps after a request. The
#: maps' pages are clean page cache, but they count in the resident memory: a match's |A∪C|
#: touches every unit around each ranked candidate, and the kernel maps whole neighbourhoods
#: of pages per fault, so one match can map most of a state's file.
RELEASE_RSS_MB = 1024

Position = Annotated[int, Query(ge=0, description="test-split offset")]
Threshold = Annotated[float, Query(ge=-100.0, le=100.0)]
Sign = Annotated[int, Query(description="+1: on above the threshold; -1: on below minus it")]
Transform = Annotated[
    str | None,
    Query(
        description="tanh or none (the raw value); default: the state's (queries.default_transform)"
    ),
]
OffWidth = Annotated[int, Query(ge=0, le=1000)]
#: Search hits returned with their context at most; the minimap gets up to ``MAX_MARKS`` starts.
MAX_HITS_LISTED = 500
MAX_MARKS = 20000
#: Characters of context on each side of a search hit.
HIT_CONTEXT = 40
#: Rankings kept for the page's next look (a ranking reads every unit of a state).
RANKINGS_CACHED = 8
#: Layers and states whose value counts are kept (128 MB each for 512 units).
VALUE_COUNTS_CACHED = 2
#: How each kind of track ranks the units, the first the default; binary keys sort
#: descending, scalar ones by absolute value.
RANK_KEYS = {"binary": ("f1", "auroc", "precision", "recall"), "scalar": ("pearson", "spearman")}
#: The compare view matches two models' units over the text's first positions, at most this
#: many: the correlations cost (units x units x positions); r settles long before.
COUNTERPART_POSITIONS = 20000
#: Matchings kept for the page's next look (each reads every unit of two states).
COUNTERPARTS_CACHED = 8
#: Host header names (without port) always answered, besides the address the server is bound to.
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


class Results:
    """The datasets and models of a results directory that have explorer outputs."""

    def __init__(self, root: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> None:
        roots = [root] if isinstance(root, str | os.PathLike) else list(root)
        self.roots = [Path(r).resolve() for r in roots]
        self.root = self.roots[0]
        for directory in self.roots:
            if not directory.is_dir():
                raise FileNotFoundError(f"{directory} is not a directory; give a results directory")
        self.texts: dict[str, Path] = {}
        self.dataset_roots: dict[str, Path] = {}  # the results directory of each dataset
        self._opened: dict[tuple[str, str], ModelStore] = {}
        self.models: dict[str, dict[str, Path]] = {}
        for directory in self.roots:
            for folder in sorted(path for path in directory.iterdir() if path.is_dir()):
                ds, text = folder.name, Path(plan.explorer_text(folder.name, directory))
                if not (text / "text.json").is_file():
                    continue
                if ds in self.texts:
                    raise ValueError(f"two datasets named {ds!r}: {self.texts[ds]} and {text}")
                self.texts[ds] = text
                self.dataset_roots[ds] = directory
                models = Path(plan.explorer_models(ds, directory))
                self.models[ds] = {
                    p.parent.name: p.parent for p in sorted(models.glob("*/model.json"))
                }

    @functools.cache  # noqa: B019 (one Results per app, alive as long as the app)
    def text(self, ds: str) -> TextStore:
        if ds not in self.texts:
            raise HTTPException(
                404, f"unknown dataset {ds!r}; datasets with explorer outputs: {_names(self.texts)}"
            )
        return TextStore(self.texts[ds])

    def add_tracks(self, tracks: Sequence[UserTrack]) -> None:
        """Serve each user's track on every dataset it fits; one that fits none is an error."""
        for user in tracks:
            fitting = [ds for ds in self.texts if user.fits(self.text(ds).num_positions)]
            if not fitting:
                sizes = ", ".join(f"{ds} {self.text(ds).num_positions}" for ds in self.texts)
                what = (
                    f"{len(user.values)} values"
                    if user.values is not None
                    else f"spans up to position {int(user.spans[:, 1].max())}"
                )
                raise TrackFileError(
                    f"{user.path}: {what} fit no dataset (positions: {sizes or 'none'})"
                )
            for ds in fitting:
                store = self.text(ds)
                try:
                    store.add_track(user.track(), user.array(store.num_positions))
                except ValueError as error:
                    raise TrackFileError(f"{user.path}: {error}") from None

    @functools.cache  # noqa: B019
    def search_text(self, ds: str) -> search.SearchText:
        """The dataset's text as one searchable string, built at its first search."""
        store = self.text(ds)
        if store.vocabulary is None:
            return search.SearchText.of_bytes(store.text)
        return search.SearchText.of_tokens(store.text, store.vocabulary)

    def release_maps(self) -> None:
        """Drop every model's memory maps (their pages leave the resident memory with them)."""
        for store in self._opened.values():
            store.release_maps()

    @functools.cache  # noqa: B019
    def snapshots(self, ds: str, model: str) -> tuple[list[snapshots.Snapshot], str]:
        """The model's training snapshots (``visrnn.explorer.snapshots``) and why none."""
        store = self.model(ds, model)
        if self.text(ds).vocabulary is not None:
            return [], f"{model} is an imported network's states: no training snapshots"
        return snapshots.find_snapshots(self.dataset_roots[ds], ds, store.meta)

    def model(self, ds: str, model: str) -> ModelStore:
        if (ds, model) not in self._opened:
            self._opened[ds, model] = self._open_model(ds, model)
        return self._opened[ds, model]

    def _open_model(self, ds: str, model: str) -> ModelStore:
        self.text(ds)
        if model not in self.models[ds]:
            raise HTTPException(
                404, f"unknown model {model!r} in {ds}; models: {_names(self.models[ds])}"
            )
        return ModelStore(self.models[ds][model])


def resident_mb() -> float:
    """This process's resident memory in MB (Linux; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _names(names: Sequence[str] | dict[str, Any]) -> str:
    return ", ".join(sorted(names)) or "none (run snakemake to build results/{ds}/explorer)"


def host_name(host_header: str) -> str:
    """The name in a Host header, without its port (``[::1]:8000`` -> ``[::1]``)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_host(host_header: str | None, bound: str) -> bool:
    """Whether a request's Host header names this machine as the server knows it: the bound
    address or a loopback name. A page served from another origin that rebinds its DNS name
    to 127.0.0.1 still sends its own name as Host, so it gets no data (DNS rebinding)."""
    if not host_header:
        return False
    name = host_name(host_header)
    return name in LOCAL_NAMES or name == bound.lower() or name == f"[{bound.lower()}]"


def _transform(meta: dict[str, Any], layer: int, state: str, transform: str | None) -> str:
    chosen = transform if transform is not None else queries.default_transform(meta, layer, state)
    if chosen not in queries.TRANSFORMS:
        raise HTTPException(
            400, f"transform must be one of {', '.join(queries.TRANSFORMS)}, got {chosen!r}"
        )
    return chosen


def _lengths(min_length: int, max_length: int | None) -> None:
    if max_length is not None and max_length < min_length:
        raise HTTPException(400, f"max_length={max_length} < min_length={min_length}")


def _values(store: ModelStore, layer: int, state: str) -> np.ndarray:
    if not 0 <= layer < store.layers:
        raise HTTPException(
            404, f"unknown layer {layer}; {store.meta['model_id']} has layers 0..{store.layers - 1}"
        )
    if state not in store.states:
        raise HTTPException(
            404,
            f"unknown state {state!r}; {store.meta['model_id']} has {', '.join(store.states)}",
        )
    if (layer, state) not in store.pairs:
        present = ", ".join(name for number, name in sorted(store.pairs) if number == layer)
        raise HTTPException(
            404, f"layer {layer} of {store.meta['model_id']} has no {state!r}; it has {present}"
        )
    return store.values(layer, state)


def _range(start: int, stop: int, size: int, limit: int = MAX_WINDOW) -> None:
    if not start < stop <= size:
        raise HTTPException(
            400, f"need 0 <= start < stop <= {size}; got start={start}, stop={stop}"
        )
    if stop - start > limit:
        raise HTTPException(400, f"window of {stop - start} positions; at most {limit} at once")


def _sign(sign: int) -> int:
    if sign not in (1, -1):
        raise HTTPException(400, f"sign must be 1 or -1, got {sign}")
    return sign


def _units(units: str, size: int) -> list[int]:
    try:
        parsed = [int(u) for u in units.split(",") if u.strip()]
    except ValueError:
        raise HTTPException(400, f"units must be comma-separated integers, got {units!r}") from None
    if not parsed:
        raise HTTPException(400, "select at least one unit")
    if len(parsed) > MAX_UNITS:
        raise HTTPException(400, f"{len(parsed)} units selected; at most {MAX_UNITS}")
    bad = [u for u in parsed if not 0 <= u < size]
    if bad:
        raise HTTPException(400, f"units {bad} out of range; layers have {size} units")
    return list(dict.fromkeys(parsed))


def _json(content: Any) -> JSONResponse:
    """A JSON response made by ``json.dumps`` directly: FastAPI's encoder walks every list
    element in Python and took longer than the queries on 10K match candidates."""
    return JSONResponse(content)


def _model_meta(store: ModelStore) -> dict[str, Any]:
    """A model's json, with each (layer, state)'s default transform for the page."""
    defaults = {
        f"l{layer}.{state}": queries.default_transform(store.meta, layer, state)
        for layer in range(store.layers)
        for state in store.states
    }
    return {**store.meta, "default_transforms": defaults}


@functools.lru_cache(maxsize=256)
def _cached_range(store: ModelStore, layer: int, state: str, transform: str) -> dict[str, Any]:
    bounded = queries.bounded(store.meta, state, transform)
    return queries.value_range(store.values(layer, state), transform, bounded)


def _finite(values: np.ndarray, digits: int = 4) -> list[float | None]:
    return [None if not math.isfinite(v) else round(float(v), digits) for v in values]


class LiveRequest(BaseModel):
    text: str
    layer: int
    state: str


class SilenceRequest(BaseModel):
    layer: int
    state: str
    units: str  # comma-separated unit indices
    start: int = Field(ge=0)
    stop: int = Field(ge=1)
    silence: str = "zero"


class SampleRequest(BaseModel):
    layer: int
    state: str
    units: str  # comma-separated unit indices
    value: float = Field(allow_inf_nan=False, ge=-100.0, le=100.0)
    position: int = Field(ge=0)
    length: int = Field(default=300, ge=1, le=clamping.MAX_SAMPLE)
    temperature: float = Field(default=1.0, ge=0.0, le=10.0)
    seed: int = Field(default=123, ge=0, lt=2**63)


def _context(text: search.SearchText, start: int, stop: int) -> str:
    """The searched string's characters [start, stop) as the page shows them: a text of
    bytes decoded as UTF-8 (Latin-1 in the searched string)."""
    part = text.string[max(0, start) : max(0, stop)]
    if text.offsets is None:
        return part.encode("latin-1").decode("utf-8", errors="replace")
    return part


def create_app(
    results_dir: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    host: str = DEFAULT_HOST,
    tracks: Sequence[UserTrack] = (),
) -> FastAPI:
    """The app serving the explorer outputs under ``results_dir`` (one directory or several:
    a run's results and the cache entries of imported projects) and the page. It answers only
    requests whose Host header names ``host`` (the address it is bound to) or localhost.
    ``tracks`` (``--track``) are served beside each dataset's own where they fit."""
    results = Results(results_dir)
    results.add_tracks(tracks)
    # The rankings' compiled loops, made ready while the page loads (``kernels.warm``).
    threading.Thread(target=kernels.warm, name="warm-rankings", daemon=True).start()
    app = FastAPI(title="visrnn explorer", docs_url=None, redoc_url=None)
    locks: dict[tuple[str, str], threading.Lock] = {}
    models: dict[tuple[str, str], Any] = {}
    guard = threading.Lock()

    def live_lock(ds: str, model: str) -> threading.Lock:
        """The lock one live computation on ``model`` holds (at most one at a time)."""
        with guard:
            return locks.setdefault((ds, model), threading.Lock())

    app.state.live_lock = live_lock

    def require_checkpoint(ds: str, model: str, what: str) -> ModelStore:
        """``model``'s store, if it records a checkpoint to run; else 404 saying so."""
        store = results.model(ds, model)
        if results.text(ds).vocabulary is not None or "checkpoint" not in store.meta:
            raise HTTPException(
                404,
                f"{model} has no checkpoint (an imported network's states): {what} needs "
                "a grid model of this pipeline",
            )
        return store

    @contextlib.contextmanager
    def computing(ds: str, model: str) -> Iterator[None]:
        """One computation on ``model`` (live text, silencing, sampling, a snapshot's states)
        while it holds the model's lock: 429 while another runs on it; a ``live.LiveError``
        inside becomes its HTTP status."""
        lock = live_lock(ds, model)
        if not lock.acquire(blocking=False):
            raise HTTPException(
                429, f"{model} is computing something else; try again when it is done"
            )
        try:
            yield
        except live.LiveError as error:
            raise HTTPException(error.status, str(error)) from None
        finally:
            lock.release()

    @contextlib.contextmanager
    def checkpoint_model(ds: str, model: str, what: str) -> Iterator[Any]:
        """The grid model behind ``model``'s store, for one computation (``computing``): 404
        for a model without a checkpoint (an imported network's states)."""
        store = require_checkpoint(ds, model, what)
        with computing(ds, model):
            if (ds, model) not in models:
                path = live.checkpoint_of(store.path, store.meta, results.roots)
                models[ds, model] = live.load_model(path, store.meta)
            yield models[ds, model]

    @app.middleware("http")
    async def only_this_host(request: Request, call_next: Any) -> Response:
        if not allowed_host(request.headers.get("host"), host):
            return JSONResponse(
                {
                    "detail": f"Host {request.headers.get('host')!r} is not this server "
                    f"({host} or localhost); refused (DNS rebinding)"
                },
                status_code=421,
            )
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def readable_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
            for e in exc.errors()
        )
        return JSONResponse({"detail": detail}, status_code=422)

    @app.middleware("http")
    async def bound_memory(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        if resident_mb() > RELEASE_RSS_MB:
            results.release_maps()
        return response

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/datasets")
    def datasets() -> JSONResponse:
        out = {}
        for ds in results.texts:
            text = results.text(ds)
            out[ds] = {
                "num_positions": text.num_positions,
                "tracks": [vars(t) for t in text.tracks.values()],
                "char_classes": text.meta["char_classes"],
                "symbols": text.meta["symbols"],
                "tokens": text.vocabulary is not None,
                "documents": 1 if text.documents is None else len(text.documents),
                "models": {m: _model_meta(results.model(ds, m)) for m in results.models[ds]},
            }
        return _json(
            {
                "datasets": out,
                "palette": {"negative": NEGATIVE_RGB.tolist(), "positive": POSITIVE_RGB.tolist()},
                "limits": {
                    "live_max_chars": live.MAX_CHARS,
                    "max_silenced": clamping.MAX_SILENCED,
                    "max_sample": clamping.MAX_SAMPLE,
                    "max_pattern": search.MAX_PATTERN,
                    "rank_keys": RANK_KEYS,
                },
            }
        )

    @app.get("/api/{ds}/search")
    def find(
        ds: str,
        pattern: Annotated[str, Query(description="a literal string, or a regular expression")],
        regex: bool = False,
        case: bool = True,
        limit: Annotated[int, Query(ge=1, le=MAX_HITS_LISTED)] = 100,
    ) -> JSONResponse:
        """Every hit of ``pattern`` in the text (``visrnn.explorer.search``): the first
        ``limit`` with their context, and the starts of up to ``MAX_MARKS`` for the minimap."""
        results.text(ds)  # 404 for an unknown dataset
        text = results.search_text(ds)
        try:
            spans, starts, stops = search.search(text, pattern, regex, case)
        except search.SearchError as error:
            raise HTTPException(400, str(error)) from None
        hits = []
        for (first, last), start, stop in zip(
            spans[:limit], starts[:limit], stops[:limit], strict=True
        ):
            hits.append(
                {
                    "start": int(start),
                    "stop": int(stop),
                    "before": _context(text, int(first) - HIT_CONTEXT, int(first)),
                    "match": _context(text, int(first), int(last)),
                    "after": _context(text, int(last), int(last) + HIT_CONTEXT),
                }
            )
        return _json(
            {
                "pattern": pattern,
                "regex": regex,
                "count": len(spans),
                "truncated": len(spans) >= search.MAX_HITS,
                "hits": hits,
                "starts": starts[:MAX_MARKS].tolist(),
                "num_positions": results.text(ds).num_positions,
            }
        )

    @app.get("/api/{ds}/text")
    def text(ds: str, start: Position, stop: Position) -> JSONResponse:
        store = results.text(ds)
        _range(start, stop, store.num_positions)
        out: dict[str, Any] = {
            "start": start,
            "stop": stop,
            "text": [int(b) for b in store.text[start:stop]],
            "tracks": {name: _finite(store.track(name)[start:stop]) for name in store.tracks},
        }
        if store.vocabulary is not None:
            out["tokens"] = store.strings(store.text[start:stop])
        if store.documents is not None:
            docs = store.documents
            out["document_starts"] = docs[(docs >= start) & (docs < stop)].tolist()
        return _json(out)

    @app.get("/api/{ds}/{model}/window")
    def window(
        ds: str, model: str, layer: int, state: str, start: Position, stop: Position
    ) -> Response:
        """All units over ``[start, stop)``: float16 (units, positions), row-major bytes
        (half of float32's; the page decodes them with a 65,536-entry table)."""
        store = results.model(ds, model)
        values = _values(store, layer, state)
        _range(start, stop, store.num_positions)
        block = np.ascontiguousarray(values[:, start:stop], dtype="<f2")
        return Response(
            block.tobytes(),
            media_type="application/octet-stream",
            headers={"X-Units": str(block.shape[0]), "X-Positions": str(block.shape[1])},
        )

    @app.get("/api/{ds}/{model}/snapshots")
    def training_snapshots(ds: str, model: str) -> JSONResponse:
        """The model's training snapshots (name, iteration, epoch), or a note why none."""
        found, note = results.snapshots(ds, model)
        return _json(
            {
                "snapshots": [snapshot.as_json() for snapshot in found],
                "note": note,
                "max_positions": snapshots.SNAPSHOT_CHARS,
            }
        )

    @app.get("/api/{ds}/{model}/snapshot_window")
    def snapshot_window(
        ds: str,
        model: str,
        snapshot: str,
        layer: int,
        state: str,
        start: Position,
        stop: Position,
    ) -> Response:
        """``window`` as the snapshot's checkpoint computes the same units: its states over
        the first ``snapshots.SNAPSHOT_CHARS`` positions, computed once and kept."""
        store = results.model(ds, model)
        _values(store, layer, state)
        found, note = results.snapshots(ds, model)
        chosen = next((s for s in found if s.name == snapshot), None)
        if chosen is None:
            listed = ", ".join(s.name for s in found) or note
            raise HTTPException(404, f"unknown snapshot {snapshot!r} of {model}; {listed}")
        covered = min(store.num_positions, snapshots.SNAPSHOT_CHARS)
        _range(start, stop, covered)

        values = _snapshot_values(ds, model, chosen, covered, layer, state)
        block = np.ascontiguousarray(values[:, start:stop], dtype="<f2")
        return Response(
            block.tobytes(),
            media_type="application/octet-stream",
            headers={"X-Units": str(block.shape[0]), "X-Positions": str(block.shape[1])},
        )

    @functools.lru_cache(maxsize=snapshots.CACHED)
    def _snapshot_values(
        ds: str, model: str, snapshot: snapshots.Snapshot, covered: int, layer: int, state: str
    ) -> np.ndarray:
        """``layer``'s ``state`` over the first ``covered`` positions as ``snapshot``'s
        checkpoint computes it (``computing``: one computation on the model at a time)."""
        with computing(ds, model):
            text = results.text(ds)
            ids = Vocab(tuple(text.meta["symbols"])).encode(bytes(text.text[:covered]))
            return snapshots.compute(snapshot, results.model(ds, model).meta, ids, layer, state)

    app.state.snapshot_values = _snapshot_values

    @app.get("/api/{ds}/{model}/predictions")
    def predictions(ds: str, model: str, start: Position, stop: Position) -> JSONResponse:
        store = results.model(ds, model)
        _range(start, stop, store.num_positions)
        p_target = np.asarray(store.p_target[start:stop], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = -np.log(p_target)
        text = results.text(ds)
        out = {
            "start": start,
            "stop": stop,
            "top_ids": store.top_ids[start:stop].tolist(),
            "top_p": [_finite(row, 3) for row in store.top_p[start:stop]],
            "p_target": _finite(p_target),
            "loss": _finite(loss),
        }
        if store.oracle is not None:
            out["oracle"] = store.oracle[start:stop].tolist()
        if text.vocabulary is not None:
            out["top_tokens"] = [text.strings(row) for row in store.top_ids[start:stop]]
        if "ngram_loss" in text.tracks:
            out["loss_minus_ngram"] = _finite(loss - text.track("ngram_loss")[start:stop])
        return _json(out)

    @app.get("/api/{ds}/{model}/hypothesis")
    def hypothesis(
        ds: str,
        model: str,
        layer: int,
        state: str,
        start: Position,
        stop: Position,
        threshold: Threshold,
        sign: Sign = 1,
        before: OffWidth = 0,
        after: OffWidth = 0,
        transform: Transform = None,
    ) -> JSONResponse:
        store = results.model(ds, model)
        values = _values(store, layer, state)
        _range(start, stop, store.num_positions)
        shown = _transform(store.meta, layer, state, transform)
        found = queries.hypothesis(
            values,
            start,
            stop,
            threshold,
            _sign(sign),
            before,
            after,
            transform=shown,
            documents=results.text(ds).documents,
        )
        return _json(
            {
                "transform": shown,
                "selected": found.selected,
                "score": _finite(found.score),
                "inside_min": _finite(found.inside_min),
                "histogram": found.histogram,
                "edges": found.edges,
            }
        )

    @app.get("/api/{ds}/{model}/match")
    def match(
        ds: str,
        model: str,
        layer: int,
        state: str,
        units: str,
        threshold: Threshold,
        sign: Sign = 1,
        min_units: Annotated[int | None, Query(ge=1)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 50,
        before: OffWidth = 0,
        after: OffWidth = 0,
        min_length: Annotated[int, Query(ge=1)] = 1,
        max_length: Annotated[int | None, Query(ge=1)] = None,
        transform: Transform = None,
    ) -> JSONResponse:
        """LSTMVis's match (``queries.match``): ``before``/``after`` are its off-width
        constraints, ``min_length``..``max_length`` its phrase length."""
        store = results.model(ds, model)
        values = _values(store, layer, state)
        selected = _units(units, store.hidden_size)
        if min_units is not None and min_units > len(selected):
            raise HTTPException(400, f"min_units={min_units} > {len(selected)} selected units")
        _lengths(min_length, max_length)
        shown = _transform(store.meta, layer, state, transform)
        found, starts, _ = queries.match(
            values,
            selected,
            threshold,
            _sign(sign),
            min_units,
            limit,
            before=before,
            after=after,
            min_length=min_length,
            max_length=max_length,
            transform=shown,
            documents=results.text(ds).documents,
        )
        return _json(
            {
                "transform": shown,
                "units": selected,
                "matches": [vars(m) for m in found],
                "candidates": len(starts),
                "candidate_starts": starts[:20000].tolist(),
                "num_positions": store.num_positions,
            }
        )

    @app.get("/api/{ds}/{model}/precision")
    def precision(
        ds: str,
        model: str,
        layer: int,
        state: str,
        units: str,
        threshold: Threshold,
        track: str,
        sign: Sign = 1,
        min_units: Annotated[int | None, Query(ge=1)] = None,
        transform: Transform = None,
    ) -> JSONResponse:
        store = results.model(ds, model)
        values = _values(store, layer, state)
        selected = _units(units, store.hidden_size)
        shown = _transform(store.meta, layer, state, transform)
        text = results.text(ds)
        binary = [name for name, t in text.tracks.items() if t.binary]
        if track not in binary:
            raise HTTPException(404, f"unknown binary track {track!r}; tracks: {_names(binary)}")
        return _json(
            {
                "track": track,
                "transform": shown,
                **queries.precision_recall(
                    values, selected, threshold, _sign(sign), text.track(track), min_units, shown
                ),
            }
        )

    @app.get("/api/{ds}/{model}/rank")
    def rank(
        ds: str,
        model: str,
        layer: int,
        state: str,
        track: str,
        threshold: Threshold = 0.5,
        sign: Sign = 1,
        transform: Transform = None,
        by: str | None = None,
    ) -> JSONResponse:
        """Every unit of a layer and state ranked against a track ("which units track
        this?"): ``queries.rank_binary`` or ``queries.rank_scalar``."""
        store = results.model(ds, model)
        _values(store, layer, state)
        text = results.text(ds)
        if track not in text.tracks:
            raise HTTPException(404, f"unknown track {track!r}; tracks: {_names(text.tracks)}")
        kind = "binary" if text.tracks[track].binary else "scalar"
        key = by or RANK_KEYS[kind][0]
        if key not in RANK_KEYS[kind]:
            raise HTTPException(
                400, f"a {kind} track ranks by {', '.join(RANK_KEYS[kind])}; got by={key!r}"
            )
        shown = _transform(store.meta, layer, state, transform)
        if kind == "scalar":
            threshold, sign = 0.0, 1  # Pearson and Spearman use neither
        scores = _ranking(ds, model, layer, state, track, threshold, _sign(sign), shown)
        column = scores[key]
        strength = np.abs(column) if kind == "scalar" else column
        order = np.argsort(-np.where(np.isfinite(strength), strength, -np.inf), kind="stable")
        return _json(
            {
                "track": track,
                "kind": kind,
                "by": key,
                "transform": shown,
                "threshold": threshold,
                "sign": sign,
                "units": order.tolist(),
                "scores": {name: _finite(values[order]) for name, values in scores.items()},
            }
        )

    @functools.lru_cache(maxsize=RANKINGS_CACHED)
    def _ranking(
        ds: str,
        model: str,
        layer: int,
        state: str,
        track: str,
        threshold: float,
        sign: int,
        shown: str,
    ) -> dict[str, np.ndarray]:
        values = results.model(ds, model).values(layer, state)
        target = results.text(ds).track(track)
        if results.text(ds).tracks[track].binary:
            counts = _value_counts(ds, model, layer, state)
            return queries.rank_binary(values, target, threshold, sign, shown, counts)
        return queries.rank_scalar(values, target, shown)

    @functools.lru_cache(maxsize=VALUE_COUNTS_CACHED)
    def _value_counts(ds: str, model: str, layer: int, state: str) -> np.ndarray:
        """Each unit's count of every float16 value (``queries.value_counts``): every ranking
        of this layer and state against a binary track starts from it."""
        return queries.value_counts(results.model(ds, model).values(layer, state))

    @app.get("/api/{ds}/{model}/counterparts")
    def counterparts(
        ds: str,
        model: str,
        layer: int,
        state: str,
        other: str,
        layer_b: int,
        state_b: str,
    ) -> JSONResponse:
        """The compare view's "its counterpart in the other model": the units of ``model``'s
        layer and state matched one to one with those of ``other``'s (``inside.atlas``:
        Pearson r of the values as shown by default, over the text's first
        ``COUNTERPART_POSITIONS`` positions, largest summed |r|). Per unit of ``model``: its
        counterpart (None where ``other`` has fewer units) and their r."""
        _values(results.model(ds, model), layer, state)  # 404 for an unknown model or state
        _values(results.model(ds, other), layer_b, state_b)
        return _json(_matching(ds, model, layer, state, other, layer_b, state_b))

    @functools.lru_cache(maxsize=COUNTERPARTS_CACHED)
    def _matching(
        ds: str, model: str, layer: int, state: str, other: str, layer_b: int, state_b: str
    ) -> dict[str, Any]:
        started = time.perf_counter()
        stores = results.model(ds, model), results.model(ds, other)
        positions = min(COUNTERPART_POSITIONS, *(store.num_positions for store in stores))
        a, b = (
            queries.shown(
                store.values(number, name)[:, :positions],
                queries.default_transform(store.meta, number, name),
            ).T
            for store, number, name in zip(stores, (layer, layer_b), (state, state_b), strict=True)
        )
        found = match_units(a, b)
        r: list[float | None] = [None] * a.shape[1]
        for unit, value in zip(found.units_a.tolist(), found.correlation.tolist(), strict=True):
            r[unit] = round(value, 4)
        return {
            "model": model,
            "layer": layer,
            "state": state,
            "other": other,
            "layer_b": layer_b,
            "state_b": state_b,
            "positions": positions,
            "counterpart": found.counterparts(a.shape[1]),
            "correlation": r,
            "seconds": round(time.perf_counter() - started, 3),
        }

    @app.post("/api/{ds}/{model}/live")
    def live_text(ds: str, model: str, request: LiveRequest) -> JSONResponse:
        """The model's states (of ``layer``/``state``), top predictions and loss on the
        posted text (``visrnn.explorer.live``); 429 while another runs on this model."""
        store = results.model(ds, model)
        _values(store, request.layer, state=request.state)
        if len(request.text) > live.MAX_CHARS:
            raise HTTPException(
                400, f"live text of {len(request.text)} characters; at most {live.MAX_CHARS}"
            )
        if not request.text:
            raise HTTPException(400, "type some text first")
        text = results.text(ds)
        with checkpoint_model(ds, model, "live text") as network:
            ids = live.encode(request.text, text.meta["symbols"])
            answer = live.run(network, ids, request.layer, request.state)
        return _json(
            {
                "layer": request.layer,
                "state": request.state,
                "transform": queries.default_transform(store.meta, request.layer, request.state),
                "text": [int(b) for b in request.text.encode("utf-8")],
                "units": int(answer.values.shape[0]),
                "positions": int(answer.values.shape[1]),
                "values": _finite(answer.values.astype(np.float32).reshape(-1), 3),
                "top_ids": answer.top_ids.tolist(),
                "top_p": [_finite(row, 3) for row in answer.top_p],
                "loss": _finite(answer.loss),
                "mean_loss": float(np.nanmean(answer.loss)) if len(answer.loss) > 1 else None,
                "seconds": round(answer.seconds, 4),
            }
        )

    def held_units(store: ModelStore, layer: int, state: str, units: str) -> list[int]:
        """The units a silencing or clamp names, checked: a layer and state the store has
        and the checkpoint can hold (``HELD_STATES``), units in range."""
        from visrnn.inside.interventions import HELD_STATES

        _values(store, layer, state)
        holdable = HELD_STATES.get(store.meta.get("model_type", ""), ())
        if state not in holdable:
            raise HTTPException(
                400,
                f"state {state!r} cannot be held: a {store.meta.get('model_type')} holds "
                f"{' or '.join(holdable) or 'nothing'}; choose that state",
            )
        return _units(units, store.hidden_size)

    @app.post("/api/{ds}/{model}/silence")
    def silence_units(ds: str, model: str, request: SilenceRequest) -> JSONResponse:
        """The window [start, stop) scored by the model intact and with the units silenced
        (``visrnn.explorer.clamping.silence_window``), per position and per Figure 6
        category; 429 while another computation runs on this model."""
        from visrnn.inside.interventions import SILENCE_MODES, silence

        store = require_checkpoint(ds, model, "silencing")
        selected = held_units(store, request.layer, request.state, request.units)
        text = results.text(ds)
        _range(request.start, request.stop, store.num_positions, clamping.MAX_SILENCED)
        if request.silence not in SILENCE_MODES:
            raise HTTPException(
                400, f"silence must be one of {', '.join(SILENCE_MODES)}, got {request.silence!r}"
            )
        means = None
        if request.silence == "mean":  # over the stored positions
            values = store.values(request.layer, request.state)
            means = {(request.layer, request.state): np.zeros(store.hidden_size)}
            for unit in selected:
                mean = np.asarray(values[unit], dtype=np.float64).mean()
                means[request.layer, request.state][unit] = mean
        clamps = silence(request.layer, request.state, selected, request.silence, means)
        with checkpoint_model(ds, model, "silencing") as network:
            vocab = Vocab(tuple(text.meta["symbols"]))
            found = clamping.silence_window(
                network, vocab, text.text, request.start, request.stop, clamps
            )
        codes = None if store.oracle is None else store.oracle[request.start : request.stop]
        summary = clamping.category_summary(
            found, codes, store.meta.get("oracle_categories") if codes is not None else None
        )
        with np.errstate(divide="ignore"):
            loss = -np.log(found.p_target.astype(np.float64))
        return _json(
            {
                "start": found.start,
                "stop": found.stop,
                "read_from": found.read_from,
                "units": selected,
                "clamps": [str(c) for c in clamps],
                "text": [int(b) for b in text.text[found.start : found.stop]],
                "p_target": _finite(found.p_target[0], 6),  # a silencing's changes are small
                "silenced_p_target": _finite(found.p_target[1], 6),
                "loss": _finite(loss[0]),
                "silenced_loss": _finite(loss[1]),
                "argmax": found.argmax[0].tolist(),
                "silenced_argmax": found.argmax[1].tolist(),
                "categories": summary,
            }
        )

    @app.post("/api/{ds}/{model}/sample")
    def sample_units(ds: str, model: str, request: SampleRequest) -> JSONResponse:
        """What the model writes after the text up to ``position``, with nothing held and with
        the units clamped at ``value``, the same seed for both
        (``visrnn.explorer.clamping.sample_pair``); 429 while another computation runs."""
        from visrnn.inside.interventions import Clamp

        store = require_checkpoint(ds, model, "sampling")
        selected = held_units(store, request.layer, request.state, request.units)
        text = results.text(ds)
        if not 0 <= request.position < store.num_positions:
            raise HTTPException(
                400, f"position {request.position} out of range 0..{store.num_positions - 1}"
            )
        clamps = [Clamp(request.layer, request.state, u, request.value) for u in selected]
        with checkpoint_model(ds, model, "sampling") as network:
            vocab = Vocab(tuple(text.meta["symbols"]))
            prime, free, held = clamping.sample_pair(
                network,
                vocab,
                text.text,
                request.position,
                clamps,
                request.length,
                request.temperature,
                request.seed,
            )
        return _json(
            {
                "position": request.position,
                "units": selected,
                "clamps": [str(c) for c in clamps],
                "seed": request.seed,
                "prime": list(prime),
                "unclamped": list(free),
                "clamped": list(held),
            }
        )

    @app.get("/api/{ds}/{model}/range")
    def value_range(
        ds: str, model: str, layer: int, state: str, transform: Transform = None
    ) -> JSONResponse:
        """What the threshold slider spans for this state as shown: [0, 1] when bounded,
        else up to its observed 99.9th percentile of |value| (``queries.value_range``)."""
        store = results.model(ds, model)
        _values(store, layer, state)  # 404 for an unknown layer or state
        shown = _transform(store.meta, layer, state, transform)
        return _json(
            {
                "transform": shown,
                "default_transform": queries.default_transform(store.meta, layer, state),
                **_cached_range(store, layer, state, shown),
            }
        )

    @app.get("/api/{ds}/{model}/top")
    def top(
        ds: str,
        model: str,
        layer: int,
        state: str,
        unit: Annotated[int, Query(ge=0)],
        k: Annotated[int, Query(ge=1, le=100)] = 10,
        width: Annotated[int, Query(ge=1, le=1000)] = 60,
    ) -> JSONResponse:
        store = results.model(ds, model)
        values = _values(store, layer, state)
        if unit >= store.hidden_size:
            raise HTTPException(400, f"unit {unit} out of range; layers have {store.hidden_size}")
        trace = values[unit]
        text = results.text(ds)
        out: dict[str, Any] = {"unit": unit, "width": width}
        for key, lowest in (("highest", False), ("lowest", True)):
            rows = []
            for position in queries.top_positions(trace, k, width, lowest):
                lo = max(0, position - width // 2)
                hi = min(store.num_positions, lo + width)
                row = {
                    "position": position,
                    "value": round(float(trace[position]), 4),
                    "start": lo,
                    "text": [int(b) for b in text.text[lo:hi]],
                    "values": _finite(trace[lo:hi]),
                }
                if text.vocabulary is not None:
                    row["tokens"] = text.strings(text.text[lo:hi])
                rows.append(row)
            out[key] = rows
        return _json(out)

    return app


def serve(
    results_dir: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    host: str = DEFAULT_HOST,
    port: int = 8000,
    tracks: Sequence[UserTrack] = (),
) -> None:
    """Run the explorer on ``host:port`` until interrupted."""
    import uvicorn

    app = create_app(results_dir, host=host, tracks=tracks)
    roots = [results_dir] if isinstance(results_dir, str | os.PathLike) else results_dir
    served = ", ".join(str(Path(r).resolve()) for r in roots)
    print(f"visrnn explorer on http://{host}:{port}/ serving {served}")
    uvicorn.run(app, host=host, port=port, log_level="warning")
