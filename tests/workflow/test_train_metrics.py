"""Metrics against hand-computed values (no scikit-learn needed)."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import metrics

# 3 classes; true:      0 0 1 1 2 2 2
#            predicted: 0 1 1 1 2 0 2
SCORES = cr.tensor([[.9, .1, 0], [.2, .7, .1], [.1, .8, .1], [0, .6, .4],
                    [.1, .2, .7], [.5, .3, .2], [0, .1, .9]])
TRUE = cr.tensor([0, 0, 1, 1, 2, 2, 2])


def test_accuracy_and_confusion_matrix():
    assert metrics.accuracy(SCORES, TRUE) == pytest.approx(5 / 7)
    assert metrics.confusion_matrix(SCORES, TRUE).tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 2]]


def test_precision_recall_f1_macro_micro_and_per_class():
    # per class: tp = [1, 2, 2], fp = [1, 1, 0], fn = [1, 0, 1]
    prec = [1 / 2, 2 / 3, 1.0]
    rec = [1 / 2, 1.0, 2 / 3]
    f1 = [2 * p * r / (p + r) for p, r in zip(prec, rec)]
    assert metrics.precision(SCORES, TRUE) == pytest.approx(np.mean(prec))
    assert metrics.recall(SCORES, TRUE) == pytest.approx(np.mean(rec))
    assert metrics.f1_score(SCORES, TRUE) == pytest.approx(np.mean(f1))
    assert metrics.f1_score(SCORES, TRUE, average=None).tolist() == pytest.approx(f1)
    for fn in (metrics.precision, metrics.recall, metrics.f1_score):     # micro = accuracy for single-label data
        assert fn(SCORES, TRUE, average="micro") == pytest.approx(5 / 7)
    with pytest.raises(ValueError, match="average"):
        metrics.precision(SCORES, TRUE, average="weighted!")


def test_zero_division_counts_as_zero():
    # class 2 is never predicted: its precision is 0/0 -> 0
    assert metrics.precision(cr.tensor([[1., 0, 0], [0, 1, 0]]), cr.tensor([0, 2]), average=None).tolist() == [1, 0, 0]


def test_top_k_accuracy():
    assert metrics.top_k_accuracy(SCORES, TRUE, k=1) == pytest.approx(5 / 7)
    # top-2 misses only sample 5 (true 2; scores .5 .3 .2)
    assert metrics.top_k_accuracy(SCORES, TRUE, k=2) == pytest.approx(6 / 7)
    assert metrics.top_k_accuracy(SCORES, TRUE, k=3) == 1.0


def test_binary_outputs_probabilities_logits_and_signed_targets():
    probs = cr.tensor([0.2, 0.7, 0.6, 0.1])
    assert metrics.accuracy(probs, cr.tensor([0, 1, 0, 0])) == 0.75
    logits = cr.tensor([[-2.0], [3.0], [0.5], [-0.1]])
    assert metrics.accuracy(logits, cr.tensor([0., 1., 1., 1.])) == 0.75
    tanh_out = cr.tensor([-0.9, 0.8, 0.3, -0.2])
    assert metrics.accuracy(tanh_out, cr.tensor([-1., 1., -1., -1.])) == 0.75


def test_regression_metrics_by_hand():
    out, tgt = cr.tensor([2.5, 0.0, 2.0, 8.0]), cr.tensor([3.0, -0.5, 2.0, 7.0])
    assert metrics.mae(out, tgt) == pytest.approx((0.5 + 0.5 + 0 + 1) / 4)
    assert metrics.mse(out, tgt) == pytest.approx((0.25 + 0.25 + 0 + 1) / 4)
    assert metrics.rmse(out, tgt) == pytest.approx(math.sqrt(0.375))
    ss_tot = sum((t - 2.875) ** 2 for t in [3.0, -0.5, 2.0, 7.0])
    assert metrics.r2_score(out, tgt) == pytest.approx(1 - 1.5 / ss_tot)
    assert metrics.r2_score(out.reshape(4, 1), tgt) == pytest.approx(1 - 1.5 / ss_tot)
    assert metrics.r2_score(tgt, tgt) == 1.0


def test_metric_lookup():
    assert metrics.get_metric("accuracy") == ("accuracy", metrics.accuracy)
    with pytest.raises(ValueError, match="unknown metric 'acc'.*accuracy"):
        metrics.get_metric("acc")
    with pytest.raises(ValueError, match="accuracy"):
        metrics.accuracy(SCORES, cr.tensor([0, 1]))
