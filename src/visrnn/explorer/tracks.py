"""Your own annotation tracks: ``visrnn explore RESULTS --track NAME=FILE``.

A track file is text, one entry a line (blank lines and lines starting with ``#`` skipped):

- per-position values: one number a line, the value at position 0, 1, ...; as many lines as
  the text has positions (``nan`` for a position without a value). Values all 0 or 1 make a
  binary track (the ranking's precision, recall, F1 and AUROC); any others a scalar one
  (Pearson and Spearman);
- spans: ``start,end`` a line, the positions [start, end) where the track is on (a binary
  track, 0 elsewhere), for a text of any length that holds them.

A file is read whole before the server starts; a problem is one ``TrackFileError`` naming the
file and the line.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visrnn.explorer.store import Track

#: What a track's name may be (it is a URL parameter and a file-name part).
TRACK_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class TrackFileError(ValueError):
    """A track argument or file the explorer cannot read; names the file and the line."""


@dataclass(frozen=True)
class UserTrack:
    """A track read from a file: per-position ``values``, or ``spans`` for a text of any length."""

    name: str
    path: Path
    values: np.ndarray | None = None
    spans: np.ndarray | None = None  # (spans, 2) start, end

    @property
    def binary(self) -> bool:
        if self.values is None:
            return True
        finite = self.values[np.isfinite(self.values)]
        return bool(np.isin(finite, (0, 1)).all())

    def track(self) -> Track:
        kind = "spans" if self.spans is not None else "values"
        return Track(self.name, self.binary, f"your track ({kind} from {self.path})")

    def fits(self, positions: int) -> bool:
        """Whether the track applies to a text of ``positions`` positions."""
        if self.values is not None:
            return len(self.values) == positions
        spans = self.spans if self.spans is not None else np.zeros((0, 2), dtype=np.int64)
        return len(spans) == 0 or int(spans[:, 1].max()) <= positions

    def array(self, positions: int) -> np.ndarray:
        """The float32 value at each of ``positions`` positions."""
        if self.values is not None:
            return self.values.astype(np.float32)
        out = np.zeros(positions, dtype=np.float32)
        for start, end in self.spans if self.spans is not None else ():
            out[start:end] = 1
        return out


def parse_argument(argument: str) -> tuple[str, Path]:
    """``NAME=FILE`` -> (name, path)."""
    name, sep, path = argument.partition("=")
    if not sep or not path:
        raise TrackFileError(f"--track {argument!r}: give NAME=FILE")
    if not TRACK_NAME.match(name):
        raise TrackFileError(
            f"--track {argument!r}: the name {name!r} must be 1-64 letters, digits, '.', '_' or '-'"
        )
    return name, Path(path)


def read_track(name: str, path: str | os.PathLike[str]) -> UserTrack:
    """Read a track file (module docstring); a ``TrackFileError`` names the file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise TrackFileError(f"track {name!r}: cannot read {path}: {error}") from None
    entries = [
        (number, line.strip())
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not entries:
        raise TrackFileError(f"{path}: no values (track {name!r}); one number or start,end a line")
    spans = "," in entries[0][1]
    rows: list[tuple[int, int]] = []
    values: list[float] = []
    for number, line in entries:
        where = f"{path} line {number}"
        if spans:
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 2 or not all(re.fullmatch(r"[0-9]+", p) for p in parts):
                raise TrackFileError(
                    f"{where}: {line!r} is not 'start,end' (two non-negative integers), "
                    "as the file's first line is"
                )
            start, end = int(parts[0]), int(parts[1])
            if end <= start:
                raise TrackFileError(f"{where}: span {start},{end} is empty (need start < end)")
            rows.append((start, end))
        else:
            try:
                value = float(line)
            except ValueError:
                raise TrackFileError(
                    f"{where}: {line!r} is not a number (the file's first line is one value)"
                ) from None
            if math.isinf(value):
                raise TrackFileError(f"{where}: {line!r} is infinite")
            values.append(value)
    if spans:
        return UserTrack(name, path, spans=np.array(rows, dtype=np.int64).reshape(-1, 2))
    return UserTrack(name, path, values=np.array(values, dtype=np.float64))


def read_tracks(arguments: list[str]) -> list[UserTrack]:
    """Every ``--track NAME=FILE``, read; names must differ."""
    tracks = [read_track(*parse_argument(argument)) for argument in arguments]
    names = [t.name for t in tracks]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise TrackFileError(f"--track names given twice: {', '.join(repeated)}")
    return tracks
