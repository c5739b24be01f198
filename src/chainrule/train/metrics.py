"""Metrics: how good are the model's outputs? Each takes ``(output, target)`` and returns a float.

Classification outputs may be class scores (N, C) (the predicted class is the argmax) or one score
per sample (N,) / (N, 1) for two classes: probabilities are thresholded at 0.5, and scores outside
[0, 1] are taken as logits (thresholded at 0, the same thing after a sigmoid), as torchmetrics
does. Binary targets may be 0/1 or the playground's -1/+1.
"""
import numpy as np

from ..tensor import Tensor
from ..autograd.tensor_base import make_tensor


def _np(x):
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def predicted_classes(output):
    """The class each row of ``output`` predicts (argmax, or a threshold for one score per row)."""
    out = _np(output)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    out = out.reshape(len(out)) if out.ndim else out.reshape(1)
    if out.dtype.kind in "biu":
        return out.astype(np.int64)
    threshold = 0.5 if out.size == 0 or (out.min() >= 0 and out.max() <= 1) else 0.0
    return (out > threshold).astype(np.int64)


def _labels(target):
    t = _np(target)
    t = t.reshape(len(t)) if t.ndim == 2 and t.shape[1] == 1 else t
    if t.dtype.kind == "f":
        if np.all((t == -1) | (t == 1)) and np.any(t == -1):
            return (t > 0).astype(np.int64)
        return np.rint(t).astype(np.int64)
    return t.astype(np.int64)


def _check_pairs(pred, true, name):
    if pred.shape != true.shape:
        raise ValueError(f"{name}: the output gives {pred.shape[0] if pred.ndim else 1} predictions "
                         f"but the target has shape {true.shape}")


def accuracy(output, target):
    """Fraction of samples whose predicted class equals the target."""
    pred, true = predicted_classes(output), _labels(target)
    _check_pairs(pred, true, "accuracy")
    return float((pred == true).mean()) if len(true) else float("nan")


def top_k_accuracy(output, target, k=5):
    """Fraction of samples whose target is among the ``k`` highest scores of (N, C) ``output``."""
    out, true = _np(output), _labels(target)
    if out.ndim != 2:
        raise ValueError(f"top_k_accuracy: expected scores of shape (N, C), got {out.shape}")
    k = min(k, out.shape[1])
    top = np.argpartition(-out, k - 1, axis=1)[:, :k]
    return float((top == true[:, None]).any(axis=1).mean())


def confusion_matrix(output, target, num_classes=None):
    """``C[i, j]`` = number of samples of true class i predicted as class j (int64 tensor)."""
    pred, true = predicted_classes(output), _labels(target)
    _check_pairs(pred, true, "confusion_matrix")
    if num_classes is None:
        scores = _np(output)
        num_classes = max(int(true.max(initial=0)), int(pred.max(initial=0))) + 1
        if scores.ndim == 2 and scores.shape[1] > 1:
            num_classes = max(num_classes, scores.shape[1])
    cm = np.bincount(true * num_classes + pred, minlength=num_classes * num_classes)
    return make_tensor(cm.reshape(num_classes, num_classes).astype(np.int64))


def _per_class(output, target, num_classes):
    cm = confusion_matrix(output, target, num_classes).array
    tp = np.diag(cm).astype(np.float64)
    return tp, cm.sum(axis=0) - tp, cm.sum(axis=1) - tp  # tp, fp, fn


def _divide(a, b):
    # 0/0 counts as 0, as in scikit-learn's zero_division=0
    return np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b != 0)


def _average(per_class, tp, fp, fn, average, micro):
    if average == "macro":
        return float(per_class.mean())
    if average == "micro":
        return float(micro(tp.sum(), fp.sum(), fn.sum()))
    if average is None or average == "none":
        return make_tensor(per_class)
    raise ValueError(f"average must be 'macro', 'micro' or None, got {average!r}")


def precision(output, target, average="macro", num_classes=None):
    """TP / (TP + FP), per class then averaged ("macro"), or pooled over classes ("micro")."""
    tp, fp, fn = _per_class(output, target, num_classes)
    return _average(_divide(tp, tp + fp), tp, fp, fn, average,
                    lambda t, p, n: _divide(np.array(t), np.array(t + p)))


def recall(output, target, average="macro", num_classes=None):
    """TP / (TP + FN), per class then averaged ("macro"), or pooled over classes ("micro")."""
    tp, fp, fn = _per_class(output, target, num_classes)
    return _average(_divide(tp, tp + fn), tp, fp, fn, average,
                    lambda t, p, n: _divide(np.array(t), np.array(t + n)))


def f1_score(output, target, average="macro", num_classes=None):
    """2 TP / (2 TP + FP + FN): the harmonic mean of precision and recall."""
    tp, fp, fn = _per_class(output, target, num_classes)
    return _average(_divide(2 * tp, 2 * tp + fp + fn), tp, fp, fn, average,
                    lambda t, p, n: _divide(np.array(2 * t), np.array(2 * t + p + n)))


def _regression_pair(output, target, name):
    out, true = _np(output).astype(np.float64), _np(target).astype(np.float64)
    if out.size != true.size:
        raise ValueError(f"{name}: output has shape {out.shape} but target has shape {true.shape}")
    return out.reshape(true.shape), true


def mae(output, target):
    """Mean absolute error: mean |output - target|."""
    out, true = _regression_pair(output, target, "mae")
    return float(np.abs(out - true).mean())


def mse(output, target):
    """Mean squared error: mean (output - target)^2."""
    out, true = _regression_pair(output, target, "mse")
    return float(((out - true) ** 2).mean())


def rmse(output, target):
    """Root mean squared error: sqrt(mean (output - target)^2)."""
    return float(np.sqrt(mse(output, target)))


def r2_score(output, target):
    """Coefficient of determination: 1 - sum (target - output)^2 / sum (target - mean target)^2."""
    out, true = _regression_pair(output, target, "r2_score")
    ss_res = ((true - out) ** 2).sum()
    ss_tot = ((true - true.mean()) ** 2).sum()
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return float(1 - ss_res / ss_tot)


METRICS = {"accuracy": accuracy, "top5_accuracy": top_k_accuracy, "precision": precision,
           "recall": recall, "f1": f1_score, "mae": mae, "mse": mse, "rmse": rmse, "r2": r2_score}


def get_metric(metric):
    """``(name, function)`` for a metric given by name (see ``METRICS``) or as a function."""
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    try:
        return metric, METRICS[metric]
    except KeyError:
        raise ValueError(f"unknown metric {metric!r}; choose one of {sorted(METRICS)} or pass a "
                         f"function(output, target) -> float") from None
