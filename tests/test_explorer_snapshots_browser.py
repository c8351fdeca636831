"""The training-snapshot selector as a person uses it: Debian's Chromium, headless, driven by
Playwright (the helpers of test_explorer_browser), on a tiny LSTM checkpoint with two
snapshots of its run (test_explorer_snapshots). Screenshots go to the test's tmp dir and,
when $VISRNN_ARTEFACTS is set, there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_explorer_browser import browser, page, screenshot, serving  # noqa: F401 (fixtures)
from test_explorer_snapshots import OTHER, TINY, write_snapshots

from visrnn.explorer.server import create_app
from visrnn.explorer.synthetic import write_checkpoint_model, write_synthetic_results

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    root = write_synthetic_results(tmp_path_factory.mktemp("browser-snapshots"), 3000, 32)
    write_checkpoint_model(root, TINY, hidden=16)
    write_checkpoint_model(root, OTHER, hidden=8)
    write_snapshots(root)
    with serving(create_app(root)) as url:
        yield url


def strip_colours(page) -> list[str]:  # noqa: F811 (the fixture's name)
    return page.eval_on_selector_all("#strip span", "spans => spans.map(s => s.style.background)")


def test_choosing_a_snapshot_shows_the_same_unit_as_it_was(
    page,  # noqa: F811 (the fixture imported above)
    server,
    tmp_path,
) -> None:
    page.goto(f"{server}/?ds=syn&model={TINY}&layer=1&state=c&unit=3&pos=100")
    page.wait_for_selector("body[data-ready='1']")
    options = page.locator("#snapshot option").all_inner_texts()
    assert options == [
        "trained model",
        "epoch 0.5 (iteration 5)",
        "epoch 1 (iteration 10)",
    ]
    assert page.locator("#snapshot-note").inner_text() == "2 training snapshots"
    trained = strip_colours(page)
    # The snapshot with the trained weights colours the text as the trained model does.
    page.select_option("#snapshot", "iter-000005")
    page.wait_for_function(
        "document.querySelector('#heat-label').textContent.includes('iter-000005')"
    )
    assert strip_colours(page) == trained
    page.select_option("#snapshot", "iter-000010")
    page.wait_for_function(
        "document.querySelector('#heat-label').textContent.includes('iter-000010')"
    )
    assert "snap=iter-000010" in page.url and "unit=3" in page.url
    assert "epoch 1, iteration 10" in page.locator("#snapshot-note").inner_text()
    assert strip_colours(page) != trained
    screenshot(page, tmp_path, "snapshot")

    # A model without snapshots says why, and the selector is off.
    page.select_option("#model", "lstm-1L-syn")
    page.wait_for_function("document.querySelector('#snapshot').disabled")
    assert "no checkpoint" in page.locator("#snapshot-note").inner_text()
    assert "snap=" not in page.url
    screenshot(page, tmp_path, "no-snapshots", "header")
