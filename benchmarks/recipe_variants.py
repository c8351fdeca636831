"""Train grid models of a finished run again under other training settings, and draw their
validation curves beside the run's own models.

What it answers: does a choice of char-rnn's that the paper's text leaves out (forget-gate
biases of 1, the summed gradient clamped element-wise) change a model trained with the
paper's recipe, or a comparison between two models? Each variant is the run's ``training``
section with a few keys changed, trained for each ``--model`` by the pipeline's own loop
(``visrnn.training.loop.train_run``) on the run's splits, and scored on its test split as
``evaluate_model`` scores it. Usage, from the repository root after the showcase has run:

    python benchmarks/recipe_variants.py showcase --ds wp --model lstm-2L-50k \\
        --variant "forget bias 1=forget_bias:1.0" \\
        --variant "char-rnn=forget_bias:1.0,loss_reduction:sum_over_steps,grad_clip_mode:value" \\
        --compare rnn-2L-50k --out build/recipe-variants

``--model`` may be given more than once (the 1- and 2-layer LSTMs, to see whether a variant
changes what depth does). It writes ``curves.csv`` (every epoch of every run),
``test_losses.csv`` and ``curves.png`` in ``--out`` and prints the test losses. A variant
already trained there (``--out/<model>/<variant>/``) is scored, not retrained (an
interrupted one resumes from its ``resume.pt``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

from visrnn import plan
from visrnn.common.files import read_table, write_csv
from visrnn.common.plotting import new_figure, save_figure
from visrnn.data.splits import Vocab, load_split
from visrnn.models.checkpoints import load_checkpoint
from visrnn.models.grid import ModelSpec
from visrnn.models.recurrent import grid_model
from visrnn.scoring.evaluation import score_sequence
from visrnn.scoring.scores import scores_for_test_split
from visrnn.training.loop import train_run, training_config

DEFAULTS = "the run's recipe"


@dataclass(frozen=True)
class Variant:
    """A name and the ``training`` keys it changes."""

    name: str
    changes: dict[str, Any]

    @classmethod
    def parse(cls, text: str) -> Variant:
        """``NAME=key:value,key:value`` (values read as YAML: 1.0, null, value)."""
        name, sep, body = text.partition("=")
        if not sep or not name.strip() or not body.strip():
            raise SystemExit(f"--variant {text!r}: expected NAME=key:value[,key:value...]")
        changes = {}
        for item in body.split(","):
            key, sep, value = item.partition(":")
            if not sep:
                raise SystemExit(f"--variant {text!r}: {item!r} is not key:value")
            changes[key.strip()] = yaml.safe_load(value)
        return cls(name.strip(), changes)

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.name.lower()).strip("-")


def settled_config(workdir: Path) -> dict[str, Any]:
    """The run's config as its rules saw it (the schema's defaults filled in)."""
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    plan.settle_config(config)
    return config


def test_loss(
    checkpoint: Path, model_id: str, ds: str, vocab: Vocab, test_path: Path, gru: str
) -> float:
    """Test loss of a checkpoint as evaluate_model scores it (state carried over the split)."""
    model, _ = load_checkpoint(
        checkpoint, "cpu", model_id=model_id, vocab_sha256=vocab.sha256, gru_variant=gru
    )
    test_ids = load_split(test_path)
    p_target, argmax = score_sequence(model, test_ids, torch.device("cpu"))
    return scores_for_test_split(model_id, ds, vocab.sha256, test_ids, p_target, argmax).loss


def train_variant(
    config: dict[str, Any], workdir: Path, ds: str, model_id: str, variant: Variant, out: Path
) -> Path:
    """Train ``model_id`` with the variant's training keys; the directory of its run."""
    unknown = set(variant.changes) - set(config["training"])
    if unknown:
        raise SystemExit(f"--variant {variant.name!r}: no training key {sorted(unknown)}")
    data = workdir / plan.data_file(ds, "")
    vocab = Vocab.load(data / "vocab.json")
    spec = ModelSpec.parse(model_id)
    grid = config["grid"]
    model = grid_model(spec, vocab.size, grid["budgets"], grid["dropouts"][0], grid["gru_variant"])
    run = out / model_id / variant.slug
    run.mkdir(parents=True, exist_ok=True)
    if (run / "best.pt").exists() and (run / "train_log.csv").exists():
        return run
    train_run(
        model,
        load_split(data / "train.npy"),
        load_split(data / "val.npy"),
        training_config({**config["training"], **variant.changes}),
        run / "best.pt",
        run / "train_log.csv",
        model_id=model_id,
        vocab_sha256=vocab.sha256,
        data_name=f"datasets.{ds}",
    )
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdir", type=Path, help="the run's directory (showcase)")
    parser.add_argument("--ds", default="wp")
    parser.add_argument(
        "--model", action="append", default=[], help="a grid model of the run (lstm-2L-50k)"
    )
    parser.add_argument("--variant", action="append", type=Variant.parse, default=[])
    parser.add_argument("--compare", action="append", default=[], help="other models to draw")
    parser.add_argument("--out", type=Path, default=Path("build/recipe-variants"))
    parser.add_argument(
        "--train-only",
        action="store_true",
        help="train the variants and stop (while the run's own models still train)",
    )
    args = parser.parse_args(argv)
    models = args.model or ["lstm-2L-50k"]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)

    config = settled_config(args.workdir)
    torch.set_num_threads(int(config["training"]["threads"]))  # as the run's training jobs
    ds, results = args.ds, args.workdir / plan.RESULTS
    vocab = Vocab.load(args.workdir / plan.data_file(ds, "vocab.json"))
    test_path = args.workdir / plan.data_file(ds, "test.npy")
    gru = config["grid"]["gru_variant"]
    if len(config["grid"]["dropouts"]) > 1:
        raise SystemExit(f"{args.workdir}: this compares the runs of a grid of one dropout")
    runs: list[tuple[str, str, Path]] = []  # (label, model id, run directory)
    for model_id in [*models, *args.compare]:
        directory = args.workdir / plan.grid_runs(config, model_id)[0].directory(ds, results.name)
        if model_id in models and not (directory / "best.pt").exists():
            print(f"{directory}: not trained yet; drawing the variants without it")
            continue
        label = f"{model_id}, {DEFAULTS}" if model_id in models else model_id
        runs.append((label, model_id, directory))
    for model_id in models:
        for variant in args.variant:
            started = time.perf_counter()
            run = train_variant(config, args.workdir, ds, model_id, variant, args.out)
            logging.info("%s, %s: %.0f s", model_id, variant.name, time.perf_counter() - started)
            runs.append((f"{model_id}, {variant.name}", model_id, run))
    if args.train_only:
        return 0

    curves, losses = [], []
    for label, model_id, run in runs:
        log = read_table(run / "train_log.csv")
        loss = test_loss(run / "best.pt", model_id, ds, vocab, test_path, gru)
        best = min(log, key=lambda row: row["val_loss"])
        losses.append(
            {
                "run": label,
                "epochs": len(log),
                "best_epoch": best["epoch"],
                "best_val_loss": best["val_loss"],
                "test_loss": round(loss, 4),
            }
        )
        curves += [{"run": label, **row} for row in log]
        print(
            f"{label:60s} best val {best['val_loss']:.4f} (epoch {best['epoch']}), test {loss:.4f}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "curves.csv", curves, list(curves[0]))
    write_csv(args.out / "test_losses.csv", losses, list(losses[0]))

    fig = new_figure(6.4, 3.8)
    ax = fig.add_subplot()
    for label, _, _ in runs:
        rows = [row for row in curves if row["run"] == label]
        ax.plot([r["epoch"] for r in rows], [r["val_loss"] for r in rows], label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation loss (nats), {ds}")
    # From the fifth epoch on: the first epochs' losses would flatten the curves' ends.
    top = ax.get_ylim()[1]
    fifth = [float(row["val_loss"]) for row in curves if int(row["epoch"]) == 5]
    ax.set_ylim(top=min(max(fifth, default=top), top))
    ax.axvline(config["training"]["lr_decay_after"], color="0.8", lw=0.8, zorder=0)
    ax.legend(fontsize=7)
    save_figure(fig, args.out / "curves.png")
    print(f"wrote {args.out}/curves.csv, test_losses.csv, curves.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
