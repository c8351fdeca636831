"""The documentation a newcomer reads: README.md and docs/**/*.md. Every relative link and
image points to a file that exists (and an anchor to a heading of its page), the README stays
a front page, and the rule-graph picture is the workflow's current graph."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README_MAX_LINES = 200

# [text](target "title") and ![alt](target); the text may hold one level of brackets (a
# linked image). Reference definitions: [label]: target.
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HTML_SOURCE = re.compile(r"<(?:img|a)\s[^>]*?(?:src|href)=\"([^\"]+)\"", re.IGNORECASE)
FENCE = re.compile(r"^\s{0,3}(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


def _load_rulegraph():
    """scripts/rulegraph.py, the one place that writes and stamps the picture."""
    spec = importlib.util.spec_from_file_location("rulegraph", REPO / "scripts" / "rulegraph.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("rulegraph", module)
    spec.loader.exec_module(module)
    return module


rulegraph = _load_rulegraph()


def prose_lines(text: str, blank_code: bool = True) -> Iterator[tuple[int, str]]:
    """(line number, line) outside fenced code blocks, with inline code spans blanked
    unless ``blank_code`` is false."""
    fenced = None
    for number, line in enumerate(text.splitlines(), start=1):
        fence = FENCE.match(line)
        if fence:
            if fenced is None:
                fenced = fence.group(1)
            elif fence.group(1) == fenced:
                fenced = None
            continue
        if fenced is None:
            yield number, CODE_SPAN.sub("", line) if blank_code else line


def link_targets(text: str) -> Iterator[tuple[int, str]]:
    """(line number, target) of every link and image of a Markdown text, code excluded."""
    for number, line in prose_lines(text):
        for pattern in (INLINE, REFERENCE, HTML_SOURCE):
            for found in pattern.finditer(line):
                yield number, found.group(1)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces
    made hyphens."""
    text = re.sub(r"`|\*|_(?=\W)|(?<=\W)_|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip())
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a Markdown page's headings (repeats get -1, -2, ... as on GitHub)."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in prose_lines(page.read_text(encoding="utf-8"), blank_code=False):
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(root: Path, pages: list[Path]) -> list[str]:
    """'page:line: target (why)' for every relative link or image of ``pages`` that does not
    resolve inside ``root``."""
    problems = []
    for page in pages:
        for number, target in link_targets(page.read_text(encoding="utf-8")):
            if not target or EXTERNAL.match(target):
                continue
            path, _, anchor = target.partition("#")
            where = f"{page.relative_to(root)}:{number}: {target}"
            resolved = (page.parent / path).resolve() if path else page.resolve()
            if path.startswith("/") or not resolved.is_relative_to(root.resolve()):
                problems.append(f"{where} (outside the repository)")
            elif not resolved.exists():
                problems.append(f"{where} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                problems.append(f"{where} (no heading with that anchor)")
    return problems


def documentation(root: Path) -> list[Path]:
    """README.md and every Markdown page under docs/."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def test_every_link_and_image_of_the_documentation_resolves() -> None:
    assert broken_links(REPO, documentation(REPO)) == []


def test_the_readme_is_a_front_page() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines; move details to a page under docs/"
    )


def test_the_link_checker_finds_what_is_broken(tmp_path: Path) -> None:
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    (tmp_path / "docs" / "pic.png").write_bytes(b"")
    (tmp_path / "docs" / "page.md").write_text("# A page\n\n## Two `words`, here\n")
    (tmp_path / "docs" / "sub" / "deep.md").write_text("[up](../page.md#a-page)\n")
    (tmp_path / "README.md").write_text(
        "# Title\n"
        "![ok](docs/pic.png) [ok](docs/page.md#two-words-here) [web](https://example.org/x)\n"
        "[self](#title) [mail](mailto:a@b.c) [ok][ref]\n"
        "```\n[in a fence](missing-in-fence.md)\n```\n"
        "`[in code](missing-in-code.md)`\n"
        "![gone](docs/gone.png) [gone](docs/gone.md) [bad anchor](docs/page.md#nowhere)\n"
        "[self bad](#nowhere) [out](../outside.md) [ref-gone][gone]\n"
        '<img src="docs/also-gone.png">\n'
        "\n[ref]: docs/page.md\n[gone]: docs/missing.md\n"
    )
    problems = broken_links(tmp_path, documentation(tmp_path))
    assert problems == [
        "README.md:8: docs/gone.png (no such file)",
        "README.md:8: docs/gone.md (no such file)",
        "README.md:8: docs/page.md#nowhere (no heading with that anchor)",
        "README.md:9: #nowhere (no heading with that anchor)",
        "README.md:9: ../outside.md (outside the repository)",
        "README.md:10: docs/also-gone.png (no such file)",
        "README.md:13: docs/missing.md (no such file)",
    ]


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("The CPU showcase", "the-cpu-showcase"),
        ("Reruns: when results can change, not more", "reruns-when-results-can-change-not-more"),
        ("Running it: GPU, SLURM", "running-it-gpu-slurm"),
        ("`visrnn status` and *progress*", "visrnn-status-and-progress"),
        ("snake_case names", "snake_case-names"),
    ],
)
def test_headings_get_githubs_anchors(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_canonical_order_ignores_the_edge_order_snakemake_prints() -> None:
    head = 'digraph snakemake_dag {\n\t0[label = "all"];\n\t1[label = "a"];\n'
    one = head + "\t1 -> 0\n\t2 -> 0\n\t2 -> 1   \n}\n"
    two = head + "\t2 -> 1\n\t2 -> 0\n\t1 -> 0\n}            \n"
    assert rulegraph.canonical(one) == rulegraph.canonical(two)
    assert rulegraph.canonical(one).endswith("\t1 -> 0\n\t2 -> 0\n\t2 -> 1\n}\n")
    with pytest.raises(ValueError, match="no edges"):
        rulegraph.canonical(head + "}\n")


def test_the_rule_graph_picture_is_the_workflows_current_graph() -> None:
    """Fails after a rule is added, removed or rewired until `make rulegraph` is rerun."""
    committed = rulegraph.DOT.read_text()
    assert rulegraph.current_rulegraph() == committed, (
        "docs/rulegraph.dot is not the workflow's rule graph: run `make rulegraph`"
    )
    assert rulegraph.rendered_from(rulegraph.SVG.read_text()) == rulegraph.digest(committed), (
        "docs/rulegraph.svg was not drawn from docs/rulegraph.dot: run `make rulegraph`"
    )
    labels = re.findall(r'label = "([^"]+)"', committed)
    assert "all" in labels and "train_model" in labels


@pytest.mark.parametrize(
    "caption",
    sorted((REPO / "workflow" / "report").rglob("*.rst")),
    ids=lambda path: str(path.relative_to(REPO / "workflow" / "report")),
)
def test_every_report_caption_is_valid_rst_and_names_the_paper(caption: Path) -> None:
    """Snakemake renders each caption with docutils: a stray ``|`` is a substitution error
    printed into the report. Each names the part of the paper it shows or extends (the
    end-to-end report test checks the same on a built report)."""
    from docutils.core import publish_parts

    text = caption.read_text()
    body = publish_parts(
        text, writer="html", settings_overrides={"report_level": 2, "halt_level": 5}
    )["body"]
    assert "system-message" not in body and "problematic" not in body, body
    assert re.search(r"\b(Figure|Table|Section)\s+\d", text), f"{caption} names no paper part"
