"""The rankings' loops over every value of a layer, compiled by Numba.

"Which units track this?" reads each of a layer's values once (512 units x a million
positions is half a billion values): per unit, how often each float16 bit pattern occurs,
and for a scalar track the sums of the track and its ranks at each pattern. NumPy has no
single call for either: ``np.bincount`` casts the patterns to 8-byte indices first (1.3 to
1.5 ns a value here, against 0.45 to 0.6 for ``count_patterns``), and the sums would take a
gather and two BLAS dot products per chunk of a unit (measured 1.9 to 2.2 ns a value, the
calls between them holding the GIL). So the loops are compiled here: ``nogil``, so that the
ranking's threads (``queries.RANK_THREADS``) run them on every core at once, and cached on
disk, so that only the first run on a machine compiles them (``warm``).

The patterns are a state's float16 values viewed as ``uint16``. Which value a pattern is
comes from ``queries``: ``order``, the patterns in increasing order of value (-0, one value
with +0, and the NaN patterns left out), and the value each pattern shows.
"""

from __future__ import annotations

import numba
import numpy as np

#: float16 bit patterns, and the two that are zero.
PATTERNS = 2**16
NEGATIVE_ZERO, POSITIVE_ZERO = 0x8000, 0x0000


@numba.njit(nogil=True, cache=True)
def count_patterns(bits: np.ndarray, at: np.ndarray, every: bool, out: np.ndarray) -> None:
    """``out[k, p]``: how many of row k's positions ``at`` (all of them when ``every``) hold
    bit pattern p, -0's counted as +0's. ``bits``: (rows, positions) uint16; ``out``: (rows,
    ``PATTERNS``) int64."""
    for k in range(bits.shape[0]):
        row, counts = bits[k], out[k]
        counts[:] = 0
        if every:
            for t in range(row.shape[0]):
                counts[row[t]] += 1
        else:
            for i in range(at.shape[0]):
                counts[row[at[i]]] += 1
        counts[POSITIVE_ZERO] += counts[NEGATIVE_ZERO]
        counts[NEGATIVE_ZERO] = 0


#: The columns of ``binary_sums``'s output.
BINARY_SUMS = (
    "both",  # positions inside the track where the unit is on
    "predicted",  # positions where it is on
    "outside",  # positions outside the track
    "twice_wins",  # twice the (inside, outside) pairs the inside value wins, ties one half
)


@numba.njit(nogil=True, cache=True)
def binary_sums(counted: np.ndarray, inside: np.ndarray, on: np.ndarray, out: np.ndarray) -> None:
    """Per row k, from its counts of each value (``counted``: (rows, values) int64, the values
    in increasing order) and of each value inside the track (``inside``): ``out[k]``, the
    columns ``BINARY_SUMS``; ``on`` (values,) says where the unit is on. Integers: exact."""
    for k in range(counted.shape[0]):
        both, predicted, below, twice_wins = 0, 0, 0, 0
        for v in range(counted.shape[1]):
            n = counted[k, v]
            if n == 0:
                continue
            there = inside[k, v]
            elsewhere = n - there
            if on[v]:
                both += there
                predicted += n
            twice_wins += there * (2 * below + elsewhere)
            below += elsewhere
        out[k, 0] = both
        out[k, 1] = predicted
        out[k, 2] = below
        out[k, 3] = twice_wins


#: The columns of ``scalar_moments``'s output.
MOMENTS = (
    "counted",  # positions whose shown value is finite (the ones Pearson counts)
    "mean",  # their shown values' mean
    "std",  # and (population) standard deviation
    "products",  # the sum of their shown values times the track
    "ranked",  # positions whose value is a number (the ones Spearman ranks)
    "rank_std",  # their mean ranks' standard deviation (the mean is (ranked + 1) / 2)
    "rank_products",  # the sum of their mean ranks times the track's
)


@numba.njit(nogil=True, cache=True)
def scalar_moments(
    bits: np.ndarray,
    at: np.ndarray,
    every: bool,
    track: np.ndarray,
    twice_ranks: np.ndarray,
    shown: np.ndarray,
    order: np.ndarray,
    out: np.ndarray,
) -> None:
    """Per row k of ``bits``, over its positions ``at`` (all of them when ``every``), what
    Pearson's r and Spearman's rho with a track need (``out[k]``, the columns ``MOMENTS``).

    One pass over the row counts each bit pattern and sums the track and its ranks by
    pattern; then a walk over the patterns in increasing order of value (``order``: -0, whose
    count is +0's, and NaNs left out) gives each value's mean rank (ties share it) and
    multiplies each pattern's sums once by its shown value (``shown``: per pattern, float64;
    not finite, it is not counted) and its mean rank. The track comes as float32 and its
    ranks doubled as integers: exact, and 4 bytes a position each (reading them for every
    unit is most of the pass); the sums are float64.
    """
    count = np.empty(PATTERNS, dtype=np.int64)
    by_pattern = np.empty((PATTERNS, 2))  # a pattern's two sums share a cache line
    for k in range(bits.shape[0]):
        row = bits[k]
        count[:] = 0
        by_pattern[:] = 0.0
        size = row.shape[0] if every else at.shape[0]
        for i in range(size):
            t = i if every else at[i]
            p = row[t]
            count[p] += 1
            by_pattern[p, 0] += track[t]
            by_pattern[p, 1] += twice_ranks[t]
        count[POSITIVE_ZERO] += count[NEGATIVE_ZERO]
        by_pattern[POSITIVE_ZERO, 0] += by_pattern[NEGATIVE_ZERO, 0]
        by_pattern[POSITIVE_ZERO, 1] += by_pattern[NEGATIVE_ZERO, 1]
        below, counted, total, products, rank_products = 0, 0, 0.0, 0.0, 0.0
        for i in range(order.shape[0]):
            p = order[i]
            n = count[p]
            if n == 0:
                continue
            rank_products += (below + (n + 1) * 0.5) * by_pattern[p, 1]
            below += n
            if np.isfinite(shown[p]):
                counted += n
                total += n * shown[p]
                products += shown[p] * by_pattern[p, 0]
        ranked, mean = below, total / max(counted, 1)
        rank_mean = (ranked + 1) * 0.5
        below, squares, rank_squares = 0, 0.0, 0.0
        for i in range(order.shape[0]):
            p = order[i]
            n = count[p]
            if n == 0:
                continue
            rank_squares += n * (below + (n + 1) * 0.5 - rank_mean) ** 2
            below += n
            if np.isfinite(shown[p]):
                squares += n * (shown[p] - mean) ** 2
        out[k, 0] = counted
        out[k, 1] = mean
        out[k, 2] = np.sqrt(squares / max(counted, 1))
        out[k, 3] = products
        out[k, 4] = ranked
        out[k, 5] = np.sqrt(rank_squares / max(ranked, 1))
        out[k, 6] = rank_products * 0.5


@numba.njit(nogil=True, cache=True)
def mean_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of float32 ``values`` (no NaN), tied values given their mean rank, in
    float64 (exact: multiples of one half).

    Each value becomes an unsigned key in the same order (-0 first made +0; a negative's bits
    flipped, a positive's sign bit set), and a radix sort, a byte a pass, carries the keys
    with their positions (so each pass reads the keys in order): four linear passes, 25 ms
    at a million values here against 73 ms for NumPy's argsort alone."""
    n = values.shape[0]
    keys, spare_keys = np.empty(n, dtype=np.uint32), np.empty(n, dtype=np.uint32)
    for i in range(n):
        bits = np.float32(values[i] + np.float32(0)).view(np.uint32)
        keys[i] = ~bits if bits >> 31 else bits | np.uint32(0x80000000)
    order, spare = np.arange(n), np.empty(n, dtype=np.intp)
    for shift in range(0, 32, 8):
        starts = np.zeros(257, dtype=np.intp)
        for i in range(n):
            starts[((keys[i] >> shift) & 255) + 1] += 1
        if starts.max() == n:
            continue  # every key has this byte: the pass would change nothing
        for byte in range(256):
            starts[byte + 1] += starts[byte]
        for i in range(n):
            byte = (keys[i] >> shift) & 255
            spare_keys[starts[byte]] = keys[i]
            spare[starts[byte]] = order[i]
            starts[byte] += 1
        keys, spare_keys, order, spare = spare_keys, keys, spare, order
    ranks = np.empty(n)
    first = 0
    while first < n:
        last = first
        while last + 1 < n and keys[last + 1] == keys[first]:
            last += 1
        for i in range(first, last + 1):
            ranks[order[i]] = (first + last) * 0.5 + 1
        first = last + 1
    return ranks


def warm() -> None:
    """Compile (or load from the disk cache) the loops for the arrays the rankings pass, so
    that the first ranking does not wait for it: seconds on a machine's first run. The
    values come writable (in memory) or read-only (memory-mapped): each is its own build."""
    at = np.arange(2, dtype=np.intp)
    counts = np.zeros((1, PATTERNS), dtype=np.int64)
    binary_sums(counts, counts, np.zeros(PATTERNS, dtype=np.bool_), np.empty((1, 4), np.int64))
    mean_ranks(np.zeros(3, dtype=np.float32))
    track, twice_ranks = np.zeros(4, dtype=np.float32), np.zeros(4, dtype=np.int32)
    shown, order = np.zeros(PATTERNS), np.arange(1, PATTERNS, dtype=np.intp)
    for writeable in (True, False):
        bits = np.zeros((1, 4), dtype=np.uint16)
        bits.flags.writeable = writeable
        for every in (True, False):
            count_patterns(bits, at, every, counts)
            scalar_moments(bits, at, every, track, twice_ranks, shown, order, np.empty((1, 7)))
