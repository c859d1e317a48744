"""Drawings in the Quick, Draw! ndjson format: read them, and print one as the model sees it.

    python -m training.ndjson ../shared/data/quickdraw/strokes/eye.ndjson [N]   # prints drawing N (0)
"""

import json
import sys

from training.raster import IMAGE_SIZE, rasterize, validate_drawing


def read_ndjson(path, check_drawing=validate_drawing):
    """Yield the records of an ndjson file in the dataset's format: JSON objects with a "drawing" in the
    stroke format that rasterize() accepts (within MAX_POINTS and MAX_STROKES) and, where there is one, a
    string "word". Any other line is a ValueError of one line naming the file and the line: invalid UTF-8,
    not JSON, nested deeper than the JSON parser's recursion limit, or fields of the wrong type, for
    whatever reads the file (training, few-shot teaching and export's verification all do).
    check_drawing=rasterize also refuses what only rendering can tell (MAX_CROSSINGS), at a millisecond
    or so a drawing."""
    with open(path, "rb") as handle:
        for line_number, raw in enumerate(handle, 1):
            where = f"{path}:{line_number}"
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as error:
                raise ValueError(f"{where}: not UTF-8 (byte 0x{raw[error.start]:02x} at column {error.start + 1})") from None
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{where}: not JSON ({error.msg})") from None
            except RecursionError:
                raise ValueError(f"{where}: nested too deeply to be a drawing") from None
            if not isinstance(record, dict) or "drawing" not in record:
                raise ValueError(f"{where}: no 'drawing' field")
            if "word" in record and not isinstance(record["word"], str):
                raise ValueError(f"{where}: 'word' must be a string, not {type(record['word']).__name__}")
            try:
                check_drawing(record["drawing"])
            except ValueError as error:
                raise ValueError(f"{where}: not a drawing ({error})") from None
            yield record


def print_bitmap(bitmap):
    """784 values as 28 lines of characters, darker characters for more ink."""
    for row in range(IMAGE_SIZE):
        values = bitmap[row * IMAGE_SIZE:(row + 1) * IMAGE_SIZE]
        print("".join(" .:-=+*#%@"[min(9, value * 10 // 256)] for value in values))


if __name__ == "__main__":
    index = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    for number, record in enumerate(read_ndjson(sys.argv[1])):
        if number == index:
            print_bitmap(rasterize(record["drawing"]))
            break
