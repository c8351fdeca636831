"""The explorer's questions, answered on unit-major (units, positions) memory maps.

The workflow is LSTMVis's (Strobelt et al., "Visual Analysis of Hidden State Dynamics in
Recurrent Neural Networks"): a *hypothesis* is a range of text; the units *on* across it
(value above a threshold, or below minus it for the negative sign) and *off* in the
off-width on each side of it are selected; a *match* finds the other ranges of the text
where the selected units are on; its precision and recall against a binary annotation
track say how well "these units are on" describes "inside quotes".

Only the rows of the selected units are read for a match, and a window of all units is one
strided slice: neither grows with the number of positions beyond the bytes it touches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A match measures the other units on across a candidate over at most this many positions.
UNION_SPAN = 1000
#: Candidates (best by intersection, then length) whose union is measured to rank them.
UNION_CANDIDATES = 64


@dataclass(frozen=True)
class Hypothesis:
    """Units on across a range and off around it, ranked by how much more on they are."""

    selected: list[int]  # best first
    score: np.ndarray  # (units,) mean inside minus mean in the off-widths (signed)
    inside_min: np.ndarray  # (units,) signed minimum inside: the threshold each unit clears
    histogram: list[int]
    edges: list[float]


def signed_on(rows: np.ndarray, threshold: float, sign: int) -> np.ndarray:
    """Whether each value is on: above ``threshold``, or below ``-threshold`` for sign -1.

    NumPy compares float16 elementwise in software, about 70 times slower than integers. For
    a threshold t >= 0 the comparison is made on the bit patterns instead, which order like
    the values: a float16 above t is a non-negative int16 above t's bits, and one below -t is
    a uint16 above the sign bit plus t's bits. A t between two float16 values compares like
    the lower one. Other inputs (negative t, other dtypes) go through float32.
    """
    rows = np.asarray(rows)
    if rows.dtype != np.float16 or not 0 <= threshold < 65504:
        values = rows.astype(np.float32)
        return values > threshold if sign > 0 else values < -threshold
    t = np.float16(threshold)
    if float(t) > threshold:
        t = np.nextafter(t, np.float16(0))
    bits = int(t.view(np.uint16))
    if sign > 0:
        return rows.view(np.int16) > np.int16(bits)
    return rows.view(np.uint16) > np.uint16(0x8000 | bits)


def hypothesis(
    values: np.ndarray,
    start: int,
    stop: int,
    threshold: float,
    sign: int = 1,
    before: int = 0,
    after: int = 0,
    bins: int = 40,
) -> Hypothesis:
    """Units on at every position of ``[start, stop)`` and off over ``before``/``after`` around.

    The histogram is of each unit's signed minimum inside the range: the slider's threshold
    selects exactly the units to its right (those also off around the range).
    """
    lo, hi = max(0, start - before), min(values.shape[1], stop + after)
    block = np.asarray(values[:, lo:hi], dtype=np.float32) * sign
    inside = block[:, start - lo : stop - lo]
    outside = np.concatenate([block[:, : start - lo], block[:, stop - lo :]], axis=1)
    inside_min = inside.min(axis=1)
    on = inside_min > threshold
    off = outside.max(axis=1) <= threshold if outside.shape[1] else np.ones_like(on)
    score = inside.mean(axis=1) - (outside.mean(axis=1) if outside.shape[1] else 0.0)
    chosen = np.flatnonzero(on & off)
    chosen = chosen[np.argsort(-score[chosen], kind="stable")]
    finite = inside_min[np.isfinite(inside_min)]
    counts, edges = np.histogram(finite, bins=bins) if len(finite) else ([], [])
    return Hypothesis(
        selected=[int(u) for u in chosen],
        score=score,
        inside_min=inside_min,
        histogram=[int(c) for c in counts],
        edges=[float(e) for e in edges],
    )


def on_count(values: np.ndarray, units: list[int], threshold: float, sign: int) -> np.ndarray:
    """(len(units), positions) on-mask of the selected units; reads only their rows."""
    rows = values[np.asarray(units, dtype=np.int64)]
    return signed_on(rows, threshold, sign)


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and stops of the maximal runs of True in ``mask``."""
    edges = np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


@dataclass(frozen=True)
class Match:
    start: int
    stop: int
    intersection: int  # selected units on at every position of the range
    union: int  # selected units plus other units on at every position of the range


def match(
    values: np.ndarray,
    units: list[int],
    threshold: float,
    sign: int = 1,
    min_units: int | None = None,
    limit: int = 50,
) -> tuple[list[Match], np.ndarray, np.ndarray]:
    """Ranges where the selected units are on, ranked as LSTMVis ranks them.

    Candidates are the maximal runs where at least ``min_units`` (default: all) of the
    selected units are on. They rank by |A∩C| descending (A: the selected units, C: the units
    on across the candidate), then |A∪C| ascending (fewer other units on: a more specific
    match), then length descending. Two changes from LSTMVis make it answer at a million
    positions: |A∩C| comes from a per-run OR of the selected rows only (``reduceat``),
    and |A∪C|, which needs every unit, is measured only for the ``UNION_CANDIDATES`` best
    candidates by the other two keys, over their first ``UNION_SPAN`` positions. Returns the
    ranked matches and the starts/stops of every candidate (for the minimap).
    """
    on = on_count(values, units, threshold, sign)
    needed = len(units) if min_units is None else min_units
    count = on.sum(axis=0, dtype=np.int16)
    starts, stops = runs(count >= needed)
    if len(starts) == 0:
        return [], starts, stops
    # Whether each selected unit is off anywhere in each run: an OR over [start, stop).
    off = np.concatenate([~on, np.zeros((len(units), 1), dtype=bool)], axis=1)
    bounds = np.stack([starts, stops], axis=1).reshape(-1)
    off_in_run = np.logical_or.reduceat(off, bounds, axis=1)[:, ::2]
    intersection = len(units) - off_in_run.sum(axis=0)
    lengths = stops - starts
    order = np.lexsort((-lengths, -intersection))[:UNION_CANDIDATES]
    selected = set(units)
    others = np.array([u for u in range(values.shape[0]) if u not in selected], dtype=np.int64)
    found = []
    for index in order:
        start, stop = int(starts[index]), int(stops[index])
        union = len(units)
        if len(others):
            window = values[:, start : min(stop, start + UNION_SPAN)][others]
            union += int(signed_on(window, threshold, sign).all(axis=1).sum())
        found.append(Match(start, stop, int(intersection[index]), union))
    found.sort(key=lambda m: (-m.intersection, m.union, -(m.stop - m.start), m.start))
    return found[:limit], starts, stops


def precision_recall(
    values: np.ndarray,
    units: list[int],
    threshold: float,
    sign: int,
    track: np.ndarray,
    min_units: int | None = None,
) -> dict[str, float]:
    """How well "at least ``min_units`` of ``units`` on" predicts a binary track (> 0.5)."""
    positions = min(values.shape[1], len(track))
    on = on_count(values, units, threshold, sign)[:, :positions]
    predicted = on.sum(axis=0) >= (len(units) if min_units is None else min_units)
    actual = np.asarray(track[:positions]) > 0.5
    both = int((predicted & actual).sum())
    predicted_n, actual_n = int(predicted.sum()), int(actual.sum())
    return {
        "precision": both / predicted_n if predicted_n else 0.0,
        "recall": both / actual_n if actual_n else 0.0,
        "predicted": predicted_n,
        "actual": actual_n,
        "both": both,
    }


def top_positions(trace: np.ndarray, k: int, width: int, lowest: bool = False) -> list[int]:
    """The ``k`` positions where ``trace`` is highest (or lowest), ``width`` apart at least."""
    trace = np.asarray(trace, dtype=np.float32) * (-1 if lowest else 1)
    trace = np.where(np.isfinite(trace), trace, -np.inf)
    pool = min(len(trace), max(k * width * 4, 1))
    candidates = (
        np.argpartition(-trace, pool - 1)[:pool] if pool < len(trace) else np.arange(len(trace))
    )
    candidates = candidates[np.argsort(-trace[candidates], kind="stable")]
    chosen: list[int] = []
    for position in candidates:
        if all(abs(int(position) - c) >= width for c in chosen):
            chosen.append(int(position))
            if len(chosen) == k:
                break
    return chosen
