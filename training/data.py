"""Quick, Draw! bitmap loading, validation, the train/validation/test split and tf.data pipelines.

The bitmaps are the dataset's `numpy_bitmap` files: uint8 arrays of shape (N, 784), 0 = background,
255 = ink, one file per class. Files are memory-mapped, never read whole, so the same code trains on
the full dataset (hundreds of thousands of drawings per class) on a bigger machine.

    python -m training.data --data-dir ../shared/data/quickdraw --preset shipped   # prints split sizes
"""

import json
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from training.cli import ArgumentParser
from training.raster import IMAGE_SIZE, rasterize

PIXELS = IMAGE_SIZE * IMAGE_SIZE
DEFAULT_SEED = 1337  # every split, shuffle and initialization of a run derives from its seed
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "quickdraw"
SHIPPED_METADATA = REPO_ROOT / "web" / "model" / "metadata.json"

# The original tutorial's nine body-part classes; users with internet fetch them with training.download.
PRESETS = {
    "body-parts": ["eye", "arm", "face", "finger", "hand", "leg", "mouth", "nose", "ear"],
}


def preset_classes(name):
    """Return the class list of a preset; `shipped` is read from the committed model's metadata."""
    if name == "shipped":
        if not SHIPPED_METADATA.exists():
            raise ValueError(f"preset 'shipped' needs {SHIPPED_METADATA}, which does not exist")
        return list(json.loads(SHIPPED_METADATA.read_text())["labels"])
    if name == "all":
        return None  # Resolved against the data directory by resolve_classes.
    if name not in PRESETS:
        known = ", ".join(sorted([*PRESETS, "shipped", "all"]))
        raise ValueError(f"unknown preset {name!r} (known presets: {known})")
    return list(PRESETS[name])


def available_classes(data_dir):
    """Class names that have a bitmap file in data_dir, sorted."""
    data_dir = Path(data_dir)
    names = set()
    for folder in (data_dir / "bitmaps", data_dir):
        if folder.is_dir():
            for path in folder.glob("*.npy"):
                names.add(path.stem.removeprefix("full_numpy_bitmap_"))
    return sorted(names)


def resolve_classes(data_dir, classes=None, preset=None):
    """The class list from --classes or --preset; `all` (or neither) means every class in data_dir."""
    if classes and preset:
        raise ValueError("give either --classes or --preset, not both")
    if preset:
        classes = preset_classes(preset)
    if classes is None:
        if not Path(data_dir).is_dir():
            raise ValueError(f"data folder {data_dir} does not exist")
        classes = available_classes(data_dir)
        if not classes:
            raise ValueError(f"no .npy bitmap files in {data_dir}")
    classes = [name.strip() for name in classes]
    if not classes or any(not name for name in classes):
        raise ValueError("the class list is empty")
    if len(set(classes)) != len(classes):
        raise ValueError(f"the class list has duplicates: {classes}")
    return classes


def class_file(data_dir, name, subfolder="bitmaps"):
    """Find <name>.npy or the official full_numpy_bitmap_<name>.npy in data_dir/subfolder or data_dir."""
    data_dir = Path(data_dir)
    folders = [data_dir / subfolder] + ([data_dir] if subfolder == "bitmaps" else [])
    for folder in folders:
        for file_name in (f"{name}.npy", f"full_numpy_bitmap_{name}.npy"):
            if (folder / file_name).is_file():
                return folder / file_name
    return None


def model_input(bitmaps):
    """Bitmaps (rows of 784 values, 0..255, ink = 255) as the models' input: float32 (n, 28, 28, 1) in [0, 1]."""
    return (np.asarray(bitmaps, dtype=np.float32) / 255.0).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)


def drawings_input(drawings):
    """Stroke drawings, rasterized by the dataset's recipe, as the models' input."""
    return model_input([rasterize(drawing) for drawing in drawings])


def denoised_classes(data_dir, class_names):
    """The classes whose drawings were denoised (SOURCES.md): those without a twins/ file, where the data
    has a twins/ folder at all; metrics report them apart from the clean classes."""
    if not (Path(data_dir) / "twins").is_dir():
        return []
    return [name for name in class_names if class_file(data_dir, name, "twins") is None]


def open_bitmaps(path):
    """Memory-map one class file and check that it is a non-empty uint8 (N, 784) array."""
    path = Path(path)
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as error:
        raise ValueError(f"{path}: not a readable .npy file ({error})") from None
    if array.dtype != np.uint8:
        raise ValueError(f"{path}: dtype is {array.dtype}, expected uint8")
    if array.ndim != 2 or array.shape[1] != PIXELS:
        raise ValueError(f"{path}: shape is {array.shape}, expected (N, {PIXELS})")
    if array.shape[0] == 0:
        raise ValueError(f"{path}: has no rows")
    return array


def split_seed(config):
    """The seed of a run's split: its own key, or, in runs made before the key existed, the run's seed."""
    return config.get("split_seed", config["seed"])


def split_indices(num_rows, seed, class_name, validation_fraction, test_fraction, max_per_class=None):
    """Deterministic split of one class's rows into train, validation and test row indices.

    Each class gets its own generator seeded from (seed, crc32(class name)), so a class's split does not
    change when other classes are added or removed. Every split is sorted, which keeps memory-mapped reads
    sequential.
    """
    assert 0 <= validation_fraction < 1 and 0 <= test_fraction < 1
    generator = np.random.default_rng([seed, zlib.crc32(class_name.encode())])
    order = generator.permutation(num_rows)
    if max_per_class is not None:
        order = order[:max_per_class]
    num_test = int(round(len(order) * test_fraction))
    num_validation = int(round(len(order) * validation_fraction))
    test = np.sort(order[:num_test])
    validation = np.sort(order[num_test:num_test + num_validation])
    train = np.sort(order[num_test + num_validation:])
    return {"train": train, "validation": validation, "test": test}


@dataclass
class QuickDrawData:
    """Memory-mapped bitmaps of several classes and their split; rows are addressed as (class, row)."""

    class_names: list
    bitmaps: list
    twins: list
    splits: dict = field(default_factory=dict)

    def split_size(self, split):
        return len(self.splits[split][0])

    def gather(self, class_ids, row_ids, use_twin=None):
        """Rows as float32 (n, 28, 28, 1) images in [0, 1], ink = 1; use_twin picks the twin copy per row."""
        images = np.empty((len(class_ids), PIXELS), dtype=np.uint8)
        for class_id in np.unique(class_ids):
            where = np.nonzero(class_ids == class_id)[0]
            source = self.bitmaps[class_id]
            images[where] = source[row_ids[where]]
            if use_twin is not None and self.twins[class_id] is not None:
                twin_where = where[use_twin[where]]
                images[twin_where] = self.twins[class_id][row_ids[twin_where]]
        return model_input(images)

    def arrays(self, split):
        """A whole split in memory (meant for the validation and test splits): images and labels."""
        class_ids, row_ids = self.splits[split]
        return self.gather(class_ids, row_ids), class_ids.astype(np.int32)


def load_data(data_dir, class_names, seed=DEFAULT_SEED, validation_fraction=0.1, test_fraction=0.1,
              max_per_class=None, use_twins=False):
    """Open and validate every class file and compute the split. Raises ValueError naming a bad file."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ValueError(f"data folder {data_dir} does not exist")
    if max_per_class is not None and max_per_class < 1:
        raise ValueError(f"--max-per-class must be at least 1, got {max_per_class}")
    bitmaps, twins = [], []
    for name in class_names:
        path = class_file(data_dir, name)
        if path is None:
            raise ValueError(f"no bitmap file for class {name!r} in {data_dir} "
                             f"(looked for {name}.npy and full_numpy_bitmap_{name}.npy)")
        array = open_bitmaps(path)
        bitmaps.append(array)
        twin_path = class_file(data_dir, name, subfolder="twins") if use_twins else None
        twin = open_bitmaps(twin_path) if twin_path else None
        if twin is not None and twin.shape != array.shape:
            raise ValueError(f"{twin_path}: shape {twin.shape} differs from its class file {array.shape}")
        twins.append(twin)
    data = QuickDrawData(list(class_names), bitmaps, twins)
    per_split = {"train": ([], []), "validation": ([], []), "test": ([], [])}
    for class_id, (name, array) in enumerate(zip(class_names, bitmaps)):
        splits = split_indices(len(array), seed, name, validation_fraction, test_fraction, max_per_class)
        for split, rows in splits.items():
            per_split[split][0].append(np.full(len(rows), class_id, dtype=np.int32))
            per_split[split][1].append(rows.astype(np.int64))
    data.splits = {split: (np.concatenate(c), np.concatenate(r)) for split, (c, r) in per_split.items()}
    return data


def twin_choice(data, split, seed, twin_fraction):
    """Which rows of a split are read from their twin file: a fixed, seeded choice per row."""
    return np.random.default_rng(seed + 1).random(data.split_size(split)) < twin_fraction


def make_dataset(data, split, batch_size, shuffle=False, seed=0, twin_fraction=0.0, augment=None,
                 targets=None):
    """A tf.data pipeline over (class, row) indices that gathers each batch from the memory maps.

    Only indices are shuffled and batched; pixels are read per batch, so memory use does not grow with the
    dataset. With twin_fraction > 0, that share of each clean class's rows is read from its twin file
    (twin_choice), so the denoiser's leftovers do not tell classes apart. targets, one probability row per
    row of the split (distillation), replaces the integer labels.
    """
    import tensorflow as tf

    class_ids, row_ids = data.splits[split]
    use_twin = twin_choice(data, split, seed, twin_fraction)
    positions = tf.data.Dataset.range(len(class_ids))
    if shuffle:
        positions = positions.shuffle(len(class_ids), seed=seed, reshuffle_each_iteration=True)
    positions = positions.batch(batch_size)

    def gather(batch_positions):
        batch_positions = np.asarray(batch_positions)
        images = data.gather(class_ids[batch_positions], row_ids[batch_positions],
                             use_twin[batch_positions] if twin_fraction > 0 else None)
        if targets is not None:
            return images, targets[batch_positions]
        return images, class_ids[batch_positions]

    def gather_tf(batch_positions):
        label_type = tf.int32 if targets is None else tf.float32
        images, labels = tf.numpy_function(gather, [batch_positions], [tf.float32, label_type])
        images.set_shape([None, IMAGE_SIZE, IMAGE_SIZE, 1])
        labels.set_shape([None] if targets is None else [None, targets.shape[1]])
        return images, labels

    dataset = positions.map(gather_tf, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if augment is not None:
        dataset = dataset.map(lambda images, labels: (augment(images, training=True), labels),
                              num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--classes", nargs="+")
    parser.add_argument("--preset")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--max-per-class", type=int)
    args = parser.parse_args(argv)
    try:
        names = resolve_classes(args.data_dir, args.classes, args.preset)
        data = load_data(args.data_dir, names, seed=args.seed, max_per_class=args.max_per_class)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({split: data.split_size(split) for split in data.splits} | {"classes": len(names)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
