from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from visrnn.inside.cells import (
    correlate,
    layout_cells,
    rank_cells,
    render_html,
    render_png,
    standardise,
    value_to_rgb,
    write_index,
)

SPAN = re.compile(r'<span style="background:#([0-9a-f]{6})"[^>]*title="([^"]*)">(.*?)</span>', re.S)


def planted(steps: int = 2000, seed: int = 0):
    """Two layers of noise units, with one unit planted per signal (one of them negated)."""
    rng = np.random.default_rng(seed)
    signals = {
        "ramp": np.tile(np.arange(50.0), steps // 50),
        "flag": (rng.random(steps) < 0.3).astype(np.float64),
    }
    layer0 = rng.normal(size=(steps, 20)).astype(np.float32)
    layer1 = rng.normal(size=(steps, 30)).astype(np.float16)
    layer0[:, 7] = signals["ramp"] / 50 + rng.normal(scale=0.3, size=steps)
    layer1[:, 12] = -signals["flag"] + rng.normal(scale=0.3, size=steps)
    layer1[:, 3] = 0.25  # constant unit
    return {(0, "c"): layer0, (1, "c"): layer1}, signals


def test_planted_units_rank_first_by_absolute_correlation() -> None:
    activations, signals = planted()
    rows = rank_cells(activations, signals, top_k=3)
    assert len(rows) == 6
    best = {row["signal"]: row for row in rows if row["rank"] == 1}
    assert (best["ramp"]["layer"], best["ramp"]["activation"], best["ramp"]["unit"]) == (0, "c", 7)
    assert best["ramp"]["correlation"] > 0.6
    assert (best["flag"]["layer"], best["flag"]["unit"]) == (1, 12)
    assert best["flag"]["correlation"] < -0.6
    for name in signals:
        ranked = [abs(row["correlation"]) for row in rows if row["signal"] == name]
        assert ranked == sorted(ranked, reverse=True)
        assert [row["rank"] for row in rows if row["signal"] == name] == [1, 2, 3]


def test_correlations_match_numpy_and_constant_columns_give_zero() -> None:
    activations, signals = planted(steps=500)
    values = activations[(1, "c")]
    signal_matrix = np.column_stack(list(signals.values()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = correlate(values, standardise(signal_matrix))
    assert r.shape == (30, 2)
    assert np.all(r[3] == 0.0)
    varying = [unit for unit in range(30) if unit != 3]
    full = np.corrcoef(values[:, varying].astype(np.float64), signal_matrix, rowvar=False)
    np.testing.assert_allclose(r[varying], full[: len(varying), len(varying) :], atol=1e-10)


def test_a_constant_signal_ranks_no_cell_and_constant_units_give_zero_without_warnings() -> None:
    steps = 100_000
    rng = np.random.default_rng(1)
    values = rng.normal(size=(steps, 4))
    values[:, 1] = 1.1  # float rounding makes its computed mean differ from 1.1 in the last bit
    signals = {"flat": np.full(steps, 2.3), "noise": rng.normal(size=steps)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = rank_cells({(0, "h"): values, (1, "h"): values.astype(np.float16)}, signals, 8)
    # The constant signal ranks no cell (its "best" units would be the first ones).
    assert len(rows) == 8 and {row["signal"] for row in rows} == {"noise"}
    for row in rows:
        assert np.isfinite(row["correlation"])
        if row["unit"] == 1:
            assert row["correlation"] == 0.0
    assert max(abs(row["correlation"]) for row in rows) > 0.0


def test_row_chunks_do_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    activations, signals = planted(steps=400)
    values = activations[(0, "c")]
    signal_matrix = standardise(np.column_stack(list(signals.values())))
    whole = correlate(values, signal_matrix)
    monkeypatch.setattr("visrnn.inside.cells._CHUNK_BYTES", 8 * 20 * 7)  # seven rows per chunk
    np.testing.assert_allclose(correlate(values, signal_matrix), whole, atol=1e-12)


def test_rank_cells_rejects_mismatched_lengths_and_non_finite_values() -> None:
    activations, signals = planted(steps=100)
    with pytest.raises(ValueError, match=r"activations\[\(0, 'c'\)\]"):
        rank_cells({(0, "c"): activations[(0, "c")][:50]}, signals, top_k=1)
    with pytest.raises(ValueError, match="signal 'flag'"):
        rank_cells(activations, {"ramp": signals["ramp"], "flag": signals["flag"][:3]}, top_k=1)
    broken = activations[(1, "c")].copy()
    broken[5, 2] = np.nan
    with pytest.raises(ValueError, match=r"activations\[\(1, 'c'\)\] .* NaN"):
        rank_cells({(0, "c"): activations[(0, "c")], (1, "c"): broken}, signals, top_k=1)
    with pytest.raises(ValueError, match="top_k"):
        rank_cells(activations, signals, top_k=0)


def test_value_to_rgb_runs_red_white_blue() -> None:
    red, white, blue = value_to_rgb(np.array([-1.0, 0.0, 1.0]))
    assert red[0] > 0.8 and red[1] < 0.4 and red[2] < 0.4
    np.testing.assert_array_equal(white, [1.0, 1.0, 1.0])
    assert blue[2] > 0.8 and blue[0] < 0.4
    np.testing.assert_array_equal(value_to_rgb(np.array([-5.0, 7.0])), [red, blue])
    with pytest.raises(ValueError, match="NaN"):
        value_to_rgb(np.array([np.nan]))


def test_render_html_one_coloured_escaped_span_per_byte() -> None:
    text = b"a<b&\"c'\r\nx\ty\rz\x00"
    values = np.linspace(-1.0, 1.0, len(text))
    page = render_html(text, values, title="cell <3> & more")
    spans = SPAN.findall(page)
    assert len(spans) == len(text)
    contents = [content for _, _, content in spans]
    assert contents[:6] == ["a", "&lt;", "b", "&amp;", "&quot;", "c"]
    assert contents[6] in ("'", "&#x27;")
    # CRLF: two coloured blanks, one line break; lone CR: one break; tab kept; NUL placeholder.
    assert contents[7:9] == [" ", " \n"]
    assert contents[10] == "\t"
    assert contents[12] == " \n"
    assert contents[14] == "&lt;0x00&gt;"
    assert "<title>cell &lt;3&gt; &amp; more</title>" in page
    assert "white-space: pre-wrap" in page
    first_color, first_hover, _ = spans[0]
    last_color, last_hover, _ = spans[-1]
    red, green, blue = (int(first_color[i : i + 2], 16) for i in (0, 2, 4))
    assert red > 200 and green < 100 and blue < 100
    red, green, blue = (int(last_color[i : i + 2], 16) for i in (0, 2, 4))
    assert blue > 200 and red < 100
    assert first_hover.endswith("-1.000") and last_hover.endswith("+1.000")


def test_render_html_rejects_values_of_another_length() -> None:
    with pytest.raises(ValueError, match="3 bytes of text but 2 values"):
        render_html(b"abc", np.zeros(2), title="x")


def test_layout_wraps_breaks_once_per_crlf_and_expands_tabs() -> None:
    assert layout_cells(b"abcde", width=2) == [
        (0, 0, 1),
        (0, 1, 1),
        (1, 0, 1),
        (1, 1, 1),
        (2, 0, 1),
    ]
    assert layout_cells(b"a\r\nb\rc", width=10) == [
        (0, 0, 1),
        (0, 1, 1),
        (0, 2, 1),
        (1, 0, 1),
        (1, 1, 1),
        (2, 0, 1),
    ]
    assert layout_cells(b"\tx  \ty", width=80) == [
        (0, 0, 8),
        (0, 8, 1),
        (0, 9, 1),
        (0, 10, 1),
        (0, 11, 5),
        (0, 16, 1),
    ]


def test_render_png_writes_a_png(tmp_path: Path) -> None:
    text = b'int main() {\n\treturn "$x$";\r\n}\x01\n' * 10
    target = tmp_path / "cell" / "unit.png"
    render_png(text, np.sin(np.arange(len(text))), target, title="layer 1 $c$ 7", max_chars=200)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in target.parent.iterdir()] == ["unit.png"]


def test_write_index_links_every_entry(tmp_path: Path) -> None:
    entries = [
        {
            "signal": signal,
            "rank": rank,
            "layer": 1,
            "activation": "c",
            "unit": unit,
            "correlation": -0.5,
            "href": f"cells/{signal}_{rank}.html",
            "png": f"cells/{signal}_{rank}.png",
        }
        for signal, rank, unit in [
            ("line_position", 1, 4),
            ("in_string", 1, 9),
            ("in_string", 2, 3),
        ]
    ]
    target = tmp_path / "index.html"
    write_index(target, entries, title="LK <cells>")
    page = target.read_text()
    for entry in entries:
        assert f'href="{entry["href"]}"' in page
        assert f'href="{entry["png"]}"' in page
    assert page.count("<tr>") == 1 + len(entries)
    assert "LK &lt;cells&gt;" in page
    with pytest.raises(ValueError, match=r"entry 0 .* lacks \['png'\]"):
        write_index(
            tmp_path / "bad.html", [{k: v for k, v in entries[0].items() if k != "png"}], "x"
        )
    assert not (tmp_path / "bad.html").exists()
