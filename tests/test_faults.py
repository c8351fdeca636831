"""Fault injection on the demo's outputs, the way users break runs: kill a run during
training and during an analysis, truncate, garble or swap every kind of intermediate, edit a
corpus of one's own, make the results folder read-only, start two runs in one directory.

Each fault is injected into a copy of the session's one demo run (the ``demo_run`` fixture)
and only the targets it concerns are rerun. The promise checked for every fault: either a
rerun repairs it and ends with the same outputs as the untouched run, or the run stops with
one message naming the file (and saying what to do), leaving nothing half-written and no
table changed; following that advice then repairs it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import yaml
from workflow_runs import SNAKEMAKE, planned_jobs, snakemake, write_config

from visrnn.models.checkpoints import save_resume

pytestmark = pytest.mark.e2e


def copy_run(demo_run: Path, workdir: Path) -> Path:
    """The demo's config, results and Snakemake's metadata (so no rerun but the fault's)."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(demo_run / "config.yaml", workdir / "config.yaml")
    shutil.copytree(demo_run / "results", workdir / "results", symlinks=True)
    shutil.copytree(demo_run / ".snakemake" / "metadata", workdir / ".snakemake" / "metadata")
    return workdir


def tables(workdir: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(workdir)): path.read_bytes()
        for path in sorted((workdir / "results").glob("*/tables/*.csv"))
    }


def assert_nothing_half_written(workdir: Path, demo_run: Path) -> None:
    """No temporary file left, and every table either the untouched run's or absent."""
    assert not list((workdir / "results").rglob(".*.tmp")), "a temporary file was left"
    untouched = tables(demo_run)
    for name, content in tables(workdir).items():
        assert content == untouched[name], f"{name} changed"


def assert_same_output(path: Path, before: bytes) -> None:
    """``path`` holds what it held before (checkpoints: the same contents; torch.save names
    its archive after the temporary file, so their bytes differ)."""
    if path.suffix != ".pt":
        assert path.read_bytes() == before
        return
    rebuilt = torch.load(path, weights_only=True)
    original = torch.load(io.BytesIO(before), weights_only=True)
    weights = rebuilt.pop("state_dict"), original.pop("state_dict")
    assert rebuilt == original and weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][key], weights[1][key]) for key in weights[0])


def output_of(done: subprocess.CompletedProcess) -> str:
    return done.stdout + done.stderr


# --- Faults that stop the run with one message naming the file ------------------------------


def truncate(path: Path, workdir: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garble(path: Path, workdir: Path) -> None:
    path.write_bytes(bytes((7 * i + 13) % 251 for i in range(path.stat().st_size)))


def swap_with(other: str) -> Callable[[Path, Path], None]:
    """Copy another file of the same kind over the file."""

    def swap(path: Path, workdir: Path) -> None:
        path.write_bytes((workdir / other).read_bytes())

    swap.__name__ = "swap"
    return swap


@dataclass(frozen=True)
class Fault:
    file: str  # the damaged file, relative to the working directory
    damage: Callable[[Path, Path], None]
    target: str  # what is rerun: a file that depends on the damaged one
    message: str  # regex of the error, after the file's path
    repair: bool = False  # also follow the advice (delete, rerun) and compare the target
    names: str = ""  # regex of the file the message names, when not the damaged one
    also: tuple[str, ...] = ()  # other files the damage touched (deleted too by the repair)

    @property
    def id(self) -> str:
        return f"{self.damage.__name__}:{self.file.removeprefix('results/wp/')}"


DATA = "results/wp/data"
RUN = "results/wp/runs/lstm-1L-10k/dropout-0/best.pt"
MODEL = "results/wp/models/lstm-3L-10k/best.pt"
EVAL = "results/wp/eval/lstm-3L-10k.parquet"
# The cell ranking reads the dump of the best LSTM: damage both LSTMs' dumps.
DUMPS = ("results/wp/activations/lstm-1L-10k.parquet", "results/wp/activations/lstm-3L-10k.parquet")
DUMP_NAMED = r"results/wp/activations/(lstm-[13]L-10k).parquet"


def both_dumps(damage: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
    def damage_both(path: Path, workdir: Path) -> None:
        for dump in DUMPS:
            damage(workdir / dump, workdir)

    damage_both.__name__ = damage.__name__
    return damage_both


def exchange_dumps(path: Path, workdir: Path) -> None:
    first, second = (workdir / dump for dump in DUMPS)
    contents = first.read_bytes()
    first.write_bytes(second.read_bytes())
    second.write_bytes(contents)


exchange_dumps.__name__ = "swap"
UNREADABLE_CHECKPOINT = r" is (truncated or damaged|not a visrnn checkpoint)"
REBUILD = "delete it and run snakemake again to rebuild it"

NAMED_FAULTS = [
    Fault(f"{DATA}/corpus.bin", truncate, f"{DATA}/vocab.json", " is not the corpus that", True),
    Fault(f"{DATA}/corpus.bin", garble, f"{DATA}/vocab.json", " is not the corpus that"),
    Fault(
        f"{DATA}/corpus.bin",
        swap_with("results/lk/data/corpus.bin"),
        f"{DATA}/vocab.json",
        " is not the corpus that",
    ),
    Fault(f"{DATA}/train.npy", truncate, RUN, " is not a readable id array", True),
    Fault(f"{DATA}/train.npy", garble, RUN, " is not a readable id array"),
    Fault(
        f"{DATA}/train.npy",
        swap_with(f"{DATA}/test.npy"),
        RUN,
        f" is not the split that {DATA}/vocab.json was written with",
    ),
    Fault(f"{DATA}/vocab.json", truncate, RUN, " is not valid JSON"),
    Fault(f"{DATA}/vocab.json", garble, RUN, " is not valid JSON"),
    Fault(  # an intact vocabulary, but not the one the splits were written with
        f"{DATA}/vocab.json",
        swap_with("results/lk/data/vocab.json"),
        RUN,
        f" is not the split that {DATA}/vocab.json was written with",
        names=f"{DATA}/train.npy",
    ),
    Fault(RUN, truncate, "results/wp/models/lstm-1L-10k/selection.json", UNREADABLE_CHECKPOINT),
    Fault(
        RUN,
        swap_with("results/wp/runs/lstm-1L-10k/dropout-0.25/best.pt"),
        "results/wp/models/lstm-1L-10k/selection.json",
        r" holds lstm-1L-10k .*'dropout': 0.25.* expects lstm-1L-10k .*'dropout': 0.0",
    ),
    Fault(MODEL, truncate, EVAL, UNREADABLE_CHECKPOINT, True),
    Fault(MODEL, garble, EVAL, UNREADABLE_CHECKPOINT),
    Fault(
        MODEL,
        swap_with("results/wp/models/lstm-1L-10k/best.pt"),
        EVAL,
        " holds lstm-1L-10k .* but this rule expects lstm-3L-10k",
    ),
    Fault(
        MODEL,
        swap_with("results/lk/models/lstm-3L-10k/best.pt"),
        EVAL,
        r" (was trained on another vocabulary|holds lstm-3L-10k .* expects)",
    ),
    Fault(EVAL, truncate, "results/wp/tables/test_losses.csv", " is not a readable Parquet", True),
    Fault(EVAL, garble, "results/wp/tables/test_losses.csv", " is not a readable Parquet"),
    Fault(
        EVAL,
        swap_with("results/wp/eval/lstm-1L-10k.parquet"),
        "results/wp/tables/test_losses.csv",
        " holds the scores of lstm-1L-10k, not of lstm-3L-10k",
    ),
    Fault(
        DUMPS[1],
        both_dumps(truncate),
        "results/wp/tables/cell_ranking.csv",
        " is not a readable Parquet",
        True,
        names=DUMP_NAMED,
        also=DUMPS[:1],
    ),
    Fault(
        DUMPS[1],
        both_dumps(garble),
        "results/wp/tables/cell_ranking.csv",
        " is not a readable Parquet",
        names=DUMP_NAMED,
    ),
    Fault(
        DUMPS[1],
        exchange_dumps,
        "results/wp/tables/cell_ranking.csv",
        r" holds the activations of lstm-[13]L-10k, not of \1",
        names=DUMP_NAMED,
    ),
]


@pytest.mark.parametrize("fault", NAMED_FAULTS, ids=lambda fault: fault.id)
def test_a_damaged_intermediate_stops_the_run_naming_it(
    fault: Fault, workflow_copy: Path, demo_run: Path, tmp_path: Path
) -> None:
    workdir = copy_run(demo_run, tmp_path / "run")
    before = (workdir / fault.target).read_bytes() if (workdir / fault.target).is_file() else None
    fault.damage(workdir / fault.file, workdir)

    done = snakemake(workflow_copy, workdir, fault.target, check=False)
    output = output_of(done)
    assert done.returncode != 0, output
    assert re.search(f"{fault.names or fault.file}{fault.message}", output), output[-3000:]
    assert "delete it" in output and "weights_only" not in output
    assert_nothing_half_written(workdir, demo_run)

    if fault.repair:  # the advice works: delete the file, run again
        for damaged in (fault.file, *fault.also):
            (workdir / damaged).unlink()
        snakemake(workflow_copy, workdir, fault.target)
        assert_same_output(workdir / fault.target, before)
        assert_nothing_half_written(workdir, demo_run)


# --- Faults a rerun repairs -----------------------------------------------------------------


def _garbage_resume(path: Path) -> None:
    path.write_bytes(b"definitely not a checkpoint\n" * 40)


def _truncated_resume(path: Path) -> None:
    torch.save({"format": 3, "model": torch.zeros(2000)}, path)
    path.write_bytes(path.read_bytes()[:500])


def _another_runs_resume(path: Path) -> None:
    save_resume(path, {"fingerprint": "another run", "model_id": "gru-3L-10k", "progress": {}})


def test_resume_files_that_cannot_be_resumed_are_set_aside(
    workflow_copy: Path, demo_run: Path, tmp_path: Path
) -> None:
    """Three runs killed before they finished, each leaving a resume file that must not be
    used: garbage, truncated, another run's. Each is renamed aside with a warning; each run
    starts over and ends with the untouched run's weights."""
    workdir = copy_run(demo_run, tmp_path / "run")
    damaged = {
        "lstm-1L-10k": _garbage_resume,
        "gru-1L-10k": _truncated_resume,
        "rnn-1L-10k": _another_runs_resume,
    }
    originals = {}
    for model, write in damaged.items():
        run = workdir / "results/wp/runs" / model / "dropout-0"
        (run / "best.pt").unlink()
        (run / "train_log.csv").unlink()
        write(run / "resume.pt")
        originals[model] = (run / "resume.pt").read_bytes()

    runs = [f"results/wp/runs/{model}/dropout-0/best.pt" for model in damaged]
    snakemake(workflow_copy, workdir, *runs)
    for model, original in originals.items():
        run = workdir / "results/wp/runs" / model / "dropout-0"
        (aside,) = run.glob("resume.pt.set-aside-*")
        assert aside.read_bytes() == original and not (run / "resume.pt").exists()
        log = (workdir / "results/wp/logs/train" / model / "dropout-0.log").read_text()
        assert f"not resuming from results/wp/runs/{model}/dropout-0/resume.pt" in log
        assert "weights_only" not in log
    for best in runs:
        assert_same_output(workdir / best, (demo_run / best).read_bytes())
    assert_nothing_half_written(workdir, demo_run)


def _start(workflow: Path, workdir: Path, *args: str) -> subprocess.Popen:
    command = [str(SNAKEMAKE), "-s", str(workflow / "Snakefile"), "--directory", str(workdir)]
    return subprocess.Popen(
        [*command, "--cores", "2", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the kill takes its jobs too
    )


def _kill_when(run: subprocess.Popen, ready: Callable[[], bool], timeout: float = 240) -> None:
    """SIGKILL the run and all its jobs as soon as ``ready()``, as a crash or `kill -9` would."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert run.poll() is None, f"the run ended before the kill:\n{run.stdout.read()}"
        assert time.monotonic() < deadline, "the run never reached the kill point"
        time.sleep(0.02)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()


def _resume_after_kill(workflow: Path, workdir: Path, *targets: str) -> None:
    """What docs/troubleshooting.md says to do after a kill: unlock, then rerun the incomplete."""
    done = snakemake(workflow, workdir, *targets, check=False)
    assert done.returncode != 0 and "--unlock" in output_of(done)
    snakemake(workflow, workdir, "--unlock")
    snakemake(workflow, workdir, *targets, "--rerun-incomplete")


def test_a_run_killed_during_training_resumes_to_the_same_tables(
    workflow_copy: Path, demo_run: Path, tmp_path: Path
) -> None:
    workdir = copy_run(demo_run, tmp_path / "run")
    target = "results/wp/runs/lstm-3L-10k/dropout-0/best.pt"
    run_dir = (workdir / target).parent
    (run_dir / "best.pt").unlink()
    (run_dir / "train_log.csv").unlink()
    # Killed once the first epoch's resume file is written, before the last epoch ends.
    _kill_when(_start(workflow_copy, workdir, target), (run_dir / "resume.pt").exists)
    assert not (run_dir / "best.pt").exists()

    _resume_after_kill(workflow_copy, workdir, target)
    log = (workdir / "results/wp/logs/train/lstm-3L-10k/dropout-0.log").read_text()
    resumed = re.search(
        r"resuming from results/wp/runs/lstm-3L-10k/dropout-0/resume\.pt after epoch (\d+)", log
    )
    epochs = yaml.safe_load((demo_run / "config.yaml").read_text())["training"]["epochs"]
    assert resumed and 1 <= int(resumed[1]) < epochs, log
    assert not (run_dir / "resume.pt").exists()
    assert_same_output(workdir / target, (demo_run / target).read_bytes())
    assert_nothing_half_written(workdir, demo_run)


def test_a_run_killed_during_an_analysis_reruns_it_to_the_same_tables(
    workflow_copy: Path, demo_run: Path, tmp_path: Path
) -> None:
    workdir = copy_run(demo_run, tmp_path / "run")
    target = "results/wp/tables/cell_ranking.csv"
    log = workdir / "results/wp/logs/interpretable_cells.log"
    (workdir / target).unlink()
    log.unlink()
    _kill_when(_start(workflow_copy, workdir, target), log.exists)  # the job has started
    assert not (workdir / target).exists()

    _resume_after_kill(workflow_copy, workdir, target)
    assert tables(workdir) == tables(demo_run)
    assert_nothing_half_written(workdir, demo_run)


def test_two_runs_in_one_directory_the_second_is_refused(
    workflow_copy: Path, demo_run: Path, tmp_path: Path
) -> None:
    workdir = copy_run(demo_run, tmp_path / "run")
    """Snakemake locks the outputs a run will write: a second run that would write the same
    ones is refused (runs of disjoint outputs may share a directory)."""
    run = "results/wp/runs/lstm-1L-10k/dropout-0/best.pt"
    (workdir / run).unlink()
    first = _start(workflow_copy, workdir, run)
    try:
        locks = workdir / ".snakemake" / "locks"
        deadline = time.monotonic() + 120
        while not (locks.is_dir() and any(locks.iterdir())):
            assert first.poll() is None and time.monotonic() < deadline, first.stdout.read()
            time.sleep(0.02)
        second = snakemake(workflow_copy, workdir, run, check=False)
    finally:
        output, _ = first.communicate(timeout=300)
    assert second.returncode != 0 and "cannot be locked" in output_of(second)
    assert first.returncode == 0, output
    assert_same_output(workdir / run, (demo_run / run).read_bytes())
    assert_nothing_half_written(workdir, demo_run)


def test_a_read_only_results_folder_names_the_folder(
    workflow_copy: Path, demo_run: Path, tmp_path: Path
) -> None:
    workdir = copy_run(demo_run, tmp_path / "run")
    target = "results/wp/tables/test_losses.csv"
    (workdir / target).unlink()
    folder = workdir / "results/wp/tables"
    folder.chmod(0o555)
    try:
        done = _as_unprivileged(workflow_copy, workdir, target)
    finally:
        folder.chmod(0o755)
    assert done.returncode != 0
    assert re.search(r"results/wp/tables\S* is not writable", output_of(done)), output_of(done)
    assert not list(folder.glob(".*.tmp"))
    snakemake(workflow_copy, workdir, target)
    assert tables(workdir) == tables(demo_run)


def _as_unprivileged(workflow: Path, workdir: Path, target: str) -> subprocess.CompletedProcess:
    """Snakemake on ``target``, without root's power to write into read-only folders."""
    if os.geteuid() != 0:
        return snakemake(workflow, workdir, target, check=False)
    if shutil.which("unshare") is None:
        pytest.skip("running as root, and no unshare to drop root's file permissions")
    command = [str(SNAKEMAKE), "-s", str(workflow / "Snakefile"), "--directory", str(workdir)]
    # A user namespace with no uid mapped: still the files' owner, no longer above their modes.
    return subprocess.run(
        ["unshare", "--user", *command, "--cores", "2", target], capture_output=True, text=True
    )


def test_an_edited_corpus_of_ones_own_is_rebuilt(
    workflow_copy: Path, demo_run: Path, tmp_path: Path
) -> None:
    config = yaml.safe_load((demo_run / "config.yaml").read_text())
    config["datasets"]["wp"]["source"] = {"path": "own.txt"}
    workdir = write_config(tmp_path / "run", config)
    own = workdir / "own.txt"
    own.write_bytes(b"The first version of my text.\r\n" * 400)
    target = "results/wp/data/vocab.json"
    snakemake(workflow_copy, workdir, target)
    assert planned_jobs(output_of(snakemake(workflow_copy, workdir, "-n", target))) == {}

    own.write_bytes(b"Then I wrote this first, with a new letter: Z.\r\n" * 50 + own.read_bytes())
    jobs = planned_jobs(output_of(snakemake(workflow_copy, workdir, "-n", target)))
    assert jobs == {"corpus": 1, "split_corpus": 1}
    snakemake(workflow_copy, workdir, target)
    assert (workdir / "results/wp/data/corpus.bin").read_bytes() == own.read_bytes()
    assert ord("Z") in yaml.safe_load((workdir / target).read_text())["symbols"]


def test_a_config_typo_is_a_few_lines_and_omitted_sections_take_defaults(
    workflow_copy: Path, demo_run: Path, tmp_path: Path
) -> None:
    config = yaml.safe_load((demo_run / "config.yaml").read_text())
    config["grdi"] = config.pop("grid")
    done = snakemake(workflow_copy, write_config(tmp_path / "typo", config), "-n", check=False)
    assert done.returncode != 0
    message = output_of(done)
    assert "config error at the top level: unknown key(s) ['grdi']" in message
    assert len(message.splitlines()) < 15, message  # not the whole schema and config

    config["grid"] = config.pop("grdi")
    del config["baselines"], config["evaluation"]
    jobs = planned_jobs(
        output_of(snakemake(workflow_copy, write_config(tmp_path / "defaults", config), "-n"))
    )
    assert jobs["ngram_model"] == jobs["select_nnn"] == 2 * 12  # the paper's n, both datasets
