"""The README's picture of the workflow: `snakemake --rulegraph` of the paper preset
(`config.yaml`), written to docs/rulegraph.dot and rendered to docs/rulegraph.svg.

Snakemake prints the graph's edges in an order that changes from run to run, so the .dot is
written in a canonical order (edges sorted), which makes it comparable with a fresh
`snakemake --rulegraph`. The .svg carries the sha256 of the .dot it was rendered from, so a
test can tell, without graphviz, that the picture matches the graph (tests/test_docs.py).

Usage (`make rulegraph`): python scripts/rulegraph.py   (needs graphviz's `dot`)
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOT = REPO / "docs" / "rulegraph.dot"
SVG = REPO / "docs" / "rulegraph.svg"
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
EDGE = re.compile(r"^\s*(\d+) -> (\d+)\s*$")
STAMP = re.compile(r"<!-- rendered from rulegraph\.dot, sha256 ([0-9a-f]{64}) -->")


def canonical(dot: str) -> str:
    """The graph with its edge lines sorted by (target, source), every other line in place
    (trailing blanks dropped)."""
    lines = [line.rstrip() for line in dot.strip("\n").splitlines()]
    edges = [i for i, line in enumerate(lines) if EDGE.match(line)]
    if not edges:
        raise ValueError("no edges in the rule graph: is this `snakemake --rulegraph` output?")

    def key(line: str) -> tuple[int, int]:
        source, target = EDGE.match(line).groups()
        return int(target), int(source)

    ordered = iter(sorted((lines[i] for i in edges), key=key))
    return "\n".join(next(ordered) if EDGE.match(line) else line for line in lines) + "\n"


def current_rulegraph(snakemake: Path = SNAKEMAKE) -> str:
    """`snakemake --rulegraph` of the paper preset, in canonical order."""
    done = subprocess.run(
        [str(snakemake), "--rulegraph", "--quiet", "all"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"snakemake --rulegraph failed:\n{done.stderr}")
    return canonical(done.stdout)


def digest(dot: str) -> str:
    """The sha256 that the .svg records of the .dot it was rendered from."""
    return hashlib.sha256(dot.encode()).hexdigest()


def rendered_from(svg: str) -> str | None:
    """The sha256 of the .dot an .svg of this script was rendered from (None if unmarked)."""
    found = STAMP.search(svg)
    return found.group(1) if found else None


def render(dot: str) -> str:
    """The .svg of ``dot`` by graphviz, stamped with the .dot's sha256 after the XML line."""
    exe = shutil.which("dot")
    if exe is None:
        raise SystemExit("rulegraph: graphviz's `dot` not found (apt-get install graphviz)")
    svg = subprocess.run([exe, "-Tsvg"], input=dot, capture_output=True, text=True, check=True)
    head, sep, rest = svg.stdout.partition("?>\n")
    stamp = f"<!-- rendered from rulegraph.dot, sha256 {digest(dot)} -->\n"
    return head + sep + stamp + rest if sep else stamp + svg.stdout


def main() -> None:
    dot = current_rulegraph()
    DOT.write_text(dot)
    SVG.write_text(render(dot))
    print(f"rulegraph: wrote {DOT.relative_to(REPO)} and {SVG.relative_to(REPO)}")


if __name__ == "__main__":
    main()
