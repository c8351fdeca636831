"""The scorecard's files: ``scorecard.csv`` (one row per claim) and ``scorecard.md``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from visrnn.common.files import atomic_path, write_csv
from visrnn.scorecard.verdicts import SCORECARD_COLUMNS, VERDICTS


def scorecard_markdown(rows: Sequence[Mapping[str, str]]) -> str:
    """The scorecard as a Markdown table, with a count of each verdict on top."""
    counts = {v: sum(row["verdict"] == v for row in rows) for v in VERDICTS}
    lines = [
        "# Scorecard: this run against the paper",
        "",
        ", ".join(f"{count} {name}" for name, count in counts.items()),
        "",
        "| " + " | ".join(SCORECARD_COLUMNS) + " |",
        "|" + "---|" * len(SCORECARD_COLUMNS),
    ]
    for row in rows:
        cells = [str(row[column]).replace("|", "\\|") for column in SCORECARD_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_markdown(path: str | os.PathLike[str], rows: Sequence[Mapping[str, str]]) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(scorecard_markdown(rows))


def write_scorecard(
    table: str | os.PathLike[str],
    markdown: str | os.PathLike[str],
    rows: Sequence[Mapping[str, str]],
) -> None:
    """Write the scorecard's rows as CSV to ``table`` and as Markdown to ``markdown``."""
    write_csv(table, rows, SCORECARD_COLUMNS)
    write_markdown(markdown, rows)
