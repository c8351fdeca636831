"""Figure 6 of the paper: the error pie per model, the scaling comparison, and example pages.

The pie starts at the top and goes counter-clockwise in the order the oracles were applied,
one slice per category, shaded by family. The example page shows test text around errors of
each category with the erring characters highlighted in blue and, for the memory oracle,
the earlier occurrence of the word boxed in red.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np

from visrnn.common.files import atomic_path
from visrnn.common.plotting import new_figure, save_figure
from visrnn.common.textpage import html_char, page
from visrnn.figures.oracles import REMAINING, Peeled, TextWords

#: A colour map per oracle family; the categories of a family take shades of it.
FAMILY_COLORMAPS = {
    "ngram": "Blues",
    "memory": "Purples",
    "rare_words": "Greens",
    "word_model": "Oranges",
    "punctuation": "Greys",
    "boost": "Reds",
    REMAINING: "Greys",
}
#: Slices smaller than this share of the errors are named only in the legend.
_LABEL_SHARE = 0.03
#: Characters of context shown before and after an example error.
_BEFORE, _AFTER = 60, 30
#: An earlier occurrence further back than this is shown in its own snippet.
_JOINED_SPAN = 200

_EXAMPLE_STYLE = """
.example { margin: 0.4em 0 0.8em 0; padding: 0.3em; background: #fafafa; }
.err { background: #6baed6; }
.mem { outline: 2px solid #d62728; }
.gap { color: #888; }
"""


def _category_colors(rows: Sequence[Mapping[str, Any]]) -> list[tuple[float, ...]]:
    families = [row["family"] for row in rows]
    colors = []
    for index, family in enumerate(families):
        members = [i for i, f in enumerate(families) if f == family]
        shades = np.linspace(0.8, 0.35, len(members)) if len(members) > 1 else [0.6]
        cmap = matplotlib.colormaps[FAMILY_COLORMAPS.get(family, "Greys")]
        colors.append(cmap(shades[members.index(index)]))
    return colors


def plot_oracle_pie(
    rows: Sequence[Mapping[str, Any]], positions: int, path: str | os.PathLike[str]
) -> None:
    """One model's errors, one slice per oracle category (rows of ``oracle_rows``)."""
    shown = [row for row in rows if int(row["errors_removed"]) > 0]
    if not shown:
        raise ValueError(f"{rows[0]['model'] if rows else 'the model'} has no errors to draw")
    counts = np.array([int(row["errors_removed"]) for row in shown])
    total = int(counts.sum())
    fig = new_figure(9.0, 6.0)
    ax = fig.add_subplot()
    wedges, _ = ax.pie(
        counts,
        colors=_category_colors(shown),
        startangle=90,
        counterclock=True,
        labels=[
            row["oracle"] if c / total >= _LABEL_SHARE else ""
            for row, c in zip(shown, counts, strict=True)
        ],
        labeldistance=1.05,
        textprops={"fontsize": 8},
        wedgeprops={"edgecolor": "white", "linewidth": 0.5},
    )
    ax.legend(
        wedges,
        [
            f"{row['oracle']}: {int(row['errors_removed']):,} ({100 * c / total:.1f}%)"
            for row, c in zip(shown, counts, strict=True)
        ],
        loc="center left",
        bbox_to_anchor=(1.05, 0.5),
        fontsize=7,
        frameon=False,
    )
    ax.set_aspect("equal")
    ax.set_title(
        f"{shown[0]['model']}: {total:,} errors in {positions:,} test characters "
        f"({100 * total / positions:.1f}%)"
    )
    save_figure(fig, path)


def plot_scaling(
    comparison: Sequence[Mapping[str, Any]], summary: str, path: str | os.PathLike[str]
) -> None:
    """Errors per oracle family of the small and the large model, side by side."""
    families = [row for row in comparison if row["family"] != "total"]
    y = np.arange(len(families))
    fig = new_figure(7.5, 1.2 + 0.45 * len(families))
    ax = fig.add_subplot()
    for shift, key, color in ((-0.2, "small", "#fdae6b"), (0.2, "large", "#d62728")):
        ax.barh(
            y + shift,
            [int(row[f"{key}_errors"]) for row in families],
            height=0.4,
            color=color,
            label=f"{families[0][f'{key}_model']} ({key})",
        )
    ax.set_yticks(y, [row["family"] for row in families])
    ax.invert_yaxis()
    ax.set_xlabel("errors removed by the oracles of the family")
    ax.legend(fontsize=8)
    ax.set_title(summary, fontsize=9)
    save_figure(fig, path)


def _example_ranges(
    test: TextWords, step: Peeled, target: int
) -> tuple[list[tuple[int, int]], tuple[int, int] | None]:
    """Byte ranges to show around the error at byte ``target``, and the boxed occurrence."""
    size = len(test.text)
    near = (max(0, target - _BEFORE), min(size, target + _AFTER))
    word = int(test.word[target])
    if step.oracle.family != "memory" or word < 0 or test.previous[word] < 0:
        return [near], None
    start = int(test.previous[word])
    box = (start, start + int(test.ends[word] - test.starts[word]))
    if target - start <= _JOINED_SPAN:
        return [(max(0, start - 20), near[1])], box
    return [(max(0, start - 20), min(size, box[1] + 20)), near], box


def _render_range(
    text: bytes, span: tuple[int, int], erring: np.ndarray, box: tuple[int, int] | None
) -> str:
    """Bytes ``span`` as HTML, erring ones highlighted, the part of ``box`` inside boxed."""
    start, stop = span
    box_start, box_stop = (max(box[0], start), min(box[1], stop)) if box else (stop, stop)
    parts = []
    for index in range(start, stop):
        if index == box_start < box_stop:
            parts.append('<span class="mem">')
        content, css_class = html_char(text, index)
        classes = " ".join(filter(None, [css_class, "err" if erring[index] else ""]))
        parts.append(f'<span class="{classes}">{content}</span>' if classes else content)
        if index == box_stop - 1 and box_start < box_stop:
            parts.append("</span>")
    return "".join(parts)


def render_examples(
    test: TextWords, steps: Sequence[Peeled], title: str, per_category: int = 3
) -> str:
    """An HTML page with ``per_category`` test snippets for every category with errors."""
    total = sum(int(step.removed.sum()) for step in steps)
    sections = [
        f"<p>{total:,} errors (p(target) &lt; 0.5) in {len(test.text) - 1:,} test positions. "
        'Blue: <span class="err">erring characters</span> of the category; for the memory '
        'oracles, <span class="mem">the earlier occurrence</span> of the word.</p>'
    ]
    for step in steps:
        positions = np.flatnonzero(step.removed)
        if not len(positions):
            continue
        # The target byte of position t is t + 1.
        erring = np.zeros(len(test.text), dtype=bool)
        erring[positions + 1] = True
        picks = np.unique(
            positions[
                np.linspace(0, len(positions) - 1, min(per_category, len(positions)))
                .round()
                .astype(int)
            ]
        )
        sections.append(
            f"<h2>{html.escape(step.oracle.name)} <small>({html.escape(step.oracle.family)}: "
            f"{len(positions):,} errors, {100 * len(positions) / total:.1f}%)</small></h2>"
        )
        for position in picks:
            ranges, box = _example_ranges(test, step, int(position) + 1)
            snippets = [_render_range(test.text, span, erring, box) for span in ranges]
            sections.append(
                '<div class="text example">'
                + '<span class="gap"> … </span>'.join(snippets)
                + "</div>"
            )
    return page(title, "\n".join(sections), style=_EXAMPLE_STYLE)


def write_examples(path: str | os.PathLike[str], document: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(document, encoding="utf-8")
