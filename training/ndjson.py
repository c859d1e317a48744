"""Drawings in the Quick, Draw! ndjson format: read them, and print one as the model sees it.

    python -m training.ndjson ../shared/data/quickdraw/strokes/eye.ndjson [N]   # prints drawing N (0)
"""

import json
import sys

from training.raster import IMAGE_SIZE, rasterize


def read_ndjson(path):
    """Yield the records of an ndjson file in the dataset's format; ValueError names the file and line."""
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line_number}: not JSON ({error.msg})") from None
            if not isinstance(record, dict) or "drawing" not in record:
                raise ValueError(f"{path}:{line_number}: no 'drawing' field")
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
