"""The page's limits and long strokes, in Debian's Chromium (issue 24): the first stroke has the point budget,
every save reports its errors instead of throwing, and long strokes are rasterized in a worker whose copy of
the stroke (sent in pieces) guesses as the page's own rasterizer does. Timings live in bench/page_hostile.py.
"""

import json

import pytest
from support import draw, first_drawing, open_page, server_top1, settled_guesses, wait_until

from bench.shapes import zigzag
from training import raster
from training.raster import MAX_POINTS, MAX_STROKES


@pytest.fixture()
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    yield context
    context.close()


def zigzag_points(count, low=0.3, high=0.7):
    """Canvas positions (0..1 of its side) that alternate between two rows: no sample is merged or simplified."""
    return [[0.05 + 0.9 * (i * 7 % 997) / 997, low if i % 2 else high] for i in range(count)]


# One stroke from synthetic pointer events (thousands of Playwright mouse moves would take minutes on a
# loaded machine), a frame between chunks so that guesses are made on the stroke while it grows.
DISPATCH_STROKE = """async ([points, chunk]) => {
    const canvas = document.getElementById('canvas');
    const rect = canvas.getBoundingClientRect();
    const event = (type, [x, y]) => new PointerEvent(type, {
        pointerId: 7, pointerType: 'mouse', button: 0, buttons: 1, isPrimary: true, bubbles: true, cancelable: true,
        clientX: rect.left + rect.width * x, clientY: rect.top + rect.height * y,
    });
    canvas.dispatchEvent(event('pointerdown', points[0]));
    for (let i = 1; i < points.length; i++) {
        window.dispatchEvent(event('pointermove', points[i]));
        if (i % chunk === 0) await new Promise((resolve) => requestAnimationFrame(resolve));
    }
    window.dispatchEvent(event('pointerup', points[points.length - 1]));
}"""


def dispatch_stroke(page, points, chunk=500):
    page.evaluate(DISPATCH_STROKE, [points, chunk])


def test_the_first_stroke_after_loading_has_the_point_budget(desktop, live_server, tmp_path):
    page = open_page(desktop, live_server)
    # Along one row: simplified to its ends, so that the bound on ink (MAX_CROSSINGS) is never reached.
    dispatch_stroke(page, zigzag_points(MAX_POINTS + 300, 0.5, 0.5))
    message = page.inner_text("#message")
    assert f"too many points (at most {MAX_POINTS} over all strokes)" in message
    strokes = page.evaluate("window.sketch.drawing.strokes")
    assert len(strokes) == 1 and len(strokes[0][0]) == MAX_POINTS
    settled_guesses(page)
    # Both saves work on a drawing at the limit.
    with page.expect_download() as download_info:
        page.click("#download-ndjson")
    path = tmp_path / "sketch.ndjson"
    download_info.value.save_as(path)
    assert json.loads(path.read_text())["drawing"] == raster.normalize(strokes)
    page.select_option("#correct-label", "dog")
    page.click("#save-correction")
    assert "1 correction saved" in page.inner_text("#teach-status")
    assert page.errors == []


def test_a_stroke_past_the_bound_on_ink_ends_where_the_drawing_fits(desktop, live_server, tmp_path):
    """The worker says where the stroke must end (issue 24: the status read "Could not guess: too much ink"
    and nothing stopped the stroke); the stroke ends there with the point limit's message, the drawing is
    guessed, and Save, correcting and teaching work on it."""
    page = open_page(desktop, live_server)
    points = zigzag_points(3000)  # rows far apart: about 570,000 crossings, well past the bound
    dispatch_stroke(page, points, chunk=100)
    wait_until(page, "document.getElementById('message').textContent.includes('too much ink')")
    message = page.inner_text("#message")
    assert f"at most {raster.MAX_CROSSINGS}" in message and "Undo or clear" in message
    guesses = settled_guesses(page)
    strokes = page.evaluate("window.sketch.drawing.strokes")
    assert len(strokes) == 1 and 0 < len(strokes[0][0]) < len(points)
    raster.rasterize(strokes)  # within the bound: the Python twin would refuse it otherwise
    assert len(guesses) == 6 and "Could not guess" not in page.inner_text("#status")
    # One undo takes the whole (cut) stroke back.
    page.click("#undo")
    assert page.evaluate("window.sketch.drawing.strokes") == []
    page.click("#redo")
    with page.expect_download() as download_info:
        page.click("#download-ndjson")
    path = tmp_path / "sketch.ndjson"
    download_info.value.save_as(path)
    assert json.loads(path.read_text())["drawing"] == raster.normalize(strokes)
    settled_guesses(page)
    page.select_option("#correct-label", "dog")
    page.click("#save-correction")
    assert "1 correction saved" in page.inner_text("#teach-status")
    page.evaluate("document.getElementById('taught-panel').open = true")
    page.fill("#taught-name", "zigzag")
    page.click("#taught-add")
    wait_until(page, "window.sketch.state.taughtNames.length === 1")
    assert page.errors == []


def test_every_save_reports_its_error_instead_of_throwing(desktop, live_server):
    page = open_page(desktop, live_server)
    draw(page, first_drawing("cat"))
    settled_guesses(page)
    # A drawing the limits refuse, put in place behind the canvas's back: each save must say so, not throw.
    page.evaluate(f"window.sketch.drawing.replace(Array.from({{ length: {MAX_STROKES + 1} }}, () => [[1, 2], [3, 4]]))")
    page.click("#download-ndjson")
    assert "Could not save the ndjson: too many strokes" in page.inner_text("#message")
    page.select_option("#correct-label", "dog")
    page.click("#save-correction")
    assert "Could not save the correction: too many strokes" in page.inner_text("#message")
    assert "correction saved" not in page.inner_text("#teach-status")
    assert page.evaluate("localStorage.getItem('sketch.corrections')") is None
    page.evaluate("document.getElementById('taught-panel').open = true")
    page.fill("#taught-name", "blocks")
    page.click("#taught-add")
    wait_until(page, "document.getElementById('message').textContent.startsWith('Could not teach it')")
    assert "not within the limits" in page.inner_text("#message")
    assert page.evaluate("window.sketch.state.taughtNames") == []
    assert page.errors == []


def test_a_long_stroke_is_rasterized_in_a_worker_from_the_pieces_sent(desktop, live_server):
    """The worker's copy of a stroke in progress grows by the new points only; every guess made while it
    grew equals the page's own rasterizer and model on that many points of the finished stroke."""
    page = open_page(desktop, live_server)
    assert page.evaluate("window.sketch.rasterizerWhere()") == "worker"
    page.evaluate("() => { window.guesses = []; window.addEventListener('sketch:prediction', "
                  "(event) => window.guesses.push(event.detail)); }")
    # Rows close together: within the rasterizer's bound on ink (MAX_CROSSINGS), so that every prefix is guessed.
    dispatch_stroke(page, zigzag_points(3000, 0.48, 0.52), chunk=150)
    settled_guesses(page)
    guesses = page.evaluate("window.guesses")
    strokes = page.evaluate("window.sketch.drawing.strokes")
    during = [guess for guess in guesses if guess["inProgress"]]
    assert len(during) >= 2 and len({guess["points"] for guess in during}) >= 2
    for guess in during[:3] + during[-2:]:
        xs, ys = strokes[0]
        prefix = [[xs[:guess["points"]], ys[:guess["points"]]]]
        expected = page.evaluate("(strokes) => window.sketch.predictStrokes(strokes).then(Array.from)", prefix)
        assert guess["probabilities"] == pytest.approx(expected, abs=1e-6)
    final = page.evaluate("(strokes) => window.sketch.predictStrokes(strokes).then(Array.from)", strokes)
    assert guesses[-1]["probabilities"] == pytest.approx(final, abs=1e-6)
    assert page.errors == []


def test_without_a_worker_the_page_rasterizes_itself(browser, live_server):
    # Service workers blocked: a request a service worker makes cannot be intercepted.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, service_workers="block")
    try:
        context.route("**/js/raster-worker.js", lambda route: route.abort())
        page = open_page(context, live_server)
        wait_until(page, "window.sketch.rasterizerWhere() === 'page'")
        draw(page, first_drawing("cat"))
        assert settled_guesses(page)[0][0] == server_top1(live_server, page.evaluate("window.sketch.drawing.strokes"))
    finally:
        context.close()


def test_a_long_line_replays_from_the_worker_to_its_end(desktop, live_server):
    """A pasted line of MAX_POINTS points is parsed and simplified in the worker, replayed to its end, and
    guessed as the page's rasterizer guesses it (how long each frame takes is in bench/page_hostile.py)."""
    page = open_page(desktop, live_server)
    strokes = zigzag(MAX_POINTS)  # kept nearly whole by the simplification, within the bound on ink
    page.evaluate("() => { window.replayed = new Promise((resolve) => window.addEventListener('sketch:replayed', "
                  "(event) => resolve(event.detail), { once: true })); }")
    page.evaluate("document.querySelector('details.load').open = true")
    page.fill("#load-text", json.dumps({"word": "comb", "drawing": strokes}))
    page.click("#replay")
    assert page.evaluate("window.replayed")["finished"]
    guesses = settled_guesses(page)
    drawn = page.evaluate("window.sketch.drawing.strokes")
    final = page.evaluate("(strokes) => window.sketch.predictStrokes(strokes).then(Array.from)", drawn)
    labels = page.evaluate("window.sketch.state.labels")
    assert guesses[0][0] == labels[max(range(len(final)), key=final.__getitem__)]
    assert raster.rasterize(drawn) == raster.rasterize(raster.normalize(strokes))
    assert page.errors == []
