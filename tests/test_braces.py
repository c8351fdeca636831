from __future__ import annotations

import math

import numpy as np
import pytest

from visrnn.common.files import read_table, write_csv
from visrnn.figures.braces import (
    BRACE_COLUMNS,
    bucket_labels,
    closing_brace_rows,
    match_braces,
    plot_closing_brace,
)


def _pairs_as_text(text: bytes) -> list[tuple[int, int]]:
    pairs = match_braces(text)
    for open_pos, close_pos in pairs:
        assert text[open_pos : open_pos + 1] == b"{"
        assert text[close_pos : close_pos + 1] == b"}"
    return pairs


def test_nested_blocks_match_innermost_first() -> None:
    text = b"int f(void) {\n\tif (x) {\n\t\ty();\n\t}\n\treturn 0;\n}\n"
    outer_open, inner_open = text.index(b"{"), text.index(b"{", text.index(b"{") + 1)
    inner_close, outer_close = text.index(b"}"), text.rindex(b"}")
    assert _pairs_as_text(text) == [(inner_open, inner_close), (outer_open, outer_close)]


def test_braces_in_strings_char_literals_and_comments_are_ignored() -> None:
    text = (
        b"void g(void) {\n"
        b'\tputs("{ not a block \\" still a string }");\n'
        b"\tc = '{'; d = '}'; e = '\\''; f = '\\\\';\n"
        b"\t/* a { comment\n spanning } lines */\n"
        b"\t// a line comment }\n"
        b"\tif (c) { h(); }\n"
        b"}\n"
    )
    code_braces = [text.index(b"{"), text.index(b"if (c) {") + 7]
    pairs = _pairs_as_text(text)
    assert pairs == [
        (code_braces[1], text.index(b"}", code_braces[1])),
        (code_braces[0], text.rindex(b"}")),
    ]


def test_unmatched_braces_are_skipped() -> None:
    # The split starts inside a block (a stray '}') and ends inside another (a stray '{').
    text = b"x = 1;\n}\nint h(void) { return 2; }\nint k(void) {\n"
    assert _pairs_as_text(text) == [(text.index(b"{"), text.rindex(b"}"))]
    assert match_braces(b"}}}{{{") == []


def test_unterminated_literals_end_at_the_line() -> None:
    # An apostrophe in an #error line must not hide the braces that follow.
    text = b"#error don't\nint f(void) { \"open string\n}\n"
    assert _pairs_as_text(text) == [(text.index(b"{"), text.index(b"}"))]


def test_bucket_labels() -> None:
    assert bucket_labels((0, 20, 40)) == ["1-20", "21-40", ">40"]


def test_closing_brace_rows_bucket_by_distance() -> None:
    # Distances: inner block 4, middle 30, outer 60 (with edges 0, 20, 40: buckets 0, 1, 2).
    text = bytearray(b" " * 70)
    text[0:1], text[60:61] = b"{", b"}"
    text[10:11], text[40:41] = b"{", b"}"
    text[20:21], text[24:25] = b"{", b"}"
    text = bytes(text)
    p_lstm = np.full(len(text), 0.01)
    p_lstm[[24, 40, 60]] = [0.9, 0.6, 0.3]
    p_ngram = np.full(len(text), 0.01)
    p_ngram[[24, 40, 60]] = [0.8, 0.2, 0.2]
    rows = closing_brace_rows(text, {"lstm": p_lstm, "20-gram": p_ngram}, edges=(0, 20, 40))
    table = {(row["model"], row["bucket"]): row for row in rows}
    assert len(rows) == 6
    assert table["lstm", "1-20"]["mean_p"] == pytest.approx(0.9)
    assert table["lstm", "21-40"]["mean_p"] == pytest.approx(0.6)
    assert table["lstm", ">40"]["mean_p"] == pytest.approx(0.3)
    assert table["20-gram", "21-40"]["mean_p"] == pytest.approx(0.2)
    assert [table["lstm", b]["count"] for b in ("1-20", "21-40", ">40")] == [1, 1, 1]


def test_closing_brace_rows_average_within_a_bucket_and_mark_empty_ones() -> None:
    text = b"{ }{  }{                                  }"
    p = np.zeros(len(text))
    p[[2, 6]] = [0.2, 0.6]
    p[len(text) - 1] = 0.5
    rows = closing_brace_rows(text, {"m": p}, edges=(0, 20, 30))
    assert [row["count"] for row in rows] == [2, 0, 1]
    assert rows[0]["mean_p"] == pytest.approx(0.4)
    assert math.isnan(rows[1]["mean_p"])
    assert rows[2]["mean_p"] == pytest.approx(0.5)
    assert rows[2]["upper"] is None


def test_closing_brace_rows_refuses_misaligned_scores_and_bad_edges() -> None:
    with pytest.raises(ValueError, match="test text has 3 bytes"):
        closing_brace_rows(b"{ }", {"lstm": np.zeros(4)})
    with pytest.raises(ValueError, match="start at 0"):
        closing_brace_rows(b"{ }", {"lstm": np.zeros(3)}, edges=(5, 20))


def test_plot_from_csv_rows(tmp_path) -> None:
    text = b"{" + b" " * 30 + b"}{ }"
    rows = closing_brace_rows(text, {"lstm": np.full(len(text), 0.5), "ngram": np.zeros(len(text))})
    write_csv(tmp_path / "braces.csv", rows, BRACE_COLUMNS)
    plot_closing_brace(read_table(tmp_path / "braces.csv"), tmp_path / "braces.png")
    assert (tmp_path / "braces.png").stat().st_size > 1000
