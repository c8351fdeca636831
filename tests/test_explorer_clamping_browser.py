"""Silencing and clamped sampling as a person uses them: Debian's Chromium, headless, driven by
Playwright (the helpers of test_explorer_browser), on a tiny LSTM checkpoint dumped over the
synthetic text (test_explorer_tools_browser's). Screenshots go to the test's tmp dir and,
when $VISRNN_ARTEFACTS is set, there."""

from __future__ import annotations

import pytest
from test_explorer_browser import browser, page, screenshot  # noqa: F401 (fixtures)
from test_explorer_tools_browser import TINY, grid  # noqa: F401 (a tiny LSTM's checkpoint)

pytestmark = pytest.mark.e2e


def test_silence_a_unit_then_clamp_it_and_see_both_samples(
    page,  # noqa: F811 (the fixture imported above)
    grid,  # noqa: F811
    tmp_path,
) -> None:
    page.goto(f"{grid}/?ds=syn&model={TINY}&layer=1&state=c&unit=3&pos=40")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#silence-units").inner_text() == "3 of layer 1 c"
    page.fill("#silence-positions", "200")
    page.click("#silence-button")
    page.wait_for_selector("#silence-strip span")
    spans = page.locator("#silence-strip span")
    assert spans.count() == 200
    summary = page.locator("#silence-summary").inner_text()
    assert "1:c:3=0" in summary and "nats per character" in summary
    assert "positions 40–239 (state from position 0)" in summary
    assert (
        page.locator("#silence-categories tbody tr").first.inner_text().startswith("all positions")
    )
    colours = {spans.nth(i).evaluate("s => s.style.background") for i in range(0, 200, 7)}
    assert len(colours) > 3, colours  # the loss change varies along the text
    screenshot(page, tmp_path, "silence", "#view-silence")

    page.fill("#clamp-value", "5")
    page.fill("#clamp-length", "240")
    page.click("#clamp-button")
    page.wait_for_function("document.querySelector('#sample-held').textContent.length > 0")
    free = page.locator("#sample-free").inner_text()
    held = page.locator("#sample-held").inner_text()
    prime = page.locator("#sample-free .prime").inner_text()
    assert prime == page.locator("#sample-held .prime").inner_text() and len(prime) == 41
    assert free != held and len(free) > len(prime)
    assert page.locator("#sample-held-title").inner_text() == "clamped: 1:c:3=5"
    assert "seed 123, 240 characters each" in page.locator("#clamp-summary").inner_text()
    screenshot(page, tmp_path, "clamp", "#view-clamp")


def test_the_panels_say_when_a_model_cannot_be_run_or_held(
    page,  # noqa: F811
    grid,  # noqa: F811
    tmp_path,
) -> None:
    page.goto(f"{grid}/?ds=syn&model={TINY}&layer=0&state=f&unit=1")
    page.wait_for_selector("body[data-ready='1']")
    assert "cannot be held: choose c or h" in page.locator("#silence-note").inner_text()
    assert page.locator("#clamp-button").is_disabled()
    page.goto(f"{grid}/?ds=syn&model=lstm-1L-syn&layer=0&state=h&unit=1")
    page.wait_for_selector("body[data-ready='1']")
    for note in ("#silence-note", "#clamp-note"):
        assert "has no checkpoint" in page.locator(note).inner_text()
    assert page.locator("#silence-button").is_disabled()
    screenshot(page, tmp_path, "clamp-refused", "#view-silence")
