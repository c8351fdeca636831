"""Bytes of text as HTML: the rendering shared by the cell pages and the oracle examples.

Every byte becomes visible: printable ASCII as itself, line ends as a blank followed by one
line break (once per CRLF), other bytes as ``<0xHH>`` placeholders, so a highlighted byte
never disappears from the page.
"""

from __future__ import annotations

import html

import numpy as np

from visrnn.data.splits import symbol_name

LF, CR, TAB = 0x0A, 0x0D, 0x09

PAGE_STYLE = """
body { font-family: sans-serif; margin: 2em; }
.text { font-family: monospace; white-space: pre-wrap; tab-size: 8; line-height: 1.5; }
.byte { font-size: 70%; color: #444; }
table { border-collapse: collapse; }
td, th { padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; text-align: left; }
"""


def breaks_line(text: bytes, index: int) -> bool:
    """Whether the display breaks the line after byte ``index`` (a CRLF breaks once)."""
    byte = text[index]
    if byte == LF:
        return True
    return byte == CR and (index + 1 == len(text) or text[index + 1] != LF)


def is_printable(byte: int) -> bool:
    return 0x20 <= byte <= 0x7E


def html_char(text: bytes, index: int) -> tuple[str, str]:
    """The HTML content of byte ``index`` and the CSS class for it ('' if none)."""
    byte = text[index]
    if is_printable(byte):
        return html.escape(chr(byte)), ""
    if byte == TAB:
        return "\t", ""
    if byte in (CR, LF):  # a blank that can be coloured, then the line break
        return (" \n" if breaks_line(text, index) else " "), ""
    return html.escape(symbol_name(byte)), "byte"


def hex_color(rgb: np.ndarray) -> str:
    """``#rrggbb`` of RGB floats in [0, 1]."""
    red, green, blue = (round(float(c) * 255) for c in rgb)
    return f"#{red:02x}{green:02x}{blue:02x}"


def page(title: str, body: str, style: str = "") -> str:
    """A self-contained HTML page: the shared style (plus ``style``), a heading, ``body``."""
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{PAGE_STYLE}{style}</style>\n</head>\n"
        f"<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )
