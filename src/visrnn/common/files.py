"""Atomic file output: a reader never sees a half-written result.

Every stage writes to a temporary file beside the target and renames it into place only when
the write finished, so a killed job leaves either the old file, or nothing. (A job killed with
SIGKILL cannot remove its temporary file; the next write of the same target does.)
"""

from __future__ import annotations

import contextlib
import csv
import glob
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

#: What to do about a damaged or wrong intermediate file: Snakemake rebuilds a missing one.
REBUILD = "delete it and run snakemake again to rebuild it"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` if the block succeeds."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
            stale.unlink(missing_ok=True)  # left by a writer killed mid-write
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except PermissionError as error:
        raise PermissionError(
            f"cannot write {target}: {error.filename} is not writable; make the results "
            "folder writable (chmod -R u+w) or run in another directory"
        ) from error
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(0o666 & ~_umask())  # mkstemp makes 0600; results should be as readable as usual
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}); {REBUILD}") from None


def write_csv(
    path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]], columns: Sequence[str]
) -> None:
    """Write ``rows`` (dicts keyed by ``columns``) as CSV with a header, atomically."""
    with atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row[column] for column in columns})


def read_table(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a CSV that ``write_csv`` wrote, each value with its column's type.

    Columns are typed by their values (int, float, bool, else str), so code compares numbers
    as numbers and needs no casts. Floats parse exactly (what ``write_csv`` wrote as repr
    comes back equal, ``nan`` and ``inf`` included). An empty cell, what ``write_csv`` writes
    for ``None``, is ``None`` in a number column and ``""`` in a text column; a column empty
    in every row is ``None`` throughout.
    """
    # One block for the whole file: Arrow infers a column's type from the first block only.
    block_size = max(1 << 20, Path(path).stat().st_size + 1)
    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=block_size),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(null_values=[""], strings_can_be_null=False),
        )
    except pa.ArrowInvalid as error:
        raise ValueError(f"{path} is not a readable CSV table ({error}); {REBUILD}") from None
    return table.to_pylist()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks so large files never sit in memory."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
