"""Property-based tests: random broadcastable shapes and random small graphs of composed ops.

For every drawn case the analytic gradient must match float64 central finite differences
(``cr.autograd.gradcheck``), and, when PyTorch is installed, PyTorch's gradient too.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import chainrule as cr

try:
    import torch
except ImportError:  # the finite-difference half of every property still runs
    torch = None

SETTINGS = settings(max_examples=40, deadline=None)


def _values(seed, shape, low=None):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(shape)
    v = np.where(np.abs(v) < 0.1, 0.1 + np.abs(v), v)  # away from kinks at 0
    return np.abs(v) + 0.5 if low == "pos" else v


def _leaves(arrays):
    return [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in arrays]


def _torch_grads(fn, arrays):
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(torch, *ts)
    out.backward()
    return [None if t.grad is None else t.grad.numpy() for t in ts]


def _weights(seed, shape):
    """Fixed random weights that turn an output into a scalar loss."""
    return np.random.default_rng(seed + 99).standard_normal(shape)


def _check(fn, arrays):
    xs = _leaves(arrays)
    assert cr.autograd.gradcheck(lambda *t: fn(cr, *t), xs)
    if torch is not None:
        out = fn(cr, *xs)
        out.backward()
        for x, g in zip(xs, _torch_grads(fn, arrays)):
            if g is None:        # a leaf the graph never used
                assert x.grad is None
            else:
                np.testing.assert_allclose(x.grad.numpy(), g, rtol=1e-9, atol=1e-12)


BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b,
    "pow": lambda m, a, b: a.abs() ** b,
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b),
    "where": lambda m, a, b: m.where(a > b, a * b, a - b),
    "atan2ish": lambda m, a, b: (a * b).tanh() + (a - b).sigmoid(),
}


@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2 ** 32 - 1))
def test_binary_ops_over_random_broadcastable_shapes(shapes, op, seed):
    a_shape, b_shape = shapes.input_shapes
    a, b = _values(seed, a_shape), _values(seed + 1, b_shape)
    fn = BINARY[op]
    xs = _leaves([a, b])
    out = fn(cr, *xs)
    assert tuple(out.shape) == shapes.result_shape
    w = _weights(seed, shapes.result_shape)
    _check(lambda m, a, b: (fn(m, a, b) * m.tensor(w)).sum(), [a, b])


@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2 ** 32 - 1))
def test_where_and_three_way_broadcast(shapes, seed):
    arrays = [_values(seed + i, s) for i, s in enumerate(shapes.input_shapes)]
    _check(lambda m, a, b, c: m.where(c > 0, a * c, b).sum(), arrays)


@st.composite
def matmul_shapes(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3))
    a_batch, b_batch = batch.input_shapes
    a_vec, b_vec = draw(st.booleans()), draw(st.booleans())
    a_shape = (k,) if a_vec else a_batch + (n, k)
    b_shape = (k,) if b_vec else b_batch + (k, m)
    return a_shape, b_shape


@SETTINGS
@given(shapes=matmul_shapes(), seed=st.integers(0, 2 ** 32 - 1))
def test_matmul_over_random_batch_and_vector_shapes(shapes, seed):
    a, b = _values(seed, shapes[0]), _values(seed + 1, shapes[1])
    expect = np.matmul(a, b)
    xs = _leaves([a, b])
    out = xs[0] @ xs[1]
    assert out.shape == expect.shape
    np.testing.assert_allclose(out.detach().numpy(), expect, rtol=1e-12)
    _check(lambda m, a, b: ((a @ b) * (a @ b)).sum(), [a, b])


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       data=st.data(), seed=st.integers(0, 2 ** 32 - 1))
def test_reductions_over_random_dims(shape, data, seed):
    ndim = len(shape)
    dims = tuple(sorted(data.draw(st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim))))
    keepdim = data.draw(st.booleans())
    name = data.draw(st.sampled_from(["sum", "mean", "amax", "logsumexp", "var", "norm"]))
    if name == "var" and int(np.prod([shape[d] for d in dims])) < 2:
        name = "mean"
    x = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.3 + 0.1

    kept = tuple(1 if d in dims else n for d, n in enumerate(shape))
    w = _weights(seed, kept if keepdim else tuple(n for d, n in enumerate(shape) if d not in dims))

    def fn(m, t):
        extra = {"p": 2} if name == "norm" else {}
        return (getattr(t, name)(dim=dims, keepdim=keepdim, **extra) * m.tensor(w)).sum()
    _check(fn, [x])


UNARY = [
    lambda t: t.tanh(), lambda t: t.sin(), lambda t: t.sigmoid(), lambda t: t.tanh().exp(),
    lambda t: (t * t + 1).log(), lambda t: (t * t + 1).sqrt(), lambda t: t * t, lambda t: -t,
    lambda t: (t * t + 1).reciprocal(), lambda t: t * 0.5 + 1.0, lambda t: 2.0 - t,
]
BINARY_SMOOTH = [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / (b * b + 1),
    lambda a, b: (a * a + 0.5) ** b.tanh(),
]
REDUCE = [
    lambda t: t.sum(-1, keepdim=True), lambda t: t.mean(-1, keepdim=True),
    lambda t: t.softmax(-1), lambda t: t.log_softmax(-1), lambda t: t.logsumexp(-1, keepdim=True),
    lambda t: t.cumsum(-1), lambda t: t.flip(-1),
]


@st.composite
def random_graph(draw):
    """A DAG of up to 6 operations over 1-3 leaves; operands are drawn from every earlier node,
    so values are reused (diamonds) and shapes broadcast against each other."""
    shapes = draw(mutually_broadcastable_shapes(num_shapes=draw(st.integers(1, 3)), min_dims=0,
                                                max_dims=3, max_side=3)).input_shapes
    steps = []
    n_nodes = len(shapes)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["unary", "binary", "reduce"]))
        i = draw(st.integers(0, n_nodes - 1))
        if kind == "binary":
            steps.append((kind, draw(st.integers(0, len(BINARY_SMOOTH) - 1)), i,
                          draw(st.integers(0, n_nodes - 1))))
        else:
            table = UNARY if kind == "unary" else REDUCE
            steps.append((kind, draw(st.integers(0, len(table) - 1)), i, None))
        n_nodes += 1
    return shapes, steps


def _run_graph(steps, leaves):
    nodes = list(leaves)
    for kind, k, i, j in steps:
        a = nodes[i]
        if kind == "binary":
            nodes.append(BINARY_SMOOTH[k](a, nodes[j]))
        elif kind == "unary" or a.ndim == 0:
            nodes.append(UNARY[k % len(UNARY)](a))
        else:
            nodes.append(REDUCE[k](a))
    total = nodes[-1].sum()
    for n in nodes[len(leaves):-1]:
        total = total + 0.1 * n.sum()   # every intermediate feeds the loss too
    return total


@SETTINGS
@given(graph=random_graph(), seed=st.integers(0, 2 ** 32 - 1))
def test_random_graphs_match_finite_differences(graph, seed):
    shapes, steps = graph
    arrays = [_values(seed + i, s) * 0.8 for i, s in enumerate(shapes)]
    _check(lambda m, *xs: _run_graph(steps, xs), arrays)


@SETTINGS
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple),
       target_extra=st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple),
       data=st.data(), seed=st.integers(0, 2 ** 32 - 1))
def test_expand_then_reduce_undoes_broadcast(shape, target_extra, data, seed):
    # every size-1 axis may grow: the engine must sum the gradient back over exactly those axes
    grow = [data.draw(st.integers(1, 3)) if s == 1 else s for s in shape]
    target = target_extra + tuple(grow)
    x = _values(seed, shape)
    _check(lambda m, t: (t.expand(target) * m.arange(int(np.prod(target)), dtype=m.float64)
                         .reshape(target)).sum(), [x])
