"""The page templates: autoescaping, the entities the pages use, and that they ship."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import jinja2
import numpy as np
import pytest
from markupsafe import Markup

from visrnn.inside.cells import render_html
from visrnn.pages import ENVIRONMENT, display_char, render_page

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "src" / "visrnn" / "templates"


def test_a_script_in_the_text_or_the_title_renders_escaped() -> None:
    text = b"<script>alert('x')</script>"
    page = render_html(text, np.zeros(len(text)), title="<script>alert(1)</script>")
    assert "<script>" not in page
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>" in page
    assert ">&lt;<" in page and ">&#x27;<" in page  # one span per byte, each escaped


def test_values_escape_with_html_escape_entities_and_markup_passes() -> None:
    template = ENVIRONMENT.from_string('<a title="{{ v }}">{{ v }}</a>{{ m }}')
    page = template.render(v="\"a'&<b>", m=Markup("<b>kept</b>"))
    assert page == (
        '<a title="&quot;a&#x27;&amp;&lt;b&gt;">&quot;a&#x27;&amp;&lt;b&gt;</a><b>kept</b>'
    )


def test_a_value_a_template_lacks_is_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError, match="title"):
        render_page("page.html.j2")


def test_display_char_gives_text_not_markup() -> None:
    assert display_char(b"<", 0) == ("<", "")
    assert display_char(b"\r\n", 0) == (" ", "")
    assert display_char(b"\r\n", 1) == (" \n", "")
    assert display_char(b"\x00", 0) == ("<0x00>", "byte")


def test_every_template_named_in_the_code_exists_and_ships_in_the_package() -> None:
    named = {
        name
        for path in (REPO / "src" / "visrnn").rglob("*.py")
        for name in re.findall(r"\"([\w.]+\.j2)\"", path.read_text())
    }
    present = {path.name for path in TEMPLATES.iterdir()}
    assert named and named <= present
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["visrnn"]
    for name in present:
        assert any(fnmatch(f"templates/{name}", pattern) for pattern in patterns), name
