"""The explorer as a person uses it: Debian's Chromium, headless, driven by Playwright, on a
synthetic dump whose unit PLANTED is on exactly inside double quotes. Screenshots of each view
go to the test's tmp dir and, when $VISRNN_ARTEFACTS is set, there."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from visrnn.explorer import queries
from visrnn.explorer.server import create_app
from visrnn.explorer.store import TextStore
from visrnn.explorer.synthetic import PLANTED, write_synthetic_results

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium (make setup)"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")

LSTM = "lstm-1L-syn"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    return write_synthetic_results(tmp_path_factory.mktemp("browser"), 20000, 128)


@contextlib.contextmanager
def serving(app: object) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1 in a thread; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the explorer did not start in 30 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def server(results: Path) -> Iterator[str]:
    with serving(create_app(results)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(viewport={"width": 1300, "height": 1100})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def screenshot(page, tmp_path: Path, name: str, selector: str | None = None) -> Path:
    path = tmp_path / f"explorer-{name}.png"
    if selector:
        page.locator(selector).screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=True)
    if os.environ.get("VISRNN_ARTEFACTS"):
        target = Path(os.environ["VISRNN_ARTEFACTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)
    return path


def quoted_spans(results: Path) -> list[tuple[int, int]]:
    quotes = TextStore(results / "syn/explorer/text").track("in_double_quotes") > 0.5
    return list(zip(*(a.tolist() for a in queries.runs(quotes)), strict=True))


def test_brushing_a_quote_finds_the_quote_unit_and_the_other_quotes(
    page, server, results, tmp_path
) -> None:
    spans = quoted_spans(results)
    start, stop = next(s for s in spans if s[0] > 200 and s[1] - s[0] >= 10)
    view = f"{server}/?ds=syn&model={LSTM}&layer=0&state=h&pos={start - 30}&t=0.5&before=3&after=3"
    page.goto(view)
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#strip span")
    screenshot(page, tmp_path, "start")

    first = page.locator(f"#strip span[data-pos='{start}']")
    last = page.locator(f"#strip span[data-pos='{stop - 1}']")
    first.hover()
    page.mouse.down()
    last.hover()
    page.mouse.up()
    page.wait_for_selector("#selected span")
    assert page.locator("#selected span").first.inner_text() == str(PLANTED)
    assert f"hs={start}" in page.url and f"he={stop}" in page.url

    page.select_option("#track", "in_double_quotes")
    page.wait_for_selector("#precision[data-precision]")
    precision = float(page.locator("#precision").get_attribute("data-precision"))
    recall = float(page.locator("#precision").get_attribute("data-recall"))
    assert precision >= 0.99 and recall >= 0.99
    screenshot(page, tmp_path, "hypothesis", "#view-hypothesis")

    # Alt-click leaves a unit out of the match and of precision/recall; again brings it back.
    page.locator("#selected span").first.click(modifiers=["Alt"])
    page.wait_for_function("document.querySelector('#precision').textContent === ''")
    assert f"drop={PLANTED}" in page.url
    page.locator("#selected span").first.click(modifiers=["Alt"])
    page.wait_for_function("document.querySelector('#precision').textContent !== ''")
    assert "drop=" not in page.url

    # Colour the text by the best selected unit, then match the selection.
    page.locator("#selected span").first.click()
    page.wait_for_function(f"document.querySelector('#unit').value === '{PLANTED}'")
    page.click("#match-button")
    page.wait_for_selector("#matches li")
    found = [
        (int(li.get_attribute("data-start")), int(li.get_attribute("data-stop")))
        for li in page.locator("#matches li").all()[:10]
    ]
    quoted = set(spans)
    assert sum(f in quoted for f in found) >= 9, found
    assert "matched=1" in page.url
    screenshot(page, tmp_path, "match", "#view-match")
    screenshot(page, tmp_path, "top-examples", "#view-top")

    # The whole state is in the URL: opening it again shows the same matches.
    shared = page.url
    page.goto(shared)
    page.wait_for_selector("#matches li")
    again = [int(li.get_attribute("data-start")) for li in page.locator("#matches li").all()[:10]]
    assert again == [f[0] for f in found]

    page.locator("#matches li").nth(1).click()
    page.wait_for_function(f"document.querySelector('#pos').value === '{max(0, found[1][0] - 20)}'")
    screenshot(page, tmp_path, "page", None)


def test_hover_shows_the_top_predictions_and_compare_shows_a_second_model(
    page, server, tmp_path
) -> None:
    page.goto(f"{server}/?ds=syn&model={LSTM}&layer=0&state=c&modelB=gru-1L-syn&stateB=z")
    page.wait_for_selector("body[data-ready='1']")
    page.locator("#strip span[data-pos='5']").hover()
    tip = page.locator("#tooltip")
    assert tip.is_visible()
    assert "top-5 next characters" in tip.inner_text() and "p(target" in tip.inner_text()
    assert page.locator("#compare").is_visible()
    assert "gru-1L-syn layer 0 z" in page.locator("#heatB-label").inner_text()
    screenshot(page, tmp_path, "compare", "#view-main")

    # Shift-click pins a unit on top of the heatmap; sorting by activity keeps it there.
    rows = page.evaluate("document.querySelector('#heatmap').rh")
    page.locator("#heatmap").click(position={"x": 50, "y": 3 * rows + 1}, modifiers=["Shift"])
    page.wait_for_function("document.querySelector('#heatmap').order[0] === 3")
    assert "pins=3" in page.url
    page.select_option("#sort", "activity")
    page.wait_for_function("new URL(location).searchParams.get('sort') === 'activity'")
    page.wait_for_function("document.querySelector('#heatmap').order[0] === 3")


def test_bad_input_is_shown_on_the_page(page, server) -> None:
    page.goto(f"{server}/?ds=syn&model={LSTM}&layer=0&state=h&hs=5&he=9&t=500")
    page.wait_for_selector("#error:not([hidden])")
    assert "less than or equal to 100" in page.locator("#error").inner_text()
