"""The Python half of ``benchmarks/gpu_check.sh`` (docs/gpu-check.md): what the shell script
needs computed rather than typed.

    config   the working directory of the paper-model step: the base config narrowed to one
             grid model on War and Peace, its corpus checked by sha256 (never downloaded: a
             GPU box may reach no network); prints the Snakemake targets
    report   that step's result as Markdown: test loss and bootstrap std beside the paper's
    prepare  a bundle to carry to a machine without a network: the War and Peace file and
             the wheels of what the device's Python lacks (Snakemake, jsonschema)
    missing  the wheels of a bundle whose distributions this Python does not have yet

Heavy imports (the visrnn package, yaml) stay inside the subcommands: ``missing`` runs before
the bundle's wheels are installed, with the standard library alone.
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATASET = "wp"  # the paper's headline number (1.077) is War and Peace's
#: Snakemake targets of the paper-model step, relative to its working directory: the
#: Figure 1 table (test loss with bootstrap std, the chosen dropout) and its figure. They pull
#: in the corpus, its split, every dropout's training run, the selection and the test scoring.
TARGETS = (
    f"results/{DATASET}/tables/test_losses.csv",
    f"results/{DATASET}/figures/test_losses.png",
)
#: What the device's Python lacks of requirements.txt for the three steps: the workflow
#: engine and the schema validator its config check uses.
BUNDLE_ROOTS = ("snakemake", "jsonschema")
EXIT_NO_CORPUS = 3


def _wheel_name(path: Path) -> str:
    """The normalised distribution name of a wheel file (PEP 427: name-version-...whl)."""
    return _normalise(path.name.split("-")[0])


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def missing_wheels(folder: Path) -> list[Path]:
    """Wheels in ``folder`` whose distribution this interpreter has not installed: the device
    keeps its own torch, numpy, requests... and gets only what it lacks."""
    installed = {_normalise(d.metadata["Name"] or "") for d in metadata.distributions()}
    return [p for p in sorted(folder.glob("*.whl")) if _wheel_name(p) not in installed]


def narrowed_config(
    base: dict[str, Any], base_dir: Path, workdir: Path, model: str, dropouts: Sequence[float]
) -> dict[str, Any]:
    """``base`` with War and Peace alone and the grid narrowed to ``model`` (its type, depth
    and budget) at ``dropouts`` (empty: the base's), every dropout packed onto one device.
    Training, evaluation and the budget's cell count stay the base's. Relative corpus
    directories become absolute, since the step runs in ``workdir``."""
    from visrnn.models.grid import ModelSpec

    spec = ModelSpec.parse(model)
    config = copy.deepcopy(base)
    grid = config["grid"]
    if spec.budget not in grid["budgets"]:
        raise SystemExit(f"{model}: budget {spec.budget} is not in {list(grid['budgets'])}")
    config["datasets"] = {DATASET: config["datasets"][DATASET]}
    config["corpus_dirs"] = [str((base_dir / d).resolve()) for d in config.get("corpus_dirs", [])]
    config["download_dir"] = str(workdir / "resources" / "corpora")
    grid["types"], grid["layers"] = [spec.model_type], [spec.num_layers]
    grid["budgets"] = {spec.budget: grid["budgets"][spec.budget]}
    if dropouts:
        grid["dropouts"] = [float(d) for d in dropouts]
    config["devices"] = {**config.get("devices", {}), "runs_per_gpu": len(grid["dropouts"])}
    # Analyses that name grid models must name this one (check_config); none of them runs.
    analysis = config.get("analysis", {})
    if "model" in analysis.get("dynamics", {}):
        analysis["dynamics"]["model"] = model
    oracles = analysis.get("oracles", {})
    oracles["datasets"] = [d for d in oracles.get("datasets", []) if d == DATASET]
    for role, selector in oracles.get("models", {}).items():
        if selector not in ("best", "best-smallest"):
            oracles["models"][role] = model
    activations = config.get("activations", {})
    if "full_test" in activations:
        activations["full_test"] = [t for t in activations["full_test"] if t in grid["types"]]
    return config


def write_step_config(base_path: Path, workdir: Path, model: str, dropouts: Sequence[float]) -> int:
    """Write ``workdir/config.yaml``; print the targets; exit EXIT_NO_CORPUS, saying where it
    looked, when no local file has War and Peace's sha256."""
    import yaml

    from visrnn.common.configuration import check_config
    from visrnn.data.corpora import CorpusError, locate_source

    base = yaml.safe_load(base_path.read_text())
    workdir.mkdir(parents=True, exist_ok=True)
    config = narrowed_config(base, base_path.parent, workdir, model, dropouts)
    check_config(config)
    source = config["datasets"][DATASET]["source"]
    try:  # url=None: found locally or not at all
        found = locate_source(
            source["sha256"], None, config["corpus_dirs"], config["download_dir"], name=DATASET
        )
    except CorpusError as error:
        print(f"corpus missing: {error}", file=sys.stderr)
        return EXIT_NO_CORPUS
    print(f"corpus: {found} (sha256 {source['sha256']})", file=sys.stderr)
    (workdir / "config.yaml").write_text(
        "# Written by benchmarks/gpu_check.py from "
        f"{base_path.name}: {model}, dropouts {config['grid']['dropouts']}\n"
        + yaml.safe_dump(config, sort_keys=False)
    )
    print("\n".join(TARGETS))
    return 0


def report(workdir: Path, model: str) -> str:
    """Markdown: the model's test loss and bootstrap std beside the paper's, the chosen
    dropout among the candidates, and the training log's extent."""
    from visrnn.common.files import read_json, read_table
    from visrnn.scorecard.paper import PAPER

    results = workdir / "results" / DATASET
    row = next(r for r in read_table(results / "tables" / "test_losses.csv") if r["model"] == model)
    selection = read_json(results / "models" / model / "selection.json")
    log = read_table(results / "models" / model / "train_log.csv")
    config = _read_yaml(workdir / "config.yaml")
    paper, tolerance = PAPER.recurrent_loss[DATASET], PAPER.tolerances.loss
    loss, std = row["test_loss"], row["bootstrap_std"]
    candidates = ", ".join(
        f"{c['dropout']:g}: {c['val_loss']:.4f} (epoch {c['best_epoch']})"
        for c in selection["candidates"]
    )
    seconds = sum(r["seconds"] for r in log)
    rate = sum(r["chars_per_second"] for r in log) / len(log)
    within = abs(loss - paper) <= tolerance
    return "\n".join(
        [
            f"| model | params | dropout | test loss (nats) | bootstrap std | paper | "
            f"difference | within {tolerance} |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            f"| {model} | {row['parameters']:,} | {row['dropout']:g} | {loss:.4f} | "
            f"{std:.4f} | {paper} | {loss - paper:+.4f} | {'yes' if within else 'no'} |",
            "",
            f"- validation loss per dropout (best epoch): {candidates}",
            f"- {len(log)} of {config['training']['epochs']} epochs logged, "
            f"{seconds:.0f} s of training (mean {rate:,.0f} chars/s), "
            f"last validation loss {log[-1]['val_loss']:.4f}",
            f"- dataset {DATASET}: {config['datasets'][DATASET]['source']['sha256'][:12]}..., "
            f"batch {config['training']['batch_size']} x {config['training']['seq_length']}",
        ]
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(path.read_text())


def copy_corpus(folder: Path) -> Path:
    """Copy War and Peace, found by the paper config's sha256 in its corpus_dirs and
    $VISRNN_CORPUS_DIRS, into ``folder`` (the bundle's corpus directory)."""
    from visrnn.data.corpora import locate_source

    config = _read_yaml(REPO / "config.yaml")
    source = config["datasets"][DATASET]["source"]
    dirs = [REPO / d for d in config.get("corpus_dirs", [])]
    found = locate_source(source["sha256"], None, dirs, REPO / config["download_dir"], name=DATASET)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / found.name
    if not target.exists():
        shutil.copyfile(found, target)
    return target


def requirement_closure(
    roots: Iterable[str], environment: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """normalised name -> (name, installed version) of ``roots`` and everything they require,
    as installed here, with markers evaluated for the target ``environment``."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    target = {**default_environment(), **environment, "extra": ""}
    found: dict[str, tuple[str, str]] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        key = _normalise(name)
        if key in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"{name} is not installed here; use the project's venv") from None
        found[key] = (dist.metadata["Name"], dist.version)
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate(target):
                todo.append(requirement.name)
    return found


def fetch_wheels(folder: Path, python_version: str, roots: Sequence[str]) -> list[Path]:
    """Wheels for the device (x86-64 Linux, CPython ``python_version``) of ``roots`` and what
    they need, at the versions installed here: a binary wheel from the registry where there is
    one, else one built here from the sdist, which must come out pure Python."""
    folder.mkdir(parents=True, exist_ok=True)
    major, minor = python_version.split(".")[:2]
    environment = {
        "python_version": f"{major}.{minor}",
        "python_full_version": f"{major}.{minor}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }
    platforms = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    platforms += ["manylinux1_x86_64", "linux_x86_64"]
    pip = [sys.executable, "-m", "pip"]
    wheels = []
    for key, (name, version) in sorted(requirement_closure(roots, environment).items()):
        have = [p for p in folder.glob("*.whl") if _wheel_name(p) == key]
        if have:
            wheels += have
            continue
        with tempfile.TemporaryDirectory() as tmp:
            download = [*pip, "download", "--quiet", "--no-deps", "--only-binary=:all:"]
            download += ["--python-version", f"{major}.{minor}", "--implementation", "cp"]
            download += [arg for p in platforms for arg in ("--platform", p)]
            done = subprocess.run([*download, "-d", tmp, f"{name}=={version}"], check=False)
            if done.returncode != 0:  # no wheel published: build one (pure Python only)
                build = [*pip, "wheel", "--quiet", "--no-deps", "-w", tmp, f"{name}=={version}"]
                subprocess.run(build, check=True)
            (built,) = Path(tmp).glob("*.whl")
            if done.returncode != 0 and not built.name.endswith("-none-any.whl"):
                raise SystemExit(f"{built.name}: built here, not pure Python; no wheel for 3.12")
            wheels.append(Path(shutil.move(built, folder / built.name)))
    return wheels


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    config = commands.add_parser("config", help="the paper-model step's working directory")
    config.add_argument("--base", type=Path, required=True, help="config file to narrow")
    config.add_argument("--workdir", type=Path, required=True)
    config.add_argument("--model", required=True)
    config.add_argument("--dropouts", nargs="*", type=float, default=[])
    summary = commands.add_parser("report", help="the paper-model step's result, Markdown")
    summary.add_argument("--workdir", type=Path, required=True)
    summary.add_argument("--model", required=True)
    prepare = commands.add_parser("prepare", help="corpus and wheels for an offline device")
    prepare.add_argument("bundle", type=Path)
    prepare.add_argument("--python-version", default="3.12", help="the device's Python")
    missing = commands.add_parser("missing", help="a bundle's wheels not installed here")
    missing.add_argument("wheels", type=Path)
    args = parser.parse_args(argv)

    if args.command == "config":
        return write_step_config(args.base, args.workdir.resolve(), args.model, args.dropouts)
    if args.command == "report":
        print(report(args.workdir, args.model))
    elif args.command == "prepare":
        corpus = copy_corpus(args.bundle / "corpora")
        wheels = fetch_wheels(args.bundle / "wheels", args.python_version, BUNDLE_ROOTS)
        size = sum(p.stat().st_size for p in [corpus, *wheels]) / 2**20
        print(f"{args.bundle}: {corpus.name} and {len(wheels)} wheels, {size:.1f} MiB")
    else:
        for path in missing_wheels(args.wheels):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
