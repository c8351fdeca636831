"""The ``visrnn`` command: ``visrnn status``, ``summary``, ``scorecard``, ``sample``,
``explore``.

The features of status, summary and sample live beside it (``status``, ``summary``,
``sample``); the scorecard's in ``visrnn.scorecard``; the explorer is its own subpackage.

Each subcommand is one entry of ``COMMANDS``: a help line, a function adding its arguments
and a function running it, which returns the exit status. Add a subcommand by adding an
entry; heavy imports go inside its run function, so every command starts fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Where ``visrnn explore`` listens unless told otherwise: this machine only.
EXPLORE_HOST = "127.0.0.1"
EXPLORE_PORT = 8000


@dataclass(frozen=True)
class Command:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _results_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results",
        nargs="?",
        type=Path,
        default=Path("results"),
        help="results directory of a run (default: results; the demo's: .test/results)",
    )


def _status_arguments(parser: argparse.ArgumentParser) -> None:
    _results_argument(parser)
    parser.add_argument(
        "--config",
        type=Path,
        help="the run's config file (default: config.yaml beside RESULTS)",
    )


def _run_config(args: argparse.Namespace) -> dict | None:
    """The settled config of the run whose results are ``args.results``; None (said) if absent."""
    from visrnn.cli import status

    config_path = args.config or args.results.parent / "config.yaml"
    if not config_path.is_file():
        print(
            f"visrnn {args.command}: no config {config_path}; give it with --config",
            file=sys.stderr,
        )
        return None
    return status.load_config(config_path)


def _status(args: argparse.Namespace) -> int:
    from visrnn import plan
    from visrnn.cli import status

    config = _run_config(args)
    if config is None:
        return 2
    running = status.snakemake_holds_lock(args.results.parent)
    statuses = [
        status.dataset_status(args.results, dataset, config, snakemake_running=running)
        for dataset in plan.datasets(config)
    ]
    print(status.format_status(statuses))
    return 0


def _summary_arguments(parser: argparse.ArgumentParser) -> None:
    _results_argument(parser)
    parser.add_argument(
        "--report",
        type=Path,
        help="the report zip, if one was built (default: report.zip beside RESULTS)",
    )


def _summary(args: argparse.Namespace) -> int:
    from visrnn.cli.summary import summary

    report = args.report or args.results.parent / "report.zip"
    print(summary(args.results, report))
    return 0


def _scorecard_arguments(parser: argparse.ArgumentParser) -> None:
    _status_arguments(parser)
    parser.add_argument(
        "--out",
        type=Path,
        help="write scorecard.csv and scorecard.md in this directory (default: print the Markdown)",
    )


def _scorecard(args: argparse.Namespace) -> int:
    from visrnn.scorecard.claims import scorecard_rows
    from visrnn.scorecard.render import scorecard_markdown, write_scorecard
    from visrnn.scorecard.tables import Run

    config = _run_config(args)
    if config is None:
        return 2
    rows = scorecard_rows(Run.so_far(config, args.results.parent))
    if args.out is None:
        print(scorecard_markdown(rows), end="")
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        write_scorecard(args.out / "scorecard.csv", args.out / "scorecard.md", rows)
        print(f"wrote {args.out / 'scorecard.csv'} and {args.out / 'scorecard.md'}")
    return 0


def _sample_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint",
        type=Path,
        help="a grid model's checkpoint, e.g. results/wp/models/lstm-2L-130k/best.pt",
    )
    parser.add_argument(
        "--prime", default="", help="text the model reads first (default: none; then the "
        "first character is drawn uniformly, as char-rnn does)"
    )  # fmt: skip
    parser.add_argument("--length", type=int, default=2000, help="default: %(default)s")
    parser.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="softmax temperature; 0 takes the most likely character (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=123, help="default: %(default)s")
    parser.add_argument(
        "--clamp",
        action="append",
        default=[],
        metavar="LAYER:STATE:UNIT=VALUE",
        help="hold a unit at a value while sampling, e.g. 0:c:17=1 (layer 0, cell state, "
        "unit 17); STATE is c (LSTM) or h; repeatable",
    )
    parser.add_argument("--model", help="the checkpoint's model id (default: from its folder)")
    parser.add_argument(
        "--vocab",
        type=Path,
        help="its dataset's vocab.json (default: data/vocab.json in a folder above it)",
    )


def _sample(args: argparse.Namespace) -> int:
    from visrnn.cli.sample import sample_text

    try:
        text = sample_text(
            args.checkpoint,
            prime=args.prime.encode(),
            length=args.length,
            temperature=args.temperature,
            seed=args.seed,
            clamps=args.clamp,
            model_id=args.model,
            vocab_path=args.vocab,
        )
    except (ValueError, FileNotFoundError) as error:
        print(f"visrnn sample: {error}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(text + b"\n")
    sys.stdout.flush()
    return 0


def _explore_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results",
        type=Path,
        help="results directory of a run (the demo's: .test/results), a directory "
        "visrnn.explorer.imports.write_explorer wrote, or an LSTMVis project directory "
        "(every lstm.yml under it)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="where LSTMVis projects are converted, once per content "
        "(default: $XDG_CACHE_HOME/visrnn, else ~/.cache/visrnn)",
    )
    parser.add_argument(
        "--track",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="a track of your own, served beside the text's (repeatable): FILE holds one "
        "value a line per position, or 'start,end' spans a line (docs/explorer.md)",
    )
    parser.add_argument("--port", type=int, default=EXPLORE_PORT, help="default: %(default)s")
    parser.add_argument(
        "--host",
        default=EXPLORE_HOST,
        help="address to listen on (default: %(default)s, this machine only); requests must "
        "name it or localhost as their Host",
    )


def _explore(args: argparse.Namespace) -> int:
    from visrnn.explorer.imports import ProjectError, explorer_roots
    from visrnn.explorer.server import serve
    from visrnn.explorer.tracks import TrackFileError, read_tracks

    if not args.results.is_dir():
        print(f"visrnn explore: {args.results} is not a directory", file=sys.stderr)
        return 2
    try:
        tracks = read_tracks(args.track)
        roots = explorer_roots(args.results, args.cache)
        serve(roots, host=args.host, port=args.port, tracks=tracks)
    except (ProjectError, TrackFileError, ImportError) as error:
        print(f"visrnn explore: {error}", file=sys.stderr)
        return 2
    return 0


COMMANDS: dict[str, Command] = {
    "status": Command(
        "training progress per dataset: runs done / running / left, time left",
        _status_arguments,
        _status,
    ),
    "summary": Command(
        "what a finished run made and where: figures, tables, report, scorecard",
        _summary_arguments,
        _summary,
    ),
    "scorecard": Command(
        "the scorecard of a run so far: every claim its tables check (the rest 'not run')",
        _scorecard_arguments,
        _scorecard,
    ),
    "sample": Command(
        "text written by a checkpoint (char-rnn's sample.lua), optionally with units clamped",
        _sample_arguments,
        _sample,
    ),
    "explore": Command(
        "the explorer: hypothesis, match and annotations over the activation dumps",
        _explore_arguments,
        _explore,
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="visrnn", description="Look at the results of the visrnn workflow."
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = subcommands.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    args = parser.parse_args(argv)
    return args.run(args)
