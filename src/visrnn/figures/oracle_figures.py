"""Figure 6 of the paper: the error pie per model, the scaling comparison, and example pages.

The pie starts at the top and goes counter-clockwise in the order the oracles were applied,
one slice per category, shaded by family. The example page shows test text around errors of
each category with the erring characters highlighted in blue and, for the memory oracle,
the earlier occurrence of the word boxed in red.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np

from visrnn.common.files import atomic_path
from visrnn.common.plotting import new_figure, save_figure
from visrnn.figures.oracles import REMAINING, Peeled, TextWords
from visrnn.pages import display_char, render_page

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
    shown = [row for row in rows if row["errors_removed"] > 0]
    if not shown:
        raise ValueError(f"{rows[0]['model'] if rows else 'the model'} has no errors to draw")
    counts = np.array([row["errors_removed"] for row in shown])
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
            f"{row['oracle']}: {row['errors_removed']:,} ({100 * c / total:.1f}%)"
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
            [row[f"{key}_errors"] for row in families],
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


def _snippet(
    text: bytes, span: tuple[int, int], erring: np.ndarray, box: tuple[int, int] | None
) -> list[dict[str, Any]]:
    """Bytes ``span`` for the page: each with its CSS classes (``err`` where the model errs),
    and where the box around the part of ``box`` inside the span opens and closes."""
    start, stop = span
    box_start, box_stop = (max(box[0], start), min(box[1], stop)) if box else (stop, stop)
    chars = []
    for index in range(start, stop):
        content, css_class = display_char(text, index)
        chars.append(
            {
                "content": content,
                "classes": " ".join(filter(None, [css_class, "err" if erring[index] else ""])),
                "opens_box": index == box_start < box_stop,
                "closes_box": index == box_stop - 1 and box_start < box_stop,
            }
        )
    return chars


def render_examples(
    test: TextWords, steps: Sequence[Peeled], title: str, per_category: int = 3
) -> str:
    """An HTML page with ``per_category`` test snippets for every category with errors."""
    total = sum(int(step.removed.sum()) for step in steps)
    categories = []
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
        examples = []
        for position in picks:
            ranges, box = _example_ranges(test, step, int(position) + 1)
            examples.append([_snippet(test.text, span, erring, box) for span in ranges])
        categories.append(
            {
                "name": step.oracle.name,
                "family": step.oracle.family,
                "errors": len(positions),
                "percent": 100 * len(positions) / total,
                "examples": examples,
            }
        )
    return render_page(
        "oracle_examples.html.j2",
        title=title,
        errors=total,
        positions=len(test.text) - 1,
        categories=categories,
    )


def write_examples(path: str | os.PathLike[str], document: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(document, encoding="utf-8")
