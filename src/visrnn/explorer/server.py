"""The explorer's web app: a FastAPI app over the precomputed layout of a results directory.

Every dataset and model is found by scanning ``RESULTS_DIR/*/explorer/``; requests name
them, and only names found by that scan are looked up, so no request can reach a path of
its own making. Everything is opened read-only and memory-mapped.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from visrnn import plan
from visrnn.explorer import queries
from visrnn.explorer.store import ModelStore, TextStore
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


class Results:
    """The datasets and models of a results directory that have explorer outputs."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"{self.root} is not a directory; give a results directory")
        self.texts: dict[str, Path] = {}
        self._opened: dict[tuple[str, str], ModelStore] = {}
        self.models: dict[str, dict[str, Path]] = {}
        for folder in sorted(path for path in self.root.iterdir() if path.is_dir()):
            ds, text = folder.name, Path(plan.explorer_text(folder.name, self.root))
            if not (text / "text.json").is_file():
                continue
            self.texts[ds] = text
            models = Path(plan.explorer_models(ds, self.root))
            self.models[ds] = {p.parent.name: p.parent for p in sorted(models.glob("*/model.json"))}

    @functools.cache  # noqa: B019 (one Results per app, alive as long as the app)
    def text(self, ds: str) -> TextStore:
        if ds not in self.texts:
            raise HTTPException(
                404, f"unknown dataset {ds!r}; datasets with explorer outputs: {_names(self.texts)}"
            )
        return TextStore(self.texts[ds])

    def release_maps(self) -> None:
        """Drop every model's memory maps (their pages leave the resident memory with them)."""
        for store in self._opened.values():
            store.release_maps()

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


def _finite(values: np.ndarray, digits: int = 4) -> list[float | None]:
    return [None if not math.isfinite(v) else round(float(v), digits) for v in values]


def create_app(results_dir: str | os.PathLike[str]) -> FastAPI:
    """The app serving ``results_dir``'s explorer outputs and the page."""
    results = Results(results_dir)
    app = FastAPI(title="visrnn explorer", docs_url=None, redoc_url=None)

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
                "models": {m: results.model(ds, m).meta for m in results.models[ds]},
            }
        return _json(
            {
                "datasets": out,
                "palette": {"negative": NEGATIVE_RGB.tolist(), "positive": POSITIVE_RGB.tolist()},
            }
        )

    @app.get("/api/{ds}/text")
    def text(ds: str, start: Position, stop: Position) -> JSONResponse:
        store = results.text(ds)
        _range(start, stop, store.num_positions)
        return _json(
            {
                "start": start,
                "stop": stop,
                "text": [int(b) for b in store.text[start:stop]],
                "tracks": {name: _finite(store.track(name)[start:stop]) for name in store.tracks},
            }
        )

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
        before: Annotated[int, Query(ge=0, le=1000)] = 0,
        after: Annotated[int, Query(ge=0, le=1000)] = 0,
    ) -> JSONResponse:
        store = results.model(ds, model)
        values = _values(store, layer, state)
        _range(start, stop, store.num_positions)
        found = queries.hypothesis(values, start, stop, threshold, _sign(sign), before, after)
        return _json(
            {
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
    ) -> JSONResponse:
        store = results.model(ds, model)
        values = _values(store, layer, state)
        selected = _units(units, store.hidden_size)
        if min_units is not None and min_units > len(selected):
            raise HTTPException(400, f"min_units={min_units} > {len(selected)} selected units")
        found, starts, _ = queries.match(values, selected, threshold, _sign(sign), min_units, limit)
        return _json(
            {
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
    ) -> JSONResponse:
        store = results.model(ds, model)
        values = _values(store, layer, state)
        selected = _units(units, store.hidden_size)
        text = results.text(ds)
        binary = [name for name, t in text.tracks.items() if t.binary]
        if track not in binary:
            raise HTTPException(404, f"unknown binary track {track!r}; tracks: {_names(binary)}")
        return _json(
            {
                "track": track,
                **queries.precision_recall(
                    values, selected, threshold, _sign(sign), text.track(track), min_units
                ),
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
                rows.append(
                    {
                        "position": position,
                        "value": round(float(trace[position]), 4),
                        "start": lo,
                        "text": [int(b) for b in text.text[lo:hi]],
                        "values": _finite(trace[lo:hi]),
                    }
                )
            out[key] = rows
        return _json(out)

    return app


def serve(results_dir: str | os.PathLike[str], host: str = DEFAULT_HOST, port: int = 8000) -> None:
    """Run the explorer on ``host:port`` until interrupted."""
    import uvicorn

    app = create_app(results_dir)
    print(f"visrnn explorer on http://{host}:{port}/ serving {Path(results_dir).resolve()}")
    uvicorn.run(app, host=host, port=port, log_level="warning")
