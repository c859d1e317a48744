"""End-to-end tests in Debian's Chromium (Playwright): the page as a person uses it.

Drawings are real ones from the shared stroke files, drawn with mouse moves (or touch) on the canvas.
Screenshots go to $TEST_ARTIFACTS (by default sketch-test-artifacts/ in the temporary folder).
"""

import urllib.parse
import urllib.request

import pytest
from conftest import ARTIFACTS
from support import canvas_point, draw, first_drawing, open_page, server_top1, settled_guesses

CLASSES_TO_DRAW = ["cat", "house", "eye", "bicycle", "snowman", "penguin"]


@pytest.fixture()
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    yield context
    context.close()


def test_page_loads_cleanly_from_one_origin(context, live_server):
    page = open_page(context, live_server)
    assert page.get_attribute("body", "data-backend") == "wasm"
    origin = urllib.parse.urlsplit(live_server).netloc
    others = [url for url in page.requests if urllib.parse.urlsplit(url).netloc not in (origin, "")
              and not url.startswith(("blob:", "data:"))]
    assert others == []
    assert page.locator("#class-list li").count() == len(page.evaluate("window.sketch.state.labels"))
    assert "Draw something" in page.locator("#status").inner_text()
    assert page.errors == []


@pytest.mark.parametrize("word", CLASSES_TO_DRAW)
def test_drawing_real_drawings_gives_the_servers_guess(context, live_server, word):
    page = open_page(context, live_server)
    draw(page, first_drawing(word))
    guesses = settled_guesses(page)
    labels = page.evaluate("window.sketch.state.labels")
    status = page.locator("#status").inner_text()
    assert any(label in status for label in labels)
    assert abs(sum(probability for _, probability in guesses) - 1) <= 1e-3
    assert len(guesses) == 6 and guesses[-1][0] == "other things"
    captured = page.evaluate("window.sketch.drawing.strokes")
    assert len(captured) == len(first_drawing(word))
    assert guesses[0][0] == server_top1(live_server, captured)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"drawn-{word}.png"))
    assert page.errors == []


def test_guess_appears_while_the_stroke_is_drawn(context, live_server):
    page = open_page(context, live_server)
    page.evaluate("""() => {
        window.inProgress = new Promise((resolve) => window.addEventListener('sketch:prediction',
            (event) => event.detail.inProgress && resolve(event.detail)));
    }""")
    box = page.locator("#canvas").bounding_box()
    xs, ys = max(first_drawing("snowman"), key=lambda stroke: len(stroke[0]))
    page.mouse.move(*canvas_point(box, xs[0], ys[0]))
    page.mouse.down()
    for x, y in zip(xs[1:], ys[1:]):
        page.mouse.move(*canvas_point(box, x, y), steps=3)
    detail = page.evaluate("window.inProgress")  # resolves only on a prediction made mid-stroke
    assert detail["strokes"] == 1 and abs(sum(detail["probabilities"]) - 1) < 1e-3
    assert page.locator("#guesses li").count() == 6
    assert page.evaluate("window.sketch.drawing.strokes.length") == 0  # still in progress
    page.mouse.up()
    assert page.evaluate("window.sketch.drawing.strokes.length") == 1


def test_undo_redo_and_clear(context, live_server):
    page = open_page(context, live_server)
    drawing = first_drawing("house")
    draw(page, drawing)
    settled_guesses(page)
    count = len(drawing)
    page.click("#undo")
    assert page.evaluate("window.sketch.drawing.strokes.length") == count - 1
    page.keyboard.press("Control+Shift+Z")
    assert page.evaluate("window.sketch.drawing.strokes.length") == count
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+y")
    assert page.evaluate("window.sketch.drawing.strokes.length") == count
    page.keyboard.press("Escape")
    assert page.evaluate("window.sketch.drawing.strokes.length") == 0
    page.evaluate("window.sketch.idle()")
    assert page.locator("#guesses li").count() == 0
    assert "Draw something" in page.locator("#status").inner_text()
    page.click("#undo")  # clear is undoable
    assert page.evaluate("window.sketch.drawing.strokes.length") == count
    assert settled_guesses(page)[0][0] == server_top1(live_server, page.evaluate("window.sketch.drawing.strokes"))
    page.click("#clear")
    assert page.is_disabled("#clear") and page.is_enabled("#undo")
    assert page.errors == []


def test_server_takes_over_when_tfjs_is_blocked(context, live_server):
    context.route("**/vendor/**", lambda route: route.abort())
    page = open_page(context, live_server)
    assert page.get_attribute("body", "data-backend") == "server"
    draw(page, first_drawing("cat"))
    guesses = settled_guesses(page)
    assert guesses[0][0] == server_top1(live_server, page.evaluate("window.sketch.drawing.strokes"))
    assert "server is predicting" in page.locator("#info").inner_text()


def test_touch_drawing(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                  device_scale_factor=3)
    try:
        page = open_page(context, live_server)
        session = context.new_cdp_session(page)
        box = page.locator("#canvas").bounding_box()
        drawing = first_drawing("eye")
        for xs, ys in drawing:
            points = [canvas_point(box, x, y) for x, y in zip(xs, ys)]
            session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [
                {"x": points[0][0], "y": points[0][1]}]})
            for x, y in points[1:]:
                session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
            session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        assert page.evaluate("window.sketch.drawing.strokes.length") == len(drawing)
        guesses = settled_guesses(page)
        assert guesses[0][0] == server_top1(live_server, page.evaluate("window.sketch.drawing.strokes"))
        canvas = page.evaluate("[document.getElementById('canvas').width, "
                               "document.getElementById('canvas').getBoundingClientRect().width]")
        assert canvas[0] == round(canvas[1] * 3)  # devicePixelRatio-sharp
        page.screenshot(path=str(ARTIFACTS / "touch-phone.png"))
        assert page.errors == []
    finally:
        context.close()


def test_clearing_during_a_slow_prediction_shows_no_stale_guess(context, live_server):
    """A guess that arrives after the drawing was cleared must not reappear on the empty canvas."""
    page = open_page(context, live_server)
    page.evaluate("""() => {
        const predictor = window.sketch.state.predictor;
        const predict = predictor.predict.bind(predictor);
        predictor.predict = async (input) => {
            await new Promise((resolve) => setTimeout(resolve, 400));  // a slow device
            return predict(input);
        };
    }""")
    draw(page, first_drawing("eye"))
    page.keyboard.press("Escape")  # while the prediction is still running
    page.evaluate("window.sketch.idle()")  # the slow prediction has ended
    assert page.locator("#guesses li").count() == 0
    assert "Draw something" in page.locator("#status").inner_text()
