"""The ``visrnn`` command: ``visrnn explore``.

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


def _explore_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results",
        type=Path,
        help="results directory of a run (the demo's: .test/results)",
    )
    parser.add_argument("--port", type=int, default=EXPLORE_PORT, help="default: %(default)s")
    parser.add_argument(
        "--host",
        default=EXPLORE_HOST,
        help="address to listen on (default: %(default)s, this machine only)",
    )


def _explore(args: argparse.Namespace) -> int:
    from visrnn.explorer.server import serve

    if not args.results.is_dir():
        print(f"visrnn explore: {args.results} is not a directory", file=sys.stderr)
        return 2
    serve(args.results, host=args.host, port=args.port)
    return 0


COMMANDS: dict[str, Command] = {
    "explore": Command(
        "the explorer: hypothesis, match and annotations over the activation dumps",
        _explore_arguments,
        _explore,
    ),
}


def parser() -> argparse.ArgumentParser:
    """The ``visrnn`` argument parser, one subparser per entry of ``COMMANDS``."""
    top = argparse.ArgumentParser(
        prog="visrnn", description="Look at the results of the visrnn workflow."
    )
    subcommands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = subcommands.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
