"""Render bench/results/*.json as the Markdown tables the README and docs/ quote verbatim.

    python -m bench.report [SECTION]     # readme (default), results, reliability, experiments, routes,
                                         # body-parts or teachers

Each section is pasted into one document, and tests/test_docs.py checks that it still stands there exactly:
readme into README.md, results into docs/results.md, reliability into docs/server.md, experiments and
routes, body-parts and teachers into docs/experiments.md. The prose here is only what a table needs to be read.
"""

import json
import sys

from bench.common import RESULTS, ROOT

# Which document each section is pasted into (tests/test_docs.py reads this).
DOCUMENTS = {"readme": "README.md", "results": "docs/results.md", "reliability": "docs/server.md",
             "experiments": "docs/experiments.md", "routes": "docs/experiments.md",
             "body-parts": "docs/experiments.md", "teachers": "docs/experiments.md"}
# The results each section is made from; a section whose results are missing says so and exits 2.
NEEDS = {"readme": ("accuracy", "browser_speed", "game"),
         "results": ("browser_speed", "load_test", "page_hostile", "teach"),
         "reliability": ("hostile",), "experiments": ("accuracy", "quantization", "architectures", "python_speed",
                                                      "teach"),
         "routes": ("routes",), "body-parts": ("body_parts",), "teachers": ("teachers",)}


def load(name):
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def percent(value):
    return f"{100 * value:.1f} %" if value is not None else "n/a"


def conclusion(accuracy, browser):
    """The README's one-line conclusion, worked out from the results it sums up."""
    ours, original, doodlenet = (accuracy["models"][key] for key in ("ours", "original", "doodlenet"))
    smaller = doodlenet["web_model_bytes"] / ours["web_model_bytes"]
    faster = [name for name, result in browser["backends"].items()
              if result["prediction_ms"]["ours"]["p50"] < result["prediction_ms"]["doodlenet"]["p50"]]
    slower = [name for name in browser["backends"] if name not in faster]
    speed = ("faster than it on every backend" if not slower else
             f"faster than it on {' and '.join(faster)}, slower on {' and '.join(slower)}" if faster else
             "slower than it on every backend")
    ahead = {name: 100 * (ours[key][top] - doodlenet[key][top])
             for name, key, top in (("bitmaps", "test_split", "top1"), ("bitmaps' top-3", "test_split", "top3"),
                                    ("real strokes", "real_strokes", "top1"))}
    behind = [f"{-points:.1f} points behind on {name}" for name, points in ahead.items() if points < 0]
    gain = 100 * (ours["test_split"]["top1"] - original["test_split"]["top1"])
    return (f"In one line: {gain:.1f} points ahead of the tutorial's network on bitmaps, {smaller:.0f} times smaller "
            f"than DoodleNet and {speed} (per whole guess), "
            + (f"but not yet ahead of it on accuracy ({', '.join(behind)})." if behind
               else "and ahead of it on accuracy."))


def accuracy_lines(accuracy):
    lines = [f"Accuracy on {accuracy['classes']} classes: the test split ({accuracy['test_split_size']} "
             f"bitmaps) and {accuracy['real_stroke_drawings']} real stroke drawings rasterized by our code "
             "(`python -m bench.accuracy`).", "",
             "| model | parameters | multiply-adds | web model | test top-1 | test top-3 | real strokes top-1 "
             "| clean classes | denoised classes |",
             "|---|---|---|---|---|---|---|---|---|"]
    for key in ("ours", "original", "doodlenet"):
        model = accuracy["models"][key]
        strokes = model["real_strokes"]
        lines.append(f"| {model['name']} | {model['parameters']:,} "
                     f"| {model['multiply_adds'] / 1e6:.1f} M | {model['web_model_bytes'] / 1000:.0f} KB "
                     f"| {percent(model['test_split']['top1'])} | {percent(model['test_split']['top3'])} "
                     f"| {percent(strokes['top1'])} | {percent(strokes.get('clean_classes_top1'))} "
                     f"| {percent(strokes.get('denoised_classes_top1'))} |")
    return lines + [""]


def body_parts_summary():
    """The few-shot body parts in one sentence (README), from runs/body-parts/metrics.json."""
    test = json.loads((ROOT / "runs" / "body-parts" / "metrics.json").read_text())["test"]
    return ["The nine body parts from a few drawings each and DoodleNet's guesses on them (`make body-parts`, "
            "measured by 5-fold over the drawings, each held out once with all its copies): "
            f"**{100 * test['top1']:.1f} % top-1, "
            f"{100 * test['top3']:.1f} % top-3** (the tutorial reached 90.15 % with 10,000 bitmaps a class; "
            "per class in [`docs/results.md`](docs/results.md)).", ""]


def body_parts_per_class():
    test = json.loads((ROOT / "runs" / "body-parts" / "metrics.json").read_text())["test"]
    per_class = " | ".join(f"{name} {100 * values['recall']:.0f} % ({values['count']})"
                           for name, values in test["per_class"].items())
    return [f"The body parts by 5-fold, per class, with its number of drawings: {per_class}.", ""]


def speed_lines(browser):
    cores = browser.get("machine", {}).get("cores", "?")
    lines = [f"Speed in headless Chromium on a {cores}-core machine (`python -m bench.browser_speed`; webgl is "
             "software-rendered there):", "",
             "| backend | cold start | ours: prediction p50 / p95 | DoodleNet: prediction p50 / p95 "
             "| pointer event to guess p50 / p95 |", "|---|---|---|---|---|"]
    for name, result in browser["backends"].items():
        ours, doodle = result["prediction_ms"]["ours"], result["prediction_ms"]["doodlenet"]
        pointer = result["pointer_to_guess_ms"]
        lines.append(f"| {name} | {result['cold_start_ms']:.0f} ms | {ours['p50']:.2f} / {ours['p95']:.2f} ms "
                     f"| {doodle['p50']:.2f} / {doodle['p95']:.2f} ms "
                     f"| {pointer['p50']:.1f} / {pointer['p95']:.1f} ms |")
    return lines + [""]


def load_test_lines(load_test):
    latency = load_test["latency_ms"]
    return [f"Load (`python -m bench.load_test`): {load_test['requests']} POST /predict at concurrency "
            f"{load_test['concurrency']}: {load_test['requests_per_second']} requests/s, p50 {latency['p50']:.0f} ms, "
            f"p99 {latency['p99']:.0f} ms, {load_test['errors']} errors.", ""]


def page_hostile_lines(page):
    """The page under the heaviest input a person or a file can give it (docs/results.md)."""
    cases = page["cases"]
    replay, stroke, small, long, store = (cases[name] for name in ("replay", "long_stroke", "import_small",
                                                                   "import_long", "store"))
    move = stroke["pointermove_handler_ms"]
    rows = [
        f"| replay of a pasted {replay['points']:,}-point drawing | {replay['milliseconds']:.0f} ms over "
        f"{replay['frames']} frames, frame gaps p95 {replay['frame_gap_ms']['p95']:.0f} ms | "
        f"{replay['longest_task_ms']:.0f} ms |",
        f"| one stroke drawn with the mouse, growing from {stroke['points']} points | each move p50 "
        f"{move['p50']:.1f} ms, p95 {move['p95']:.1f} ms, slowest {move['max']:.1f} ms | "
        f"{stroke['longest_task_ms']:.0f} ms |"]
    for case, what in ((small, "small lines"), (long, "lines of 5,000 points")):
        rows.append(f"| import of {case['lines']:,} {what} ({case['bytes'] / 1e6:.1f} MB) | {case['import_s']:.1f} s; "
                    f"the next start {case['start_ms']['after_import']:.0f} ms (empty store "
                    f"{case['start_ms']['empty_store']:.0f} ms) | {case['longest_task_ms']:.0f} ms |")
    rows.append(f"| {store['count']:,} corrections ({store['bytes'] / 1e6:.1f} MB) | counted at start in "
                f"{store['count_ms']:.1f} ms, saved in {store['save_ms']:.0f} ms; start "
                f"{store['start_ms']['full_store']:.0f} ms (empty {store['start_ms']['empty_store']:.0f} ms) | |")
    return ["The page under the heaviest input within its limits, in headless Chromium (`python -m "
            "bench.page_hostile`; an import reads at most 500 drawings, and rasterizing runs in a worker):", "",
            "| case | figure | longest main-thread task |", "|---|---|---|", *rows, ""]


def teaching_lines(teach):
    """What the page's teaching finds, as a person meets it (docs/results.md)."""
    built_in, none, learn = teach["built_in_real_strokes_top1"], teach["none_of_these"], teach["learn_in_page"]
    return [f"Teaching it new things in the browser (`python -m bench.teach`): each of the "
            f"{len(teach['new_classes'])} shared stroke classes the model does not know, taught from "
            f"{teach['examples_per_taught_class']} drawings, holding one out in turn; found when the page's top "
            "guess is the taught class:", "",
            "| " + " | ".join(teach["new_classes"]) + " | all |", "|" + "---|" * (len(teach["new_classes"]) + 1),
            "| " + " | ".join(percent(value) for value in teach["new_classes"].values())
            + f" | {percent(teach['new_classes_found'])} |", "",
            f"The built-in classes' {teach['built_in_drawings']} real strokes with 0, 1, 3 and 6 taught classes: "
            f"{percent(built_in['0'])}, {percent(built_in['1'])}, {percent(built_in['3'])} and "
            f"{percent(built_in['6'])}. \"None of these\" (a built-in top guess under "
            f"{percent(none['below'])}) fires on {percent(none['built_in'])} of those drawings, on "
            f"{percent(none['taught_held_out'])} of the held-out drawings of a taught class and on "
            f"{percent(none['unknown_nothing_taught'])} of the unknown classes' drawings before they are taught "
            f"(the nearest class mean's similarity, bound to fire as often on the built-in drawings, caught "
            f"{percent(none['compared_with']['unknown_nothing_taught'])}). "
            f"Learning a drawing in the page ({learn['backend']}, {learn['drawings']} adds) takes "
            f"{learn['p50']:.0f} ms at p50 and {learn['p95']:.0f} ms at p95.", ""]


def teaching_methods_lines(teach):
    """Every teaching rule tried, on the same drawings (docs/experiments.md)."""
    methods = teach["methods"]
    zero = teach["built_in_real_strokes_top1"]["0"]
    rows = [f"| {name.replace('_', ' ')} | {method['description']} | {percent(method['found'])} | "
            + " | ".join(percent(method["built_in_top1"][count]) for count in ("1", "3", "6"))
            + f" | {100 * (zero - method['built_in_top1']['6']):.1f} |" for name, method in methods.items()]
    return [f"Teaching rules (`python -m bench.teach`): a class taught from {teach['examples_per_taught_class']} "
            "drawings, on the shipped network's features; every rule sees the same drawings. *Found*: leave "
            f"one drawing out, over the {teach['unknown_drawings']} drawings of the "
            f"{len(teach['new_classes'])} classes the model does not know. *Built-in*: the "
            f"{teach['built_in_drawings']} real strokes of the 34 classes ({percent(zero)} with none taught).", "",
            "| rule | what it is | found | built-in, 1 taught | 3 taught | 6 taught | points lost at 6 |",
            "|---|---|---|---|---|---|---|", *rows, "",
            *teaching_trade_lines(teach)]


def teaching_trade_lines(teach):
    """The table's reading: each rule buys found classes with built-in drawings; the best of each end."""
    methods = teach["methods"]
    zero = teach["built_in_real_strokes_top1"]["0"]

    def loss(name):
        return round(100 * (zero - methods[name]["built_in_top1"]["6"]), 1)  # as the table shows it

    within = [name for name in methods if loss(name) <= 1.0]
    best_within = max(within, key=lambda name: methods[name]["found"]) if within else None
    most_found = max(methods, key=lambda name: methods[name]["found"])
    shipped = methods["beside_softmax"]
    lines = [f"Every rule trades taught classes found against built-in drawings taken. The shipped rule finds "
             f"{percent(shipped['found'])} and costs {loss('beside_softmax'):.1f} points at 6 taught"]
    if best_within:
        lines[0] += (f"; the best rule within 1 point ({best_within.replace('_', ' ')}) finds "
                     f"{percent(methods[best_within]['found'])}")
    lines[0] += (f"; the rule that finds most ({most_found.replace('_', ' ')}, {percent(methods[most_found]['found'])}) "
                 f"costs {loss(most_found):.1f} points. ")
    reaching = [name for name in within if methods[name]["found"] >= 0.8]
    lines[0] += (f"{', '.join(reaching)} finds 80 % at a cost of at most 1 point." if reaching
                 else "None finds 80 % at a cost of at most 1 point.")
    return lines + [""]


def training_time_lines():
    """The time `make train` spends on the shipped student and on its own-size teacher, as each run recorded it."""
    student, teacher = (json.loads((ROOT / "runs" / name / "metrics.json").read_text())
                        for name in ("sketchnet", "teacher"))
    total = student["training_seconds"] + teacher["training_seconds"]
    return [f"Training the shipped model took {student['training_seconds']:.0f} s ({student['epochs_run']} epochs) "
            f"after its teacher's {teacher['training_seconds']:.0f} s ({teacher['epochs_run']} epochs): "
            f"{total / 60:.0f} minutes on 2 CPU cores (`make train`; configs, metrics and plots in "
            "[`runs/sketchnet/`](../runs/sketchnet) and [`runs/teacher/`](../runs/teacher)).", ""]


def reliability_lines(hostile):
    """The worst input within the limits, and the server under attack (docs/server.md)."""
    from bench.hostile import server_families_lines

    limits = hostile["limits"]
    lines = [f"Worst input within the limits ({limits['max_points']:,} points, {limits['max_strokes']} strokes, "
             f"{limits['max_crossings']:,} sample-line crossings after simplification, PNGs up to "
             f"{limits['max_image_side']}x{limits['max_image_side']} and "
             f"{limits['max_body_bytes'] // (1024 * 1024)} MB; `python -m bench.hostile`), median of 5 runs (PNGs: 3). "
             "The shapes (`bench/shapes.py`): one stroke zig-zagging across (zigzag) or up and down (comb), a "
             "spiral, a random scribble, 200 strokes of random segments (confetti), the costliest drawing a seeded "
             "search found (searched), and shapes over the ink limit, which are refused (their time is the "
             "refusal's); the PNGs: 1-pixel lines every 8 pixels, and noise.", "",
             "| input | Python | JavaScript (Node) | one POST /predict |", "|---|---|---|---|"]
    for name, python in hostile["python_rasterize"].items():
        javascript = hostile["javascript_rasterize"][name]
        request = hostile["predict_requests"][name]
        answer = "" if request.get("status", 200) == 200 else f" ({request['status']}, refused)"
        lines.append(f"| {name} | {python['median_ms']:.0f} ms | {javascript['median_ms']:.0f} ms "
                     f"| {request['ms']:.0f} ms{answer} |")
    for name, picture in hostile["png_to_bitmap"].items():
        lines.append(f"| PNG {name} ({picture['bytes']:,} bytes) | {picture['median_ms']:.0f} ms | (Python only) "
                     f"| {hostile['predict_requests'][name]['ms']:.0f} ms |")
    searched = hostile.get("searched_drawing")
    if searched:
        strokes = f"{searched['strokes']} stroke" + ("s" if searched["strokes"] != 1 else "")
        lines += ["", f"The searched drawing ({strokes}, {searched['points']:,} points) as "
                  f"{searched['requests']} POST /predict: median {searched['median_ms']:.0f} ms, slowest "
                  f"{searched['max_ms']:.0f} ms."]
    attack = hostile["server_under_attack"]
    healthz = attack["healthz_ms"]
    answered = ", ".join(f"{count} answered {status}" for status, count in sorted(attack["attack_statuses"].items()))
    lines += ["", f"/healthz while {attack['clients']} clients post those drawings in a loop and "
              f"{attack['idle_connections']} connections sit half-sent: p50 {healthz['p50']:.0f} ms, p95 "
              f"{healthz['p95']:.0f} ms, slowest {healthz['p100']:.0f} ms, {attack['healthz_failures']} failures "
              f"in {attack['healthz_polls']} polls; of the attack's requests {answered}.", ""]
    if hostile.get("server_families"):
        lines += server_families_lines(hostile["server_families"])
    return lines


def leftover_cue_lines(accuracy):
    lines = ["Leftover cue: the clean classes' test drawings read as stored and as their denoised twins "
             "(same drawings, a few wrongly restored pixels each). DoodleNet never saw the leftovers, so its "
             "change is what they cost as noise; a larger shift toward the denoised classes means a model "
             "reads them as a sign of those classes.", "",
             "| model | top-1 as stored / as twins | called a denoised class as stored / as twins |",
             "|---|---|---|"]
    for key in ("ours", "original", "doodlenet"):
        model, cue = accuracy["models"][key], accuracy["models"][key]["leftover_cue"]
        lines.append(f"| {model['name']} | {percent(cue['top1_as_stored'])} / {percent(cue['top1_as_twins'])} "
                     f"| {percent(cue['called_denoised_as_stored'])} / {percent(cue['called_denoised_as_twins'])} |")
    return lines + [""]


def quantization_lines(quantization):
    lines = ["Quantized exports of the shipped run (`python -m bench.quantization`); the smallest whose test "
             "top-1 drops by at most 0.3 points ships:", "", "| export | size | test top-1 | change | top-1 "
             "agreement with float32 Keras |", "|---|---|---|---|---|"]
    for name, report in quantization["exports"].items():
        chosen = " (shipped)" if name == quantization["chosen"] else ""
        lines.append(f"| {name}{chosen} | {report['size_bytes'] / 1000:.0f} KB | {percent(report['top1_export'])} "
                     f"| {report['top1_change_points']:+.2f} points | {percent(report['top1_agreement'])} |")
    return lines + [""]


def architectures_lines(architectures):
    lines = ["Candidate architectures with random weights, timed beside DoodleNet in the same page "
             "(`python -m bench.architectures`): time per prediction follows multiply-adds.", "",
             "| architecture | parameters | multiply-adds | wasm p50 / p95 | cpu p50 / p95 |",
             "|---|---|---|---|---|"]
    for name, model in architectures["models"].items():
        wasm, cpu = model["prediction_ms"]["wasm"], model["prediction_ms"]["cpu"]
        lines.append(f"| {name} | {model['parameters']:,} | {model['multiply_adds'] / 1e6:.1f} M "
                     f"| {wasm['p50']:.2f} / {wasm['p95']:.2f} ms | {cpu['p50']:.1f} / {cpu['p95']:.1f} ms |")
    return lines + [""]


def python_speed_lines(python_speed):
    return [f"Python (`python -m bench.python_speed`): rasterize p50 {python_speed['rasterize_ms']['p50']:.2f} ms, "
            f"predict p50 {python_speed['predict_ms']['p50']:.2f} ms, whole /predict path in process p50 "
            f"{python_speed['total_ms']['p50']:.2f} ms.", ""]


def routes_lines(routes):
    """docs/experiments.md's table of issue 16's routes: mean and spread over seeds, paired change."""
    seeds = ", ".join(str(seed) for seed in routes["seeds"])
    doodlenet = routes["doodlenet"]
    lines = [f"The routes of issue 16, each at seeds {seeds} on one split, so every route is measured "
             f"on the same {routes['test_drawings']:,} test drawings and {routes['stroke_drawings']} real stroke "
             "drawings (`make routes`, which ends with `python -m bench.routes`). Each cell: the mean over the seeds "
             "± their standard deviation, then in brackets the change in points against runs/teacher's recipe "
             "(shipped until issue 20) at the same seeds and McNemar's exact p on the drawings where the two "
             "disagree, pooled over the seeds.", "",
             "| route | passes per guess | test top-1 | test top-3 | real strokes top-1 |", "|---|---|---|---|---|",
             f"| DoodleNet (ml5, for reference) | 1 | {percent(doodlenet['test_top1'])} | {percent(doodlenet['test_top3'])} "
             f"| {percent(doodlenet['strokes_top1'])} |"]
    baseline = routes["routes"].get("as trained")
    for name, route in routes["routes"].items():
        cells = []
        for key in ("test_top1", "test_top3", "strokes_top1"):
            figure = route[key]
            cell = f"{100 * figure['mean']:.1f} ± {100 * figure['spread']:.1f} %"
            if "against_baseline" in figure and baseline:
                change = 100 * (figure["mean"] - baseline[key]["mean"])
                p = figure["against_baseline"]["p"]
                cell += f" ({change:+.1f}, p {'< 0.001' if p < 0.001 else f'{p:.2g}'})"
            cells.append(cell)
        label = "as trained (runs/teacher's recipe)" if name == "as trained" else name
        lines.append(f"| {label} | {route['passes_per_guess']} | " + " | ".join(cells) + " |")
    return lines + [""]


def teachers_lines(teachers):
    """docs/experiments.md's table of issue 20's students, each paired drawing by drawing with DoodleNet and
    with the network the student replaced."""
    seeds = teachers["seeds"]
    names = " and ".join(teacher["name"] for teacher in teachers["teachers"])
    settings = teachers["student_settings"]
    from bench.teachers import SEEDS

    unmeasured = [str(seed) for seed in SEEDS if seed not in seeds]
    over = (f"at seeds {', '.join(map(str, seeds))}, each cell the mean over the seeds ± their standard deviation"
            if len(seeds) > 1 else f"at seed {seeds[0]} only")
    if unmeasured:
        over += f" (seed {' and '.join(unmeasured)} not measured yet: `make students` trains it)"
    lines = [f"Students of two teachers, {names}, {over}, on the split every route shares: the same "
             f"{teachers['test_drawings']:,} test drawings and {teachers['stroke_drawings']} real stroke drawings "
             f"(`python -m bench.teachers`; teacher weight {settings['teacher_weight']}, mirror inputs "
             f"{'on' if settings['mirror_inputs'] else 'off'}, {settings['epochs']} epochs). For the students, in "
             "brackets: the drawings only DoodleNet gets right against those only the student does, then the same "
             "against the network it replaced, each with McNemar's exact p. Keras in float32.", "",
             "| model | passes per guess | test top-1 | test top-3 | real strokes top-1 |", "|---|---|---|---|---|"]
    for name, route in teachers["routes"].items():
        cells = []
        for key in ("test_top1", "test_top3", "strokes_top1"):
            figure = route[key]
            cell = percent(figure["mean"]) if len(figure["per_seed"]) == 1 else \
                f"{100 * figure['mean']:.1f} ± {100 * figure['spread']:.1f} %"
            pairs = []
            for reference in ("doodlenet", "replaced"):
                if f"against_{reference}" in figure:
                    paired = figure[f"against_{reference}"]
                    p = paired["p"]
                    pairs.append(f"{paired['only_it']}/{paired['only_student']}, p "
                                 f"{'< 0.001' if p < 0.001 else f'{p:.2g}'}")
            cells.append(cell + (f" ({'; '.join(pairs)})" if pairs else ""))
        lines.append(f"| {name} | {route['passes_per_guess']} | " + " | ".join(cells) + " |")
    return lines + [""] + teachers_reading_lines(teachers)


def teachers_reading_lines(teachers):
    """What the students table says, worked out from it: level, ahead or behind by McNemar's p at 0.05."""
    routes, seeds = teachers["routes"], teachers["seeds"]
    student = routes["student (one pass)"]
    ensemble = routes["the teachers' ensemble (reference, both networks)"]
    names = {"test_top1": "test top-1", "test_top3": "test top-3", "strokes_top1": "real strokes"}

    def against(reference):
        verdicts = []
        for key, name in names.items():
            paired = student[key][f"against_{reference}"]
            side = ("ahead" if paired["only_student"] > paired["only_it"] else "behind") if paired["p"] < 0.05 \
                else "level"
            other = routes["DoodleNet, restricted to our classes" if reference == "doodlenet" else
                           "replaced: runs/teacher averaged with its mirror image (shipped before)"][key]["mean"]
            verdicts.append(f"{side} on {name} ({100 * (student[key]['mean'] - other):+.1f} points, p "
                            f"{'< 0.001' if paired['p'] < 0.001 else format(paired['p'], '.2g')})")
        return "; ".join(verdicts)

    per_seed = ", ".join(f"{seed}: " + " / ".join(percent(student[key]["per_seed"][index]) for key in names)
                         for index, seed in enumerate(seeds))
    times = teachers.get("training_seconds", {})
    lines = ["What the table says (McNemar's p under 0.05 counts as ahead or behind, else level; over "
             f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''}):", "",
             f"- **Against the two-pass guess it replaced**, at half the multiply-adds per guess: {against('replaced')}.",
             f"- **Against DoodleNet**: {against('doodlenet')}.",
             f"- **Per seed** (test top-1 / test top-3 / real strokes): {per_seed}.",
             f"- **The teachers know more than the students learned**: their ensemble is "
             f"{100 * (ensemble['test_top1']['mean'] - student['test_top1']['mean']):.1f} points ahead on test top-1 "
             f"and {100 * (ensemble['strokes_top1']['mean'] - student['strokes_top1']['mean']):.1f} on the real "
             "strokes."]
    if times:
        lines.append("- **Training time** of each student on this 2-core machine, while other work shared it: "
                     + ", ".join(f"seed {seed} {seconds:,.0f} s" for seed, seconds in times.items()) + ".")
    return lines + [""]


def body_parts_lines(body_parts):
    """docs/experiments.md's table of the body-parts variants (issue 20): 5-fold over three seeds, each
    paired with today's recipe on the same drawings."""
    seeds = list(body_parts["seeds"])
    lines = [f"The body parts from few drawings, each variant at seeds {', '.join(map(str, seeds))} "
             f"(`python -m bench.body_parts`): {body_parts['evaluation']}. Teacher: {body_parts['teacher']}. "
             "Each cell: top-1 / top-3, then the drawings only the variant and only the labels-only recipe get "
             "right, and McNemar's exact p.", "",
             "| variant | " + " | ".join(f"seed {seed}" for seed in seeds) + " | mean |",
             "|---|" + "---|" * (len(seeds) + 1)]
    for name, variant in body_parts["variants"].items():
        cells = []
        for seed in seeds:
            figure = variant["seeds"][str(seed)]
            cell = f"{100 * figure['top1']:.1f} / {100 * figure['top3']:.1f}"
            if name != "today":
                cell += (f" (+{figure['only_variant_right']}/-{figure['only_today_right']}, "
                         f"p {'< 0.001' if figure['mcnemar_p'] < 0.001 else format(figure['mcnemar_p'], '.2g')})")
            cells.append(cell)
        lines.append(f"| {name} | " + " | ".join(cells)
                     + f" | {100 * variant['mean_top1']:.1f} / {100 * variant['mean_top3']:.1f} |")
    alone = body_parts["doodlenet_alone_nine_way"][str(seeds[0])]
    lines += ["", f"DoodleNet alone, nine-way, on the same drawings: {100 * alone['top1']:.1f} % top-1, "
              f"{100 * alone['top3']:.1f} % top-3 (public drawings it may have learned from). The shipped "
              f"recipe: teacher weight {body_parts['shipped_settings']['teacher_weight']}, mirror copies "
              f"{'on' if body_parts['shipped_settings']['mirror_copies'] else 'off'}, function matching on "
              f"{body_parts['shipped_settings'].get('transfer_bitmaps_per_class') or 0} other bitmaps per class "
              "(\"transfer\").", ""]
    return lines


def section_lines(section, results):
    """The Markdown of one section, from the loaded results it NEEDS."""
    if section == "readme":
        from bench.game import readme_line

        return ([conclusion(results["accuracy"], results["browser_speed"]), ""] + accuracy_lines(results["accuracy"])
                + body_parts_summary() + ["Play (`python -m bench.game`): " + readme_line(results["game"]), ""])
    if section == "results":
        return (speed_lines(results["browser_speed"]) + load_test_lines(results["load_test"])
                + page_hostile_lines(results["page_hostile"]) + body_parts_per_class()
                + teaching_lines(results["teach"]) + training_time_lines())
    if section == "reliability":
        return reliability_lines(results["hostile"])
    if section == "experiments":
        return (leftover_cue_lines(results["accuracy"]) + quantization_lines(results["quantization"])
                + architectures_lines(results["architectures"]) + python_speed_lines(results["python_speed"])
                + teaching_methods_lines(results["teach"]))
    if section == "body-parts":
        return body_parts_lines(results["body_parts"])
    if section == "teachers":
        return teachers_lines(results["teachers"])
    return routes_lines(results["routes"])


def main(argv=None):
    section = (argv if argv is not None else sys.argv[1:] or ["readme"])[0]
    if section not in DOCUMENTS:
        print(f"error: unknown section {section!r} ({', '.join(DOCUMENTS)})", file=sys.stderr)
        return 2
    results = {name: load(name) for name in NEEDS[section]}
    missing = [name for name, result in results.items() if result is None]
    if missing:
        print(f"error: no {', '.join(str(RESULTS / f'{name}.json') for name in missing)}: run make bench "
              "(make routes for routes)", file=sys.stderr)
        return 2
    print("\n".join(section_lines(section, results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
