"""Every benchmark in one run, on the same machine and data: `make bench`.

    python -m bench.run_all

Runs accuracy, quantization, Python speed, browser speed, candidate architectures' speed, the /predict
load test, the worst cases at the limits (server and page), teaching by class means, the rasterizer's
fidelity and the game's win rule on real drawings one after another (each writes its bench/results/<name>.json),
adds the shipped model's training time, writes bench/results/summary.json and prints the README tables.
"""

import json
import subprocess
import sys

from bench.common import RESULTS, ROOT, write_result

BENCHMARKS = ["bench.accuracy", "bench.quantization", "bench.python_speed", "bench.browser_speed",
              "bench.architectures", "bench.load_test", "bench.hostile", "bench.page_hostile", "bench.teach",
              "bench.fidelity", "bench.game"]


def main():
    for module in BENCHMARKS:
        print(f"== {module}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", module], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    write_summary()
    subprocess.run([sys.executable, "-m", "bench.report"], cwd=ROOT, check=True)


def write_summary():
    """bench/results/summary.json: every benchmark's latest result and the shipped model's training time."""
    metadata = json.loads((ROOT / "web" / "model" / "metadata.json").read_text())
    metrics = json.loads((ROOT / "runs" / metadata["name"] / "metrics.json").read_text())
    summary = {name: json.loads((RESULTS / f"{name}.json").read_text())
               for name in ("accuracy", "quantization", "python_speed", "browser_speed", "architectures",
                            "load_test", "hostile", "page_hostile", "game")}
    summary["training"] = {"model": metadata["name"], "training_seconds": metrics["training_seconds"],
                           "epochs_run": metrics["epochs_run"]}
    return write_result("summary", summary)


if __name__ == "__main__":
    main()
