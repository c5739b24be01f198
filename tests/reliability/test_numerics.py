"""Numerical hygiene: anomaly mode names the first op that made a NaN/inf, and fit stops on a
non-finite loss before it can spoil the weights."""
import numpy as np
import pytest

import chainrule as cr


def test_anomaly_names_the_first_forward_op_in_a_chain():
    x = cr.tensor([1.0, 0.0, 2.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        y = x * 2 + 1                        # finite
        with pytest.raises(RuntimeError, match=r"Sqrt\w* forward produced NaN"):
            (y - 2).sqrt().exp()             # sqrt(-1) is the first NaN; exp never runs


def test_anomaly_names_the_first_backward_op():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        y = (x.sqrt() * 0).exp().sum()       # all finite forward
        with pytest.raises(RuntimeError, match=r"Sqrt\w* backward produced NaN"):
            y.backward()


def test_without_anomaly_mode_nan_passes_silently():
    x = cr.tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.sqrt().item())


def _diverging_setup():
    cr.manual_seed(0)
    X = cr.randn(32, 3)
    y = cr.randn(32, 1)
    model = cr.nn.Linear(3, 1)
    opt = cr.optim.SGD(model.parameters(), lr=1e6)     # explodes within a few steps
    return model, opt, X, y


def test_fit_stops_on_nan_loss_with_a_clear_message():
    model, opt, X, y = _diverging_setup()
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError) as info:
        cr.train.fit(model, cr.nn.MSELoss(), opt, (X, y), epochs=20, batch_size=8,
                     progress=False)
    message = str(info.value)
    assert "epoch" in message and "batch" in message and "stop_on_nan=False" in message
    assert all(np.isfinite(p.detach().numpy()).all() for p in model.parameters())


def test_fit_trains_on_when_asked():
    model, opt, X, y = _diverging_setup()
    with np.errstate(all="ignore"):
        history = cr.train.fit(model, cr.nn.MSELoss(), opt, (X, y), epochs=3, batch_size=8,
                               progress=False, stop_on_nan=False)
    assert not np.isfinite(history["loss"][-1])
