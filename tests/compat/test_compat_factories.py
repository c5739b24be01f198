"""Factory keywords, out= and NumPy-style aliases as PyTorch takes them."""
import warnings

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def dt(m, name):
    return getattr(m, name)


def test_normal_with_size_and_requires_grad_as_the_textbook_writes_it():
    for m in (cr, torch):
        w = m.normal(0, 0.01, size=(2, 1), requires_grad=True)
        assert tuple(w.shape) == (2, 1) and w.requires_grad and w.is_leaf
        assert str(w.dtype).endswith("float32")
    assert cr.normal(cr.zeros(3), 1.0).shape == torch.normal(torch.zeros(3), 1.0).shape
    assert cr.normal(2.0, cr.ones(3)).shape == torch.normal(2.0, torch.ones(3)).shape
    with pytest.raises(TypeError):
        torch.normal(0, 1)
    with pytest.raises(TypeError, match="normal: .*size"):
        cr.normal(0, 1)


@pytest.mark.parametrize("call", [
    lambda m, **k: m.zeros(size=(2, 3), **k),
    lambda m, **k: m.ones(2, 3, **k),
    lambda m, **k: m.empty((2, 3), **k),
    lambda m, **k: m.rand(2, 3, **k),
    lambda m, **k: m.randn(2, 3, **k),
    lambda m, **k: m.full((2, 3), 1.5, **k),
    lambda m, **k: m.eye(2, 3, **k),
    lambda m, **k: m.linspace(0, 1, 6, **k),
    lambda m, **k: m.arange(0.0, 3.0, 0.5, **k),
])
def test_float_factories_take_dtype_layout_requires_grad(call):
    for dtype in ("float64", "float32"):
        a = call(cr, dtype=dt(cr, dtype), layout=cr.strided, requires_grad=True)
        b = call(torch, dtype=dt(torch, dtype), layout=torch.strided, requires_grad=True)
        assert tuple(a.shape) == tuple(b.shape) and a.dtype.name == str(b.dtype)[6:]
        assert a.requires_grad and b.requires_grad


def test_generator_keyword_repeats_draws():
    g1, g2 = cr.Generator().manual_seed(3), cr.Generator().manual_seed(3)
    for make in (lambda g: cr.rand(3, generator=g), lambda g: cr.randn(3, generator=g),
                 lambda g: cr.randint(0, 9, (3,), generator=g),
                 lambda g: cr.randperm(5, generator=g),
                 lambda g: cr.normal(0.0, 1.0, size=(3,), generator=g)):
        assert make(g1).tolist() == make(g2).tolist()


def test_factory_out_fills_the_given_tensor_as_torch():
    for m in (cr, torch):
        out = m.empty(0)
        r = m.zeros(2, 3, out=out)
        assert r is out and tuple(out.shape) == (2, 3)
        out = m.empty(3, dtype=m.int64)
        m.arange(3, out=out)
        assert out.tolist() == [0, 1, 2] and str(out.dtype).endswith("int64")
        with pytest.raises(RuntimeError, match="does not match dtype of out"):
            m.zeros(3, out=out, dtype=m.float32)


@pytest.mark.parametrize("name,args", [
    ("add", lambda m: (m.ones(2, 3), 2.0)), ("mul", lambda m: (m.ones(2, 3), m.full((3,), 3.0))),
    ("sub", lambda m: (m.ones(2, 3), 1)), ("div", lambda m: (m.ones(2, 3), 4.0)),
    ("exp", lambda m: (m.zeros(2, 3),)),
    ("sum", lambda m: (m.ones(2, 3), 1)), ("cat", lambda m: ([m.ones(1, 3), m.ones(1, 3)],)),
])
def test_out_on_functions_writes_into_out_as_torch(name, args):
    results = []
    for m in (cr, torch):
        out = m.empty(2, 2, dtype=m.float64)     # wrong shape (resized) and a wider dtype
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = getattr(m, name)(*args(m), out=out)
        assert r is out and str(out.dtype).endswith("float64")
        results.append(np.asarray(out.tolist()))
    np.testing.assert_allclose(results[0], results[1])


def test_matmul_out_takes_only_its_own_dtype_as_torch():
    for m in (cr, torch):
        out = m.empty(2, 2)
        assert m.matmul(m.ones(2, 3), m.ones(3, 2), out=out) is out
        assert out.tolist() == [[3.0, 3.0], [3.0, 3.0]]
        with pytest.raises(RuntimeError, match="(?i)expected out tensor to have dtype"):
            m.matmul(m.ones(2, 3), m.ones(3, 2), out=m.empty(2, 2, dtype=m.float64))


def test_out_refuses_gradients_and_narrowing_as_torch():
    for m in (cr, torch):
        a = m.ones(2, 2, requires_grad=True)
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            m.matmul(a, a, out=m.empty(2, 2))
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            m.add(m.ones(2), 1.5, out=m.empty(2, dtype=m.int64))
        with m.no_grad():
            out = m.empty(2, 2)
            m.matmul(a, a, out=out)
        assert out.tolist() == [[2.0, 2.0], [2.0, 2.0]] and not out.requires_grad


def test_out_resize_of_a_nonempty_tensor_warns():
    with pytest.warns(UserWarning, match="resized"):
        cr.mul(cr.ones(2, 3), 2, out=cr.empty(5))


@pytest.mark.parametrize("call", [
    lambda m, x: m.argmax(x, axis=1), lambda m, x: m.sum(x, axis=1, keepdims=True),
    lambda m, x: x.sum(axis=0), lambda m, x: x.mean(axis=1, keepdims=True),
    lambda m, x: x.max(axis=1).values, lambda m, x: x.argmin(axis=0, keepdims=True),
    lambda m, x: m.cat([x, x], axis=0), lambda m, x: m.stack([x, x], axis=1),
    lambda m, x: m.softmax(x, axis=0), lambda m, x: x.std(axis=1), lambda m, x: x.any(axis=1),
    lambda m, x: m.amax(x, axis=1, keepdims=True), lambda m, x: x.unsqueeze(axis=0),
])
def test_numpy_names_axis_and_keepdims_as_torch(call):
    x = np.random.default_rng(1).standard_normal((3, 4))
    a = call(cr, cr.tensor(x))
    b = call(torch, torch.tensor(x))
    np.testing.assert_allclose(np.asarray(a.tolist(), float), np.asarray(b.tolist(), float))


def test_both_dim_and_axis_is_an_error():
    with pytest.raises(TypeError, match="dim"):
        cr.ones(2, 2).sum(dim=0, axis=1)


@pytest.mark.parametrize("call", [
    lambda x: x.new_zeros(2, 3), lambda x: x.new_ones((2,)), lambda x: x.new_empty(3),
    lambda x: x.new_full((2,), 4), lambda x: x.new_tensor([1, 2]),
    lambda x: x.new_zeros(2, dtype=x.dtype, device="cpu", requires_grad=True),
])
def test_new_factories_take_the_dtype_of_their_tensor(call):
    a = call(cr.ones(1, dtype=cr.float64))
    b = call(torch.ones(1, dtype=torch.float64))
    assert tuple(a.shape) == tuple(b.shape) and a.dtype == cr.float64
    assert a.requires_grad == b.requires_grad
    with pytest.raises(AssertionError):
        cr.ones(1).new_zeros(2, device="cuda")
