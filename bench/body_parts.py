"""The body-parts few-shot model's variants, three seeds each, by the same 5-fold as `make body-parts`.

    python -m bench.body_parts                      # every variant; about 15 minutes on 2 cores
    python -m bench.body_parts --variants today shipped

Each seed (augmented copies, bitmap sample, folds and heads, as training.fewshot's --seed) prepares the copies'
features and DoodleNet's nine-way guesses once; every variant then trains its five heads on them, so variants at
one seed see the same copies and folds and are compared drawing by drawing (exact McNemar test against "today",
as bench/routes.py does). DoodleNet (ml5, MIT, ../shared/anchors/doodlenet) is read at run time, ink = 1 as our
bitmaps (on the 180 stroke drawings it gets 94 % nine-way with ink = 1 and 23 % inverted); each fold's heads
get its guesses for their own training copies and bitmaps only (training.fewshot.training_rows). Its own
nine-way accuracy on the drawings is reported too, as the teacher's ceiling here, with the caveat that these are
public Quick, Draw! drawings it may have learned from.

Per-seed held-out probabilities are cached in runs/body-parts-bench/ (not committed); --fresh ignores them.
Prints JSON and writes bench/results/body_parts.json.
"""

import argparse
import json
import time

import numpy as np

from bench.common import ROOT, SHARED, machine, write_result
from bench.routes import mcnemar

DOODLENET = SHARED / "anchors" / "doodlenet"
CACHE = ROOT / "runs" / "body-parts-bench"
SEEDS = (1337, 1338, 1339)
REFERENCE = "today"
# What each variant changes in training.fewshot.FEWSHOT_DEFAULTS. "today" is the model shipped before the teacher.
# "transfer": function matching on other classes' bitmaps (training.fewshot's transfer_bitmaps_per_class).
NO_TRANSFER = {"transfer_bitmaps_per_class": 0}
TRANSFER = {"transfer_bitmaps_per_class": 200, "transfer_weight": 1.0}
VARIANTS = {
    "today": {"teacher_weight": 0.0, "mirror_copies": False} | NO_TRANSFER,
    "mirror": {"teacher_weight": 0.0, "mirror_copies": True} | NO_TRANSFER,
    "teacher 0.5": {"teacher_weight": 0.5, "mirror_copies": False} | NO_TRANSFER,
    "teacher 1.0": {"teacher_weight": 1.0, "mirror_copies": False} | NO_TRANSFER,
    "teacher 0.5 + mirror": {"teacher_weight": 0.5, "mirror_copies": True} | NO_TRANSFER,
    "teacher 1.0 + mirror": {"teacher_weight": 1.0, "mirror_copies": True} | NO_TRANSFER,
    "teacher 1.0 + mirror + transfer": {"teacher_weight": 1.0, "mirror_copies": True} | TRANSFER,
}
VARIED = ("teacher_weight", "mirror_copies", "transfer_bitmaps_per_class", "transfer_weight")


def recipe(defaults, base):
    """What a cached result depends on beyond its variant's own settings (which every variant sets): the other
    settings, and the network whose features the heads read (a hash of runs/sketchnet/model.h5)."""
    return {key: value for key, value in defaults.items() if key not in VARIED} | {"base": base}


def base_hash():
    import hashlib

    return hashlib.sha256((ROOT / "runs" / "sketchnet" / "model.h5").read_bytes()).hexdigest()


def scores(probabilities, labels):
    top = np.argsort(-probabilities, axis=1)
    return {"top1": round(float(np.mean(top[:, 0] == labels)), 4),
            "top3": round(float(np.mean(np.any(top[:, :3] == labels[:, None], axis=1))), 4)}


def held_out_for(seed, names, fresh):
    """{variant: K-fold probabilities} at one seed, and the labels, computing what the cache lacks."""
    from training import data as quickdraw
    from training import fewshot

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"seed-{seed}.npz"
    cached = dict(np.load(path)) if path.is_file() and not fresh else {}
    stored = json.loads(str(cached.get("defaults", "{}")))
    if cached and recipe(stored, stored.get("base")) != recipe(fewshot.FEWSHOT_DEFAULTS, base_hash()):
        cached = {}  # the recipe or the base network changed: nothing cached still holds
    missing = [name for name in names if name not in cached]
    if missing:
        classes = quickdraw.PRESETS["body-parts"]
        config = {"classes": classes, "seed": seed, "base": str(ROOT / "runs" / "sketchnet"),
                  "data_dir": str(SHARED / "data" / "quickdraw"),
                  "strokes_dir": str(SHARED / "data" / "quickdraw" / "strokes"), "extra_strokes": [],
                  # Prepared with every view a variant may use; each variant picks its rows from them.
                  "settings": fewshot.FEWSHOT_DEFAULTS | {"mirror_copies": True} | TRANSFER}
        teacher = fewshot.load_teacher(DOODLENET, classes)
        started = time.perf_counter()
        material = fewshot.prepare(config, teacher)
        cached["labels"] = material["labels"]
        cached["doodlenet"] = teacher(quickdraw.drawings_input(
            fewshot.load_drawings(config["strokes_dir"], classes)[0]))
        print(f"seed {seed}: prepared in {time.perf_counter() - started:.0f} s", flush=True)
        for name in missing:
            started = time.perf_counter()
            settings = fewshot.FEWSHOT_DEFAULTS | VARIANTS[name]
            cached[name], _ = fewshot.kfold_probabilities(material, settings, seed)
            print(f"seed {seed}, {name}: {scores(cached[name], material['labels'])} "
                  f"in {time.perf_counter() - started:.0f} s", flush=True)
        cached["defaults"] = np.array(json.dumps(fewshot.FEWSHOT_DEFAULTS | {"base": base_hash()}, sort_keys=True))
        np.savez(path, **cached)
    return {name: cached[name] for name in names} | {"doodlenet": cached["doodlenet"]}, cached["labels"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--fresh", action="store_true", help="recompute what runs/body-parts-bench/ caches")
    args = parser.parse_args(argv)
    names = list(dict.fromkeys([REFERENCE, *args.variants]))

    from training.cli import start_tensorflow_quietly
    start_tensorflow_quietly()
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()  # as training.fewshot: one machine, one seed, one result

    shipped = json.loads((ROOT / "runs" / "body-parts" / "config.json").read_text())
    table = {name: {"settings": VARIANTS[name], "seeds": {}} for name in names}
    teacher_alone = {}
    for seed in SEEDS:
        probabilities, labels = held_out_for(seed, names, args.fresh)
        teacher_alone[str(seed)] = scores(probabilities["doodlenet"], labels)
        reference_correct = probabilities[REFERENCE].argmax(1) == labels
        for name in names:
            correct = probabilities[name].argmax(1) == labels
            only_today, only_variant, p = mcnemar(reference_correct, correct)
            table[name]["seeds"][str(seed)] = scores(probabilities[name], labels) | {
                "only_today_right": only_today, "only_variant_right": only_variant, "mcnemar_p": round(p, 4)}
    for name in names:
        per_seed = table[name]["seeds"].values()
        table[name]["mean_top1"] = round(float(np.mean([row["top1"] for row in per_seed])), 4)
        table[name]["mean_top3"] = round(float(np.mean([row["top3"] for row in per_seed])), 4)
        table[name]["ahead_of_today_at_every_seed"] = all(
            row["top1"] > table[REFERENCE]["seeds"][seed]["top1"] for seed, row in table[name]["seeds"].items())
    write_result("body_parts", {
        "evaluation": "5-fold over the 180 stroke drawings of the nine body parts (training.fewshot); every "
                      "drawing held out once with all its copies, which reach no head of its fold as input or as "
                      "a teacher-given target",
        "seeds": list(SEEDS), "reference": REFERENCE, "variants": table,
        "shipped_settings": {key: shipped["settings"].get(key) for key in VARIED},
        "doodlenet_alone_nine_way": teacher_alone,
        "teacher": "DoodleNet (ml5.js, MIT), ../shared/anchors/doodlenet, ink = 1, restricted to the nine classes "
                   "and renormalized",
        "machine": machine(),
    })


if __name__ == "__main__":
    main()
