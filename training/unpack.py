"""Unpack a ZIP saved by the page's "Download as a model" into web/, checked, where `make run` serves it.

    .venv/bin/python -m training.unpack ~/Downloads/model-taught-20261207-221854.zip [--into web]

A ZIP is data from whoever sent it, so this is what to use instead of a bare `unzip` (which restores
symbolic links, and writes any path the archive names). The archive must hold exactly one folder,
model-<id>/, with only plain files in it (no symbolic link, no sub-folder, no path that leaves it), at
most MAX_MODEL_BYTES in all; the folder must pass the same gate as every model folder
(training.modelfolder.read_model_folder) and hold nothing that the gate did not read. It is unpacked
beside its place, checked there, and only then moved into --into/model-<id>/, which must not exist yet:
nothing that is already there is ever replaced. Exits 2 with one line on anything else, leaving nothing
behind.
"""

import os
import shutil
import stat
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

from training.cli import ArgumentParser
from training.modelfolder import FILE_NAME, MAX_MODEL_BYTES, WebModelError, check_model_id, read_model_folder

DEFAULT_INTO = Path(__file__).resolve().parent.parent / "web"  # the checkout's web/, whose model-* folders make run serves
MAX_ENTRIES = 100
MAX_ARCHIVE_BYTES = MAX_MODEL_BYTES + 2**20  # the files, stored, and the archive's own headers


class UnpackError(ValueError):
    """The archive is not a model folder saved by the page."""


def archive_folder(archive, entries):
    """The one folder the archive holds (model-<id>) and its files' names; UnpackError for anything else."""
    if not entries or len(entries) > MAX_ENTRIES:
        raise UnpackError(f"{archive}: it holds {len(entries)} entries; a saved model holds 1 to {MAX_ENTRIES}")
    folder = entries[0].filename.split("/", 1)[0]
    files = []
    for entry in entries:
        name = entry.filename
        kind = stat.S_IFMT(entry.external_attr >> 16)
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise UnpackError(f"{archive}: {name[:70]!r} is not a plain file (a symbolic link or a device)")
        if entry.is_dir():
            if name != f"{folder}/":
                raise UnpackError(f"{archive}: {name[:70]!r} is a folder inside the model folder")
            continue
        parent, _, base = name.partition("/")
        if parent != folder or not FILE_NAME.fullmatch(base):
            raise UnpackError(f"{archive}: {name[:70]!r} is not a plain file inside {folder}/")
        if base in files:
            raise UnpackError(f"{archive}: {base} is in it twice")
        if entry.flag_bits & 0x1:
            raise UnpackError(f"{archive}: {base} is encrypted; a saved model never is")
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnpackError(f"{archive}: {base} is compressed in a way this does not unpack")
        files.append(base)
    if not folder.startswith("model-"):
        raise UnpackError(f"{archive}: its folder {folder[:70]!r} is not named model-<id>")
    try:
        check_model_id(folder)
    except WebModelError as error:
        raise UnpackError(str(error)) from None
    if sum(entry.file_size for entry in entries) > MAX_MODEL_BYTES:
        raise UnpackError(f"{archive}: its files would take over {MAX_MODEL_BYTES:,} bytes")
    return folder, files


def extract(opened, entry, path, archive):
    """One file, at most its stated size (a lying header cannot make it longer), CRC-checked by zipfile."""
    with opened.open(entry) as source, open(path, "xb") as target:
        data = source.read(entry.file_size + 1)
        if len(data) != entry.file_size:
            raise UnpackError(f"{archive}: {entry.filename} is not the size its header says")
        target.write(data)
    os.chmod(path, 0o644)


def unpack(archive, into):
    """Unpack the archive into `into`/model-<id>/ as the module docstring says; returns that folder."""
    archive, into = Path(archive), Path(into)
    if not archive.is_file():
        raise UnpackError(f"{archive}: no such file")
    if archive.stat().st_size > MAX_ARCHIVE_BYTES:
        raise UnpackError(f"{archive}: {archive.stat().st_size:,} bytes, over the {MAX_ARCHIVE_BYTES:,} a saved model "
                          "can take")
    if not into.is_dir():
        raise UnpackError(f"{into}: not a folder to unpack into")
    try:
        opened = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, ValueError) as error:
        raise UnpackError(f"{archive}: not a ZIP archive a page saved ({str(error)[:100]})") from None
    with opened:
        entries = opened.infolist()
        folder, files = archive_folder(archive, entries)
        destination = into / folder
        if os.path.lexists(destination):
            raise UnpackError(f"{destination} exists already; nothing was replaced (move it away, or keep it)")
        # Beside its place (same file system, so the final moves are renames), in a folder only this run made.
        staging = Path(tempfile.mkdtemp(prefix=f".{folder}.unpacking-", dir=into))
        try:
            for entry in entries:
                if not entry.is_dir():
                    extract(opened, entry, staging / entry.filename.split("/", 1)[1], archive)
            staged = staging / folder
            staged.mkdir()
            for name in files:
                os.rename(staging / name, staged / name)
            try:
                read = read_model_folder(staged)
            except WebModelError as error:
                raise UnpackError(str(error).replace(str(staged), folder)) from None
            extra = sorted(set(files) - set(read))
            if extra:
                raise UnpackError(f"{archive}: it holds files no model uses: {', '.join(extra[:3])}")
            # mkdir claims the destination at once: if something took the name meanwhile, it fails and replaces nothing.
            destination.mkdir()
            try:
                for name in files:
                    os.rename(staged / name, destination / name)
            except BaseException:
                shutil.rmtree(destination, ignore_errors=True)  # this run made it, and it is not whole
                raise
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError) as error:
            raise UnpackError(f"{archive}: a damaged entry ({str(error)[:100]})") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return destination


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", help="a ZIP saved by the page's Download as a model")
    parser.add_argument("--into", default=str(DEFAULT_INTO),
                        help="the folder to unpack it in (default: the checkout's web/, which `make run` serves)")
    args = parser.parse_args(argv)
    try:
        destination = unpack(args.archive, args.into)
    except (UnpackError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    model = destination.name.removeprefix("model-")
    print(f"unpacked {destination}: `make run` serves it as the model {model!r} (?model={model})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
