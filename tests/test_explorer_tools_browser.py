"""Search, "which units track this?" and live text as a person uses them: Debian's Chromium,
headless, driven by Playwright (the helpers of test_explorer_browser), on test_explorer_import's
word-level LSTMVis project with a planted unit and on a tiny LSTM checkpoint dumped over the
synthetic text. Screenshots go to the test's tmp dir and, when $VISRNN_ARTEFACTS is set, there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_explorer_browser import browser, page, screenshot, serving  # noqa: F401 (fixtures)
from test_explorer_import import PLANTED, h5py, vocabulary
from test_explorer_import_browser import project, server  # noqa: F401 (fixtures)

from visrnn.explorer.server import create_app
from visrnn.explorer.synthetic import write_checkpoint_model, write_synthetic_results

pytestmark = pytest.mark.e2e
needs_h5py = pytest.mark.skipif(
    h5py is None, reason="h5py missing: pip install -r requirements.txt"
)
TINY = "lstm-2L-tiny"


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Iterator[str]:
    root = write_synthetic_results(tmp_path_factory.mktemp("browser-live"), 3000, 32)
    write_checkpoint_model(root, TINY, hidden=16)
    with serving(create_app(root)) as url:
        yield url


@needs_h5py
def test_search_jumps_to_a_word_and_seeds_a_hypothesis(
    page,  # noqa: F811 (the fixture imported above)
    server,  # noqa: F811
    project,  # noqa: F811
    tmp_path,
) -> None:
    _, planted = project
    page.goto(f"{server}/?ds=toy&model=states&layer=1&state=c&t=0.5&before=3&after=3")
    page.wait_for_selector("body[data-ready='1']")
    page.fill("#pattern", "of war and peace")
    page.click("#search-button")
    page.wait_for_selector("#hits li")
    hits = page.locator("#hits li")
    assert hits.count() == len(planted["spans"])
    assert f"{len(planted['spans'])} hits" in page.locator("#search-count").inner_text()
    start = int(hits.nth(3).get_attribute("data-start"))
    assert start == planted["spans"][3][0]
    hits.nth(3).click()
    page.wait_for_function(f"document.querySelector(\"#strip span[data-pos='{start}']\") !== null")
    assert page.locator(f"#strip span[data-pos='{start}']").inner_text() == "of"
    assert "q=of+war+and+peace" in page.url
    screenshot(page, tmp_path, "search")

    hits.nth(3).locator("button.seed").click()
    page.wait_for_selector("#selected span")
    assert page.locator("#selected span").first.inner_text() == str(PLANTED)
    assert "4 tokens" in page.locator("#hyp-range").inner_text()


@needs_h5py
def test_the_ranking_puts_the_planted_unit_first_and_one_click_shows_it(
    page,  # noqa: F811
    server,  # noqa: F811
    project,  # noqa: F811
    tmp_path,
) -> None:
    _, planted = project
    page.goto(f"{server}/?ds=toy&model=states&layer=1&state=c&t=0.5&unit=0")
    page.wait_for_selector("body[data-ready='1']")
    page.select_option("#rank-track", "phrase")
    assert page.locator("#rank-by option").all_inner_texts() == [
        "f1",
        "auroc",
        "precision",
        "recall",
    ]
    page.click("#rank-button")
    page.wait_for_selector("#ranking tbody tr")
    first = page.locator("#ranking tbody tr").first
    assert first.get_attribute("data-unit") == str(PLANTED)
    assert "against phrase (binary" in page.locator("#rank-note").inner_text()
    first.click()
    page.wait_for_function(f"new URL(location).searchParams.get('unit') === '{PLANTED}'")
    page.wait_for_selector("#ranking tbody tr.current")
    # The top examples are the last part of the view to load.
    page.wait_for_function(
        f"document.querySelector('#top-unit').textContent.startsWith('{PLANTED} ')"
    )
    screenshot(page, tmp_path, "rank")
    page.click("#rank-pin")
    page.wait_for_function("new URL(location).searchParams.get('pins') !== null")
    assert page.url.split("pins=")[1].split("&")[0].split("%2C")[0] == str(PLANTED)
    # An imported network has no checkpoint: the page says so.
    assert "has no checkpoint" in page.locator("#live-note").inner_text()
    assert page.locator("#live-button").is_disabled()
    vocab = vocabulary()
    assert vocab[planted["ids"][0]] == "<s>"


def test_live_text_shows_the_models_states(
    page,  # noqa: F811
    grid,
    tmp_path,
) -> None:
    page.goto(f"{grid}/?ds=syn&model={TINY}&layer=1&state=c&unit=3")
    page.wait_for_selector("body[data-ready='1']")
    typed = '"War and peace," she said.\nThe prince was in the letter.'
    page.fill("#live-text", typed)
    page.click("#live-button")
    page.wait_for_selector("#live-strip span")
    spans = page.locator("#live-strip span")
    assert spans.count() == len(typed)
    assert "nats per character" in page.locator("#live-summary").inner_text()
    assert page.locator("#live-heatmap").evaluate("c => [c.width, c.height]")[1] == 16 * 8
    colours = {spans.nth(i).evaluate("s => s.style.background") for i in range(0, len(typed), 5)}
    assert len(colours) > 3, colours  # the unit's value changes along the text
    screenshot(page, tmp_path, "live")
    page.fill("#live-text", "naïve")
    page.click("#live-button")
    page.wait_for_selector("#error:not([hidden])")
    assert "'ï' (U+00EF)" in page.locator("#error").inner_text()
