"""An imported LSTMVis project as a person sees it: Debian's Chromium, headless, driven by
Playwright (the browser, page and screenshot helpers of test_explorer_browser). The project is
test_explorer_import's word-level one with a planted unit; screenshots go to the test's tmp
dir and, when $VISRNN_ARTEFACTS is set, there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_explorer_browser import browser, page, screenshot, serving  # noqa: F401 (fixtures)
from test_explorer_import import PLANTED, h5py, vocabulary, write_project

from visrnn.explorer.imports import explorer_roots
from visrnn.explorer.server import create_app

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(h5py is None, reason="h5py missing: pip install -r requirements.txt"),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("browser-lstmvis") / "toy"
    return root, write_project(root, positions=1500)


@pytest.fixture(scope="module")
def server(project, tmp_path_factory) -> Iterator[str]:
    root, _ = project
    with serving(create_app(explorer_roots(root, tmp_path_factory.mktemp("cache")))) as url:
        yield url


def test_an_imported_project_shows_its_words_and_matches_the_planted_phrases(
    page,  # noqa: F811 (the fixture imported above)
    server,
    project,
    tmp_path,
) -> None:
    _, planted = project
    spans = planted["spans"]
    start, stop = next(s for s in spans if s[0] > 10)
    page.goto(
        f"{server}/?ds=toy&model=states&layer=1&state=c&pos={start - 8}&t=0.5&before=3&after=3"
    )
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#strip span")
    vocab = vocabulary()
    shown = page.locator("#strip span").all_inner_texts()
    assert shown == [vocab[i] for i in planted["ids"][start - 8 : start - 8 + len(shown)]]
    assert "(tanh: 0 … 1)" in page.locator("#threshold-range").inner_text()
    screenshot(page, tmp_path, "import-start")

    page.locator(f"#strip span[data-pos='{start}']").hover()
    page.mouse.down()
    page.locator(f"#strip span[data-pos='{stop - 1}']").hover()
    page.mouse.up()
    page.wait_for_selector("#selected span")
    assert page.locator("#selected span").first.inner_text() == str(PLANTED)
    assert "4 tokens" in page.locator("#hyp-range").inner_text()
    page.click("#match-button")
    page.wait_for_selector("#matches li")
    found = [
        (int(li.get_attribute("data-start")), int(li.get_attribute("data-stop")))
        for li in page.locator("#matches li").all()
    ]
    # Off-widths of 3: every planted phrase ranks above the decoy (the unit is on just before).
    assert set(found[: len(spans)]) == set(spans)
    assert planted["decoy"] in found[len(spans) :]
    first = page.locator("#matches li").first.inner_text()
    assert "of war and peace" in first
    screenshot(page, tmp_path, "import-match", None)
