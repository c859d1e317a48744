"""How closely our rasterizer follows the dataset's own rendering, measured on the shared real drawings.

    python -m bench.fidelity      # prints JSON, writes bench/results/fidelity.json

- render vs cairo: our render() against the cairo recipe of the dataset's issue 19
  (https://github.com/googlecreativelab/quickdraw-dataset/issues/19), on the same (already simplified)
  strokes: the antialiasing alone;
- rasterize vs cairo: the whole path (normalize, then render) against cairo on those strokes;
- with resampling: our normalize against the dataset's procedure as written (resample at 1-unit spacing,
  then RDP), in floating point, where a resampled point can tie the farthest vertex to the last bit;
- the largest shared drawing, in points, strokes and sample-line crossings: how far real drawings stay
  below the limits.
tests/test_raster.py asserts the figures the README quotes.
"""

import math

import numpy as np

from bench.common import machine, shared_drawings, write_result
from training import raster


def cairo_reference(drawing, side=28, line_diameter=16, padding=16):
    """The dataset's renderer (issue 19's cairo recipe) on strokes in 0..255 units: a (side, side) array."""
    import cairocffi as cairo

    surface = cairo.ImageSurface(cairo.FORMAT_ARGB32, side, side)
    context = cairo.Context(surface)
    context.set_antialias(cairo.ANTIALIAS_BEST)
    context.set_line_cap(cairo.LINE_CAP_ROUND)
    context.set_line_join(cairo.LINE_JOIN_ROUND)
    context.set_line_width(line_diameter)
    total_padding = padding * 2.0 + line_diameter
    scale = side / (256.0 + total_padding)
    context.scale(scale, scale)
    context.translate(total_padding / 2.0, total_padding / 2.0)
    context.set_source_rgb(0, 0, 0)
    context.paint()
    strokes = [np.array(stroke[:2], dtype=float) for stroke in drawing]
    offset = ((256.0, 256.0) - np.hstack(strokes).max(axis=1)) / 2.0
    context.set_source_rgb(1, 1, 1)
    for xs, ys in (stroke + offset.reshape(-1, 1) for stroke in strokes):
        context.move_to(xs[0], ys[0])
        for x, y in zip(xs, ys):
            context.line_to(x, y)
        context.stroke()
    surface.flush()
    return np.frombuffer(surface.get_data(), np.uint8).reshape(side, side, 4)[:, :, 2].astype(int)


def normalize_with_resampling(drawing):
    """The dataset's procedure as written: shift, scale, resample every 1 unit, RDP (epsilon 2), round."""
    strokes = [list(zip(map(float, xs), map(float, ys))) for xs, ys, *_ in drawing]
    min_x = min(x for stroke in strokes for x, _ in stroke)
    min_y = min(y for stroke in strokes for _, y in stroke)
    largest = max(max(x - min_x, y - min_y) for stroke in strokes for x, y in stroke)
    scale = 255.0 / largest if largest > 0 else 1.0
    result = []
    for stroke in strokes:
        points = [((x - min_x) * scale, (y - min_y) * scale) for x, y in stroke]
        resampled = [points[0]]
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            steps = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0)))
            resampled += [(x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps) for step in range(1, steps)]
            resampled.append((x1, y1))
        xs, ys = np.array(resampled).T
        kept = raster.rdp(xs, ys)
        result.append([raster.round_half_up(xs[kept]).astype(int).tolist(),
                       raster.round_half_up(ys[kept]).astype(int).tolist()])
    return result


def measure():
    drawings = [drawing for _, drawing in shared_drawings()]
    references = [cairo_reference(drawing) for drawing in drawings]
    render_difference = [np.abs(reference - np.array(raster.render(drawing)).reshape(28, 28)).mean()
                         for reference, drawing in zip(references, drawings)]
    rasterize_difference = [np.abs(reference - np.array(raster.rasterize(drawing)).reshape(28, 28)).mean()
                            for reference, drawing in zip(references, drawings)]
    resampled = [normalize_with_resampling(drawing) for drawing in drawings]
    same_strokes = sum(raster.normalize(drawing) == other for drawing, other in zip(drawings, resampled))
    resampled_difference = [np.abs(reference - np.array(raster.render(other)).reshape(28, 28)).mean()
                            for reference, other in zip(references, resampled)]
    return {
        "drawings": len(drawings),
        "largest_drawing_points": max(sum(len(stroke[0]) for stroke in drawing) for drawing in drawings),
        "most_strokes": max(len(drawing) for drawing in drawings),
        "most_crossings": max(raster.sample_line_crossings(raster.normalize(drawing)) for drawing in drawings),
        "render_vs_cairo_mean_abs": float(np.mean(render_difference)),
        "render_vs_cairo_worst_drawing": float(np.max(render_difference)),
        "rasterize_vs_cairo_mean_abs": float(np.mean(rasterize_difference)),
        "with_resampling": {"same_normalized_strokes": int(same_strokes),
                            "rasterize_vs_cairo_mean_abs": float(np.mean(resampled_difference))},
    }


def main():
    write_result("fidelity", measure() | {"machine": machine()})


if __name__ == "__main__":
    main()
