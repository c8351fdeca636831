"""The compare view's counterparts as a person uses them (Debian's Chromium through
Playwright, the helpers of test_explorer_browser): on an LSTM and a second model whose units
are the LSTM's permuted, the chosen unit's counterpart is named, and one click shows it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from test_atlas import PERMUTED, write_permuted_results
from test_explorer_browser import browser, page, screenshot, serving  # noqa: F401 (fixtures)

from visrnn.explorer.server import create_app
from visrnn.explorer.synthetic import PLANTED

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def permuted(tmp_path_factory) -> Iterator[tuple[str, np.ndarray]]:
    root = tmp_path_factory.mktemp("browser-atlas")
    perm = write_permuted_results(root, positions=3000, units=32)
    with serving(create_app(root)) as url:
        yield url, perm


def test_one_click_shows_the_counterpart_of_a_unit_in_the_other_model(
    page,  # noqa: F811 (the fixture imported above)
    permuted,
    tmp_path: Path,
) -> None:
    url, perm = permuted
    counterpart = int(np.flatnonzero(perm == PLANTED)[0])
    page.goto(
        f"{url}/?ds=syn&model=lstm-1L-syn&layer=0&state=h&unit={PLANTED}"
        f"&modelB={PERMUTED}&layerB=0&stateB=h&pos=0"
    )
    page.wait_for_selector("body[data-ready='1']")
    button = page.locator("#counterpart-button")
    button.wait_for()
    assert button.inner_text() == f"show its counterpart: {PERMUTED} unit {counterpart}"
    line = page.locator("#counterpart")
    assert line.get_attribute("data-counterpart") == str(counterpart)
    assert float(line.get_attribute("data-r")) > 0.99
    assert page.locator("#counterpart-strip canvas").count() == 0

    button.click()
    page.wait_for_selector("#counterpart-strip canvas")
    assert f"unitB={counterpart}" in page.url
    assert f"(unit {counterpart} on top)" in page.locator("#heatB-label").inner_text()
    # The second heatmap leads with the counterpart, as the first model's strip shows its unit.
    order = page.evaluate("document.getElementById('heatmapB').order.slice(0, 3)")
    assert order[0] == counterpart
    shot = screenshot(page, tmp_path, "counterpart", "#view-main")
    assert shot.stat().st_size > 10_000

    # Choosing another unit of the first model: the line follows it.
    page.fill("#unit", "3")
    page.dispatch_event("#unit", "change")
    page.wait_for_function(
        "document.getElementById('counterpart').dataset.counterpart === "
        f"'{int(np.flatnonzero(perm == 3)[0])}'"
    )
