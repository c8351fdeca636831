"""What a finished (or running) run cost, from the ``benchmark:`` files its rules wrote.

Per dataset and stage (the folder under ``results/{ds}/benchmarks/``): the jobs, their wall
time, their CPU time and the largest resident memory. The CPU time is what the run costs on
an idle machine (each job here is single-threaded or nearly so); the wall time also holds
whatever else the machine ran. Usage:

    python benchmarks/run_times.py showcase          # or the demo's .test
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path

from visrnn import plan


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def stage_times(results: Path, ds: str) -> dict[str, dict[str, float]]:
    """Stage -> jobs, wall s, cpu s, peak MB of dataset ``ds``'s benchmark files."""
    root = results / ds / "benchmarks"
    stages: dict[str, dict[str, float]] = defaultdict(
        lambda: {"jobs": 0, "wall_s": 0.0, "cpu_s": 0.0, "peak_mb": 0.0}
    )
    for path in sorted(root.rglob("*.tsv")):
        relative = path.relative_to(root)
        stage = relative.parts[0] if len(relative.parts) > 1 else path.stem
        for row in _rows(path):
            found = stages[stage]
            found["jobs"] += 1
            found["wall_s"] += float(row["s"])
            found["cpu_s"] += float(row["cpu_time"] or 0)
            found["peak_mb"] = max(found["peak_mb"], float(row["max_rss"] or 0))
    return dict(stages)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdir", type=Path, help="the run's directory (showcase, .test)")
    parser.add_argument("--cores", type=int, default=2, help="cores the run had (default: 2)")
    args = parser.parse_args(argv)
    results = args.workdir / plan.RESULTS
    datasets = sorted(p.name for p in results.iterdir() if (p / "benchmarks").is_dir())
    if not datasets:
        raise SystemExit(f"{results}: no results/<ds>/benchmarks/ yet")
    for ds in datasets:
        stages = stage_times(results, ds)
        print(f"\n{ds}: stage | jobs | wall min | CPU min | peak MB")
        for name, found in sorted(stages.items(), key=lambda item: -item[1]["cpu_s"]):
            print(
                f"  {name:22s} | {found['jobs']:4.0f} | {_minutes(found['wall_s']):>8s} | "
                f"{_minutes(found['cpu_s']):>7s} | {found['peak_mb']:7.0f}"
            )
        cpu = sum(found["cpu_s"] for found in stages.values())
        wall = sum(found["wall_s"] for found in stages.values())
        print(
            f"  all: {sum(f['jobs'] for f in stages.values()):.0f} jobs, {_minutes(wall)} job-wall "
            f"min, {_minutes(cpu)} CPU min: about {_minutes(cpu / args.cores)} min on "
            f"{args.cores} idle cores"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
