"""The frame message (PROTOCOL.md, "frame"): what the page draws after every training step.

One eval-mode forward pass over the output grid, the node grid and the training and test points
gives every map (the output heat map, each unit's thumbnail), the losses and the metrics; the
weights, biases and gradient norms come from the network and its trainer.
"""
import base64

import numpy as np

from ..train.metrics import accuracy, confusion_matrix
from .data import features
from .network import per_example_loss, predicted_class, probabilities

OUTPUT_SIZE = 80      # 6,400 cells: a smooth map; the node maps, not this, dominate a frame's cost
NODE_SIZE = 20
RADIUS = 6.0


def grid_points(n):
    """Cell centres of an n x n map over [-6, 6]², row 0 at the top (x2 = +6), row-major."""
    centres = -RADIUS + (np.arange(n) + 0.5) * (2 * RADIUS / n)
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)


OUTPUT_GRID = grid_points(OUTPUT_SIZE)
NODE_GRID = grid_points(NODE_SIZE)


# -- quantised maps --------------------------------------------------------------------------------
def quantise(values, lo=None, hi=None):
    """A map as ``{"lo", "hi", "q"}``: uint8 bytes, base64 (PROTOCOL.md, "quantised maps")."""
    values = np.asarray(values, dtype=np.float64)
    if lo is None:
        finite = values[np.isfinite(values)]
        lo = float(finite.min()) if finite.size else 0.0
        hi = float(finite.max()) if finite.size else 0.0
    if hi > lo:
        scaled = np.nan_to_num((values - lo) * (255 / (hi - lo)), nan=0.0)
        q = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    else:
        q = np.zeros(values.shape, np.uint8)
    return {"lo": lo, "hi": hi, "q": base64.b64encode(q.tobytes()).decode("ascii")}


def quantise_columns(values):
    """``quantise`` for every column of ``values`` (points, units) at once: one map per unit."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    lo = np.where(finite, values, np.inf).min(axis=0)
    hi = np.where(finite, values, -np.inf).max(axis=0)
    empty = ~np.isfinite(lo)
    lo[empty] = hi[empty] = 0.0
    span = hi - lo
    scale = np.divide(255.0, span, out=np.zeros_like(span), where=span > 0)
    scaled = (values - lo) * scale
    scaled[~finite] = 0.0
    q = np.clip(np.rint(scaled), 0, 255).astype(np.uint8).T.copy()
    return [{"lo": float(a), "hi": float(b), "q": base64.b64encode(row.tobytes()).decode("ascii")}
            for a, b, row in zip(lo, hi, q)]


def finite_or_none(x):
    """``x`` as a float, or None where it is NaN or infinite (JSON has neither)."""
    x = float(x)
    return x if np.isfinite(x) else None


def rounded(array):
    """``array`` rounded to 5 decimals as nested lists, non-finite entries as None."""
    arr = np.round(array.astype(np.float64), 5)
    if np.isfinite(arr).all():
        return arr.tolist()
    return [finite_or_none(v) if arr.ndim == 1 else [finite_or_none(u) for u in v]
            for v in arr] if arr.ndim else finite_or_none(arr)


# -- the frame -------------------------------------------------------------------------------------
def build_frame(session):
    """The frame message for ``session``'s current state (without ``seq``; the connection adds it).
    A diverged network's maps are blank and its losses and metrics None."""
    net, trainer = session.net, session.trainer
    frame = {"type": "frame", "epoch": trainer.epoch, "iteration": trainer.iteration,
             "playing": session.playing, "output_size": OUTPUT_SIZE, "node_size": NODE_SIZE,
             "diverged": session.diverged}
    frame.update(_blank_maps(session) if session.diverged else _live_maps(session))
    assert len(frame["nodes"]) == len(net.hidden) + 2
    frame["weights"] = [rounded(lin.weight.array) for lin in net.linears()]
    frame["biases"] = [rounded(lin.bias.array) for lin in net.linears()]
    frame["grad_norms"] = [finite_or_none(g) for g in trainer.grad_norms]
    return frame


def _live_maps(session):
    """Output map, node maps, losses and metrics from one forward pass over grids and points."""
    net, pts = session.net, session.points
    names = session.settings["features"]
    inputs = np.concatenate([features(OUTPUT_GRID, names), features(NODE_GRID, names),
                             session.train_features, session.test_features])
    with np.errstate(all="ignore"):
        acts, out = net.capture(inputs)
    probs = probabilities(net.mode, out)
    segments = np.cumsum([0, len(OUTPUT_GRID), len(NODE_GRID), len(pts.train), len(pts.test)])
    part = lambda a, i: a[segments[i]:segments[i + 1]]  # noqa: E731
    nodes = [quantise_columns(part(a, 1)) for a in acts]
    node_probs = part(probs, 1)
    nodes.append(quantise_columns(node_probs if node_probs.ndim == 2 else node_probs[:, None]))
    train_t, test_t = session.targets()
    return {"output": output_map(session, part(probs, 0)), "nodes": nodes,
            "train_loss": mean_loss(net.mode, part(out, 2), train_t),
            "test_loss": mean_loss(net.mode, part(out, 3), test_t),
            "metrics": metrics(pts, net.mode, part(probs, 2), part(probs, 3))}


def _blank_maps(session):
    net, n_features = session.net, len(session.settings["features"])

    def blank(n):
        return quantise(np.zeros(n))

    nodes = [[blank(len(NODE_GRID)) for _ in range(n_features)]] + \
            [[blank(len(NODE_GRID)) for _ in range(lin.out_features)] for lin in net.linears()]
    flat_out = blank(len(OUTPUT_GRID))
    output = dict(flat_out, kind=output_kind(session))
    if output["kind"] == "class":
        output["confidence"] = flat_out
    return {"train_loss": None, "test_loss": None, "metrics": empty_metrics(session.points),
            "output": output, "nodes": nodes}


def output_kind(session):
    """The output map's kind: ``value`` (regression), ``class`` (k-class softmax) or ``score``
    (two classes, in [-1, 1])."""
    if session.points.problem == "regression":
        return "value"
    return "class" if session.net.mode.startswith("softmax") else "score"


def output_map(session, probs):
    """The output heat map (PROTOCOL.md, "output"): ``probs`` on the output grid, as signs only
    when the settings discretize."""
    kind = output_kind(session)
    discretize = session.settings["discretize"]
    if kind == "score":
        values = np.where(probs >= 0, 1.0, -1.0) if discretize else probs
        return dict(quantise(values, -1.0, 1.0), kind=kind)
    if kind == "class":
        cls = probs.argmax(axis=1)
        conf = np.ones(len(probs)) if discretize else probs.max(axis=1)
        return {"kind": kind, "lo": 0.0, "hi": 255.0,
                "q": base64.b64encode(cls.astype(np.uint8).tobytes()).decode("ascii"),
                "confidence": quantise(conf, 0.0, 1.0)}
    pts = session.points
    labels = np.concatenate([pts.train_labels, pts.test_labels])
    lo = min(-1.0, float(labels.min())) if labels.size else -1.0
    hi = max(1.0, float(labels.max())) if labels.size else 1.0
    values = np.where(probs >= 0, 1.0, -1.0) if discretize else np.clip(probs, lo, hi)
    return dict(quantise(values, lo, hi), kind=kind)


# -- losses and metrics ----------------------------------------------------------------------------
def mean_loss(mode, out, target):
    """The mean per-example loss of the model's output ``out``, or None without points."""
    if len(out) == 0:
        return None
    return finite_or_none(per_example_loss(mode, out, target).mean())


def empty_metrics(points):
    if points.problem == "regression":
        return {"train_r2": None, "test_r2": None}
    k = points.classes
    return {"train_accuracy": None, "test_accuracy": None,
            "confusion": [[0] * k for _ in range(k)]}


def metrics(points, mode, train_probs, test_probs):
    """R² of both splits (regression), or both accuracies and the confusion matrix of the test
    points (of the training points when there are no test points)."""
    if points.problem == "regression":
        return {"train_r2": r2(train_probs, points.train_labels),
                "test_r2": r2(test_probs, points.test_labels)}

    def split_accuracy(probs, labels):
        return finite_or_none(accuracy(predicted_class(mode, probs), labels)) \
            if len(labels) else None

    k = points.classes
    probs, labels = (test_probs, points.test_labels) if len(points.test) else \
        (train_probs, points.train_labels)
    predicted = np.clip(predicted_class(mode, probs), 0, k - 1)
    return {"train_accuracy": split_accuracy(train_probs, points.train_labels),
            "test_accuracy": split_accuracy(test_probs, points.test_labels),
            "confusion": confusion_matrix(predicted, labels, k).array.tolist()}


def r2(pred, labels):
    """R² = 1 - sum (pred - y)² / sum (y - mean y)², or None for no or constant labels.

    Not ``train.metrics.r2_score``: that one works in float64 and scores constant labels 1 or 0,
    where the page's R² is taken in the labels' float32 and shown as absent.
    """
    if len(labels) == 0:
        return None
    total = float(np.sum((labels - labels.mean()) ** 2))
    if total == 0:
        return None
    return finite_or_none(1 - float(np.sum((pred - labels) ** 2)) / total)
