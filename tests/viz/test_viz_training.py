"""lr_sweep, plot_history, gradient_flow: the numbers drawn are those of real training runs."""
import numpy as np
import pytest

pytest.importorskip("matplotlib")
import chainrule as cr  # noqa: E402
import chainrule.nn as nn  # noqa: E402
import chainrule.optim  # noqa: E402,F401
from chainrule import viz  # noqa: E402
from chainrule.viz.training import GradientRecorder  # noqa: E402


def regression_data(n=64):
    g = np.random.default_rng(0)
    X = g.normal(size=(n, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.1 * g.normal(size=n)).astype(np.float32)
    return cr.tensor(X), cr.tensor(y)


def test_lr_sweep_losses_are_those_of_a_hand_run_and_divergence_is_caught():
    X, y = regression_data()
    lrs = [1e-3, 0.1, 0.9, 3.0]
    p = viz.lr_sweep(lambda: nn.Linear(3, 1), (X, y), lrs, steps=40)
    for lr in (1e-3, 0.1):
        cr.manual_seed(0)
        model = nn.Linear(3, 1)
        opt = cr.optim.SGD(model.parameters(), lr=lr)
        want = []
        for _ in range(40):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(X).reshape(-1), y)
            want.append(loss.item())
            loss.backward()
            opt.step()
        np.testing.assert_allclose(p.losses[lr], want, rtol=1e-6)
    assert p.verdicts[1e-3] == "slow" and p.verdicts[0.1] == "best"
    assert p.verdicts[3.0] == "diverged"
    assert np.isnan(p.losses[3.0][-1]) and np.isfinite(p.losses[3.0][0])
    assert len(p.png()) > 20_000


def make_history(val):
    h = cr.train.History()
    for e, v in enumerate(val, start=1):
        h.append(e, {"loss": 1.0 / e, "accuracy": 0.5 + 0.04 * e, "val_loss": v,
                     "val_accuracy": 0.5 + 0.03 * e, "time": 0.01})
    return h


def test_plot_history_marks_best_and_stopped_epochs():
    val = [1.0, 0.7, 0.5, 0.45, 0.48, 0.52, 0.6]
    p = viz.plot_history(make_history(val))
    assert p.best_epoch == 4 and p.stopped_epoch is None and p.monitor == "val_loss"
    loss_ax, acc_ax = p.figure.axes[:2]
    lines = {ln.get_label(): ln for ln in loss_ax.get_lines()}
    np.testing.assert_allclose(lines["validation"].get_ydata(), val)
    np.testing.assert_allclose(lines["training"].get_ydata(), 1.0 / np.arange(1, 8))
    assert acc_ax.get_title() == "accuracy"
    assert p.png()[:4] == b"\x89PNG"


def test_plot_history_from_fit_with_early_stopping():
    X, y = regression_data(48)
    cr.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1))
    stopper = cr.train.EarlyStopping(patience=2)
    loss = lambda out, t: nn.functional.mse_loss(out.reshape(-1), t)  # noqa: E731
    h = cr.train.fit(model, loss, cr.optim.SGD(model.parameters(), lr=0.3), (X[:24], y[:24]),
                     epochs=60, val_data=(X[24:], y[24:]), callbacks=[stopper], progress=False,
                     batch_size=8)
    p = viz.plot_history(h, early_stopping=stopper)
    assert p.stopped_epoch == stopper.stopped_epoch + 1 == len(h)
    assert p.best_epoch == stopper.best_epoch + 1 == h.best("val_loss")[0]


def test_gradient_norms_are_the_real_ones():
    X, y = regression_data(32)
    cr.manual_seed(2)
    model = nn.Sequential(nn.Linear(3, 8), nn.Sigmoid(), nn.Linear(8, 8), nn.Sigmoid(),
                          nn.Linear(8, 1))
    snapshot = {k: v.array.copy() for k, v in model.state_dict().items()}
    p = viz.gradient_flow(model, X, y, steps=5, lr=0.5)
    assert p.names == ["0", "2", "4"] and p.norms.shape == (5, 3)
    # repeat the same 5 steps by hand and compare every norm
    model.load_state_dict({k: cr.tensor(v) for k, v in snapshot.items()})
    opt = cr.optim.SGD(model.parameters(), lr=0.5)
    for step in range(5):
        opt.zero_grad()
        nn.functional.mse_loss(model(X).reshape(-1), y).backward()
        want = [np.linalg.norm(model[i].weight.grad.numpy()) for i in (0, 2, 4)]
        np.testing.assert_allclose(p.norms[step], want, rtol=1e-6)
        opt.step()
    assert p.png()[:4] == b"\x89PNG"


def test_recorder_as_fit_callback_and_comparison():
    X, y = regression_data(32)
    cr.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    rec = GradientRecorder(model)
    loss = lambda out, t: nn.functional.mse_loss(out.reshape(-1), t)  # noqa: E731
    cr.train.fit(model, loss, cr.optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=3,
                 batch_size=8, progress=False, callbacks=[rec])
    assert rec.norms.shape == (12, 2) and np.all(rec.norms > 0)
    viz.gradient_flow(rec)

    def deep(act):
        layers = []
        for i in range(6):
            layers += [nn.Linear(3 if i == 0 else 16, 16), act()]
        return nn.Sequential(*layers, nn.Linear(16, 1))
    p = viz.compare_gradient_flow({"sigmoid": lambda: deep(nn.Sigmoid),
                                   "relu": lambda: deep(nn.ReLU)}, X, y, steps=3, lr=0.01)
    sig, relu = (p.norms[k].mean(axis=0) for k in ("sigmoid", "relu"))
    # vanishing gradient: the sigmoid net's first layer gets far less than its last,
    # far less than the ReLU net's first layer does
    assert sig[0] < sig[-1] / 100 and sig[0] < relu[0] / 10


def test_recorder_needs_weights():
    with pytest.raises(ValueError, match="no layer with a weight"):
        GradientRecorder(nn.Sequential(nn.ReLU()))
