"""Peeling the onion of an LSTM's errors with oracles (paper Section 4.4, Figure 6).

An error is a test position where the model gives the true next character a probability
below 0.5. Oracles, in a configured order, each remove the errors they can explain among
those the earlier ones left, so every error lands in exactly one category:

- ``ngram``: the n-gram baseline with context n gives the character p >= 0.5 (n = 1..9);
- ``memory``: the character lies inside a word, from its second character on, and the whole
  word occurs in the n characters before the word starts (dynamic n-long memory);
- ``rare_words``: the character lies inside a word seen at most t times in training;
- ``word_model``: the character follows a space, a quote or a line end (a word start; the
  LF of a CRLF does not follow a line end);
- ``punctuation``: the character is ASCII punctuation;
- ``boost``: adding b to p(target) lifts it to 0.5.

Errors no oracle explains stay in a final ``remaining`` category. A word is a maximal run of
letters, digits and non-ASCII bytes, with apostrophes inside it (``couldn't``); an apostrophe
inside a word is not a quote. Words are case-sensitive.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from visrnn.scoring.choice import ERROR_THRESHOLD, best_model

#: Oracle families, in the paper's order.
FAMILIES = ("ngram", "memory", "rare_words", "word_model", "punctuation", "boost")
#: The family of errors no oracle removed.
REMAINING = "remaining"
#: Columns of ``oracles.csv``.
ORACLE_COLUMNS = (
    "model",
    "role",
    "family",
    "oracle",
    "errors_removed",
    "errors_left",
    "fraction",
    "test_positions",
)
#: Columns of ``oracles_comparison.csv``.
COMPARISON_COLUMNS = (
    "family",
    "small_model",
    "small_errors",
    "large_model",
    "large_errors",
    "difference",
    "share_of_difference",
    "test_positions",
)

WORD = re.compile(rb"[A-Za-z0-9\x80-\xff]+(?:'[A-Za-z0-9\x80-\xff]+)*")
SPACE, QUOTES = b" ", b"\"'`"
LF, CR = ord("\n"), ord("\r")
#: Stands for "never" in distances and counts: compares greater than any window or threshold.
_FAR = np.iinfo(np.int64).max
PUNCTUATION = string.punctuation.encode()


def _byte_mask(text: np.ndarray, members: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[list(members)] = True
    return table[text]


@dataclass(frozen=True)
class TextWords:
    """The test split as bytes, with each byte's word and that word's history.

    Per byte: ``word`` (index into the word arrays, -1 outside words) and ``offset`` within
    it. Per word: ``starts``, ``ends``, ``train_count`` (occurrences in training) and
    ``previous`` (start of its latest whole occurrence before it, within ``max_memory``
    characters, or -1).
    """

    text: bytes
    word: np.ndarray
    offset: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    train_count: np.ndarray
    previous: np.ndarray

    @classmethod
    def build(cls, text: bytes, train_text: bytes, max_memory: int = 0) -> TextWords:
        spans = [match.span() for match in WORD.finditer(text)]
        starts = np.array([s for s, _ in spans], dtype=np.int64)
        ends = np.array([e for _, e in spans], dtype=np.int64)
        # +1 where a word starts, -1 where it ends: the running sum is 1 inside words.
        boundaries = np.zeros(len(text) + 1, dtype=np.int64)
        np.add.at(boundaries, starts, 1)
        np.add.at(boundaries, ends, -1)
        inside = np.cumsum(boundaries)[:-1] > 0
        is_start = np.zeros(len(text), dtype=np.int64)
        is_start[starts] = 1
        word = np.where(inside, np.cumsum(is_start) - 1, -1)
        offset = np.full(len(text), -1, dtype=np.int64)
        offset[inside] = np.flatnonzero(inside) - starts[word[inside]]

        counts = Counter(WORD.findall(train_text))
        words = [text[s:e] for s, e in spans]
        train_count = np.array([counts.get(w, 0) for w in words], dtype=np.int64)
        previous = np.array(
            [
                text.rfind(w, max(0, s - max_memory), s)
                for w, (s, _) in zip(words, spans, strict=True)
            ]
            if max_memory
            else [-1] * len(spans),
            dtype=np.int64,
        )
        return cls(text, word, offset, starts, ends, train_count, previous)


@dataclass(frozen=True)
class Oracle:
    """One category: the test positions it would fix (position t predicts byte t + 1)."""

    family: str
    name: str
    fixes: np.ndarray


def oracles(
    test: TextWords,
    p_target: np.ndarray,
    ngram_p_target: Mapping[int, np.ndarray],
    settings: Mapping[str, Any],
    threshold: float = ERROR_THRESHOLD,
) -> list[Oracle]:
    """The oracles of ``settings['order']``, each family expanded over its parameters.

    ``settings`` holds ``order`` and, per family used, its list: ``ngram`` (n), ``memory``
    (window lengths), ``rare_words`` (count thresholds), ``boost`` (amounts).
    """
    text = np.frombuffer(test.text, dtype=np.uint8)
    if len(p_target) != len(text) - 1:
        raise ValueError(f"{len(p_target)} scores for a test text of {len(text)} bytes")
    # Every per-byte property of the target is byte t + 1 of position t; of its predecessor,
    # byte t.
    target_word, target_offset = test.word[1:], test.offset[1:]
    previous_byte, previous_in_word = text[:-1], test.word[:-1] >= 0
    in_word = target_word >= 0
    # After a line end: after LF, or after a CR that is not the first half of a CRLF.
    after_line_end = (previous_byte == LF) | ((previous_byte == CR) & (text[1:] != LF))
    found: list[Oracle] = []
    for family in settings["order"]:
        if family == "ngram":
            for n in settings["ngram"]:
                found.append(Oracle(family, f"{n}-gram", ngram_p_target[n] >= threshold))
        elif family == "memory":
            # How far back the target's word occurred before, from the word's second character.
            distance = np.where(test.previous >= 0, test.starts - test.previous, _FAR)
            from_second = in_word & (target_offset >= 1)
            target_distance = np.full(len(target_word), _FAR)
            target_distance[from_second] = distance[target_word[from_second]]
            for n in settings["memory"]:
                found.append(Oracle(family, f"{n}-memory", target_distance <= n))
        elif family == "rare_words":
            target_count = np.full(len(target_word), _FAR)
            target_count[in_word] = test.train_count[target_word[in_word]]
            for t in settings["rare_words"]:
                found.append(Oracle(family, f"word {t}-train", target_count <= t))
        elif family == "word_model":
            found += [
                Oracle(family, "after space", _byte_mask(previous_byte, SPACE)),
                Oracle(
                    family,
                    "after quote",
                    _byte_mask(previous_byte, QUOTES) & ~previous_in_word,
                ),
                Oracle(family, "after newline", after_line_end),
            ]
        elif family == "punctuation":
            found.append(Oracle(family, "punctuation", _byte_mask(text[1:], PUNCTUATION)))
        elif family == "boost":
            for amount in settings["boost"]:
                found.append(Oracle(family, f"boost {amount:g}", p_target + amount >= threshold))
        else:
            raise ValueError(f"unknown oracle family {family!r}; known: {FAMILIES}")
    return found


@dataclass(frozen=True)
class Peeled:
    """The errors one oracle removed, and how many were left after it."""

    oracle: Oracle
    removed: np.ndarray
    left: int


def peel(errors: np.ndarray, chain: Sequence[Oracle]) -> list[Peeled]:
    """Apply ``chain`` in order, each oracle to the errors the earlier ones left.

    Ends with a ``remaining`` category when errors are left, so the removed sets partition
    ``errors``.
    """
    left = np.asarray(errors, dtype=bool).copy()
    steps = []
    for oracle in chain:
        removed = left & oracle.fixes
        left &= ~removed
        steps.append(Peeled(oracle, removed, int(left.sum())))
    if left.any():
        steps.append(Peeled(Oracle(REMAINING, REMAINING, left.copy()), left.copy(), 0))
    return steps


def oracle_rows(
    model: str, role: str, steps: Sequence[Peeled], test_positions: int
) -> list[dict[str, Any]]:
    """Rows of ``oracles.csv`` for one model: errors removed per category, in order, beside
    the number of scored test positions (the denominator of an error rate)."""
    total = sum(int(step.removed.sum()) for step in steps)
    return [
        {
            "model": model,
            "role": role,
            "family": step.oracle.family,
            "oracle": step.oracle.name,
            "errors_removed": int(step.removed.sum()),
            "errors_left": step.left,
            "fraction": round(int(step.removed.sum()) / total, 5) if total else 0.0,
            "test_positions": test_positions,
        }
        for step in steps
    ]


def family_counts(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Errors per family, in chain order, from one model's ``oracle_rows``."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["family"]] = counts.get(row["family"], 0) + row["errors_removed"]
    return counts


def compare_models(
    small_rows: Sequence[Mapping[str, Any]], large_rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Per family, how many more errors the small model makes than the large one.

    ``share_of_difference`` is each family's part of the total difference: the paper finds
    that scaling up removes almost only n-gram errors. A last row ``total`` sums them. Both
    models score the same test positions; their number is on every row.
    """
    small, large = family_counts(small_rows), family_counts(large_rows)
    positions = small_rows[0]["test_positions"]
    small_model, large_model = small_rows[0]["model"], large_rows[0]["model"]
    total_difference = sum(small.values()) - sum(large.values())
    rows = []
    for family in [*dict.fromkeys([*small, *large]), "total"]:
        s = sum(small.values()) if family == "total" else small.get(family, 0)
        g = sum(large.values()) if family == "total" else large.get(family, 0)
        rows.append(
            {
                "family": family,
                "small_model": small_model,
                "small_errors": s,
                "large_model": large_model,
                "large_errors": g,
                "difference": s - g,
                "share_of_difference": (
                    round((s - g) / total_difference, 5) if total_difference else 0.0
                ),
                "test_positions": positions,
            }
        )
    return rows


def scaling_summary(comparison: Sequence[Mapping[str, Any]]) -> str:
    """One sentence saying which categories the larger model removed."""
    total = comparison[-1]
    families = [row for row in comparison if row["family"] != "total"]
    if total["difference"] == 0:
        return (
            f"{total['large_model']} and {total['small_model']} make as many errors "
            f"({total['large_errors']:,}): scaling up removed none"
        )
    if total["difference"] < 0:
        return (
            f"{total['large_model']} makes {-total['difference']:,} more errors than "
            f"{total['small_model']}: scaling up removed none"
        )
    top = max(families, key=lambda row: row["difference"])
    return (
        f"{total['large_model']} makes {total['difference']:,} fewer errors than "
        f"{total['small_model']}; {100 * top['share_of_difference']:.0f}% of them in the "
        f"{top['family']} categories"
    )


def select_model(rows: Sequence[Mapping[str, Any]], selector: str) -> str:
    """The LSTM a config selector names: ``best``, ``best-smallest`` or a model id."""
    if selector == "best":
        return best_model(rows, "lstm")
    if selector == "best-smallest":
        return best_model(rows, "lstm", smallest_budget=True)
    if not any(row["model"] == selector for row in rows):
        raise ValueError(
            f"analysis.oracles.models: {selector!r} is not in the test-loss table; "
            "use best, best-smallest or a grid LSTM id"
        )
    return selector
