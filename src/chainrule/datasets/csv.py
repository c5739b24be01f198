"""Tabular data from a CSV file with a header row (``from_csv``)."""
import csv as _csv

import numpy as np

from ..tensor import Tensor
from ..utils.data import TensorDataset
from ..autograd.tensor_base import make_tensor


class Scaler:
    """Feature scaling fitted on one dataset and re-used on others (so test data gets the same
    shift and scale as the training data).

    ``standard``: (x - mean) / std (std over the rows, ddof 0; a constant column keeps scale 1).
    ``minmax``:   (x - min) / (max - min), into [0, 1].
    """

    def __init__(self, kind, shift, scale):
        if kind not in ("standard", "minmax"):
            raise ValueError(f"Scaler: kind must be 'standard' or 'minmax', got {kind!r}")
        self.kind = kind
        self.shift, self.scale = np.asarray(shift, np.float64), np.asarray(scale, np.float64)

    @classmethod
    def fit(cls, kind, X):
        X = np.asarray(X, np.float64)
        if kind == "standard":
            shift, scale = X.mean(axis=0), X.std(axis=0)
        elif kind == "minmax":
            shift, scale = X.min(axis=0), X.max(axis=0) - X.min(axis=0)
        else:
            raise ValueError(f"from_csv: scale must be None, 'standard' or 'minmax', got {kind!r}")
        return cls(kind, shift, np.where(scale == 0, 1.0, scale))

    def transform(self, X):
        arr = X.array if isinstance(X, Tensor) else np.asarray(X)
        if arr.shape[-1] != len(self.shift):
            raise ValueError(f"Scaler.transform: expected {len(self.shift)} features, got shape "
                             f"{arr.shape}")
        out = ((arr - self.shift) / self.scale).astype(arr.dtype if arr.dtype.kind == "f" else np.float32)
        return make_tensor(out)

    def state_dict(self):
        return {"kind": self.kind, "shift": self.shift.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_state_dict(cls, state):
        return cls(state["kind"], state["shift"], state["scale"])

    def __repr__(self):
        return f"Scaler({self.kind!r}, {len(self.shift)} features)"


class CSVDataset(TensorDataset):
    """A TensorDataset ``(features, target)`` that remembers where its columns came from."""

    def __init__(self, X, y, feature_names, target_names, scaler=None, classes=None):
        super().__init__(X, y)
        self.feature_names, self.target_names = feature_names, target_names
        self.scaler, self.classes = scaler, classes


def _parse_float(text, column, row, path):
    try:
        value = float(text)
    except ValueError:
        what = "an empty cell" if not text.strip() else f"the value {text!r}"
        raise ValueError(f"from_csv: {path}: column {column!r}, row {row} holds {what}, which is not "
                         f"a number") from None
    return value


def from_csv(path, target, features=None, scale=None, delimiter=",", dtype=None):
    """Read a CSV file with a header row into a ``CSVDataset`` of ``(features, target)``.

    ``target``: the target column name (or a list of names for several outputs). ``features``:
    the feature columns (default: every other column). ``scale``: None, ``"standard"``,
    ``"minmax"`` or a fitted ``Scaler`` (from the training set's ``dataset.scaler``).

    Features become float32 (N, F). A single target column of whole numbers written without a
    decimal point (``3``) becomes int64 class labels (N,); one with text values ("setosa")
    becomes int64 indices into ``dataset.classes``; anything else float32 ((N,) for one column,
    (N, T) for several).
    """
    path = str(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = _csv.reader(f, delimiter=delimiter)
            header = next(reader, None)
            rows = [r for r in reader if r]
    except FileNotFoundError:
        raise FileNotFoundError(f"from_csv: no such file {path!r}") from None
    if not header:
        raise ValueError(f"from_csv: {path} is empty; expected a header row of column names")
    header = [h.strip() for h in header]
    targets = [target] if isinstance(target, str) else list(target)
    for name in targets + list(features or []):
        if name not in header:
            raise KeyError(f"from_csv: {path} has no column {name!r}; its columns are {header}")
    features = list(features) if features is not None else [h for h in header if h not in targets]
    if not features:
        raise ValueError(f"from_csv: {path}: no feature columns left besides the target {targets}")
    for i, r in enumerate(rows):
        if len(r) != len(header):
            raise ValueError(f"from_csv: {path}: row {i + 2} has {len(r)} fields but the header has "
                             f"{len(header)}")
    col = {h: j for j, h in enumerate(header)}
    # Row numbers count lines in the file (the header is line 1), as an editor shows them.
    X = np.array([[_parse_float(r[col[c]], c, i + 2, path) for c in features]
                  for i, r in enumerate(rows)], dtype=np.float64).reshape(len(rows), len(features))
    y, classes = _parse_targets(rows, [col[t] for t in targets], targets, path)
    scaler = None
    if scale is not None:
        scaler = scale if isinstance(scale, Scaler) else Scaler.fit(scale, X)
        X = scaler.transform(X).array
    X = X.astype(dtype or np.float32)
    return CSVDataset(make_tensor(X), make_tensor(y), features, targets, scaler, classes)


def _parse_targets(rows, indices, names, path):
    cells = [[r[j].strip() for j in indices] for r in rows]
    if len(indices) == 1:
        column = [c[0] for c in cells]
        if all(_is_int(v) for v in column):
            return np.array([int(v) for v in column], dtype=np.int64), None
        if not any(_is_float(v) for v in column) and all(column):
            classes = sorted(set(column))
            index = {c: i for i, c in enumerate(classes)}
            return np.array([index[v] for v in column], dtype=np.int64), classes
    values = np.array([[_parse_float(v, names[k], i + 2, path) for k, v in enumerate(c)]
                       for i, c in enumerate(cells)], dtype=np.float32)
    return (values[:, 0] if len(indices) == 1 else values), None


def _is_int(text):
    try:
        int(text)
        return True
    except ValueError:
        return False


def _is_float(text):
    try:
        float(text)
        return True
    except ValueError:
        return False
