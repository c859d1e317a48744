"""Size and accuracy of each quantized export of the shipped run, and which one the rule picks.

    python -m bench.quantization

Exports runs/<shipped model> as float32, float16 and uint8 (to temporary folders) and reports each
export's size and test top-1 change against Keras on the whole test split. The rule: ship the smallest
export whose top-1 drops by at most 0.3 points. Prints JSON and writes bench/results/quantization.json.
"""

import json
import tempfile
from pathlib import Path

from bench.common import ROOT, machine, write_result

MAX_DROP_POINTS = 0.3


def main():
    import export

    name = json.loads((ROOT / "web" / "model" / "metadata.json").read_text())["name"]
    exports = {}
    with tempfile.TemporaryDirectory() as folder:
        for quantize in export.QUANTIZATIONS:
            report = export.export(ROOT / "runs" / name, Path(folder) / quantize, quantize)
            exports[quantize] = {key: report[key] for key in ("size_bytes", "top1_keras", "top1_export",
                                                              "top1_change_points", "top1_agreement",
                                                              "max_abs_difference")}
    allowed = [q for q, r in exports.items() if r["top1_change_points"] >= -MAX_DROP_POINTS]
    chosen = min(allowed, key=lambda q: exports[q]["size_bytes"])
    write_result("quantization", {"run": name, "exports": exports, "rule": f"smallest with a top-1 drop of at "
                                  f"most {MAX_DROP_POINTS} points", "chosen": chosen, "machine": machine()})


if __name__ == "__main__":
    main()
