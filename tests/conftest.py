"""Shared pytest fixtures: tiny generated data, a 1-epoch smoke run, the Flask app, a live server, Chromium.

    .venv/bin/python -m pytest tests/            # or: make test
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import hypothesis
import hypothesis.configuration
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PATHS_BEFORE = pytest.StashKey()
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.common import CHROMIUM, CHROMIUM_ARGS, LiveServer, shared_drawings  # noqa: E402, F401  (needs ROOT on the path; the tests import shared_drawings from here)

SHARED_DATA = ROOT.parent / "shared" / "data" / "quickdraw"
# Screenshots of the page go outside the checkout (tests write nothing into it; see pytest_sessionfinish),
# to TEST_ARTIFACTS if set.
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS") or Path(tempfile.gettempdir()) / "sketch-test-artifacts")

# hypothesis keeps its example database and a cache of constants under the working directory unless told
# otherwise.
hypothesis.configuration.set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "sketch-hypothesis")
hypothesis.settings.register_profile("outside-the-checkout", database=None)
hypothesis.settings.load_profile("outside-the-checkout")

# What the tests may leave in the checkout: the set-up's own folders and Python's bytecode caches.
SET_UP_PATHS = (".venv/", "node_modules/")


def paths_outside_git(root=ROOT):
    """Untracked and ignored paths in the checkout, as git lists them (folders end in '/')."""
    listing = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "-z"],
                             cwd=root, capture_output=True)
    if listing.returncode != 0:  # not a git checkout (an unpacked archive): nothing to compare
        return set()
    paths = {entry[3:] for entry in listing.stdout.decode().split("\0") if entry[:2] in ("??", "!!")}
    return {path for path in paths if not path.startswith(SET_UP_PATHS) and "__pycache__/" not in path}


def pytest_sessionstart(session):
    session.config.stash[PATHS_BEFORE] = paths_outside_git()


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when a test wrote a file into the checkout (issue 23: a test once committed .keras/)."""
    written = sorted(paths_outside_git() - session.config.stash[PATHS_BEFORE])
    if written:
        session.config.get_terminal_writer().line(
            f"tests wrote into the checkout: {', '.join(written[:10])}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def cli_in_process(capsys, main, *args):
    """A command's main(argv) as the CLI runs it, in this process: (exit status, what it wrote to stderr)."""
    try:
        status = main(list(args))
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code
    return status, capsys.readouterr().err


def write_tiny_class(path, rows, seed):
    """Random sparse 'drawings' (a bright block per class at a class-specific place) so a CNN can learn."""
    generator = np.random.default_rng(seed)
    images = np.zeros((rows, 28, 28), dtype=np.uint8)
    for image in images:
        top, left = 4 + seed % 3 * 6 + generator.integers(0, 3), 4 + seed % 2 * 10 + generator.integers(0, 3)
        image[top:top + 8, left:left + 8] = 255
    np.save(path, images.reshape(rows, 784))


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny") / "quickdraw"
    (folder / "bitmaps").mkdir(parents=True)
    for seed, name in enumerate(["eye", "hand", "nose"]):
        write_tiny_class(folder / "bitmaps" / f"{name}.npy", 60, seed)
    return folder


@pytest.fixture(scope="session")
def smoke_run(tiny_data_dir, tmp_path_factory):
    """A 1-epoch sketchnet run on the tiny data (a few seconds)."""
    from training import train

    out = tmp_path_factory.mktemp("runs") / "smoke"
    status = train.main(["--data-dir", str(tiny_data_dir), "--model", "sketchnet", "--epochs", "1",
                         "--out", str(out), "--verbose", "0", "--batch-size", "32"])
    assert status == 0
    return out


@pytest.fixture(scope="session")
def app():
    from serve import create_app

    return create_app({"TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server():
    """serve.py (waitress) in a subprocess on a free loopback port; its base URL."""
    with LiveServer() as server:
        yield server.url


# The three screen sizes: layout tests run at each (`sized`); behaviour flows, which do the same at any size,
# run once, at the desktop size (`flow`), so that the suite stays within minutes (issue 31).
VIEWPORTS = {
    "phone": {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True,
              "device_scale_factor": 2},
    "tablet": {"viewport": {"width": 820, "height": 1180}, "has_touch": True, "color_scheme": "dark"},
    "desktop": {"viewport": {"width": 1440, "height": 900}},
}


@pytest.fixture(params=list(VIEWPORTS))
def sized(request, browser):
    """A fresh browser context at each of the three sizes (every test that uses it runs three times): for what
    depends on the layout."""
    context = browser.new_context(**VIEWPORTS[request.param], accept_downloads=True)
    yield request.param, context
    context.close()


@pytest.fixture()
def flow(browser):
    """A fresh browser context at the desktop size, as ("desktop", context) like `sized`: for a behaviour
    flow, which the layout does not change."""
    context = browser.new_context(**VIEWPORTS["desktop"], accept_downloads=True)
    yield "desktop", context
    context.close()


@pytest.fixture()
def desktop(browser):
    context = browser.new_context(**VIEWPORTS["desktop"], accept_downloads=True)
    yield context
    context.close()


@pytest.fixture(scope="session")
def browser():
    # A missing browser or driver fails every browser test, naming what is missing: skipping them would let
    # a machine without them pass `make test` having checked none of the page.
    try:
        import playwright.sync_api as playwright_api
    except ImportError as error:
        pytest.fail(f"the Python package playwright is missing ({error}): run `make setup`")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (installs Debian's chromium)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
