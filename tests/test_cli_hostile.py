"""Tests for the command line's answers to hostile or careless input (issue 24, "Command line"): output
folders given as symbolic links, staging folders left by a killed run, bad --extra-strokes lines, bad
--host and --port for serve.py, and benches asked for work they cannot measure.

    .venv/bin/python -m pytest tests/test_cli_hostile.py -q
"""

import json
import os
import re
import signal
import subprocess
import sys

import pytest
from conftest import ROOT

from training.cli import OutputFolder
from training.ndjson import read_ndjson

EXPORT_NAMES = {"model.json", "metadata.json", "group1-shard1of1.bin"}


def folder_for(path, overwrite=True):
    return OutputFolder(path, owned=lambda name: name in EXPORT_NAMES, tool="export.py", overwrite=overwrite)


def write_output(folder, text):
    with folder.staging() as staging:
        (staging / "model.json").write_text(text)
        (staging / "metadata.json").write_text("{}")


def test_a_symbolic_link_to_an_earlier_output_stays_a_link_and_its_folder_is_replaced(tmp_path):
    target = tmp_path / "exports" / "v1"
    target.mkdir(parents=True)
    (target / "model.json").write_text("old")
    link = tmp_path / "web-model"
    link.symlink_to(target)
    write_output(folder_for(link), "new")
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert (target / "model.json").read_text() == "new"
    assert sorted(path.name for path in tmp_path.rglob("*")) == sorted(["exports", "v1", "web-model", "model.json",
                                                                        "metadata.json"])


def test_a_link_to_no_folder_or_to_foreign_files_is_refused(tmp_path):
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="symbolic link to .*nowhere, which is not a folder"):
        folder_for(dangling).check()
    assert not (tmp_path / "nowhere").exists() and dangling.is_symlink()
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop")
    with pytest.raises(ValueError, match="symbolic link"):
        folder_for(loop).check()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    link = tmp_path / "link"
    link.symlink_to(mine)
    with pytest.raises(ValueError, match=r"holds files that export.py did not write \(notes.txt\)"):
        folder_for(link).check()
    # An entry with one of our names that is itself a link is not ours either.
    linked_entry = tmp_path / "linked-entry"
    linked_entry.mkdir()
    (linked_entry / "model.json").symlink_to(mine / "notes.txt")
    with pytest.raises(ValueError, match="did not write"):
        folder_for(linked_entry).check()
    assert (mine / "notes.txt").read_text() == "keep me"


STOPPED_WRITER = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from training.cli import OutputFolder
folder = OutputFolder({out!r}, owned=lambda name: name in ("model.json", "metadata.json"), tool="export.py",
                      overwrite=True)
with folder.staging() as staging:
    (staging / "model.json").write_text("partial")
    print(staging, flush=True)
    time.sleep(600)  # stands for a long export; the test kills it at once
"""


def killed_run(out):
    """A process that starts writing out's staging folder and is killed by SIGKILL: the folder it leaves."""
    process = subprocess.Popen([sys.executable, "-c", STOPPED_WRITER.format(root=str(ROOT), out=str(out))],
                               stdout=subprocess.PIPE, text=True)
    staging = process.stdout.readline().strip()  # printed once the staging folder holds a file
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    return staging


def test_the_next_run_removes_what_a_killed_run_left_and_nothing_else(tmp_path):
    out = tmp_path / "model"
    left = killed_run(out)
    assert os.path.isdir(left) and os.path.basename(left).startswith(".model-staging-")
    # Look-alikes that are not ours: foreign content, another output's name, or a run that is still going.
    foreign = tmp_path / ".model-staging-1-abcdefgh"
    foreign.mkdir()
    (foreign / "photo.jpg").write_text("not ours")
    other = tmp_path / ".other-staging-1-abcdefgh"
    other.mkdir()
    running = tmp_path / f".model-staging-{os.getppid()}-abcdefgh"
    running.mkdir()
    folder = folder_for(out)
    assert [path for path, _ in folder.stale_staging()] == [tmp_path / os.path.basename(left)]
    write_output(folder, "new")
    assert not os.path.exists(left)
    assert (out / "model.json").read_text() == "new"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["model", foreign.name, other.name, running.name])


def test_an_earlier_output_moved_aside_by_a_killed_run_is_put_back(tmp_path):
    out = tmp_path / "model"
    aside = tmp_path / ".model-previous-999999999-abcdefgh"  # no such process id
    (aside / "model").mkdir(parents=True)
    (aside / "model" / "model.json").write_text("earlier")
    notes = folder_for(out).clean_stale_staging()
    assert len(notes) == 1 and "put back" in notes[0]
    assert (out / "model.json").read_text() == "earlier" and not aside.exists()


BAD_LINES = [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),                       # RecursionError before
    (b'{"word": ["arm"], "drawing": [[[0, 1], [0, 1]]]}', "'word' must be a string, not list"),  # TypeError before
    (b'{"word": {"a": 1}, "drawing": [[[0, 1], [0, 1]]]}', "'word' must be a string, not dict"),
    (b'{"word": "arm", "drawing": [[[0, 1], [0, "\xff\xfe"]]]}', r"not UTF-8 \(byte 0xff at column 43\)"),
    (b'{"word": "arm", "drawing": "a cat"}', r"not a drawing \(a drawing must be a non-empty list of strokes\)"),
    (b'{"word": "arm", "drawing": [[["0"], [1]]]}', "not a drawing .*every coordinate must be a number"),
    (b'{"word": "arm", "drawing": [[[1e999], [1]]]}', "not a drawing .*finite"),
    (b'{"word": "arm", "drawing": [[[0, NaN], [1, 2]]]}', "not a drawing .*finite"),
    (b'{"word": "arm"}', "no 'drawing' field"),
    (b"null", "no 'drawing' field"),
    (b"{", "not JSON"),
]


@pytest.mark.parametrize("line, message", BAD_LINES)
def test_every_bad_line_is_one_error_naming_the_file_and_the_line(tmp_path, line, message):
    path = tmp_path / "taught.ndjson"
    path.write_bytes(b'{"word": "arm", "drawing": [[[0, 1], [0, 1]]]}\n\n' + line + b"\n")
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}:3: {message}") as caught:
        list(read_ndjson(path))
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 300


def test_too_much_ink_is_caught_where_it_is_read_when_asked(tmp_path):
    from bench.shapes import refused_drawings
    from training.raster import rasterize

    path = tmp_path / "taught.ndjson"
    drawing = refused_drawings()["random comb (issue 24)"]
    path.write_text(json.dumps({"word": "arm", "drawing": drawing}) + "\n")
    assert len(list(read_ndjson(path))) == 1  # the structure is fine
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}:1: not a drawing \\(too much ink"):
        list(read_ndjson(path, check_drawing=rasterize))


@pytest.mark.parametrize("tool", ["training.fewshot", "training.train"])
def test_extra_strokes_errors_are_one_line_with_exit_status_2(tmp_path, tool):
    """Both tools read --extra-strokes before TensorFlow starts: one line naming the file and the line."""
    path = tmp_path / "taught.ndjson"
    path.write_bytes(b'{"word": "eye", "drawing": [[[0, 1], [0, 1]]]}\n' + b"[" * 100_000 + b"]" * 100_000 + b"\n")
    result = subprocess.run([sys.executable, "-m", tool, "--classes", "eye", "cat", "--extra-strokes", str(path),
                             "--out", str(tmp_path / "run"), "--epochs" if tool == "training.train" else "--copies",
                             "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"error: {path}:2: nested too deeply to be a drawing\n"
    assert not (tmp_path / "run").exists()


def serve(*arguments, tmp_path):
    return subprocess.run([sys.executable, str(ROOT / "serve.py"), *arguments], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})


@pytest.mark.parametrize("arguments, message", [
    (["--port", "-1"], "error: argument --port: must be from 0 to 65535, got -1 (see --help)"),
    (["--port", "99999"], "error: argument --port: must be from 0 to 65535, got 99999 (see --help)"),
    (["--port", "5e3"], "error: argument --port: '5e3' is not a whole number (see --help)"),
    (["--port", "0", "--debug"], "error: --port 0 needs waitress: Flask's debug server would not say which port it "
                                 "chose (see --help)"),
    (["--host", "999.1.1.1"], "error: cannot listen on 999.1.1.1:5000: the host does not resolve ("),
    (["--host", "no-such-host.invalid"], "error: cannot listen on no-such-host.invalid:5000: the host does not resolve ("),
    (["--host", "192.0.2.1", "--port", "0"], "error: cannot listen on 192.0.2.1:0: "),  # TEST-NET-1: not ours
])
def test_serve_refuses_a_bad_host_or_port_in_one_line(tmp_path, arguments, message):
    result = serve(*arguments, tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""


def test_serve_on_port_0_says_the_port_it_listens_on(tmp_path):
    import urllib.request

    process = subprocess.Popen([sys.executable, str(ROOT / "serve.py"), "--port", "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    try:
        line = process.stdout.readline()  # printed once the socket is bound
        match = re.match(r"Serving the sketch app on http://127\.0\.0\.1:(\d+)/ ", line)
        assert match, line
        port = int(match.group(1))
        assert port != 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as response:
            assert response.status == 200
    finally:
        process.terminate()
        process.communicate(timeout=30)


@pytest.mark.parametrize("module, arguments, message", [
    ("bench.load_test", ["--requests", "0"], "error: argument --requests: must be at least 1, got 0 (see --help)"),
    ("bench.load_test", ["--concurrency", "0"], "error: argument --concurrency: must be from 1 to 1000, got 0 (see --help)"),
    ("bench.load_test", ["--concurrency", "-3"], "error: argument --concurrency: must be from 1 to 1000, got -3 (see --help)"),
    ("bench.architectures", ["--rounds", "0"], "error: argument --rounds: must be at least 1, got 0 (see --help)"),
    ("bench.browser_speed", ["--predictions", "0"], "error: argument --predictions: must be at least 1, got 0 (see --help)"),
    ("bench.browser_speed", ["--drawn", "0"], "error: argument --drawn: must be at least 1, got 0 (see --help)"),
    ("bench.routes", ["--seeds", "-1"], "error: argument --seeds: must be at least 0, got -1 (see --help)"),
    ("bench.shapes", ["--search", "--seconds", "0"], "error: --seconds must be more than 0 and at most 3600, got 0.0"),
])
def test_a_bench_refuses_work_it_cannot_measure_and_writes_nothing(module, arguments, message):
    results = ROOT / "bench" / "results"
    before = {path.name: path.read_bytes() for path in results.iterdir()}
    result = subprocess.run([sys.executable, "-m", module, *arguments], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2
    assert result.stderr == message + "\n" and result.stdout == ""
    assert {path.name: path.read_bytes() for path in results.iterdir()} == before


def test_export_refuses_a_link_to_no_folder_in_one_line_and_keeps_the_link(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    link = folder / "web-model"
    link.symlink_to(folder / "gone")
    result = subprocess.run([sys.executable, str(ROOT / "export.py"), str(ROOT / "runs" / "sketchnet"), "--out", str(link),
                             "--overwrite"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})  # Keras and matplotlib write under HOME
    assert result.returncode == 2
    assert result.stderr == f"error: output path {link} is a symbolic link to {folder / 'gone'}, which is not a folder; " \
                            "give a folder or a new path\n"
    assert link.is_symlink() and [path.name for path in folder.iterdir()] == ["web-model"]
