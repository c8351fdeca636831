"""The explorer's questions, answered on unit-major (units, positions) memory maps.

The workflow is LSTMVis's (Strobelt et al., "Visual Analysis of Hidden State Dynamics in
Recurrent Neural Networks"): a *hypothesis* is a range of text; the units *on* across it
(value above a threshold, or below minus it for the negative sign) and *off* in the
off-width on each side of it are selected; a *match* finds the other ranges of the text
where the selected units are on; its precision and recall against a binary annotation
track say how well "these units are on" describes "inside quotes".

Thresholds are on the value the page shows (``TRANSFORMS``): LSTMVis applies ``tanh`` to a
state unless its ``lstm.yml`` says ``transform: none`` and compares the threshold with the
transformed value (``data_handler.query_similar_activations`` compares the raw matrix with
``arctanh(threshold)``); here, too, the stored raw values are compared with the threshold
mapped back through the transform (``raw_threshold``), so no transformed copy is made.

Only the rows of the selected units are read for a match, and a window of all units is one
strided slice: neither grows with the number of positions beyond the bytes it touches.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from visrnn.explorer import kernels

#: A match measures the other units on across a candidate over at most this many positions.
UNION_SPAN = 1000
#: Candidates (best by intersection, then length) whose union is measured to rank them.
UNION_CANDIDATES = 64
#: How a state's stored value becomes the value shown, coloured and thresholded: ``tanh``
#: (LSTMVis's default ``transform``, and how the page colours an LSTM's unbounded c) or
#: ``none`` (the raw value; LSTMVis's ``transform: none``).
TRANSFORMS = ("tanh", "none")
#: Quantiles of |value| that bound the threshold slider of an unbounded state.
RANGE_QUANTILES = (0.5, 0.9, 0.99, 0.999)
#: Positions sampled (in contiguous blocks) to measure an unbounded state's quantiles.
RANGE_SAMPLE = 65536


def default_transform(meta: dict, layer: int, state: str) -> str:
    """The transform a state is shown with unless the user chooses: the one its store
    declares (an LSTMVis project's ``transform``), else ``tanh`` for a cell state ``c``
    (unbounded) and ``none`` for every other state (already in [-1, 1] or [0, 1])."""
    declared = meta.get("transforms", {}).get(f"l{layer}.{state}")
    if declared is not None:
        return str(declared)
    return "tanh" if state == "c" else "none"


def bounded(meta: dict, state: str, transform: str) -> bool:
    """Whether the shown values lie in [-1, 1]: after ``tanh``; raw, the pipeline's states
    other than c (h and the gates are squashed). Imported states (their store declares
    ``transforms``) are not assumed bounded raw: LSTMVis's ``none`` expects, never checks."""
    if transform == "tanh":
        return True
    return "transforms" not in meta and state != "c"


def check_transform(transform: str) -> str:
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}")
    return transform


def shown(values: np.ndarray, transform: str) -> np.ndarray:
    """The value the page shows for stored values (float32)."""
    values = np.asarray(values, dtype=np.float32)
    return np.tanh(values) if check_transform(transform) == "tanh" else values


def raw_threshold(threshold: float, transform: str) -> float:
    """The stored-value threshold equivalent to ``threshold`` on the shown value.

    tanh is increasing and odd, so ``tanh(v) > t`` is ``v > arctanh(t)`` and ``tanh(v) < -t``
    is ``v < -arctanh(t)`` (LSTMVis's ``activation_threshold_corrected``); a t of 1 or more
    is reached by no finite value (infinity), one of -1 or less by every value.
    """
    if check_transform(transform) == "none":
        return float(threshold)
    if threshold >= 1:
        return float("inf")
    if threshold <= -1:
        return float("-inf")
    return float(np.arctanh(threshold))


def value_range(values: np.ndarray, transform: str, is_bounded: bool) -> dict[str, object]:
    """What the threshold slider spans: [0, 1] for a bounded shown value; for an unbounded
    one, 0 to the 99.9th percentile of |value| over ``RANGE_SAMPLE`` positions read in
    contiguous blocks spread over the text (with the other quantiles, for the page)."""
    if is_bounded:
        return {"bounded": True, "max": 1.0, "quantiles": {}}
    positions = values.shape[1]
    blocks = 16
    width = max(1, min(positions, RANGE_SAMPLE) // blocks)
    starts = np.linspace(0, max(0, positions - width), blocks).astype(np.int64)
    sample = np.abs(
        np.concatenate([shown(values[:, s : s + width], transform) for s in np.unique(starts)], 1)
    )
    sample = sample[np.isfinite(sample)]
    quantiles = np.quantile(sample, RANGE_QUANTILES) if sample.size else np.zeros(4)
    top = float(quantiles[-1]) if sample.size and quantiles[-1] > 0 else 1.0
    return {
        "bounded": False,
        "max": top,
        "quantiles": {str(q): float(v) for q, v in zip(RANGE_QUANTILES, quantiles, strict=True)},
    }


def document_of(documents: np.ndarray | None, position: int, size: int) -> tuple[int, int]:
    """[first, last + 1) of the document holding ``position``; ``documents`` are the sorted
    start positions of the documents (None: the whole text is one)."""
    if documents is None or len(documents) == 0:
        return 0, size
    index = int(np.searchsorted(documents, position, side="right")) - 1
    first = int(documents[index]) if index >= 0 else 0
    stop = int(documents[index + 1]) if index + 1 < len(documents) else size
    return first, stop


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
    transform: str = "none",
    documents: np.ndarray | None = None,
) -> Hypothesis:
    """Units on at every position of ``[start, stop)`` and off over ``before``/``after`` around.

    Values, threshold, scores and the histogram are all of the shown value (``transform``).
    The off-widths stop at the range's document's edges (``documents``: start positions).
    The histogram is of each unit's signed minimum inside the range: the slider's threshold
    selects exactly the units to its right (those also off around the range).
    """
    first, _ = document_of(documents, start, values.shape[1])
    _, last = document_of(documents, stop - 1, values.shape[1])
    lo, hi = max(first, start - before), min(last, stop + after)
    block = shown(values[:, lo:hi], transform) * sign
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


def runs(mask: np.ndarray, breaks: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Starts and stops of the maximal runs of True in ``mask``; a run never spans a position
    of ``breaks`` and the one before it (document starts: no match crosses a boundary)."""
    edges = np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if breaks is None or len(breaks) == 0:
        return starts, stops
    breaks = np.asarray(breaks, dtype=np.int64)
    breaks = breaks[(breaks > 0) & (breaks < len(mask))]
    inside = breaks[mask[breaks] & mask[breaks - 1]]
    return np.sort(np.concatenate([starts, inside])), np.sort(np.concatenate([stops, inside]))


@dataclass(frozen=True)
class Match:
    start: int
    stop: int
    intersection: int  # selected units on across the range and off in its off-widths
    union: int  # selected units plus the other units with the same on/off pattern


def _window_any(on: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(units, windows) whether each row of ``on`` is True anywhere in each [lo, hi); empty
    windows are False. ``on`` has a trailing False column so that hi may be its width - 1."""
    if len(lo) == 0:
        return np.zeros((on.shape[0], 0), dtype=bool)
    bounds = np.stack([lo, np.maximum(hi, lo)], axis=1).reshape(-1)
    found = np.logical_or.reduceat(on, bounds, axis=1)[:, ::2]
    return found & (hi > lo)[None, :]


def match(
    values: np.ndarray,
    units: list[int],
    threshold: float,
    sign: int = 1,
    min_units: int | None = None,
    limit: int = 50,
    before: int = 0,
    after: int = 0,
    min_length: int = 1,
    max_length: int | None = None,
    transform: str = "none",
    documents: np.ndarray | None = None,
) -> tuple[list[Match], np.ndarray, np.ndarray]:
    """Ranges where the selected units are on, ranked as LSTMVis ranks them.

    LSTMVis (``data_handler.query_similar_activations``): candidates are the maximal runs where
    the selected units are on, of ``phrase_length`` positions if one is given (else at least
    its ``cut_off`` of 2); each candidate's C is the set of all units on across it and, where
    its ``constraints`` ask, off (below the threshold) just before and just after it; the
    candidates rank by |A∩C| descending (A: the selected units), |A∪C| ascending (fewer other
    units with the pattern: a more specific match), then length descending.

    Here the same, with: candidates are maximal runs where at least ``min_units`` (default:
    all) selected units are on, split at document starts (``documents``: no match crosses a
    boundary), of ``min_length``..``max_length`` positions (LSTMVis's ``phrase_length=n`` is
    ``min_length=max_length=n``); the off-widths are ``before`` and ``after`` positions (LSTMVis
    checks one position on each side whatever the width it draws; width 1 is its rule), clipped
    at the document's edges; and, to answer at a million positions, |A∩C| is a per-run OR of
    the selected rows only (``reduceat``), and |A∪C|, which reads every unit, is measured only
    for the ``UNION_CANDIDATES`` best candidates by the other two keys, over their first
    ``UNION_SPAN`` positions. ``threshold`` is on the shown value (``transform``). Returns the
    ranked matches and the starts/stops of every candidate (for the minimap).
    """
    positions = values.shape[1]
    cut = raw_threshold(threshold, transform)
    on = on_count(values, units, cut, sign)
    needed = len(units) if min_units is None else min_units
    count = on.sum(axis=0, dtype=np.int16)
    starts, stops = runs(count >= needed, documents)
    lengths = stops - starts
    keep = lengths >= min_length
    if max_length is not None:
        keep &= lengths <= max_length
    starts, stops, lengths = starts[keep], stops[keep], lengths[keep]
    if len(starts) == 0:
        return [], starts, stops
    if documents is not None and len(documents):
        docs = np.asarray(documents, dtype=np.int64)
        index = np.searchsorted(docs, starts, side="right") - 1
        first = np.where(index >= 0, docs[np.maximum(index, 0)], 0)
        following = np.concatenate([docs, [positions]])
        last = following[np.minimum(index + 1, len(docs))]
    else:
        first, last = np.zeros_like(starts), np.full_like(stops, positions)
    lo, hi = np.maximum(first, starts - before), np.minimum(last, stops + after)
    padded = np.concatenate([on, np.zeros((len(units), 1), dtype=bool)], axis=1)
    # Whether each selected unit is off anywhere in each run, or on anywhere in its off-widths.
    off_in_run = _window_any(~padded, starts, stops)
    on_around = _window_any(padded, lo, starts) | _window_any(padded, stops, hi)
    intersection = len(units) - (off_in_run | on_around).sum(axis=0)
    order = np.lexsort((-lengths, -intersection))[:UNION_CANDIDATES]
    selected = set(units)
    others = np.array([u for u in range(values.shape[0]) if u not in selected], dtype=np.int64)
    found = []
    for index in order:
        start, stop = int(starts[index]), int(stops[index])
        union = len(units)
        if len(others):
            left, right = int(lo[index]), min(int(hi[index]), start + UNION_SPAN)
            window = signed_on(values[:, left:right][others], cut, sign)
            inside = window[:, start - left : min(stop, start + UNION_SPAN) - left]
            around = np.concatenate(
                [window[:, : start - left], window[:, stop - left :]], axis=1
            ).any(axis=1)
            union += int((inside.all(axis=1) & ~around).sum())
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
    transform: str = "none",
) -> dict[str, float]:
    """How well "at least ``min_units`` of ``units`` on" predicts a binary track (> 0.5)."""
    positions = min(values.shape[1], len(track))
    on = on_count(values, units, raw_threshold(threshold, transform), sign)[:, :positions]
    predicted = on.sum(axis=0) >= (len(units) if min_units is None else min_units)
    actual = np.asarray(track[:positions]) > 0.5
    both = int((predicted & actual).sum())
    predicted_n, actual_n = int(predicted.sum()), int(actual.sum())
    scores = scores_of(np.array([both]), np.array([predicted_n]), actual_n)
    return {
        "precision": float(scores["precision"][0]),
        "recall": float(scores["recall"][0]),
        "predicted": predicted_n,
        "actual": actual_n,
        "both": both,
    }


def scores_of(both: np.ndarray, predicted: np.ndarray, actual: int) -> dict[str, np.ndarray]:
    """Precision, recall and F1 of predictions against a binary track, from the counts of
    positions predicted on (``predicted``), on in the track (``actual``) and both; 0 where a
    denominator is 0."""
    both, predicted = np.asarray(both, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    precision = np.divide(both, predicted, out=np.zeros_like(both), where=predicted > 0)
    recall = both / actual if actual else np.zeros_like(both)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(both), where=total > 0)
    return {"precision": precision, "recall": recall, "f1": f1}


# --- which units track this? ---------------------------------------------------------------

#: Units whose rows are read and counted together when ranking (bounds the working memory:
#: one block of this many rows, and their counts, per thread).
RANK_BLOCK = 16
#: Threads that rank blocks of units at once: the compiled loops (``kernels``) let go of the
#: GIL, and each block's measures are its own, so the threads' results are the same as one
#: thread's.
RANK_THREADS = min(4, os.cpu_count() or 1)
#: Every float16 value, by bit pattern, in float64 (NaN patterns included).
_HALF = (
    np.arange(kernels.PATTERNS, dtype=np.uint32)
    .astype(np.uint16)
    .view(np.float16)
    .astype(np.float64)
)
#: The float16 bit patterns in increasing order of value, NaNs left out; -0 is dropped (its
#: count is added to +0's: they are one value).
_ORDER = np.argsort(np.where(np.isnan(_HALF), np.inf, _HALF), kind="stable")[
    : int((~np.isnan(_HALF)).sum())
]
_ORDER = _ORDER[_ORDER != kernels.NEGATIVE_ZERO]
#: Each float16 value in increasing order (the columns of ``value_counts``).
ORDERED_VALUES = _HALF[_ORDER]
#: The ``at`` of a compiled loop that reads every position.
_NO_POSITIONS = np.zeros(0, dtype=np.intp)


def _blocks(rows: int, work: Callable[[int], object]) -> list:
    """``work(start)`` for the start of each block of ``RANK_BLOCK`` of ``rows`` rows, in
    order, on ``RANK_THREADS`` threads."""
    starts = range(0, rows, RANK_BLOCK)
    if RANK_THREADS <= 1 or len(starts) <= 1:
        return [work(start) for start in starts]
    with ThreadPoolExecutor(RANK_THREADS) as pool:
        return list(pool.map(work, starts))


def _per_value(values: np.ndarray, at: np.ndarray | None) -> np.ndarray:
    """Per row of ``values``, over the positions ``at`` (None: all), in increasing order of
    value (the columns of ``ORDERED_VALUES``): the count of each float16 value."""
    found = np.empty((values.shape[0], kernels.PATTERNS), dtype=np.int64)
    every = at is None
    at = _NO_POSITIONS if every else np.ascontiguousarray(at, dtype=np.intp)
    kernels.count_patterns(_patterns(values), at, every, found)
    return found[:, _ORDER]


def _patterns(rows: np.ndarray) -> np.ndarray:
    """``rows``' float16 bit patterns, C-contiguous (the compiled loops' one layout): a view
    of a block of a unit-major memory map."""
    return np.ascontiguousarray(np.asarray(rows, dtype=np.float16)).view(np.uint16)


def value_counts(values: np.ndarray) -> np.ndarray:
    """(units, values) count of each float16 value of each unit over every position (int32
    below 2**31 positions: half the memory).

    What every ranking of a layer and state against a binary track starts from: the server
    keeps it, so a ranking against another track or at another threshold reads only the
    positions it must."""
    wide = values.shape[1] >= 2**31
    out = np.empty((values.shape[0], len(_ORDER)), dtype=np.int64 if wide else np.int32)

    def count(start: int) -> None:
        out[start : start + RANK_BLOCK] = _per_value(values[start : start + RANK_BLOCK], None)

    _blocks(values.shape[0], count)
    return out


@dataclass(frozen=True)
class _Subset:
    """How to count over a subset of positions: over ``read`` itself, or (``complement``) as
    the counts over the whole set minus those over ``read``, whichever reads fewer."""

    read: np.ndarray | None  # None: every position
    complement: bool = False

    @classmethod
    def of(cls, at: np.ndarray, within: np.ndarray | None, positions: int) -> _Subset:
        """Positions ``at``, a subset of ``within`` (None: all ``positions``)."""
        size = positions if within is None else len(within)
        if len(at) == size:
            return cls(within)
        if len(at) <= size - len(at):
            return cls(at)
        whole = np.arange(positions) if within is None else within
        return cls(np.setdiff1d(whole, at, assume_unique=True), complement=True)

    def counts(self, rows: np.ndarray, whole: np.ndarray | None) -> np.ndarray:
        """Counts of ``rows`` over the subset; ``whole``: theirs over the whole set."""
        if self.read is None:
            return whole if whole is not None else _per_value(rows, None)
        if not self.complement:
            return _per_value(rows, self.read)
        return (whole if whole is not None else _per_value(rows, None)) - _per_value(
            rows, self.read
        )


def _kept(track: np.ndarray, positions: int) -> tuple[np.ndarray, np.ndarray | None, _Subset]:
    """The track over the values' positions (NaN past its end), the positions where it is
    finite, the ones a ranking counts (None: all), and how to count over them."""
    labels = np.full(positions, np.nan)
    size = min(positions, len(track))
    labels[:size] = np.asarray(track[:size], dtype=np.float64)
    kept = np.flatnonzero(np.isfinite(labels))
    return labels, None if len(kept) == positions else kept, _Subset.of(kept, None, positions)


def _by_block(
    values: np.ndarray,
    counts: np.ndarray | None,
    measure: Callable[[np.ndarray, np.ndarray | None], dict[str, np.ndarray]],
) -> dict[str, np.ndarray]:
    """``measure(rows, their counts or None)`` of each block of ``RANK_BLOCK`` rows, joined:
    only one block's rows and per-value counts per thread are in memory at a time."""

    def block(u: int) -> dict[str, np.ndarray]:
        return measure(
            values[u : u + RANK_BLOCK], None if counts is None else counts[u : u + RANK_BLOCK]
        )

    parts = _blocks(values.shape[0], block)
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def rank_binary(
    values: np.ndarray,
    track: np.ndarray,
    threshold: float,
    sign: int = 1,
    transform: str = "none",
    counts: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """How well each unit on its own predicts a binary track (> 0.5; NaN positions, and
    positions past the track's end, left out).

    Per unit: precision, recall and F1 of "the unit is on" (``signed_on``'s rule, with the
    threshold on the shown value) and AUROC of its value (of minus it for sign -1) as a score
    for the track, ties counting one half. Each unit's count of every float16 value inside
    and outside the track gives all four, exactly, at any threshold: from ``counts``
    (``value_counts``; None: counted here) and a count over the track's positions or the
    rest, whichever is fewer.
    """
    labels, kept_at, kept = _kept(track, values.shape[1])
    inside_at = np.flatnonzero(labels > 0.5)
    inside_of_kept = _Subset.of(inside_at, kept_at, values.shape[1])
    actual = len(inside_at)
    cut = raw_threshold(threshold, transform)
    ordered = ORDERED_VALUES
    on = ordered > cut if sign > 0 else ordered < -cut

    def measure(rows: np.ndarray, whole: np.ndarray | None) -> dict[str, np.ndarray]:
        counted = np.ascontiguousarray(kept.counts(rows, whole), dtype=np.int64)
        inside = np.ascontiguousarray(inside_of_kept.counts(rows, counted), dtype=np.int64)
        sums = np.empty((len(rows), len(kernels.BINARY_SUMS)), dtype=np.int64)
        kernels.binary_sums(counted, inside, on, sums)
        both, predicted, outside, twice_wins = sums.T
        pairs = actual * outside.astype(float)
        auroc = np.divide(twice_wins / 2, pairs, out=np.full_like(pairs, np.nan), where=pairs > 0)
        return {
            **scores_of(both, predicted, actual),
            "auroc": auroc if sign > 0 else 1 - auroc,
            "predicted": predicted,
            "both": both,
        }

    return _by_block(values, counts, measure)


def mean_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values`` as float32 (no NaN), tied values given their mean rank (as
    ``scipy.stats.rankdata``), in float64: exact, mean ranks are multiples of one half
    (``kernels.mean_ranks``)."""
    return kernels.mean_ranks(np.ascontiguousarray(values, dtype=np.float32))


def rank_scalar(
    values: np.ndarray, track: np.ndarray, transform: str = "none"
) -> dict[str, np.ndarray]:
    """Pearson r of each unit's shown value with a scalar track (its float32 values, as the
    explorer stores tracks), and Spearman's rho (Pearson of the ranks, ties given their mean
    rank), over the positions where the track is finite.

    One compiled pass over each unit's values there (``kernels.scalar_moments``) gives its
    shown values' mean and spread, its values' mean ranks, and the sums of products of both
    with the track and its ranks. A constant unit or track gives 0. Pearson leaves a unit's
    infinite values (float16 overflow) out, with the track's positions there; Spearman keeps
    them, ranked highest or lowest.
    """
    positions = values.shape[1]
    y, kept_at, _ = _kept(np.asarray(track, dtype=np.float32), positions)
    finite = np.isfinite(y)
    kept_size = int(finite.sum())
    kept_values = y[finite]
    ranks = mean_ranks(kept_values)
    track_values = np.where(finite, y, 0).astype(np.float32)
    twice_ranks = np.zeros(positions, dtype=np.int32 if 2 * kept_size < 2**31 else np.int64)
    twice_ranks[finite] = 2 * ranks
    # The track, and its ranks, about their means over the kept positions (float64).
    centre = float(kept_values.mean()) if kept_size else 0.0
    centred = np.where(finite, y - centre, 0.0)
    squares = float(np.dot(centred, centred))
    rank_centre = (kept_size + 1) / 2
    rank_squares = float(np.dot(ranks - rank_centre, ranks - rank_centre))
    shown_by_pattern = np.zeros(kernels.PATTERNS)  # -0 and NaN patterns are never read
    shown_by_pattern[_ORDER] = shown(ORDERED_VALUES, transform)
    every = kept_at is None
    at = _NO_POSITIONS if every else kept_at

    def correlation(
        counted: np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
        products: np.ndarray,
        centre: float,
        squares: float,
        left_out: np.ndarray | float = 0.0,
    ) -> np.ndarray:
        """Pearson r of each unit's values (``counted`` of them, their ``mean`` and ``std``,
        the sum of their ``products`` with the track) with the track: its mean over every
        kept position is ``centre`` and its sum of squares about that ``squares``, less,
        where a unit is not counted, ``left_out`` (the sum and sum of squares about
        ``centre`` there)."""
        counted = np.maximum(counted, 1)
        left_out = np.broadcast_to(left_out, (2, len(counted)))
        summed = products - centre * mean * counted  # the products with the centred track
        track_mean = -left_out[0] / counted
        track_std = np.sqrt(np.maximum((squares - left_out[1]) / counted - track_mean**2, 0))
        spread = std * track_std
        r = (summed / counted - mean * track_mean) / np.where(spread > 0, spread, 1.0)
        scale = np.sqrt(squares / max(kept_size, 1))  # the track's spread, for "constant"
        tracked = (std > 1e-12 * np.maximum(np.abs(mean), 1.0)) & (track_std > 1e-12 * scale)
        return np.where(tracked, np.clip(r, -1, 1), 0.0)

    def measure(rows: np.ndarray, _: np.ndarray | None) -> dict[str, np.ndarray]:
        moments = np.empty((len(rows), len(kernels.MOMENTS)))
        kernels.scalar_moments(
            _patterns(rows),
            at,
            every,
            track_values,
            twice_ranks,
            shown_by_pattern,
            _ORDER,
            moments,
        )
        counted, mean, std, products, ranked, rank_std, rank_products = moments.T
        # Where a unit's shown value is not finite: the centred track's sum and sum of
        # squares over the positions Pearson leaves out.
        left_out = np.zeros((2, len(rows)))
        for unit in np.flatnonzero(counted < kept_size):
            there = centred[~np.isfinite(shown(np.asarray(rows[unit], np.float32), transform))]
            left_out[:, unit] = [there.sum(), (there**2).sum()]
        return {
            "pearson": correlation(counted, mean, std, products, centre, squares, left_out),
            "spearman": correlation(
                ranked, (ranked + 1) / 2, rank_std, rank_products, rank_centre, rank_squares
            ),
        }

    return _by_block(values, None, measure)


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
