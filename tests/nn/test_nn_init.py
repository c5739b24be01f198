"""cr.nn.init: PyTorch's gains and formulas, checked by bounds and statistics against torch's own
initialisers on tensors of the same shape; seeding."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import init

torch = pytest.importorskip("torch")
TI = torch.nn.init


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        TI.calculate_gain(nonlinearity, param), rel=1e-15)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


def _stats(a):
    a = np.asarray(a, dtype=np.float64)
    return np.abs(a).max(), a.std(), a.mean()


SHAPE = (256, 128, 3)  # fan_in = 384, fan_out = 768


@pytest.mark.parametrize("name,kwargs", [
    ("uniform_", {"a": -0.3, "b": 0.7}), ("normal_", {"mean": 0.5, "std": 2.0}),
    ("xavier_uniform_", {}), ("xavier_uniform_", {"gain": 5 / 3}), ("xavier_normal_", {}),
    ("kaiming_uniform_", {}), ("kaiming_uniform_", {"a": math.sqrt(5)}),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"nonlinearity": "relu"}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "tanh"}),
    ("trunc_normal_", {"std": 0.5, "a": -0.6, "b": 0.8})])
def test_random_init_statistics_match_torch(name, kwargs):
    cr.manual_seed(0)
    torch.manual_seed(0)
    ours = getattr(init, name)(cr.empty(*SHAPE, dtype=cr.float64), **kwargs).numpy()
    theirs = getattr(TI, name)(torch.empty(*SHAPE, dtype=torch.float64), **kwargs).numpy()
    (om, os_, oa), (tm, ts, ta) = _stats(ours), _stats(theirs)
    assert os_ == pytest.approx(ts, rel=0.01)
    assert oa == pytest.approx(ta, abs=0.01 * ts)
    if "uniform" in name or "trunc" in name:  # bounded: the same bound
        assert om == pytest.approx(tm, rel=0.002)
        assert ours.min() >= theirs.min() - 1e-3 * tm and ours.max() <= theirs.max() + 1e-3 * tm


def test_xavier_and_kaiming_formulas():
    w = init.xavier_uniform_(cr.empty(300, 200, dtype=cr.float64)).numpy()
    bound = math.sqrt(6 / (300 + 200))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    w = init.kaiming_normal_(cr.empty(400, 500, dtype=cr.float64), nonlinearity="relu").numpy()
    assert w.std() == pytest.approx(math.sqrt(2 / 500), rel=0.01)


def test_deterministic_inits_match_torch():
    for name, args in [("constant_", (0.3,)), ("zeros_", ()), ("ones_", ()), ("eye_", ())]:
        ours = getattr(init, name)(cr.empty(3, 5), *args).numpy()
        theirs = getattr(TI, name)(torch.empty(3, 5), *args).numpy()
        np.testing.assert_array_equal(ours, theirs)
    ours = init.dirac_(cr.empty(4, 2, 3, 3)).numpy()
    np.testing.assert_array_equal(ours, TI.dirac_(torch.empty(4, 2, 3, 3)).numpy())


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape):
    w = init.orthogonal_(cr.empty(*shape, dtype=cr.float64), gain=2.0).numpy().reshape(shape[0], -1)
    small = min(w.shape)
    gram = w @ w.T if w.shape[0] == small else w.T @ w
    np.testing.assert_allclose(gram, 4 * np.eye(small), atol=1e-12)


def test_init_is_seeded_and_outside_the_graph():
    p = cr.nn.Parameter(cr.empty(3, 4))
    cr.manual_seed(11)
    a = init.kaiming_uniform_(p).numpy(force=True).copy()
    cr.manual_seed(11)
    b = init.kaiming_uniform_(p).numpy(force=True)
    np.testing.assert_array_equal(a, b)
    assert p.grad_fn is None and p.requires_grad
    g = cr.Generator().manual_seed(11)
    c = init.kaiming_uniform_(cr.empty(3, 4), generator=g).numpy()
    np.testing.assert_array_equal(a, c)


def test_init_bad_input():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(cr.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(cr.empty(5, 5), mode="fan_avg")
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(cr.empty(2, 2, 2))


@pytest.mark.parametrize("fill,draw", [
    (lambda t: init.uniform_(t, -0.5, 0.5), lambda g, shape: g.uniform(-0.5, 0.5, shape)),
    (lambda t: init.normal_(t, 1.0, 2.0), lambda g, shape: g.normal(1.0, 2.0, shape))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_big_tensors_drawn_in_chunks_get_one_draws_values(fill, draw, dtype):
    # past the chunk size the draw is made in parts; the values are those of one whole draw
    shape = (3 * init._DRAW_CHUNK // 200 + 7, 200)
    cr.manual_seed(5)
    t = fill(cr.empty(shape, dtype=dtype))
    whole = draw(np.random.Generator(np.random.PCG64(5)), shape).astype(dtype)
    np.testing.assert_array_equal(t.numpy(), whole)
    assert t.numpy().size > 2 * init._DRAW_CHUNK
