"""A picture of a drawing (a canvas PNG, as the original app posted it) to the model's 28x28 input.

    python -m training.picture sketch.png     # prints what the model sees (a PNG as POST /predict reads it)

Strokes are the contract (training/raster.py); this path approximates the same geometry from pixels. The
ink is found by its contrast with the background (dark ink on light or transparent, or light ink on dark)
and cropped to its bounding box. The crop is brought down to the dataset's 256-unit drawing box by taking
the most ink of each block of pixels, so that a thin line stays a line and the work after it is bounded
whatever the picture's size. A canvas line is usually far thinner, relative to the drawing, than the
dataset's (16 of 255 units), and a thin line shrinks to a faint one at 28x28 that the model has never
seen. So the line's width is measured (twice the typical distance from the middle of a line to its edge,
by a distance transform) and the ink is thickened to the dataset's proportion; then it is scaled, aspect
kept, so that it spans what the stroke path's drawings span, and centred.

A PNG from a client is checked for what the decoder will actually decode, not for what its first chunk
says (png_to_bitmap): the chunks are walked (a bounded number), a second IHDR is refused, only the chunks
that make the pixels reach the decoder, the size it reports is checked before anything is decoded, and
the conversion to ink works in bands of rows. So a PNG within the limits costs at most one decoded image
(4096 x 4096 pixels of at most 4 bytes: 64 MB) and a fraction of it besides, whatever its chunks claim.
"""

import io
import math
import struct
import sys
import zlib

import numpy as np

from training.raster import IMAGE_SIZE, LINE_DIAMETER, ORIGINAL_SIDE, PADDING

WORKING_SIDE = 256  # pixels: the crop's longest side is brought down to at most this before measuring
INK_LEVEL = 16      # of 255: fainter pixels are background (antialiasing fringes, compression noise)
LINE_LEVEL = 64     # of 255: pixels at least this dark count when the line's width is measured
BAND_ROWS = 128     # rows composited at once: the wide temporaries stay a small fraction of the image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PNG_CHUNKS = 10_000  # a canvas's PNG has a handful; a 2 MB body could hold 170,000 empty ones
# The chunks that decide the pixels. Every other one (text, compressed text, colour profiles, animation
# frames, private chunks) is dropped before the decoder sees the file: none changes what the model sees,
# and each is work (Pillow inflates compressed text up to 64 MB) that the size check does not bound.
PIXEL_CHUNKS = (b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND")
# Bytes per pixel of each mode Pillow decodes a PNG to (it keeps RGB and LA in four bytes a pixel).
DECODED_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "LA": 4, "RGB": 4, "RGBA": 4}


def png_pixels_only(png, max_side):
    """The PNG's pixel chunks as a new PNG (IDATs joined into one), and its (width, height) from its only IHDR.

    ValueError, naming the bad value, for anything a decoder could read differently from what was checked:
    no PNG signature, a first chunk that is not IHDR, a second IHDR (or PLTE, tRNS), a size of 0 or over
    max_side, a chunk cut short or with a bad checksum, IDATs that are not consecutive, no IDAT, no IEND, or
    more than MAX_PNG_CHUNKS chunks.
    """
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("it is not a PNG (no PNG signature)")
    position, seen, data, idat_ended, size = len(PNG_SIGNATURE), {}, [], False, None
    for count in range(MAX_PNG_CHUNKS + 1):
        if count == MAX_PNG_CHUNKS:
            raise ValueError(f"it has more than {MAX_PNG_CHUNKS:,} chunks")
        if position + 12 > len(png):
            raise ValueError("it ends before its IEND chunk")
        length, kind = struct.unpack_from(">I4s", png, position)
        name = kind.decode("latin-1")
        end = position + 12 + length
        if end > len(png):
            raise ValueError(f"its {name!r} chunk of {length:,} bytes is cut short")
        body = png[position + 8:end - 4]
        position = end
        if count == 0 and kind != b"IHDR":
            raise ValueError(f"its first chunk is {name!r}, not 'IHDR'")
        if kind not in PIXEL_CHUNKS:
            if data:
                idat_ended = True
            continue
        if zlib.crc32(body, zlib.crc32(kind)) != struct.unpack_from(">I", png, end - 4)[0]:
            raise ValueError(f"its {name!r} chunk has a bad checksum")
        if kind == b"IDAT":
            if idat_ended:
                raise ValueError("its IDAT chunks are not consecutive")
            data.append(body)
            continue
        if data:
            idat_ended = True
        if kind in seen:
            raise ValueError(f"it has more than one {name!r} chunk (a decoder could use either)")
        if kind == b"IEND":
            break
        if kind == b"IHDR":
            if length != 13:
                raise ValueError(f"its IHDR chunk is {length} bytes, not 13")
            size = struct.unpack(">II", body[:8])
            if 0 in size or max(size) > max_side:
                raise ValueError(f"{size[0]}x{size[1]} pixels (at most {max_side}x{max_side})")
        seen[kind] = body
    if not data:
        raise ValueError("it has no IDAT chunk (no pixels)")

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    pixels = b"".join(chunk(kind, seen[kind]) for kind in (b"IHDR", b"PLTE", b"tRNS") if kind in seen)
    return PNG_SIGNATURE + pixels + chunk(b"IDAT", b"".join(data)) + chunk(b"IEND", b""), size


def png_to_bitmap(png, max_side):
    """PNG bytes to the model's input (as image_to_bitmap), decoding only what was checked.

    ValueError naming the problem for a PNG that breaks the rules of png_pixels_only, that decodes to
    another size than its header says or to an unknown mode, or that has no ink; OSError (or SyntaxError)
    from Pillow for pixel data it cannot read.
    """
    from PIL import Image

    pixels, size = png_pixels_only(png, max_side)
    with Image.open(io.BytesIO(pixels), formats=["PNG"]) as image:
        # Checked before load(): what Pillow is about to allocate is this size in this mode, nothing else.
        if image.size != size:
            raise ValueError(f"the decoder reads {image.size[0]}x{image.size[1]} pixels where the header "
                             f"says {size[0]}x{size[1]}")
        if image.mode not in DECODED_BYTES_PER_PIXEL:
            raise ValueError(f"pixel format {image.mode!r} is not one a PNG decodes to")
        image.load()
        return image_to_bitmap(image)


def ink_layer(image):
    """The picture's ink as a uint8 array, 0 = background: composited on white, inverted if light on dark.

    Pillow converts and numpy composites a band of rows at a time, so the memory beyond the decoded image
    is the greyscale result and one band's temporaries: an RGBA picture costs about what a greyscale one
    does (converting it whole took four wide copies, five times the greyscale picture's memory).
    """
    width, height = image.size
    if "A" not in image.getbands() and "transparency" not in image.info:
        grey = np.asarray(image.convert("L"))
    else:
        grey = np.empty((height, width), dtype=np.uint8)
        for top in range(0, height, BAND_ROWS):
            bottom = min(height, top + BAND_ROWS)
            grey_alpha = np.asarray(image.crop((0, top, width, bottom)).convert("LA"), dtype=np.uint16)
            # Composited on white as integers (Pillow's alpha_composite on RGBA costs four times as much):
            # round((grey * alpha + 255 * (255 - alpha)) / 255), written as 255 - round(alpha * (255 - grey)
            # / 255) so that it fits 16 bits, with the division by 255 done as (v + 1 + (v >> 8)) >> 8,
            # exact for every v up to 65,152 (tests/test_serve.py checks all 65,536 pairs).
            darkness = grey_alpha[..., 1] * (255 - grey_alpha[..., 0]) + 127
            grey[top:bottom] = 255 - ((darkness + 1 + (darkness >> 8)) >> 8)
    return 255 - grey if grey.mean() >= 128 else grey


def block_maximum(ink, factor):
    """Shrink by an integer factor, keeping the most ink of each factor x factor block."""
    if factor == 1:
        return ink
    height, width = ink.shape
    padded = np.zeros((math.ceil(height / factor) * factor, math.ceil(width / factor) * factor), dtype=ink.dtype)
    padded[:height, :width] = ink
    return padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor).max(axis=(1, 3))


def disc_maximum(values, radius):
    """Each pixel's largest value within a disc of this radius (a round brush), on values padded by it.

    The disc is a stack of horizontal runs, one per row offset, so it is that many running maxima along
    rows: linear in the pixels times 2 * radius + 1, where a 2-D footprint would cost its area.
    """
    from scipy import ndimage

    padded = np.pad(values, ((2 * radius, 2 * radius), (radius, radius)))
    result = np.zeros((values.shape[0] + 2 * radius, padded.shape[1]))
    for offset in range(-radius, radius + 1):
        half_run = math.isqrt(radius * radius - offset * offset)
        runs = ndimage.maximum_filter1d(padded, size=2 * half_run + 1, axis=1, mode="constant")
        np.maximum(result, runs[radius + offset:radius + offset + result.shape[0]], out=result)
    return result


def image_to_bitmap(image):
    """A PIL image to a flat list of 784 values, 0..255, ink = 255; ValueError if it has no ink."""
    from PIL import Image
    from scipy import ndimage

    ink = ink_layer(image)
    rows = np.nonzero(ink.max(axis=1) > INK_LEVEL)[0]
    columns = np.nonzero(ink.max(axis=0) > INK_LEVEL)[0]
    if len(rows) == 0:
        raise ValueError("the image has no ink")
    crop = ink[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    crop = block_maximum(crop, math.ceil(max(crop.shape) / WORKING_SIDE)).astype(np.float64)
    inked = crop > LINE_LEVEL
    line_width = 1.0
    if inked.any():
        distances = ndimage.distance_transform_edt(np.pad(inked, 1))[1:-1, 1:-1][inked]
        line_width = max(1.0, 2 * float(np.percentile(distances, 90)))
    centre_extent = max(max(crop.shape) - line_width, 1.0)
    target_width = LINE_DIAMETER / (ORIGINAL_SIDE - 1) * centre_extent
    grow = int(round(target_width - line_width))
    if grow >= 1:
        crop = disc_maximum(crop, (grow + 1) // 2)
    scale = IMAGE_SIZE / (ORIGINAL_SIDE + 2 * PADDING + LINE_DIAMETER)
    span = (ORIGINAL_SIDE - 1 + LINE_DIAMETER) * scale
    factor = span / (centre_extent + max(target_width, line_width))
    height, width = crop.shape
    new_width = min(IMAGE_SIZE, max(1, round(width * factor)))
    new_height = min(IMAGE_SIZE, max(1, round(height * factor)))
    small = Image.fromarray(np.clip(crop, 0, 255).astype(np.uint8)).resize((new_width, new_height),
                                                                           Image.Resampling.BOX)
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float64)
    top, left = (IMAGE_SIZE - new_height) // 2, (IMAGE_SIZE - new_width) // 2
    canvas[top:top + new_height, left:left + new_width] = np.asarray(small, dtype=np.float64)
    canvas *= 255.0 / max(canvas.max(), 1.0)
    return [int(value) for value in np.clip(np.floor(canvas + 0.5), 0, 255).reshape(-1)]


if __name__ == "__main__":
    from PIL import Image

    from training.ndjson import print_bitmap

    with open(sys.argv[1], "rb") as file:
        data = file.read()
    if data.startswith(PNG_SIGNATURE):
        print_bitmap(png_to_bitmap(data, 4096))  # as the server reads it
    else:
        with Image.open(io.BytesIO(data)) as picture:
            print_bitmap(image_to_bitmap(picture))
