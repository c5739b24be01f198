"""The ``row_products`` kernel (chainrule.kernels.linear_kernels): a Linear of at most
``ROW_PRODUCT_ROWS`` input rows. Its sums may be split into vector lanes (the one kernel built
with reassociation), so it agrees with NumPy's product to rounding; its parallel build gives
the serial build's bits; NaN and infinities propagate, and a fused ReLU passes NaN as ReLU
does."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.ops import linear
from chainrule.ops.linear import ROW_PRODUCT_ROWS
from torch_compare import (compare_with_reference, functional_linear_matches_torch,
                           replay_equals_eager)

pytest.importorskip("numba")
pytestmark = pytest.mark.skipif(not kernels.available(), reason="kernels off (CHAINRULE_KERNELS=0)")


def _rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _both_builds(x, w, b, relu):
    """(serial, parallel) outputs of the kernel on the same arguments."""
    outs = []
    for size in (0, kernels.PARALLEL_MIN):
        out = np.empty((x.shape[0], w.shape[0]), x.dtype)
        kernels.get("row_products", size)(x, w, b, out, relu)
        outs.append(out)
    return outs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, n, k", [(1, 256, 784), (1, 10, 256), (2, 7, 5), (3, 13, 1),
                                        (ROW_PRODUCT_ROWS, 65, 33), (1, 1, 300)])
@pytest.mark.parametrize("relu", [False, True])
def test_row_products_agree_with_numpy_and_their_builds_with_each_other(
        rows, n, k, relu, dtype):
    x, w, b = _rand(rows, k, dtype=dtype), _rand(n, k, seed=1, dtype=dtype), \
        _rand(n, seed=2, dtype=dtype)
    serial, parallel = _both_builds(x, w, b, relu)
    np.testing.assert_array_equal(serial, parallel)     # each sum is one thread's, either way
    expected = x.astype(np.float64) @ w.T.astype(np.float64) + b
    if relu:
        expected = np.maximum(expected, 0)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(serial, expected, rtol=tol, atol=tol * np.sqrt(k))


def test_nan_and_infinity_propagate_and_relu_passes_nan():
    x = np.zeros((3, 8), np.float32)
    x[0, 0] = np.nan
    x[1, 1] = np.inf       # inf * 0 is NaN: every other output of row 1 is NaN
    w = np.eye(6, 8, dtype=np.float32)
    b = np.array([0, 0, 0, -1, 0, 0], np.float32)
    for relu in (False, True):
        out = np.empty((3, 6), np.float32)
        kernels.get("row_products", 0)(x, w, b, out, relu)
        assert np.isnan(out[0]).all() and out[1, 1] == np.inf and np.isnan(out[1, 3])
        assert out[2, 3] == (0 if relu else -1)


@pytest.mark.parametrize("shape", [(1, 784), (784,), (ROW_PRODUCT_ROWS, 784), (2, 1, 784)])
def test_a_linear_of_a_few_rows_runs_on_it_and_its_gradients_are_the_products(shape, monkeypatch):
    ran = []
    real = linear._row_products
    monkeypatch.setattr(linear, "_row_products", lambda *a, **k: (ran.append(1), real(*a, **k))[1])
    cr.manual_seed(0)
    y = compare_with_reference(cr.nn.Linear(784, 256), _rand(*shape))
    assert ran and y.shape == shape[:-1] + (256,)


@pytest.mark.parametrize("case", ["as it is", "five rows", "transposed weight", "strided x",
                                  "float16", "mixed dtypes", "too small", "reference"])
def test_which_linears_take_it(case):
    k = 100            # 30 x 100 weights: above ROW_PRODUCT_MIN multiply-adds for one row
    x, w, b = _rand(1, k), _rand(30, k, seed=1), _rand(30, seed=2)
    if case == "five rows":
        x = _rand(ROW_PRODUCT_ROWS + 1, k)
    elif case == "transposed weight":
        w = np.asfortranarray(w)
    elif case == "strided x":
        x = _rand(1, 2 * k)[:, ::2]
    elif case == "float16":
        x, w, b = x.astype(np.float16), w.astype(np.float16), b.astype(np.float16)
    elif case == "mixed dtypes":
        b = b.astype(np.float64)
    elif case == "too small":   # whatever is loaded: the choice follows the shapes alone
        x, w = x[:, :10].copy(), w[:, :10].copy()
        assert x.shape[0] * w.size < linear.ROW_PRODUCT_MIN
    with cr.backends.reference(case == "reference"):
        got = linear._row_products(x, w, b)
    if case == "as it is":
        np.testing.assert_allclose(got, x @ w.T + b, rtol=1e-5, atol=1e-5)
    else:
        assert got is None


def test_an_inference_replay_fuses_the_relu_into_it_bit_equal_to_eager():
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(784, 256), cr.nn.ReLU(), cr.nn.Linear(256, 10))
    x = _rand(1, 784)
    x[0, :2] = [np.nan, -0.0]
    replay_equals_eager(model, cr.from_numpy(x))


def test_matches_torch_at_the_benchmarks_size():
    pytest.importorskip("torch")
    functional_linear_matches_torch(_rand(1, 784), _rand(256, 784, seed=1) * 0.05,
                                    _rand(256, seed=2))
