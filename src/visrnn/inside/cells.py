"""Interpretable cells (paper Fig. 2): find cells that track text structure, and show them.

The paper colours text by tanh(c) of hand-picked LSTM cells. We also pick them
automatically: every unit of every layer is correlated (Pearson, over test positions) with
each structural signal of ``visrnn.inside.signals``, and the units with the largest |r| per signal
are rendered as HTML (hover shows the values) and PNG, with an index page linking them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from visrnn.common.files import atomic_path
from visrnn.common.plotting import new_figure, save_figure
from visrnn.data.splits import symbol_name
from visrnn.pages import (
    CR,
    LF,
    TAB,
    breaks_line,
    display_char,
    hex_color,
    is_printable,
    render_page,
)

logger = logging.getLogger(__name__)

#: Colours of the two ends of the value range; 0 is white (the paper: -1 red, +1 blue).
NEGATIVE_RGB = np.array([0.90, 0.22, 0.20])
POSITIVE_RGB = np.array([0.25, 0.45, 0.95])

#: A column whose standard deviation is below this fraction of its mean is constant: float
#: rounding of its mean must not be amplified into a spurious correlation.
_CONSTANT_TOLERANCE = 1e-9
#: Float64 working memory per chunk of activation rows; small enough to stay in cache.
_CHUNK_BYTES = 4 << 20


# ---------------------------------------------------------------------------------------
# Ranking


def _varying(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return std > _CONSTANT_TOLERANCE * np.abs(mean)


def standardise(columns: np.ndarray) -> np.ndarray:
    """Columns shifted to mean 0 and scaled to unit (population) variance, in float64.

    Constant columns become all zeros, so their correlation with anything is 0.
    """
    values = np.asarray(columns, dtype=np.float64)
    mean = values.mean(axis=0)
    centred = values - mean
    std = np.sqrt(np.mean(centred * centred, axis=0))
    varying = _varying(mean, std)
    return np.where(varying, centred / np.where(varying, std, 1.0), 0.0)


def correlate(values: np.ndarray, standardised_signals: np.ndarray) -> np.ndarray:
    """Pearson r of every column of ``values`` (T, H) with every standardised signal (T, S).

    Returns (H, S); constant columns give 0. Two passes over the rows in float64: the
    column means, then, chunk by chunk so that the float64 copy stays small and in cache,
    the centred sums of squares and the cross products with the signals (one matrix
    product per chunk).
    """
    steps, units = values.shape
    if steps == 0:
        return np.zeros((units, standardised_signals.shape[1]))
    mean = values.mean(axis=0, dtype=np.float64)
    squares = np.zeros(units)
    cross = np.zeros((units, standardised_signals.shape[1]))
    chunk = max(1, _CHUNK_BYTES // (8 * max(units, 1)))
    # One BLAS thread: each chunk's product is too small to gain from threads, and handing
    # it to them made the whole 2-5x slower on a busy 2-core machine.
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, steps, chunk):
            centred = values[start : start + chunk].astype(np.float64)
            centred -= mean
            squares += np.einsum("ij,ij->j", centred, centred)
            cross += centred.T @ standardised_signals[start : start + chunk]
    std = np.sqrt(squares / steps)
    varying = _varying(mean, std)
    scale = np.where(varying, 1.0 / (steps * np.where(varying, std, 1.0)), 0.0)
    return cross * scale[:, None]


def rank_cells(
    activations: Mapping[tuple[int, str], np.ndarray],
    signals: Mapping[str, np.ndarray],
    top_k: int,
) -> list[dict[str, Any]]:
    """The ``top_k`` units per signal by |Pearson r|, best first.

    ``activations`` maps (layer, activation name) to a (T, H) array of that layer's units
    over the T test positions; every signal has length T. Rows have the keys ``signal``,
    ``rank`` (1 = best), ``layer``, ``activation``, ``unit`` and ``correlation`` (signed).
    Ties keep the order of ``activations`` and then of the units. A signal that is constant
    over the positions (brace depth in prose) gets no rows: every unit's correlation with it
    is 0, and its "best" units would be the first ones, not cells that track anything.
    """
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    if not signals:
        raise ValueError("no signals given: pass at least one structural signal")
    if not activations:
        raise ValueError("no activations given: pass at least one (layer, name) array")
    names = list(signals)
    steps = len(next(iter(signals.values())))
    for name, values in signals.items():
        if np.shape(values) != (steps,):
            raise ValueError(
                f"signal {name!r} has shape {np.shape(values)}, expected ({steps},) "
                "like the first signal"
            )
    signal_matrix = standardise(np.column_stack([signals[name] for name in names]))
    constant = [name for column, name in enumerate(names) if not signal_matrix[:, column].any()]
    if constant:
        logger.warning(
            "signal(s) %s constant over the %d positions: no cell ranked for them",
            ", ".join(constant),
            steps,
        )

    units: list[tuple[int, str, int]] = []
    blocks: list[np.ndarray] = []
    for (layer, activation), values in activations.items():
        if np.ndim(values) != 2 or len(values) != steps:
            raise ValueError(
                f"activations[({layer!r}, {activation!r})] has shape {np.shape(values)}, "
                f"expected (T, H) with T = {steps} positions like the signals"
            )
        logger.info("correlating layer %s %s: %d units", layer, activation, values.shape[1])
        correlations = correlate(values, signal_matrix)
        if not np.all(np.isfinite(correlations)):
            raise ValueError(
                f"activations[({layer!r}, {activation!r})] or the signals contain NaN or "
                "infinity; check the model and the activation dump"
            )
        blocks.append(correlations)
        units.extend((layer, activation, unit) for unit in range(values.shape[1]))
    all_correlations = np.concatenate(blocks)

    rows: list[dict[str, Any]] = []
    for column, name in enumerate(names):
        if name in constant:
            continue
        order = np.argsort(-np.abs(all_correlations[:, column]), kind="stable")[:top_k]
        for rank, index in enumerate(order, start=1):
            layer, activation, unit = units[index]
            rows.append(
                {
                    "signal": name,
                    "rank": rank,
                    "layer": layer,
                    "activation": activation,
                    "unit": unit,
                    "correlation": float(all_correlations[index, column]),
                }
            )
    return rows


# ---------------------------------------------------------------------------------------
# Rendering


def value_to_rgb(values: np.ndarray) -> np.ndarray:
    """(N, 3) RGB floats in [0, 1] for values in [-1, 1]: red, through white, to blue.

    Values outside the range are clipped; shared by the HTML and the PNG rendering.
    """
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(array)):
        raise ValueError("values to colour contain NaN or infinity")
    clipped = np.clip(array, -1.0, 1.0)[:, None]
    end = np.where(clipped < 0, NEGATIVE_RGB, POSITIVE_RGB)
    return 1.0 + np.abs(clipped) * (end - 1.0)


def _check_lengths(text: bytes, values: np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(array) != len(text):
        raise ValueError(f"{len(text)} bytes of text but {len(array)} values: pass one per byte")
    return array


def render_html(text: bytes, values: np.ndarray, title: str) -> str:
    """A self-contained HTML page of ``text`` with each byte's background coloured by value.

    One ``<span>`` per byte; hovering shows its position, name and value. Line ends are
    coloured blanks followed by a line break (one per CRLF); bytes outside printable ASCII
    appear as ``<0xHH>`` placeholders.
    """
    array = _check_lengths(text, values)
    colors = value_to_rgb(array)
    chars = [  # (content, CSS class, background, hover text) per byte
        (
            *display_char(text, index),
            hex_color(colors[index]),
            f"{index}: {symbol_name(text[index])} {value:+.3f}",
        )
        for index, value in enumerate(array)
    ]
    low, high = (hex_color(rgb) for rgb in value_to_rgb(np.array([-1.0, 1.0])))
    return render_page("cell.html.j2", title=title, chars=chars, low=low, high=high)


def layout_cells(text: bytes, width: int) -> list[tuple[int, int, int]]:
    """(row, column, span) of each byte on a grid ``width`` cells wide.

    Lines wrap at ``width`` and break after line ends (once per CRLF); a tab spans to the
    next multiple of 8 columns, so indentation keeps its shape.
    """
    if width < 1:
        raise ValueError(f"width must be at least 1, got {width}")
    cells = []
    row = column = 0
    for index, byte in enumerate(text):
        span = min(8 - column % 8, width) if byte == TAB else 1
        if column + span > width:
            row, column = row + 1, 0
            span = min(8, width) if byte == TAB else 1
        cells.append((row, column, span))
        column += span
        if byte in (CR, LF) and breaks_line(text, index):
            row, column = row + 1, 0
    return cells


def render_png(
    text: bytes,
    values: np.ndarray,
    path: str | os.PathLike[str],
    title: str,
    max_chars: int = 2000,
    width: int = 80,
) -> None:
    """The first ``max_chars`` bytes of ``text`` as an image, coloured like ``render_html``."""
    array = _check_lengths(text, values)
    shown, shown_values = text[:max_chars], array[:max_chars]
    if len(shown) < len(text):
        title = f"{title} (first {len(shown)} of {len(text)} characters)"
    cells = layout_cells(shown, width)
    rows = cells[-1][0] + 1 if cells else 1
    colors = value_to_rgb(shown_values)

    image = np.ones((rows, width, 3))
    for (row, column, span), color in zip(cells, colors, strict=True):
        image[row, column : column + span] = color

    fig = new_figure(0.11 * width + 0.4, 0.2 * rows + 0.7)
    ax = fig.add_subplot()
    ax.imshow(image, aspect="auto", interpolation="nearest", extent=(0, width, rows, 0))
    for (row, column, _), byte in zip(cells, shown, strict=True):
        if byte == 0x20 or byte in (TAB, CR, LF):
            continue
        glyph, color = (chr(byte), "black") if is_printable(byte) else ("\u00b7", "dimgray")
        ax.text(
            column + 0.5,
            row + 0.5,
            glyph,
            ha="center",
            va="center",
            family="monospace",
            fontsize=9,
            color=color,
            parse_math=False,
        )
    ax.set_axis_off()
    ax.set_title(title, fontsize=10, loc="left", parse_math=False)
    save_figure(fig, path)


_INDEX_KEYS = ("signal", "rank", "layer", "unit", "correlation", "href", "png")


def write_index(
    path: str | os.PathLike[str], entries: Sequence[Mapping[str, Any]], title: str
) -> None:
    """Write an HTML table of ranked cells linking each to its page and PNG, atomically.

    Each entry holds ``signal``, ``rank``, ``layer``, ``unit``, ``correlation``, ``href``
    (the cell's HTML page) and ``png`` (its image), links relative to the index; an
    ``activation`` key, as in ``rank_cells`` rows, is shown when present.
    """
    for number, entry in enumerate(entries):
        missing = [key for key in _INDEX_KEYS if key not in entry]
        if missing:
            raise ValueError(
                f"index entry {number} ({entry.get('signal', '?')}) lacks {missing}; "
                f"every entry needs {list(_INDEX_KEYS)}"
            )
    document = render_page("cell_index.html.j2", title=title, entries=entries)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(document, encoding="utf-8")


#: Columns of ``tables/cell_ranking.csv``, the rows ``rank_cells`` returns.
RANK_COLUMNS = ("signal", "rank", "layer", "activation", "unit", "correlation")


def lstm_cell_values(dump: Any) -> dict[tuple[int, str], np.ndarray]:
    """tanh(c) of every layer of an LSTM's activation dump (``ActivationDump``), (positions,
    cells) float32 per ``(layer, "c")``: what Figure 2 colours and ``rank_cells`` ranks."""
    return {
        (layer, "c"): np.tanh(dump.matrix(layer, "c").astype(np.float32))
        for layer in range(dump.layers)
    }


def cell_page_name(row: Mapping[str, Any]) -> str:
    """File stem of a ranked cell's pages: ``in_comment-1-l0-u19``."""
    return f"{row['signal']}-{row['rank']}-l{row['layer']}-u{row['unit']}"


def cell_page_title(model_id: str, row: Mapping[str, Any]) -> str:
    return (
        f"{model_id}, layer {row['layer']}, cell {row['unit']}: tanh(c), "
        f"r = {row['correlation']:+.2f} with {row['signal']}"
    )


def write_cell_pages(
    directory: str | os.PathLike[str],
    model_id: str,
    text: bytes,
    cells: Mapping[tuple[int, str], np.ndarray],
    ranking: Sequence[Mapping[str, Any]],
) -> None:
    """For each ranked cell, its values over ``text`` as an HTML page and a PNG (the paper's
    Figure 2), and ``index.html`` linking them all, in ``directory``. Row t of ``cells`` is
    the state after reading character t of ``text``."""
    pages = Path(directory)
    pages.mkdir(parents=True, exist_ok=True)
    entries = []
    for row in ranking:
        name = cell_page_name(row)
        values = cells[(row["layer"], "c")][: len(text), row["unit"]]
        title = cell_page_title(model_id, row)
        with atomic_path(pages / f"{name}.html") as tmp:
            tmp.write_text(render_html(text, values, title), encoding="utf-8")
        render_png(text, values, pages / f"{name}.png", title)
        entries.append({**row, "href": f"{name}.html", "png": f"{name}.png"})
    write_index(pages / "index.html", entries, f"Interpretable cells of {model_id}")
