"""Python prediction time: the server's path (rasterize, then the web model) for real drawings.

    python -m bench.python_speed

Prints JSON (p50/p95 in ms for rasterizing, predicting and both) and writes bench/results/python_speed.json.
"""

import time

from bench.common import ROOT, machine, percentiles, shared_drawings, write_result


def main():
    from serve import Predictor
    from training import raster

    predictor = Predictor(ROOT / "web" / "model")
    records = [drawing for _, drawing in shared_drawings()]
    rasterize_ms, predict_ms, total_ms = [], [], []
    for drawing in records:
        started = time.perf_counter()
        bitmap = raster.rasterize(drawing)
        rasterized = time.perf_counter()
        predictor.predict(bitmap)
        finished = time.perf_counter()
        rasterize_ms.append((rasterized - started) * 1000)
        predict_ms.append((finished - rasterized) * 1000)
        total_ms.append((finished - started) * 1000)
    write_result("python_speed", {"drawings": len(records), "rasterize_ms": percentiles(rasterize_ms, (50, 95)),
                                  "predict_ms": percentiles(predict_ms, (50, 95)),
                                  "total_ms": percentiles(total_ms, (50, 95)), "machine": machine()})


if __name__ == "__main__":
    main()
