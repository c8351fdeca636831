"""What a finished run made and where, for ``visrnn summary`` (the end of ``make demo``).

Lists what exists, nothing more: per dataset its figures, tables and interpretable-cell
pages, then the report, the scorecard and the explorer where they exist.
"""

from __future__ import annotations

from pathlib import Path

from visrnn import plan


def dataset_dirs(results: Path) -> list[Path]:
    """Dataset folders of a results directory: those holding tables or figures."""
    if not results.is_dir():
        return []
    return sorted(
        path
        for path in results.iterdir()
        if (path / "tables").is_dir() or (path / "figures").is_dir()
    )


def summary(results: Path, report: Path | None) -> str:
    """Lines telling a new user what ``results`` holds and what to run next."""
    datasets = dataset_dirs(results)
    if not datasets:
        return f"No results in {results} yet: run the workflow first (make demo)."
    lines = [f"Results in {results}/:"]
    for folder in datasets:
        figures = sorted(
            path.relative_to(folder / "figures")
            for path in (folder / "figures").rglob("*.png")
            if "cells" not in path.parts  # one page per cell: shown by their index below
        )
        tables = sorted((folder / "tables").glob("*.csv"))
        lines.append(
            f"  {folder.name}: {len(figures)} figures in {folder / 'figures'}/, "
            f"{len(tables)} tables in {folder / 'tables'}/"
        )
        if figures:
            lines.append(f"      figures: {', '.join(str(p) for p in figures)}")
        cells = folder / "figures" / "cells" / "index.html"
        if cells.is_file():
            lines.append(f"      interpretable cells (open in a browser): {cells}")
    lines.append("")
    if report is not None and report.is_file():
        lines.append(
            f"Report of every figure and table, with captions: {report} "
            "(unzip it, open report/report.html)"
        )
    else:
        lines.append(
            f"Report of every figure and table: snakemake --directory {results.parent} "
            "--report report.zip"
        )
    scorecard = Path(plan.scorecard(plan.SCORECARD_MD, results))
    if scorecard.is_file():
        lines.append(f"Scorecard, the paper's numbers beside these: {scorecard}")
    lines.append(f"Explore the models in a browser: visrnn explore {results}")
    lines.append(
        f"Progress of the training runs (while a long run trains): visrnn status {results}"
    )
    return "\n".join(lines)
