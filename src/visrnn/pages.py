"""HTML pages from the Jinja2 templates in ``visrnn/templates``, and text as page content.

Every value a template prints is escaped (autoescaping, with ``html.escape``'s entities) unless
it is marked ``Markup``; the templates hold the markup, the code only the values. Text bytes
are shown so that every byte is visible: printable ASCII as itself, line ends as a blank
followed by one line break (once per CRLF), other bytes as ``<0xHH>`` placeholders, so a
highlighted byte never disappears from the page.
"""

from __future__ import annotations

import html
from typing import Any

import jinja2
import numpy as np
from markupsafe import Markup

from visrnn.data.splits import symbol_name

LF, CR, TAB = 0x0A, 0x0D, 0x09


def _escape(value: Any) -> Markup:
    """Escape what a template prints as ``html.escape`` does (``&quot;``, ``&#x27;``): the
    entities the pages have always had, where MarkupSafe would write ``&#34;``, ``&#39;``."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value)))


ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("visrnn", "templates"),
    autoescape=True,
    finalize=_escape,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    keep_trailing_newline=True,
)


def render_page(template: str, **context: Any) -> str:
    """The page ``template`` (a file in ``visrnn/templates``) filled with ``context``."""
    return ENVIRONMENT.get_template(template).render(**context)


def breaks_line(text: bytes, index: int) -> bool:
    """Whether the display breaks the line after byte ``index`` (a CRLF breaks once)."""
    byte = text[index]
    if byte == LF:
        return True
    return byte == CR and (index + 1 == len(text) or text[index + 1] != LF)


def is_printable(byte: int) -> bool:
    return 0x20 <= byte <= 0x7E


def display_char(text: bytes, index: int) -> tuple[str, str]:
    """What a page shows for byte ``index`` (text, to be escaped) and its CSS class ('' if
    none)."""
    byte = text[index]
    if is_printable(byte):
        return chr(byte), ""
    if byte == TAB:
        return "\t", ""
    if byte in (CR, LF):  # a blank that can be coloured, then the line break
        return (" \n" if breaks_line(text, index) else " "), ""
    return symbol_name(byte), "byte"


def hex_color(rgb: np.ndarray) -> str:
    """``#rrggbb`` of RGB floats in [0, 1]."""
    red, green, blue = (round(float(c) * 255) for c in rgb)
    return f"#{red:02x}{green:02x}{blue:02x}"
