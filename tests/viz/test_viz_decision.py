"""plot_decision_boundary and plot_hidden_representation show the model's real outputs."""
import numpy as np
import pytest

pytest.importorskip("matplotlib")
import chainrule as cr  # noqa: E402
import chainrule.nn as nn  # noqa: E402
from chainrule import viz  # noqa: E402
from chainrule.viz.decision import interpret_outputs, pca  # noqa: E402


def data(k=3, n=60):
    g = np.random.default_rng(0)
    X = g.normal(size=(n, 2)).astype(np.float32)
    y = (np.arange(n) % k).astype(np.int64)
    return cr.tensor(X), cr.tensor(y)


def model_probs(model, pts):
    with cr.no_grad():
        out = model(cr.tensor(pts.astype(np.float32))).numpy().astype(np.float64)
    e = np.exp(out - out.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_multiclass_probabilities_on_the_grid_are_the_models():
    X, y = data()
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    p = viz.plot_decision_boundary(model, X, y, resolution=30)
    assert p.kind == "multiclass" and p.values.shape == (30, 30, 3)
    pts = np.stack([p.grid_x.ravel(), p.grid_y.ravel()], axis=1)
    np.testing.assert_allclose(p.values.reshape(-1, 3), model_probs(model, pts), rtol=1e-5)
    # the grid covers the data with a margin
    assert p.grid_x.min() < X.numpy()[:, 0].min() and p.grid_y.max() > X.numpy()[:, 1].max()
    d = viz.plot_decision_boundary(model, X, y, discretize=True, resolution=30)
    np.testing.assert_allclose(d.values, p.values)
    assert len(d.png()) > 10_000
    assert model.training   # eval mode only while predicting


def test_binary_logit_probability_signed_and_regression_outputs():
    logits = np.array([[-2.0], [0.0], [3.0]])
    kind, v = interpret_outputs(logits, np.array([0, 1, 1]))
    assert kind == "binary"
    np.testing.assert_allclose(v, 1 / (1 + np.exp(-logits[:, 0])))
    kind, v = interpret_outputs(np.array([[0.2], [0.9]]), np.array([0, 1]))
    np.testing.assert_allclose(v, [0.2, 0.9])
    kind, v = interpret_outputs(np.array([[-0.5], [0.5]]), np.array([-1.0, 1.0]))
    np.testing.assert_allclose(v, [0.25, 0.75])
    kind, v = interpret_outputs(np.array([[1.5], [2.5]]), np.array([0.3, 7.1]))
    assert kind == "regression"
    np.testing.assert_allclose(v, [1.5, 2.5])
    with pytest.raises(ValueError, match="task must be"):
        interpret_outputs(logits, None, task="ranking")


def test_regression_and_binary_plots():
    X, _ = data()
    cr.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    yr = cr.tensor(X.numpy().sum(axis=1))
    p = viz.plot_decision_boundary(model, X, yr, resolution=20)
    assert p.kind == "regression"
    pts = np.stack([p.grid_x.ravel(), p.grid_y.ravel()], axis=1)
    with cr.no_grad():
        want = model(cr.tensor(pts.astype(np.float32))).numpy()[:, 0]
    np.testing.assert_allclose(p.values.ravel(), want, rtol=1e-6)
    yb = cr.tensor((X.numpy()[:, 0] > 0).astype(np.int64))
    b = viz.plot_decision_boundary(model, X, yb, resolution=20)
    assert b.kind == "binary" and b.values.shape == (20, 20)
    np.testing.assert_allclose(b.values.ravel(), 1 / (1 + np.exp(-want)), rtol=1e-5)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        viz.plot_decision_boundary(model, cr.zeros(5, 3), yb)


def test_hidden_representation_is_the_layers_activation():
    X, y = data(k=2)
    cr.manual_seed(2)
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2))
    p = viz.plot_hidden_representation(model, "1", X, y, resolution=20)
    W, b = model[0].weight.numpy(force=True), model[0].bias.numpy(force=True)
    want = np.tanh(X.numpy() @ W.T + b)
    np.testing.assert_allclose(p.hidden, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(p.projection, p.hidden)
    with cr.no_grad():
        np.testing.assert_array_equal(p.predicted, model(X).numpy().argmax(axis=1))
    assert len(p.png()) > 20_000


def test_hidden_representation_of_many_units_uses_pca():
    X, y = data(k=2)
    cr.manual_seed(3)
    hidden = nn.ReLU()
    model = nn.Sequential(nn.Linear(2, 6), hidden, nn.Linear(6, 1))
    p = viz.plot_hidden_representation(model, hidden, X, cr.tensor(y.numpy().astype(np.float32)))
    H = np.maximum(X.numpy() @ model[0].weight.numpy(force=True).T
                   + model[0].bias.numpy(force=True), 0)
    np.testing.assert_allclose(p.hidden, H, rtol=1e-5, atol=1e-6)
    proj, comps, ratio = pca(H, 2)
    np.testing.assert_allclose(p.projection, proj)
    # the projection keeps the variance along the top two directions of the centred data
    centred = H - H.mean(axis=0)
    np.testing.assert_allclose((proj ** 2).sum(axis=0) / (centred ** 2).sum(), ratio, rtol=1e-6)
    assert p.explained[0] >= p.explained[1]
    three = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 2))
    t = viz.plot_hidden_representation(three, "1", X, y)
    assert t.hidden.shape == (60, 3) and t.explained is None
    assert len(t.png()) > 20_000
