"""Command-line plumbing shared by the project's tools: one-line errors with exit status 2, quiet
TensorFlow start-up, and output folders that are never deleted unless the tool made them.

Not run directly.
"""

import argparse
import contextlib
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line ("error: ...") rather than the usage text and a line."""

    def error(self, message):
        print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


@contextlib.contextmanager
def native_stderr_captured():
    """Send what native code writes to stderr (file descriptor 2) to a temporary file for the block.

    TensorFlow's C++ start-up lines on a machine without a GPU ("Unable to register cuDNN factory",
    "failed call to cuInit") are written before its log level applies and look like failures to someone
    starting a tool. Yields the file, so that a caller can show the lines when start-up did fail.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield capture
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def interrupt_ends_process():
    """Let Ctrl-C end the process at once, by the system's default action, until interrupt_raises().

    Python turns Ctrl-C into KeyboardInterrupt only when the main thread next runs Python code, and during
    TensorFlow's import that exception was sometimes lost (the first Ctrl-C ignored in 2 of 7 starts of
    serve.py): a command that is only starting up has nothing to clean up, so it is simply ended. Call it
    before importing TensorFlow.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_raises():
    """Ctrl-C raises KeyboardInterrupt again (Python's own handler), for work that cleans up after itself."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def start_tensorflow_quietly():
    """Import TensorFlow and look for devices with its native start-up lines hidden (shown if it fails)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_stderr_captured() as capture:
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
            tf.get_logger().setLevel("ERROR")  # Python-side notes such as "compiled metrics" warnings
        except BaseException:
            capture.seek(0)
            sys.stderr.write(capture.read().decode(errors="replace"))
            raise


def count_argument(least, most=None):
    """An argparse type: an integer from least to most (inclusive), or a usage error naming the value."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least or (most is not None and value > most):
            bound = f"from {least} to {most}" if most is not None else f"at least {least}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value

    parse.__name__ = "count"  # argparse names the type in its messages
    return parse


# mkdtemp's names end in 8 characters of this alphabet (CPython's tempfile._RandomNameSequence).
TEMPORARY_SUFFIX = "[a-z0-9_]{8}"
LEGACY_STAGING_AGE_S = 24 * 3600


def process_alive(pid):
    """Whether a process with this id runs on this machine (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutputFolder:
    """Where a tool writes a folder of results, without ever deleting what it did not make.

    The folder is written beside its final place and renamed into it, so a failed run leaves nothing
    half-written. An existing folder is replaced only with `overwrite` and only if every entry in it is a
    plain file this tool writes (`owned(name)`); anything else is refused before any work starts.

    A path that is a symbolic link (to an earlier output, say) stays a link: the tool writes into the
    folder it points to, and refuses a link that points to no folder. The staging folders beside the output
    are named after the output and the process (".NAME-staging-PID-xxxxxxxx"), so that a run stopped by a
    signal, which cannot remove its own, leaves one that the next run recognizes and removes: only when
    its process no longer runs and it holds nothing but this tool's files.
    """

    def __init__(self, path, owned, tool, overwrite=False):
        self.given = Path(path)
        self.path = self.given
        self.owned = owned
        self.tool = tool
        self.overwrite = overwrite

    def only_owned_files(self, folder):
        return all(entry.is_file() and not entry.is_symlink() and self.owned(entry.name) for entry in folder.iterdir())

    def check(self):
        """Raise ValueError, naming the folder, if the tool may not write there."""
        if self.given.is_symlink():
            try:
                target = self.given.resolve()
            except (OSError, RuntimeError):  # a loop of links (RuntimeError before Python 3.13)
                raise ValueError(f"output path {self.given} is a symbolic link that leads nowhere (a loop)") from None
            if not target.is_dir():
                raise ValueError(f"output path {self.given} is a symbolic link to {target}, which is not a folder; "
                                 "give a folder or a new path")
            self.path = target
        path = self.path
        if path.exists() and not path.is_dir():
            raise ValueError(f"output path {path} exists and is not a folder")
        if path.is_dir() and any(path.iterdir()):
            foreign = sorted(entry.name for entry in path.iterdir()
                             if not (entry.is_file() and not entry.is_symlink() and self.owned(entry.name)))
            if foreign:
                shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
                raise ValueError(f"output folder {self.given} holds files that {self.tool} did not write ({shown}); "
                                 "choose an empty or new folder")
            if not self.overwrite:
                raise ValueError(f"output folder {self.given} holds an earlier output of {self.tool}; "
                                 "add --overwrite to replace it")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path.parent):
                pass
        except OSError as error:
            raise ValueError(f"output folder {path} is not writable ({error.strerror})") from None

    def stale_staging(self):
        """Staging folders of this output left by runs that were stopped: [(folder, kind)], kind "staging"
        or "previous" (an earlier output moved aside just before the new one took its place).

        Ours by name and content only: ".NAME-staging-PID-xxxxxxxx" or ".NAME-previous-PID-xxxxxxxx" whose
        process no longer runs, or the names before process ids were added (".NAME-xxxxxxxx",
        ".NAME-previous-xxxxxxxx") a day after their last change; holding only this tool's files (a
        "previous" one: only the output's folder, holding only them)."""
        name = re.escape(self.path.name)
        pattern = re.compile(rf"\.{name}-(?:(staging|previous)-(\d+)-|(previous-)?){TEMPORARY_SUFFIX}")
        found = []
        if not self.path.parent.is_dir():
            return found
        for entry in self.path.parent.iterdir():
            match = pattern.fullmatch(entry.name)
            if match is None or entry.is_symlink() or not entry.is_dir():
                continue
            kind = match.group(1) or ("previous" if match.group(3) else "staging")
            if match.group(2) is not None:
                pid = int(match.group(2))
                if pid == os.getpid() or process_alive(pid):
                    continue
            elif time.time() - entry.stat().st_mtime < LEGACY_STAGING_AGE_S:
                continue
            if kind == "staging":
                ours = self.only_owned_files(entry)
            else:
                inside = list(entry.iterdir())
                ours = (len(inside) <= 1 and all(each.name == self.path.name and each.is_dir() and not each.is_symlink()
                                                 and self.only_owned_files(each) for each in inside))
            if ours:
                found.append((entry, kind))
        return found

    def clean_stale_staging(self):
        """Remove (or, for an earlier output whose place is empty, put back) what stopped runs left; returns
        one line per folder, which the tools print to stderr."""
        notes = []
        for folder, kind in self.stale_staging():
            kept = folder / self.path.name
            if kind == "previous" and kept.is_dir() and not self.path.exists():
                kept.rename(self.path)  # The run stopped between moving the old output aside and replacing it.
                folder.rmdir()
                notes.append(f"note: put back {self.path} from {folder.name}, left by a {self.tool} that was stopped")
            else:
                shutil.rmtree(folder)
                notes.append(f"note: removed {folder}, left by a {self.tool} that was stopped")
        return notes

    @contextlib.contextmanager
    def staging(self):
        """A fresh folder beside the output; on success it takes the output's place."""
        self.check()
        for note in self.clean_stale_staging():
            print(note, file=sys.stderr)
        self.check()  # A folder put back must still be one that may be replaced.
        pid = os.getpid()
        staging = Path(tempfile.mkdtemp(prefix=f".{self.path.name}-staging-{pid}-", dir=self.path.parent))
        staging.chmod(0o755)
        try:
            yield staging
            self.check()  # Nothing foreign appeared while the tool worked.
            previous = None
            if self.path.exists():
                previous = Path(tempfile.mkdtemp(prefix=f".{self.path.name}-previous-{pid}-", dir=self.path.parent))
                self.path.rename(previous / self.path.name)
            staging.rename(self.path)
            if previous is not None:
                shutil.rmtree(previous)  # Only files this tool wrote, checked just above.
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
