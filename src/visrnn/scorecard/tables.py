"""The run the scorecard checks: its configuration and its tables, read with their column types.

Three things can be wrong with a table, and they end differently:

- the run did not make it (or it has no rows, or lacks the rows a claim is about, such as a
  model type the grid left out): ``MissingTable``, and the claim is ``not run``;
- it lacks a column the scorecard reads: ``MissingColumn``, an error naming the table and the
  column (the table is stale or of another layout; rerun the rule that makes it);
- anything else, a check's bug included, propagates as it is.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from visrnn import plan
from visrnn.common.files import REBUILD, read_json

_INT, _FLOAT, _STR = pa.int64(), pa.float64(), pa.string()

#: The columns the scorecard reads from each table, with their types. A table may have more
#: (they are not read); ``corpus`` is ``data/corpus.json``, the others ``tables/<name>.csv``.
COLUMNS: dict[str, dict[str, pa.DataType]] = {
    "corpus": {"bytes": _INT, "symbols": _INT},
    "splits": {"split": _STR, "characters": _INT},
    "corpus_files": {"path": _STR, "bytes": _INT, "splits": _STR},
    "model_sizes": {"type": _STR, "layers": _INT, "parameters": _INT},
    "test_losses": {
        "model": _STR,
        "type": _STR,
        "layers": _INT,
        "budget": _STR,
        "parameters": _INT,
        "test_loss": _FLOAT,
        "bootstrap_std": _FLOAT,
    },
    "baselines": {
        "kind": _STR,
        "n": _INT,
        "model": _STR,
        "test_loss": _FLOAT,
        "bootstrap_std": _FLOAT,
    },
    "agreement": {"model": _STR},
    "gate_saturation": {
        "model": _STR,
        "layer": _INT,
        "gate": _STR,
        "left_fraction": _FLOAT,
        "right_fraction": _FLOAT,
    },
    "training_dynamics": {"iteration": _INT, "baseline": _STR, "kl": _FLOAT},
    "closing_brace": {
        "model": _STR,
        "bucket": _STR,
        "lower": _FLOAT,
        "count": _INT,
        "mean_p": _FLOAT,
    },
    "oracles": {
        "model": _STR,
        "role": _STR,
        "family": _STR,
        "errors_removed": _INT,
        "test_positions": _INT,
    },
    "oracles_comparison": {"family": _STR, "difference": _INT},
    "ngram_seeds": {"test_loss": _FLOAT},
}
#: Tables whose other columns are read too, all of this type (agreement: one per model).
OTHER_COLUMNS: dict[str, pa.DataType] = {"agreement": _FLOAT}
#: Tables that are one record (a JSON object) rather than rows.
RECORDS = frozenset({"corpus"})

#: A key of ``Run.tables``: (dataset, table name).
Key = tuple[str, str]


class MissingTable(LookupError):
    """A claim needs a table (or rows of one) this run did not make: the claim is ``not run``."""


class MissingColumn(ValueError):
    """A table lacks a column the scorecard reads: an error, never a verdict."""

    def __init__(self, key: Key, column: str, source: str | None = None) -> None:
        ds, name = key
        where = f" ({source})" if source else ""
        super().__init__(
            f"the {name} table of dataset {ds!r}{where} has no column {column!r}, which the "
            "scorecard reads; it is stale or of another layout: rerun the rule that makes it"
        )
        self.key, self.column = key, column


def typed(key: Key, table: Any, source: str | None = None) -> Any:
    """``table`` (rows, or a record for ``RECORDS``) with the types of ``COLUMNS``.

    Values may come as strings (CSV) or already typed; the columns the scorecard does not read
    are dropped. A missing column raises ``MissingColumn``, a value of the wrong type pyarrow's
    error.
    """
    name = key[1]
    rows = [table] if name in RECORDS else list(table)
    if not rows:
        return {} if name in RECORDS else []
    columns = list(dict.fromkeys(column for row in rows for column in row))
    types = _types(key, columns, source)
    arrays = {
        column: pa.array([row.get(column) for row in rows]).cast(kind)
        for column, kind in types.items()
    }
    out = pa.table(arrays).to_pylist()
    return out[0] if name in RECORDS else out


def _types(key: Key, header: Sequence[str], source: str | None) -> dict[str, pa.DataType]:
    """The type of each column of a table with ``header`` that the scorecard reads."""
    wanted = COLUMNS[key[1]]
    for column in wanted:
        if column not in header:
            raise MissingColumn(key, column, source)
    other = OTHER_COLUMNS.get(key[1])
    return {
        column: wanted.get(column, other)
        for column in header
        if column in wanted or other is not None
    }


def read_table(key: Key, path: str | os.PathLike[str]) -> Any:
    """Read table ``key`` = (dataset, name) from ``path`` (CSV, or JSON for ``RECORDS``)."""
    if key[1] in RECORDS:
        return typed(key, read_json(path), str(path))
    with Path(path).open(newline="") as handle:
        header = next(csv.reader(handle), [])
    if not header:
        return []
    types = _types(key, header, str(path))
    options = pa_csv.ConvertOptions(
        column_types=types,
        include_columns=list(types),
        # Values as the writers wrote them: "nan" is a float, "" a string.
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        return pa_csv.read_csv(path, convert_options=options).to_pylist()
    except pa.ArrowInvalid as error:
        raise ValueError(f"{path}: {error}; {REBUILD}") from error


@dataclass(frozen=True)
class Run:
    """A run's configuration and its tables, keyed by (dataset, table name), typed.

    Make one with ``Run.of`` (tables in memory, values typed or strings) or ``Run.from_paths``
    (tables on disk). ``readable``, when set, is the set of keys ``table`` may return: a claim
    reads only the tables it declares, and reading another is a bug.
    """

    config: Mapping[str, Any]
    tables: Mapping[Key, Any]
    readable: frozenset[Key] | None = None

    @classmethod
    def of(cls, config: Mapping[str, Any], tables: Mapping[Key, Any]) -> Run:
        return cls(config, {key: typed(key, table) for key, table in tables.items()})

    @classmethod
    def from_paths(
        cls,
        config: Mapping[str, Any],
        paths: Mapping[str, Mapping[str, str | os.PathLike[str]]],
    ) -> Run:
        """The run whose tables lie at ``paths``: dataset -> table name -> path."""
        return cls(
            config,
            {
                (ds, name): read_table((ds, name), path)
                for ds, tables in paths.items()
                for name, path in tables.items()
            },
        )

    @classmethod
    def so_far(cls, config: Mapping[str, Any], workdir: str | os.PathLike[str]) -> Run:
        """The run in ``workdir`` as it stands: the scorecard's tables that exist there (a
        run still going, or one that made only some datasets, has its other claims
        ``not run``)."""
        paths = {
            ds: {name: Path(workdir, path) for name, path in tables.items()}
            for ds, tables in plan.scorecard_tables(config).items()
        }
        return cls.from_paths(
            config,
            {ds: {n: p for n, p in tables.items() if p.exists()} for ds, tables in paths.items()},
        )

    def only(self, keys: Iterable[Key]) -> Run:
        """This run, with ``table`` limited to ``keys``."""
        return replace(self, readable=frozenset(keys))

    def table(self, ds: str, name: str) -> Any:
        """Table ``name`` of dataset ``ds``: rows (dicts of typed values), or a record."""
        if self.readable is not None and (ds, name) not in self.readable:
            raise RuntimeError(
                f"a check read the {name} table of {ds!r}, which its claim does not declare"
            )
        found = self.tables.get((ds, name))
        if not found:
            raise MissingTable(f"no {name} table for dataset {ds!r}")
        return found
