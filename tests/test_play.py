"""Play (issue 21) in Debian's Chromium: six rounds against the clock, won by real shared drawings drawn
with the mouse (and touch on a phone), a scribble timing out, Skip, Escape and mute from the keyboard with
the free drawing restored as it was, the end screen and its downloads, the share link, offline play, the
server's guesses, taught classes among the prompts, bad addresses, and axe-core in every phase of a game.

Speech is recorded by a stand-in for speechSynthesis (FAKE_SPEECH, an init script) whose utterances take a
moment to end, so that an utterance started before the last one ended is counted. The game's rules
themselves are tests/js/game.test.js's. Screenshots go to $TEST_ARTIFACTS.
"""

import functools
import json
import urllib.request

import pytest
from conftest import ARTIFACTS, ROOT, VIEWPORTS
from support import AXE, BODY_PARTS, canvas_point, draw, first_drawing, open_page, wait_until

from bench.shapes import spiral_drawing

# speechSynthesis replaced before the page's scripts run: each utterance "speaks" for 200 ms (or until
# cancelled); window.speech.log holds what was said, and overlaps counts utterances started while another
# was still speaking. The round's result banner is recorded too, since it shows only for a moment.
FAKE_SPEECH = """
(() => {
    const speech = { log: [], overlaps: 0, current: null, banners: [] };
    window.speech = speech;
    const end = (utterance, type) => {
        if (speech.current !== utterance) return;
        speech.current = null;
        utterance.dispatchEvent(new Event(type));
    };
    const synth = window.speechSynthesis || (window.speechSynthesis = {});
    if (!window.SpeechSynthesisUtterance) {
        window.SpeechSynthesisUtterance = class extends EventTarget {
            constructor(text) { super(); this.text = text; }
        };
    }
    synth.speak = (utterance) => {
        if (speech.current) speech.overlaps += 1;
        speech.current = utterance;
        speech.log.push(utterance.text);
        setTimeout(() => end(utterance, 'end'), 200);
    };
    synth.cancel = () => { if (speech.current) end(speech.current, 'error'); };
    document.addEventListener('DOMContentLoaded', () => {
        const banner = document.getElementById('round-result');
        new MutationObserver(() => banner.textContent && speech.banners.push(banner.textContent))
            .observe(banner, { childList: true, characterData: true, subtree: true });
    });
})();
"""
ROUNDS = 6
ROUNDS_JS = "document.querySelectorAll('#rounds li').length"
PHASE_JS = "document.body.dataset.play"
MISS_WORDS = "Sorry, I couldn't guess it."


def server_guess(base_url, strokes, model="shipped"):
    request = urllib.request.Request(base_url + "predict", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"strokes": strokes, "model": model}).encode())
    with urllib.request.urlopen(request) as response:
        return json.load(response)["predictions"][0]


@functools.cache
def winnable(base_url):
    """The shipped classes whose first shared drawing the model is sure of, with a margin over the threshold
    (the drawing is drawn with the mouse, a little differently from the stored one)."""
    metadata = json.load(urllib.request.urlopen(base_url + "models/shipped/metadata.json"))
    threshold = metadata["confidence_threshold"]
    sure = []
    for label in metadata["labels"]:
        guess = server_guess(base_url, first_drawing(label))
        if guess["label"] == label and guess["probability"] >= threshold + 0.15:
            sure.append(label)
    return tuple(sure)


def prompts_of(page, seed, labels=None):
    """The six prompts game.js picks for this seed from the page's classes (or `labels`)."""
    return page.evaluate("""async ([seed, labels]) => {
        const { pickPrompts } = await import('./js/game.js');
        return pickPrompts(labels ?? window.sketch.state.allLabels, seed);
    }""", [seed, labels])


def seed_where(page, wanted):
    """The first seed whose six prompts are all in `wanted`."""
    seed = page.evaluate("""async (wanted) => {
        const { pickPrompts } = await import('./js/game.js');
        for (let seed = 0; seed < 100000; seed++) {
            if (pickPrompts(window.sketch.state.allLabels, seed).every((label) => wanted.includes(label))) return seed;
        }
        return null;
    }""", list(wanted))
    assert seed is not None, f"no seed gives six prompts among {wanted}"
    return seed


def start_game(page, base_url, query):
    page.goto(base_url + query)
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)
    wait_until(page, f"{PHASE_JS} === 'drawing'")


def wait_for_round(page, number):
    """Wait until `number` rounds have finished and the next one is being drawn (or the game is over)."""
    wait_until(page, f"{ROUNDS_JS} === {number} && ['drawing', 'over'].includes({PHASE_JS})")


def touch_stroke(session, box, xs, ys):
    points = [canvas_point(box, x, y) for x, y in zip(xs, ys)]
    session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]})
    for x, y in points[1:]:
        session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def draw_until_won(page, drawing, session=None):
    """Draw stroke by stroke, as a person does, until the round ends (a win freezes the canvas)."""
    page.locator("#canvas").scroll_into_view_if_needed()
    box = page.locator("#canvas").bounding_box()
    for xs, ys in drawing:
        if page.evaluate(PHASE_JS) != "drawing":
            return
        if session:
            touch_stroke(session, box, xs, ys)
        else:
            draw(page, [[xs, ys]])


def results(page):
    return page.evaluate("[...document.querySelectorAll('#rounds li')].map((li) => [li.dataset.label, li.dataset.result])")


def free_drawing(page):
    return page.evaluate("(() => { const d = window.sketch.drawing; return [d.strokes, d.past.length, d.future.length]; })()")


def axe_serious(page):
    results_ = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [(violation["id"], violation["impact"], len(violation["nodes"])) for violation in results_["violations"]
            if violation["impact"] in ("serious", "critical")]


def test_real_drawings_win_their_rounds(sized, live_server):
    """Each prompt's first shared drawing, drawn (touch on the phone, the mouse elsewhere), wins its round;
    the prompt and countdown sit above the canvas on the first screen; the win is said and shown."""
    name, context = sized
    context.add_init_script(FAKE_SPEECH)
    page = open_page(context, live_server)
    seed = seed_where(page, winnable(live_server))
    start_game(page, live_server, f"?play&seed={seed}&seconds=60")  # a long round: the machine may be loaded
    viewport = VIEWPORTS[name]["viewport"]
    canvas = page.locator("#canvas").bounding_box()
    for selector in ("#prompt", "#countdown"):
        box = page.locator(selector).bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= min(canvas["y"], viewport["height"]), selector
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scrolling"
    session = context.new_cdp_session(page) if name == "phone" else None
    prompts = []
    for number in range(ROUNDS):
        wait_for_round(page, number)
        prompts.append(page.inner_text("#prompt"))
        if number == 1:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"play-{name}.png"))
        draw_until_won(page, first_drawing(prompts[-1]), session)
        wait_until(page, f"{ROUNDS_JS} === {number + 1}", timeout=60)
    wait_until(page, f"{PHASE_JS} === 'over'")
    assert prompts == prompts_of(page, seed)
    assert results(page) == [[prompt, "recognized"] for prompt in prompts]
    speech = page.evaluate("window.speech")
    wins = [words for words in speech["log"] if words.startswith("Oh, I know, it's")]
    assert len(wins) == ROUNDS and all(prompt in words for prompt, words in zip(prompts, wins))
    assert speech["overlaps"] == 0
    banners = [text for text in speech["banners"] if text.startswith("You drew")]
    assert len(banners) == ROUNDS and all(f"{prompt} in " in text and text.endswith(" s")
                                          for prompt, text in zip(prompts, banners))
    assert "It recognized 6 of your 6 drawings" in page.inner_text("#game-summary")
    page.screenshot(path=str(ARTIFACTS / f"play-over-{name}.png"), full_page=True)
    assert page.errors == []


def test_a_scribble_times_out_and_a_miss_becomes_a_correction(browser, live_server):
    """A short round runs out on a scribble: missed, said, its top three and the gallery's drawing shown at
    the end, and one click keeps it as a correction. Reduced motion: the countdown does not pulse."""
    context = browser.new_context(**VIEWPORTS["desktop"], reduced_motion="reduce")
    context.add_init_script(FAKE_SPEECH)
    try:
        page = open_page(context, live_server)
        scribble = [[[10, 60, 20, 70], [200, 190, 210, 200]]]
        guessed = server_guess(live_server, scribble)["label"]
        seed = next(seed for seed in range(100) if prompts_of(page, seed)[0] != guessed)
        start_game(page, live_server, f"?play&seed={seed}&seconds=3")
        prompt = page.inner_text("#prompt")
        assert page.evaluate("getComputedStyle(document.getElementById('countdown-text')).animationName") == "none"
        assert page.evaluate("document.getElementById('countdown').classList.contains('hurry')")
        draw(page, scribble)
        wait_until(page, f"{ROUNDS_JS} === 1")
        assert results(page) == [[prompt, "missed"]]
        wait_until(page, f"window.speech.log.includes({json.dumps(MISS_WORDS)})")
        assert page.inner_text("#game-words") == MISS_WORDS
        for number in range(1, ROUNDS):
            wait_for_round(page, number)
            page.keyboard.press("s")
        wait_until(page, f"{PHASE_JS} === 'over'")
        first = page.locator("#rounds li").first
        assert "It thought:" in first.inner_text() and "How it knows" in first.inner_text()
        assert first.locator(".how-it-knows canvas").count() == 1
        first.locator("button.keep-miss").click()
        wait_until(page, "window.sketch.corrections.count === 1")
        assert page.is_disabled("#rounds li:first-child button.keep-miss")
        assert page.evaluate("window.speech.overlaps") == 0
        assert page.errors == []
    finally:
        context.close()


def test_skip_escape_and_mute_from_the_keyboard_restore_the_free_drawing(desktop, live_server):
    """docs/guide.md's keys, played: "S skips, M mutes, Escape leaves and gives your drawing back"."""
    readme = " ".join((ROOT / "docs" / "guide.md").read_text().split())
    assert "(S skips, M mutes, Escape leaves and gives your drawing back;" in readme
    desktop.add_init_script(FAKE_SPEECH)
    page = open_page(desktop, live_server)
    draw(page, first_drawing("house"))
    page.click("#undo")  # a redo step too: the whole history must come back
    before = free_drawing(page)
    assert before[1] > 0 and before[2] == 1
    page.focus("#play")
    page.keyboard.press("Enter")
    wait_until(page, f"{PHASE_JS} === 'drawing'")
    assert "play" in page.url and page.evaluate("window.sketch.drawing.strokes.length") == 0
    first = page.inner_text("#prompt")
    page.keyboard.press("s")
    wait_for_round(page, 1)
    assert results(page) == [[first, "missed"]] and page.inner_text("#prompt") != first
    # Muted: nothing more is spoken, the words are still written; remembered in this browser.
    page.keyboard.press("m")
    assert page.get_attribute("#mute", "aria-pressed") == "true"
    spoken = len(page.evaluate("window.speech.log"))
    draw(page, first_drawing("eye"))
    page.evaluate("window.sketch.idle()")
    wait_until(page, "document.getElementById('game-words').textContent !== ''")
    assert len(page.evaluate("window.speech.log")) == spoken
    # Escape, with a drawing in the round: the game is abandoned, the free drawing is back as it was.
    page.keyboard.press("Escape")
    assert page.evaluate(PHASE_JS) is None and page.is_hidden("#game")
    assert free_drawing(page) == before and "play" not in page.url
    assert page.evaluate("document.activeElement.id") == "play"
    page.keyboard.press("Control+Shift+Z")  # the redo step survived the game
    assert page.evaluate("window.sketch.drawing.strokes.length") == len(first_drawing("house"))
    page.keyboard.press("Control+z")
    # The Leave button does the same; a whole game by keyboard, then Play again.
    page.click("#play")
    wait_until(page, f"{PHASE_JS} === 'drawing'")
    page.click("#leave-play")
    assert free_drawing(page) == before
    page.focus("#play")
    page.keyboard.press("Enter")
    for number in range(ROUNDS):
        wait_for_round(page, number)
        page.keyboard.press("s")
    wait_until(page, f"{PHASE_JS} === 'over'")
    assert page.evaluate("document.activeElement.id") == "play-again"
    page.keyboard.press("Enter")
    wait_until(page, f"{PHASE_JS} === 'drawing' && {ROUNDS_JS} === 0")
    page.reload()  # the address is the game's (?play&seed=N): a game starts, and the mute switch was kept
    page.wait_for_selector("body[data-ready=true]", state="attached")
    wait_until(page, f"{PHASE_JS} === 'drawing'")
    assert page.get_attribute("#mute", "aria-pressed") == "true"
    assert page.evaluate("window.speech.overlaps") == 0
    assert page.errors == []


def test_the_end_screen_downloads_and_the_share_link(desktop, live_server, tmp_path):
    from PIL import Image

    page = open_page(desktop, live_server)
    start_game(page, live_server, "?play&seed=42")
    prompts = []
    for number in range(ROUNDS):
        wait_for_round(page, number)
        prompts.append(page.inner_text("#prompt"))
        if number < ROUNDS - 1:  # the last round is left empty: left out of the ndjson
            draw(page, [[[10, 120, 240], [40, 220, 40]]])
        page.keyboard.press("s")
    wait_until(page, f"{PHASE_JS} === 'over'")
    assert prompts == prompts_of(page, 42)
    assert results(page) == [[prompt, "missed"] for prompt in prompts]
    assert "It recognized 0 of your 6 drawings" in page.inner_text("#game-summary")
    with page.expect_download() as sheet:
        page.click("#download-sheet")
    sheet.value.save_as(tmp_path / "sheet.png")
    image = Image.open(tmp_path / "sheet.png")
    assert image.format == "PNG" and image.size == (3 * 256, 2 * (256 + 44))
    with page.expect_download() as lines:
        page.click("#download-rounds")
    lines.value.save_as(tmp_path / "game.ndjson")
    records = [json.loads(line) for line in (tmp_path / "game.ndjson").read_text().splitlines()]
    assert [record["word"] for record in records] == prompts[:-1]
    assert all(record["recognized"] is False and len(record["drawing"]) == 1 for record in records)
    assert "1 round with nothing drawn left out" in page.inner_text("#message")
    href = page.get_attribute("#share-link", "href")
    assert href == "?play&seed=42"
    # The share link gives the same six prompts.
    page.click("#share-link")
    page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)
    shared = []
    for number in range(ROUNDS):
        wait_for_round(page, number)
        shared.append(page.inner_text("#prompt"))
        page.keyboard.press("s")
    assert shared == prompts
    wait_until(page, f"{PHASE_JS} === 'over'")
    # Scores: kept in this browser, per model, with the last games listed.
    assert page.locator("#game-history li").count() == 1
    stored = json.loads(page.evaluate("localStorage.getItem('sketch.games')"))
    assert [game["seed"] for game in stored["shipped"]["history"]] == [42, 42]
    assert page.errors == []


def test_offline_play(desktop, live_server):
    page = open_page(desktop, live_server)
    seed = seed_where(page, winnable(live_server))
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    wait_until(page, "caches.open('sketch-shell-v3').then((cache) => cache.match('js/play.js')).then(Boolean)")
    wait_until(page, "caches.keys().then((names) => names.filter((name) => name.startsWith('sketch-model-')).length == 2)")
    desktop.set_offline(True)
    try:
        start_game(page, live_server, f"?play&seed={seed}&seconds=60")
        prompt = page.inner_text("#prompt")
        draw_until_won(page, first_drawing(prompt))
        wait_until(page, f"{ROUNDS_JS} === 1")
        assert results(page) == [[prompt, "recognized"]]
    finally:
        desktop.set_offline(False)


def test_play_uses_the_server_where_it_predicts(desktop, live_server):
    desktop.route("**/vendor/**", lambda route: route.abort())
    page = open_page(desktop, live_server)
    assert page.get_attribute("body", "data-backend") == "server"
    seed = seed_where(page, winnable(live_server))
    start_game(page, live_server, f"?play&seed={seed}&seconds=60")
    prompt = page.inner_text("#prompt")
    draw_until_won(page, first_drawing(prompt))
    wait_until(page, f"{ROUNDS_JS} === 1")
    assert results(page) == [[prompt, "recognized"]]
    page.keyboard.press("Escape")
    assert page.evaluate(PHASE_JS) is None


def test_bad_addresses_and_the_other_model(desktop, live_server):
    page = open_page(desktop, live_server)
    start_game(page, live_server, "?play&seconds=abc&seed=-1")
    message = page.inner_text("#message")
    assert 'The seed "-1" is not a whole number' in message and 'The round length "abc"' in message
    assert page.inner_text("#countdown-text") in ("20 s left", "19 s left")
    page.keyboard.press("Escape")
    start_game(page, live_server, "?model=body-parts&play&seed=3&seconds=30")
    assert page.get_attribute("body", "data-model") == "body-parts"
    prompts = []
    for number in range(ROUNDS):
        wait_for_round(page, number)
        prompts.append(page.inner_text("#prompt"))
        page.keyboard.press("s")
    assert prompts == prompts_of(page, 3)
    assert set(prompts) <= set(BODY_PARTS) and len(set(prompts)) == ROUNDS
    wait_until(page, f"{PHASE_JS} === 'over'")
    assert page.get_attribute("#share-link", "href") == "?play&seed=3&model=body-parts&seconds=30"
    assert page.errors == []


def test_taught_classes_are_prompts_and_a_miss_teaches_them(desktop, live_server):
    page = open_page(desktop, live_server)
    page.evaluate("document.getElementById('taught-panel').open = true")
    page.fill("#taught-name", "spiral")
    for index in range(5):
        draw(page, spiral_drawing(2.5 + 0.2 * index, index))
        page.click("#taught-add")
        wait_until(page, "window.sketch.drawing.strokes.length === 0")
    seed = page.evaluate("""async () => {
        const { pickPrompts } = await import('./js/game.js');
        for (let seed = 0; ; seed++) if (pickPrompts(window.sketch.state.allLabels, seed)[0] === 'spiral') return seed;
    }""")
    start_game(page, live_server, f"?play&seed={seed}")
    assert page.inner_text("#prompt") == "spiral"
    draw(page, first_drawing("cat"))  # not a spiral: missed, and taught in one click at the end
    page.evaluate("window.sketch.idle()")
    for number in range(ROUNDS):
        wait_for_round(page, number)
        page.keyboard.press("s")
    wait_until(page, f"{PHASE_JS} === 'over'")
    button = page.locator("#rounds li[data-label=spiral] button.keep-miss")
    assert "Teach it" in button.inner_text()
    button.click()
    wait_until(page, "document.querySelector('#rounds li[data-label=spiral] button.keep-miss').textContent.startsWith('Taught')")
    page.click("#leave-game")
    assert page.evaluate("window.sketch.state.taught.classes().find(({ name }) => name === 'spiral').count") == 6
    assert page.errors == []


@pytest.mark.parametrize("name", list(VIEWPORTS))
def test_axe_finds_nothing_serious_in_any_phase_of_a_game(browser, live_server, name):
    context = browser.new_context(**VIEWPORTS[name], bypass_csp=True)  # axe-core is injected inline
    try:
        page = open_page(context, live_server)
        start_game(page, live_server, "?play&seed=7")
        draw(page, [[[10, 60, 20, 70], [200, 190, 210, 200]]])
        page.add_script_tag(path=str(AXE))
        assert axe_serious(page) == [], "drawing"
        # A round's result, held on screen while axe reads it: the round runs out, its result stays.
        page.evaluate("(() => { const game = window.sketch.play.game(); game.resultMilliseconds = 1e9; "
                      "game.roundMilliseconds = 0; })()")
        wait_until(page, f"{PHASE_JS} === 'showing'")
        assert axe_serious(page) == [], "showing"
        page.evaluate("(() => { const game = window.sketch.play.game(); game.resultMilliseconds = 0; "
                      "game.roundMilliseconds = 20_000; })()")
        for number in range(1, ROUNDS):
            wait_for_round(page, number)
            page.keyboard.press("s")
        wait_until(page, f"{PHASE_JS} === 'over'")
        assert axe_serious(page) == [], "over"
        page.screenshot(path=str(ARTIFACTS / f"play-end-{name}.png"), full_page=True)
        assert page.errors == []
    finally:
        context.close()
