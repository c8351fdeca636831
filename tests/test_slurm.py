"""The demo preset on a real SLURM cluster: a single-node cluster started on this machine
(tests/slurm_cluster.py), Snakemake's slurm executor with the repository's SLURM profile
(only its site values replaced), every job checked in SLURM's own records, and the results
compared with those of the local demo run.

Needs root and Debian's slurm-wlm and munge (.ci/run installs them); without them, or when
the daemons do not start, the test is skipped and says why."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import time
from pathlib import Path

import pytest
import torch
import yaml
from slurm_cluster import PARTITION, ClusterUnavailable, LocalSlurm, missing_requirements
from workflow_runs import REPO, SNAKEMAKE, demo_config, planned_jobs, write_config

pytestmark = pytest.mark.e2e

# Per-epoch wall time columns of the training logs: the only values that differ between runs.
TIMING_COLUMNS = {"seconds", "chars_per_second"}


@pytest.fixture(scope="session")
def slurm_installed() -> None:
    """Skips at once, before the session's demo run, where no cluster can be started."""
    if reason := missing_requirements():
        pytest.skip(reason)


@pytest.fixture(scope="module")
def slurm_cluster(slurm_installed, tmp_path_factory):
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        try:
            cluster.start()
        except ClusterUnavailable as error:
            pytest.skip(f"the local SLURM cluster did not start: {error}")
        yield cluster
    finally:
        cluster.stop()


def local_profile(folder: Path) -> Path:
    """profiles/slurm with its site values set for the local cluster, polling fast."""
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    assert "slurm_account" not in profile["default-resources"]  # a placeholder stays a comment
    profile["default-resources"]["slurm_partition"] = PARTITION
    for resources in profile["set-resources"].values():
        resources["slurm_partition"] = PARTITION
    # One machine: outputs are there at once, and jobs start within a second or two.
    profile["latency-wait"] = 5
    profile["slurm-init-seconds-before-status-checks"] = 1
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(profile))
    return folder


def job_requests(output: str) -> dict[str, dict]:
    """Snakemake job id -> rule, threads and resources, from a run's job descriptions."""
    jobs = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", output):
        rule = re.match(r"(?:local)?rule (\w+):\n", block)
        jobid = re.search(r"^    jobid: (\d+)$", block, re.MULTILINE)
        if not (rule and jobid):
            continue
        resources = re.search(r"^    resources: (.*)$", block, re.MULTILINE)
        threads = re.search(r"^    threads: (\d+)$", block, re.MULTILINE)
        jobs[jobid[1]] = {
            "rule": rule[1],
            "threads": int(threads[1]) if threads else 1,
            "resources": dict(
                item.split("=", 1) for item in resources[1].split(", ") if "=" in item
            )
            if resources
            else {},
        }
    return jobs


def slurm_jobs(cluster: LocalSlurm) -> dict[str, dict[str, str]]:
    """SLURM's record of every job it still knows (MinJobAge is an hour): id -> fields."""
    done = subprocess.run(
        ["scontrol", "show", "job", "--oneliner"],
        capture_output=True,
        text=True,
        env=cluster.env,
        check=True,
    )
    records = [dict(re.findall(r"(\S+?)=(\S*)", line)) for line in done.stdout.splitlines()]
    return {record["JobId"]: record for record in records if "JobId" in record}


def minutes(time_limit: str) -> int:
    """SLURM's [D-]HH:MM:SS as minutes."""
    days, _, clock = time_limit.rpartition("-")
    hours, mins, _ = (int(part) for part in clock.split(":"))
    return int(days or 0) * 24 * 60 + hours * 60 + mins


def same_checkpoint(a, b) -> bool:
    """Equal checkpoint contents: tensors bit for bit, everything else by value."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same_checkpoint(a[k], b[k]) for k in a)
        )
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(same_checkpoint, a, b))
    return a == b


def without_timing(table: bytes) -> list[dict[str, str]]:
    rows = csv.DictReader(io.StringIO(table.decode()))
    return [{k: v for k, v in row.items() if k not in TIMING_COLUMNS} for row in rows]


def result_files(workdir: Path) -> set[Path]:
    """Every output file of a run, but the logs and benchmarks (run-specific by nature)."""
    results = workdir / "results"
    files = {path.relative_to(results) for path in results.rglob("*") if path.is_file()}
    # results/{ds}/logs/..., results/{ds}/benchmarks/... and the scorecard's results/logs/...
    return {path for path in files if not {"logs", "benchmarks"} & set(path.parts[:-1][:2])}


def test_the_demo_runs_through_slurm_as_it_runs_locally(
    slurm_cluster, workflow_copy, demo_run, tmp_path_factory
) -> None:
    workdir = write_config(tmp_path_factory.mktemp("slurm-demo"), demo_config())
    profile = local_profile(workdir / "profile")
    command = [SNAKEMAKE, "-s", workflow_copy / "Snakefile", "--directory", workdir]
    started = time.perf_counter()
    done = subprocess.run(
        [*map(str, command), "--profile", str(profile)],
        capture_output=True,
        text=True,
        env=slurm_cluster.env,
        timeout=45 * 60,
    )
    print(f"\ndemo preset through SLURM: {time.perf_counter() - started:.0f} s")
    output = done.stdout + done.stderr
    (workdir / "snakemake.out").write_text(output)
    assert done.returncode == 0, (
        f"{output[-6000:]}\n--- slurmctld log:\n{slurm_cluster.log_text('slurmctld')[-3000:]}"
    )

    # Every job but the target rule `all` (Snakemake runs rules without an action itself)
    # was an sbatch job, and SLURM ran each one to a zero exit status.
    planned = planned_jobs(output)
    requests = job_requests(output)
    submitted = dict(re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", output))
    assert planned and len(submitted) == sum(planned.values()) - planned.get("all", 0)
    assert {requests[job]["rule"] for job in submitted} == set(planned) - {"all"}
    controller_log = slurm_cluster.log_text("slurmctld")
    records = slurm_jobs(slurm_cluster)
    for job, slurm_id in submitted.items():
        assert f"_job_complete: JobId={slurm_id} WEXITSTATUS 0" in controller_log
        record, request = records[slurm_id], requests[job]
        resources = request["resources"]
        assert record["JobState"] == "COMPLETED" and record["ExitCode"] == "0:0"
        # What the rule and the profile ask for is what SLURM was given.
        assert record["Partition"] == PARTITION
        assert record["Comment"].startswith(f"rule_{request['rule']}")
        assert record["CPUs/Task"] == str(request["threads"])
        assert record["MinMemoryNode"] == f"{resources['mem_mb']}M"
        assert minutes(record["TimeLimit"]) == int(resources["runtime"])
        gpu_job = resources.get("gpu") == "1"
        assert (record.get("TresPerJob") == "gres:gpu:1") == gpu_job, (request, record)
    gpu_rules = {r["rule"] for r in requests.values() if r["resources"].get("gpu") == "1"}
    assert {"train_model", "train_nnn", "evaluate_model"} <= gpu_rules

    # The results equal the local run's: every file byte for byte, but the checkpoints (the
    # same tensors and metadata in a differently named zip) and the training logs' timings.
    local, remote = result_files(demo_run), result_files(workdir)
    assert remote == local
    differ = []
    for path in sorted(local):
        a, b = (run / "results" / path for run in (demo_run, workdir))
        if path.suffix == ".pt":
            same = same_checkpoint(
                torch.load(a, map_location="cpu", weights_only=True),
                torch.load(b, map_location="cpu", weights_only=True),
            )
        elif path.name == "train_log.csv":
            same = without_timing(a.read_bytes()) == without_timing(b.read_bytes())
        else:
            same = a.read_bytes() == b.read_bytes()
        if not same:
            differ.append(str(path))
    assert not differ, f"differ from the local run: {differ}"
