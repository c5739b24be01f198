"""The Playground's points: generated sets, the user's own points, features and CSV.

Points are kept as raw coordinates in [-6, 6]² with labels (int classes, or floats in [-1, 1] for
regression); features are computed from them on demand, as on playground.tensorflow.org.
"""
import io
import math

import numpy as np

from ..datasets import playground as generators
from .protocol import MAX_CLASSES, MAX_POINTS, ProtocolError

# The protocol's dataset names -> (generator in cr.datasets.playground, takes k)
GENERATED = {"circle": ("circle", False), "xor": ("xor", False), "gauss": ("gaussian", False),
             "spiral": ("spiral", False), "blobs": ("blobs", True), "spirals": ("spirals", True),
             "plane": ("plane", False), "multigauss": ("multi_gaussian", False)}
REGRESSION = ("plane", "multigauss")

FEATURE_FUNCTIONS = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1sq": lambda x1, x2: x1 * x1,
    "x2sq": lambda x1, x2: x2 * x2,
    "x1x2": lambda x1, x2: x1 * x2,
    "sinx1": lambda x1, x2: np.sin(x1),
    "sinx2": lambda x1, x2: np.sin(x2),
}
FEATURE_SOURCE = {"x1": "x1", "x2": "x2", "x1sq": "x1 * x1", "x2sq": "x2 * x2",
                  "x1x2": "x1 * x2", "sinx1": "np.sin(x1)", "sinx2": "np.sin(x2)"}


def features(points, names):
    """``points`` (n, 2) -> (n, len(names)) float32 feature matrix, columns in ``names`` order."""
    x1, x2 = points[:, 0], points[:, 1]
    return np.stack([FEATURE_FUNCTIONS[f](x1, x2) for f in names], axis=1).astype(np.float32)


def data_seed(seed, regenerations):
    """The seed of the n-th regeneration of a data set (0: the settings' seed itself)."""
    return (seed + 1_000_003 * regenerations) % (2 ** 31)


def generator_call(settings, seed):
    """``(function name, keyword arguments)`` for cr.datasets.playground."""
    name, takes_k = GENERATED[settings["dataset"]]
    noise = settings["noise"] / 100
    kwargs = {"n": settings["samples"], "seed": seed}
    if settings["dataset"] == "blobs":
        kwargs.update(k=settings["classes"], noise=round(0.5 + 4 * noise, 6))
    elif takes_k:
        kwargs.update(k=settings["classes"], noise=noise)
    else:
        kwargs["noise"] = noise
    return name, kwargs


class Points:
    """Train and test points: ``train``/``test`` are (n, 2) float64 arrays, ``train_labels`` /
    ``test_labels`` int64 (classification) or float32 (regression)."""

    def __init__(self, problem, classes, train, train_labels, test, test_labels):
        self.problem = problem
        self.classes = classes
        self.train, self.test = train, test
        self.train_labels, self.test_labels = train_labels, test_labels

    @property
    def size(self):
        return len(self.train) + len(self.test)

    def copy(self):
        return Points(self.problem, self.classes, self.train.copy(), self.train_labels.copy(),
                      self.test.copy(), self.test_labels.copy())

    def message(self):
        def rows(x, y):
            labels = y.tolist() if self.problem == "classification" else np.round(y, 4).tolist()
            return [[a, b, c] for (a, b), c in zip(np.round(x, 4).tolist(), labels)]
        return {"type": "data", "problem": self.problem, "classes": self.classes,
                "train": rows(self.train, self.train_labels),
                "test": rows(self.test, self.test_labels)}

    def to_csv(self):
        """The points as ``x1,x2,label,split`` lines, every cell through ``csv_cell``."""
        out = io.StringIO()
        out.write("x1,x2,label,split\n")
        for split, x, y in (("train", self.train, self.train_labels),
                            ("test", self.test, self.test_labels)):
            for (a, b), c in zip(x.tolist(), y.tolist()):
                label = str(int(c)) if self.problem == "classification" else repr(float(c))
                out.write(",".join(map(csv_cell, (repr(a), repr(b), label, split))) + "\n")
        return out.getvalue()

    # -- editing ---------------------------------------------------------------------------------
    def add(self, x1, x2, label, split="train"):
        dtype = np.int64 if self.problem == "classification" else np.float32
        point = np.array([[x1, x2]], dtype=np.float64)
        if split == "train":
            self.train = np.concatenate([self.train, point])
            self.train_labels = np.concatenate([self.train_labels, np.array([label], dtype)])
        else:
            self.test = np.concatenate([self.test, point])
            self.test_labels = np.concatenate([self.test_labels, np.array([label], dtype)])
        if self.problem == "classification":
            self.classes = max(self.classes, int(label) + 1)

    def delete_nearest(self, x1, x2, radius):
        """Remove the point nearest (x1, x2) within ``radius``; returns whether one was removed."""
        best = None
        for split in ("train", "test"):
            pts = getattr(self, split)
            if len(pts):
                d = np.hypot(pts[:, 0] - x1, pts[:, 1] - x2)
                i = int(np.argmin(d))
                if d[i] <= radius and (best is None or d[i] < best[0]):
                    best = (d[i], split, i)
        if best is None:
            return False
        _, split, i = best
        setattr(self, split, np.delete(getattr(self, split), i, axis=0))
        labels = split + "_labels"
        setattr(self, labels, np.delete(getattr(self, labels), i))
        return True


def generate(settings, seed):
    """The points of a generated data set, split by ``train_ratio`` (both seeded)."""
    name, kwargs = generator_call(settings, seed)
    X, y = getattr(generators, name)(**kwargs)
    X_train, X_test, y_train, y_test = generators.train_test_split(
        X, y, ratio=settings["train_ratio"] / 100, seed=seed)
    problem = "regression" if settings["dataset"] in REGRESSION else "classification"
    classes = settings["classes"] if GENERATED[settings["dataset"]][1] else 2
    cast = np.int64 if problem == "classification" else np.float32
    return Points(problem, classes if problem == "classification" else 1,
                  X_train.array.astype(np.float64), y_train.array.astype(cast),
                  X_test.array.astype(np.float64), y_test.array.astype(cast))


def empty(problem):
    dtype = np.int64 if problem == "classification" else np.float32
    return Points(problem, 2 if problem == "classification" else 1, np.zeros((0, 2)),
                  np.zeros(0, dtype), np.zeros((0, 2)), np.zeros(0, dtype))


# -- CSV -----------------------------------------------------------------------------------------
def _csv_error(line, message):
    where = f"line {line}: " if line else ""
    raise ProtocolError(f"{where}{message}", "text")


def _parse_number(token, line, column):
    try:
        value = float(token)
    except ValueError:
        _csv_error(line, f"{column} must be a number, got {token!r}")
    if not math.isfinite(value):
        _csv_error(line, f"{column} must be finite, got {token!r}")
    return value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text):
    """``text`` as a CSV cell a spreadsheet will not run as a formula (OWASP's "CSV injection"
    advice): a cell that is not a number and starts with ``= + - @``, a tab or a carriage return
    gets a leading ``'`` (and quotes where it needs them). Finite numbers (``-1.5``, ``+2``,
    ``-1e-05``) stay as they are."""
    if text.startswith(FORMULA_STARTS):
        try:
            if math.isfinite(float(text)):
                return text
        except ValueError:
            pass
        text = "'" + text
    if any(c in text for c in ',"\n\r'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def parse_csv(text, problem, train_ratio, seed):
    """Parse ``x1,x2,label[,split]`` lines strictly into ``Points``; raises ProtocolError naming
    the line. Classification if ``problem`` is and every label is an integer, else regression."""
    rows = []
    first = True
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        cells = [c.strip() for c in line.split(",")]
        header = [c.lower() for c in cells]
        if first and header in (["x1", "x2", "label"], ["x1", "x2", "label", "split"]):
            first = False
            continue
        first = False
        if len(cells) not in (3, 4):
            _csv_error(number, f"expected 3 or 4 comma-separated values (x1,x2,label[,split]), "
                               f"got {len(cells)}")
        x1 = _parse_number(cells[0], number, "x1")
        x2 = _parse_number(cells[1], number, "x2")
        if not (-6 <= x1 <= 6 and -6 <= x2 <= 6):
            _csv_error(number, f"the point ({x1:g}, {x2:g}) is outside the square [-6, 6]²; "
                               f"scale the data first")
        label = _parse_number(cells[2], number, "label")
        split = None
        if len(cells) == 4:
            split = cells[3].lower()
            if split not in ("train", "test"):
                _csv_error(number, f"split must be 'train' or 'test', got {cells[3]!r}")
        rows.append((x1, x2, label, split, number))
        if len(rows) > MAX_POINTS:
            _csv_error(number, f"too many points: the limit is {MAX_POINTS}")
    if len(rows) < 2:
        _csv_error(None, f"need at least 2 points, got {len(rows)}")
    labels = np.array([r[2] for r in rows])
    integral = bool(np.all(labels == np.round(labels)))
    if problem == "classification" and integral:
        for x1, x2, label, split, number in rows:
            if not 0 <= label < MAX_CLASSES:
                _csv_error(number, f"class labels must be integers 0..{MAX_CLASSES - 1}, "
                                   f"got {label:g}")
        kind, cast = "classification", np.int64
    else:
        for x1, x2, label, split, number in rows:
            if not -1 <= label <= 1:
                _csv_error(number, f"regression labels must lie in [-1, 1], got {label:g}")
        kind, cast = "regression", np.float32
    pts = np.array([[r[0], r[1]] for r in rows], dtype=np.float64)
    splits = [r[3] for r in rows]
    if all(s is None for s in splits):
        order = np.random.Generator(np.random.PCG64(seed)).permutation(len(rows))
        cut = max(1, int(round(train_ratio / 100 * len(rows))))
        is_train = np.zeros(len(rows), bool)
        is_train[order[:cut]] = True
    elif any(s is None for s in splits):
        _csv_error(None, "either every line has a split column or none does")
    else:
        is_train = np.array([s == "train" for s in splits])
    if not is_train.any():
        _csv_error(None, "no training points (every split is 'test')")
    y = labels.astype(cast)
    classes = max(2, int(y.max()) + 1) if kind == "classification" else 1
    return Points(kind, classes, pts[is_train], y[is_train], pts[~is_train], y[~is_train])
