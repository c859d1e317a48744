"""Command-line plumbing shared by the project's tools: one-line errors with exit status 2, quiet
TensorFlow start-up, and output folders that are never deleted unless the tool made them.

Not run directly.
"""

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
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


class OutputFolder:
    """Where a tool writes a folder of results, without ever deleting what it did not make.

    The folder is written beside its final place and renamed into it, so a failed run leaves nothing
    half-written. An existing folder is replaced only with `overwrite` and only if every entry in it is a
    file this tool writes (`owned(name)`); anything else is refused before any work starts.
    """

    def __init__(self, path, owned, tool, overwrite=False):
        self.path = Path(path)
        self.owned = owned
        self.tool = tool
        self.overwrite = overwrite

    def check(self):
        """Raise ValueError, naming the folder, if the tool may not write there."""
        path = self.path
        if path.exists() and not path.is_dir():
            raise ValueError(f"output path {path} exists and is not a folder")
        if path.is_dir() and any(path.iterdir()):
            foreign = sorted(entry.name for entry in path.iterdir() if not (entry.is_file() and self.owned(entry.name)))
            if foreign:
                shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
                raise ValueError(f"output folder {path} holds files that {self.tool} did not write ({shown}); "
                                 "choose an empty or new folder")
            if not self.overwrite:
                raise ValueError(f"output folder {path} holds an earlier output of {self.tool}; "
                                 "add --overwrite to replace it")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path.parent):
                pass
        except OSError as error:
            raise ValueError(f"output folder {path} is not writable ({error.strerror})") from None

    @contextlib.contextmanager
    def staging(self):
        """A fresh folder beside the output; on success it takes the output's place."""
        self.check()
        staging = Path(tempfile.mkdtemp(prefix=f".{self.path.name}-", dir=self.path.parent))
        staging.chmod(0o755)
        try:
            yield staging
            self.check()  # Nothing foreign appeared while the tool worked.
            previous = None
            if self.path.exists():
                previous = Path(tempfile.mkdtemp(prefix=f".{self.path.name}-previous-", dir=self.path.parent))
                self.path.rename(previous / self.path.name)
            staging.rename(self.path)
            if previous is not None:
                shutil.rmtree(previous)  # Only files this tool wrote, checked just above.
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
