"""Convergence sanity on the lectures' ill-conditioned quadratic bowl
f(x, y) = (x**2 + 100 y**2) / 2: plain SGD crawls along the shallow x direction (its lr is capped
by the steep y direction), momentum and Adam reach the minimum in far fewer steps."""
import numpy as np
import pytest

import chainrule as cr

CURVATURE = cr.tensor([1.0, 100.0], dtype=cr.float64)
START = [-7.0, 2.0]
TOL = 1e-2


def _steps_to_minimum(make_opt, max_steps=3000):
    w = cr.tensor(START, dtype=cr.float64, requires_grad=True)
    opt = make_opt([w])
    for step in range(1, max_steps + 1):
        opt.zero_grad()
        (0.5 * (CURVATURE * w * w).sum()).backward()
        opt.step()
        if np.linalg.norm(w.array) < TOL:
            return step
    return None


def test_momentum_and_adam_beat_plain_sgd_on_the_bowl():
    lr = 0.01  # plain SGD is stable only below 2 / 100
    sgd = _steps_to_minimum(lambda p: cr.optim.SGD(p, lr=lr))
    momentum = _steps_to_minimum(lambda p: cr.optim.SGD(p, lr=lr, momentum=0.9))
    nesterov = _steps_to_minimum(lambda p: cr.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True))
    adam = _steps_to_minimum(lambda p: cr.optim.Adam(p, lr=0.3))
    rmsprop = _steps_to_minimum(lambda p: cr.optim.RMSprop(p, lr=0.05))
    assert sgd is not None and momentum is not None and adam is not None
    assert momentum < sgd / 2
    assert nesterov is not None and nesterov < sgd / 2
    assert adam < sgd / 2
    assert rmsprop is not None and rmsprop < sgd


@pytest.mark.parametrize("name,kw", [("Adagrad", dict(lr=1.0)), ("RMSprop", dict(lr=0.05)),
                                     ("AdamW", dict(lr=0.3, weight_decay=0.0)),
                                     ("NAdam", dict(lr=0.3)), ("Adamax", dict(lr=0.3))])
def test_every_optimiser_reaches_the_minimum(name, kw):
    assert _steps_to_minimum(lambda p: getattr(cr.optim, name)(p, **kw)) is not None


def test_sgd_diverges_above_the_stability_limit():
    w = cr.tensor(START, dtype=cr.float64, requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.021)  # > 2 / 100
    for _ in range(100):
        opt.zero_grad()
        (0.5 * (CURVATURE * w * w).sum()).backward()
        opt.step()
    assert abs(w.array[1]) > 1e3


def test_adadelta_makes_steady_progress_without_tuning():
    w = cr.tensor(START, dtype=cr.float64, requires_grad=True)
    opt = cr.optim.Adadelta([w])
    for _ in range(1000):
        opt.zero_grad()
        (0.5 * (CURVATURE * w * w).sum()).backward()
        opt.step()
    assert np.linalg.norm(w.array) < np.linalg.norm(START) / 4
