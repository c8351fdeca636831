"""`snakemake --report` on the finished demo run: one browsable zip that holds every figure and
table the run produced, byte for byte, each with a caption naming the part of the paper it
reproduces."""

from __future__ import annotations

import json
import re
import time
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from workflow_runs import snakemake

pytestmark = pytest.mark.e2e


def report_entries(html: str) -> dict[str, dict]:
    """The report's index of results: original path -> name, caption, place in the zip."""
    found = re.search(r"\bresults = (\{.*?\});?\s*$", html, re.MULTILINE)
    assert found, "report.html has no results index"
    return json.loads(found[1])


def produced(demo_run: Path) -> list[str]:
    """Every figure file (cell pages included) and table of the run, relative to it."""
    files = [
        path
        for pattern in ("results/*/figures/**/*", "results/*/tables/*.csv")
        for path in demo_run.glob(pattern)
        if path.is_file() and not path.name.startswith(".")
    ]
    return sorted(str(path.relative_to(demo_run)) for path in files)


def test_the_report_holds_every_figure_and_table(workflow_copy, demo_run, tmp_path) -> None:
    report = tmp_path / "report.zip"
    started = time.perf_counter()
    snakemake(workflow_copy, demo_run, "--report", str(report))
    print(f"\nreport of the demo run: {time.perf_counter() - started:.1f} s")

    with zipfile.ZipFile(report) as archive:
        members = {
            str(PurePosixPath(*PurePosixPath(name).parts[1:])): archive.read(name)
            for name in archive.namelist()
            if not name.endswith("/")
        }
    entries = report_entries(members["report.html"].decode())
    # A directory output in the report (the cell pages) is one entry, its index page, whose
    # folder in the zip holds the whole directory. (Snakemake marks directory outputs with a
    # .snakemake_timestamp file.)
    folders = {
        str(PurePosixPath(path).parent): entry
        for path, entry in entries.items()
        if (demo_run / path).parent.joinpath(".snakemake_timestamp").exists()
    }

    files = produced(demo_run)
    assert len([f for f in files if "/figures/" in f]) >= 17
    missing, differ = [], []
    for path in files:
        if path in entries:
            member = entries[path]["data_uri"]
        else:
            folder = next((f for f in folders if path.startswith(f + "/")), None)
            if folder is None:
                missing.append(path)
                continue
            inside = PurePosixPath(path).relative_to(folder)
            member = str(PurePosixPath(folders[folder]["data_uri"]).parent / inside)
        if members.get(member) != (demo_run / path).read_bytes():
            differ.append(path)
    assert not missing, f"not in the report: {missing}"
    assert not differ, f"in the report with other content: {differ}"

    for path, entry in entries.items():
        assert re.search(r"\b(Figure|Table|Section)\s+\d", entry["caption"]), (
            f"the caption of {path} names no part of the paper: {entry['caption']!r}"
        )
