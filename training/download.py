"""Download Quick, Draw! numpy bitmaps from the dataset's public storage, resumably.

    python -m training.download --preset body-parts --out data/quickdraw
    python -m training.download --classes cat dog --out data/quickdraw
    python -m training.train --data-dir data/quickdraw --preset body-parts --out runs/body-parts

Files come from the URL pattern in the dataset's README ("numpy_bitmap" files,
https://github.com/googlecreativelab/quickdraw-dataset#the-raw-moderated-dataset) and are written to
<out>/bitmaps/<class>.npy, the layout training.data reads. A transfer goes to <file>.part first and is
resumed with an HTTP Range request when it breaks off (also in a later run); the file gets its final name
only once it is complete and is a valid (N, 784) uint8 array. Offline, it says so in one line (exit 2).
"""

import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from training.cli import ArgumentParser
from training.data import open_bitmaps, preset_classes

BASE_URL = os.environ.get("QUICKDRAW_BASE_URL",
                          "https://storage.googleapis.com/quickdraw_dataset/full/numpy_bitmap/")
CHUNK_BYTES = 1 << 16
ATTEMPTS = 4


def class_url(base_url, name):
    return base_url.rstrip("/") + "/" + urllib.parse.quote(f"{name}.npy")


class Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, label, total, done=0, stream=sys.stderr):
        self.label, self.total, self.done, self.stream = label, total, done, stream
        self.last_draw = 0.0

    def update(self, count):
        self.done += count
        now = time.monotonic()
        if now - self.last_draw >= 0.1 or (self.total and self.done >= self.total):
            self.last_draw = now
            self.draw()

    def draw(self):
        megabytes = self.done / 1e6
        if self.total:
            fraction = min(1.0, self.done / self.total)
            bar = "#" * int(fraction * 30)
            self.stream.write(f"\r{self.label:>16} [{bar:<30}] {fraction:6.1%} {megabytes:8.1f} MB")
        else:
            self.stream.write(f"\r{self.label:>16} {megabytes:8.1f} MB")
        self.stream.flush()

    def close(self):
        self.draw()
        self.stream.write("\n")


def fetch(url, part_path, label, timeout):
    """Append the rest of url to part_path (resuming from its size); returns when the server ends."""
    have = part_path.stat().st_size if part_path.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # The part file is already whole.
            return have
        raise
    with response:
        if have and response.status != 206:
            have = 0  # The server ignored the Range request: start over.
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        progress = Progress(label, total, have)
        with open(part_path, "ab" if have else "wb") as handle:
            while True:
                chunk = response.read(CHUNK_BYTES)
                if not chunk:
                    break
                handle.write(chunk)
                progress.update(len(chunk))
        progress.close()
        size = part_path.stat().st_size
        if total is not None and size < total:
            raise ConnectionError(f"transfer ended at {size} of {total} bytes")
        return size


def download_class(name, out, base_url=BASE_URL, timeout=30.0, attempts=ATTEMPTS):
    """Download one class to out/bitmaps/<name>.npy unless it is already there; returns the path."""
    final_path = Path(out) / "bitmaps" / f"{name}.npy"
    if final_path.exists():
        open_bitmaps(final_path)
        return final_path
    final_path.parent.mkdir(parents=True, exist_ok=True)
    part_path = final_path.with_name(final_path.name + ".part")
    url = class_url(base_url, name)
    for attempt in range(1, attempts + 1):
        try:
            fetch(url, part_path, name, timeout)
            break
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise ValueError(f"no class {name!r} at {url} (404): check the name against the dataset's "
                                 "categories.txt") from None
            if attempt == attempts:
                raise ValueError(f"{url}: the server answered {error.code}") from None
        except urllib.error.URLError as error:
            host = urllib.parse.urlsplit(url).netloc
            raise ValueError(f"cannot reach {host} ({error.reason}); are you offline? "
                             f"Partial data kept in {part_path} for a later resume") from None
        except (ConnectionError, TimeoutError, OSError) as error:
            if attempt == attempts:
                raise ValueError(f"{url}: download failed after {attempts} attempts ({error}); partial "
                                 f"data kept in {part_path}, run again to resume") from None
            print(f"\n{name}: {error}; resuming (attempt {attempt + 1} of {attempts})", file=sys.stderr)
    try:
        open_bitmaps(part_path)
    except ValueError as error:
        part_path.unlink(missing_ok=True)
        raise ValueError(f"downloaded file for {name!r} is not a valid bitmap file: {error}") from None
    os.replace(part_path, final_path)  # Atomic: the final name only ever holds a whole, valid file.
    return final_path


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--classes", nargs="+")
    group.add_argument("--preset", help="body-parts (the original nine) or shipped")
    parser.add_argument("--out", default="data/quickdraw")
    parser.add_argument("--base-url", default=BASE_URL)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    try:
        names = args.classes if args.classes else preset_classes(args.preset)
        if not names:
            raise ValueError("the class list is empty")
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        if not os.access(out, os.W_OK):
            raise ValueError(f"output folder {out} is not writable")
        for name in names:
            path = download_class(name, out, args.base_url, args.timeout)
            print(f"{name}: {path}", file=sys.stderr)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
