from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest

from visrnn.inside.signals import SIGNALS_CODE, SIGNALS_PROSE, structural_signals


def signal(text: bytes, name: str, code: bool) -> list[int]:
    return structural_signals(text, code=code)[name].astype(int).tolist()


def marks(text: bytes, name: str, code: bool) -> str:
    """A 0/1 signal drawn under the text, one character per byte, for readable assertions."""
    return "".join(str(v) for v in signal(text, name, code))


@pytest.mark.parametrize(("code", "names"), [(False, SIGNALS_PROSE), (True, SIGNALS_CODE)])
def test_one_float_array_per_signal_of_text_length(code: bool, names: tuple[str, ...]) -> None:
    text = b'int f(a) { return "x"; } /* c */\n'
    signals = structural_signals(text, code=code)
    assert tuple(signals) == names
    for values in signals.values():
        assert values.shape == (len(text),)
        assert values.dtype == np.float64
    assert all(len(v) == 0 for v in structural_signals(b"", code=code).values())


def test_line_position_counts_bytes_since_the_line_end() -> None:
    assert signal(b"ab\ncd\n\nx", "line_position", code=False) == [1, 2, 0, 1, 2, 0, 0, 1]


def test_crlf_is_one_line_end_and_lone_cr_is_a_line_end() -> None:
    assert signal(b"ab\r\ncd\re", "line_position", code=False) == [1, 2, 0, 0, 1, 2, 0, 1]
    # The \n of a CRLF starts no second line: a CRLF inside a line comment ends it once,
    # and the code after it is read normally.
    text = b"//{\r\n{"
    assert signal(text, "in_comment", code=True) == [0, 1, 1, 0, 0, 0]
    assert signal(text, "brace_depth", code=True) == [0, 0, 0, 0, 0, 1]


def test_indent_depth_expands_tabs_and_holds_for_the_line() -> None:
    text = b"\tx y\n  \tz\n  a\nb"
    expected = [8, 8, 8, 8, 0, 1, 2, 8, 8, 0, 1, 2, 2, 0, 0]
    assert signal(text, "indent_depth", code=False) == expected
    assert signal(text, "indent_depth", code=True) == expected


def test_prose_quotes_toggle_on_double_quotes_only() -> None:
    text = b"a \"don't 'go'\" b 'c'"
    assert marks(text, "in_double_quotes", code=False) == "00111111111110000000"


def test_prose_paragraph_break_closes_an_unclosed_quote() -> None:
    # Multi-paragraph speech: the first paragraph leaves its quote open, the next reopens it.
    text = b'"a\r\r"b" c'
    assert marks(text, "in_double_quotes", code=False) == "111011000"
    # A single line end is not a paragraph break.
    assert marks(b'"a\rb" c', "in_double_quotes", code=False) == "1111000"
    # Neither is a CRLF, but a blank CRLF line is.
    assert marks(b'"a\r\nb', "in_double_quotes", code=False) == "11111"
    assert marks(b'"a\r\n \r\nb', "in_double_quotes", code=False) == "11111000"


def test_depths_never_go_below_zero() -> None:
    assert signal(b"))(()", "paren_depth", code=False) == [0, 0, 1, 2, 1]
    assert signal(b"]][", "bracket_depth", code=True) == [0, 0, 1]
    assert signal(b"}{{}}}{", "brace_depth", code=True) == [0, 1, 2, 1, 0, 0, 1]


def test_prose_counts_brackets_even_inside_quotes() -> None:
    assert signal(b'"(" )', "paren_depth", code=False) == [0, 1, 1, 1, 0]


def test_c_string_with_escaped_quote_and_backslash() -> None:
    text = rb'x = "a\"b\\" + (1);'
    assert marks(text, "in_string", code=True) == "0000111111100000000"
    assert signal(text, "paren_depth", code=True)[-4:] == [1, 1, 0, 0]


def test_c_comment_with_braces_and_quotes_affects_nothing_else() -> None:
    text = b'/* { " ( */ {\n// } "\n}'
    signals = structural_signals(text, code=True)
    assert "".join(str(int(v)) for v in signals["in_comment"]) == "0111111111000001111100"
    assert signals["in_string"].sum() == 0
    assert signals["paren_depth"].sum() == 0
    assert signals["brace_depth"].astype(int).tolist() == [0] * 12 + [1] * 9 + [0]


def test_block_comment_needs_its_own_star_to_close() -> None:
    # "/*/" does not close the comment it opens; "**/" does.
    assert marks(b"/*/ x **/y", "in_comment", code=True) == "0111111100"


def test_division_is_not_a_comment_and_keeps_the_next_byte() -> None:
    text = b"a/(b)/c"
    assert marks(text, "in_comment", code=True) == "0000000"
    assert signal(text, "paren_depth", code=True) == [0, 0, 1, 1, 0, 0, 0]


def test_char_literals_open_no_string_and_hide_brackets() -> None:
    text = b"c = '\"'; if (c == '{' || c == '\\'') {"
    signals = structural_signals(text, code=True)
    assert signals["in_string"].sum() == 0
    assert signals["brace_depth"][-1] == 1
    assert signals["paren_depth"][-2] == 0
    assert signals["paren_depth"].max() == 1


def test_unterminated_string_ends_at_the_line_end_but_not_after_a_backslash() -> None:
    assert marks(b'"ab\nx', "in_string", code=True) == "11100"
    assert marks(b'"a\\\r\nb"c', "in_string", code=True) == "11111100"


def test_code_strings_are_not_prose_quotes() -> None:
    signals = structural_signals(b'"a"', code=True)
    assert "in_double_quotes" not in signals
    assert signals["in_string"].tolist() == [1.0, 1.0, 0.0]


def test_kernel_files_end_balanced_and_outside_comments_and_strings(shared_data: Path) -> None:
    """Real C: braces, parens and brackets close by the end of each file, and no comment or
    string is left open, which fails if comments, strings or char literals leak."""
    checked = 0
    with tarfile.open(shared_data / "linux-6.1-c-subset.tar.xz") as archive:
        for member in archive:
            if not (member.isfile() and member.name.endswith((".c", ".h"))):
                continue
            source = archive.extractfile(member)
            assert source is not None
            signals = structural_signals(source.read(), code=True)
            final = {name: values[-1] for name, values in signals.items()}
            assert final["in_comment"] == final["in_string"] == 0, member.name
            assert final["brace_depth"] == final["paren_depth"] == final["bracket_depth"] == 0
            assert signals["in_comment"].mean() > 0.01, member.name  # license headers
            checked += 1
            if checked == 20:
                break
    assert checked == 20


def test_war_and_peace_lines_are_short_and_quotes_are_a_minority(shared_data: Path) -> None:
    text = (shared_data / "warpeace_input.txt").read_bytes()[:200_000]
    signals = structural_signals(text, code=False)
    assert signals["line_position"].max() < 80  # lone CR line ends are line ends
    assert 0.05 < signals["in_double_quotes"].mean() < 0.5
