"""Search the explorer's text for a literal string or a regular expression, bounded.

The text is searched as one string (``SearchText``): a text of bytes as Latin-1, one character
per position, so a pattern's UTF-8 bytes are searched for; a text of tokens (an imported
network's words or subwords) as its token strings joined by ``TOKEN_SEPARATOR``, with each
token's first character offset kept to map a hit back to the tokens it touches.

Bounds: a pattern is at most ``MAX_PATTERN`` characters; a literal search is linear in the
text and runs in the server; a regular expression can backtrack for an exponential time
(``(a+)+$``), and Python's ``re`` cannot be interrupted, so it runs in a forked child that is
killed after ``TIMEOUT_S`` (the child shares the text with the server, copy-on-write).
At most ``MAX_HITS`` hits are counted.
"""

from __future__ import annotations

import multiprocessing
import re
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Longest pattern accepted, in characters.
MAX_PATTERN = 200
#: Seconds a regular expression may run before its search is killed.
TIMEOUT_S = 2.0
#: Hits counted at most (the minimap marks them; the list shows the first ``limit``).
MAX_HITS = 100_000
#: What joins the tokens of a text of tokens into the searched string (the page shows them so).
TOKEN_SEPARATOR = " "


class SearchError(ValueError):
    """A pattern that cannot be searched for: too long, not a regular expression, too slow."""


@dataclass(frozen=True)
class SearchText:
    """The searched string and, for a text of tokens, each token's first character offset."""

    string: str
    offsets: np.ndarray | None  # (tokens,) int64, None for a text of bytes

    @classmethod
    def of_bytes(cls, text: np.ndarray) -> SearchText:
        return cls(np.asarray(text, dtype=np.uint8).tobytes().decode("latin-1"), None)

    @classmethod
    def of_tokens(cls, ids: np.ndarray, vocabulary: list[str]) -> SearchText:
        strings = np.asarray([*vocabulary, "<unk>"], dtype=object)
        ids = np.minimum(np.asarray(ids, dtype=np.int64), len(vocabulary))
        lengths = np.array([len(s) for s in strings], dtype=np.int64)[ids]
        offsets = np.concatenate([[0], np.cumsum(lengths + len(TOKEN_SEPARATOR))[:-1]])
        return cls(TOKEN_SEPARATOR.join(strings[ids].tolist()), offsets)

    def positions(self, starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The positions [first, last + 1) each character range [start, stop) touches."""
        if self.offsets is None:
            return starts, stops
        first = np.searchsorted(self.offsets, starts, side="right") - 1
        last = np.searchsorted(self.offsets, np.maximum(stops - 1, starts), side="right") - 1
        return first, last + 1

    def characters(self, start: int, stop: int) -> tuple[int, int]:
        """The character range of positions [start, stop)."""
        if self.offsets is None:
            return start, stop
        end = (
            int(self.offsets[stop]) - len(TOKEN_SEPARATOR)
            if stop < len(self.offsets)
            else len(self.string)
        )
        return int(self.offsets[start]), end


def compile_pattern(pattern: str, regex: bool, case: bool, of_bytes: bool) -> re.Pattern[str]:
    """The compiled pattern, or a ``SearchError`` naming it. On a text of bytes the pattern's
    non-ASCII characters are searched for as their UTF-8 bytes."""
    if not pattern:
        raise SearchError("empty pattern")
    if len(pattern) > MAX_PATTERN:
        raise SearchError(f"pattern of {len(pattern)} characters; at most {MAX_PATTERN}")
    source = pattern if regex else re.escape(pattern)
    if of_bytes:
        source = source.encode("utf-8").decode("latin-1")
    try:
        return re.compile(source, 0 if case else re.IGNORECASE)
    except re.error as error:
        raise SearchError(f"bad regular expression {pattern!r}: {error}") from None


def _find(compiled: re.Pattern[str], string: str) -> np.ndarray:
    """(hits, 2) character starts and stops of the non-empty matches, at most ``MAX_HITS``."""
    found = []
    for hit in compiled.finditer(string):
        if hit.end() > hit.start():
            found.append(hit.span())
            if len(found) >= MAX_HITS:
                break
    return np.array(found, dtype=np.int64).reshape(-1, 2)


def _child(connection: Any, compiled: re.Pattern[str], string: str) -> None:
    connection.send_bytes(_find(compiled, string).tobytes())
    connection.close()


#: Regular-expression searches running at once, at most (each is a forked child).
_CHILDREN = threading.BoundedSemaphore(2)


def find(compiled: re.Pattern[str], text: SearchText, literal: bool) -> np.ndarray:
    """Character (start, stop) of every hit; a regular expression in a child killed after
    ``TIMEOUT_S`` (``SearchError``)."""
    if literal:
        return _find(compiled, text.string)
    if not _CHILDREN.acquire(blocking=False):
        raise SearchError("two regular-expression searches are running; try again")
    try:
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(send, compiled, text.string), daemon=True)
        child.start()
        send.close()
        try:
            if not receive.poll(TIMEOUT_S):
                raise SearchError(
                    f"regular expression {compiled.pattern!r} ran longer than {TIMEOUT_S:g} s; "
                    "stopped (simplify it: nested repetition such as (a+)+ backtracks)"
                )
            return np.frombuffer(receive.recv_bytes(), dtype=np.int64).reshape(-1, 2)
        except EOFError:
            raise SearchError(f"the search for {compiled.pattern!r} failed") from None
        finally:
            receive.close()
            if child.is_alive():
                child.kill()
            child.join()
    finally:
        _CHILDREN.release()


def search(
    text: SearchText, pattern: str, regex: bool = False, case: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every hit of ``pattern``: (character spans (hits, 2), first positions, stop positions);
    the positions are the tokens a hit touches on a text of tokens."""
    compiled = compile_pattern(pattern, regex, case, text.offsets is None)
    spans = find(compiled, text, literal=not regex)
    starts, stops = text.positions(spans[:, 0], spans[:, 1])
    return spans, starts, stops
