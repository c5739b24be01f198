"""Linear's forward on oneDNN's matmul (the ``onednn`` extra): float32 products of
``MIN_MULTIPLY_ADDS`` and up that no gradient will follow run there, in every layout a Linear
meets, agreeing with the MKL / NumPy path and with PyTorch to float32 rounding; everything
else stays where it was."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.backends import onednn
from chainrule.kernels import onednn_matmul
from torch_compare import compare_with_reference, functional_linear_matches_torch

pytestmark = pytest.mark.skipif(not onednn.is_available(), reason="oneDNN is not installed")

ROWS = onednn_matmul.MIN_MULTIPLY_ADDS // (64 * 96) + 1     # x (ROWS, 96) @ W^T (96, 64): big enough


@pytest.fixture(autouse=True)
def fast_path():
    with cr.backends.reference(False):     # oneDNN is a fast path: off under the reference
        yield


@pytest.fixture
def calls(monkeypatch):
    ran = []
    real = onednn_matmul.forward
    monkeypatch.setattr(onednn_matmul, "forward", lambda *a: (ran.append(1), real(*a))[1])
    return ran


def _rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _layouts():
    x, w = _rand(ROWS, 96), _rand(64, 96, seed=1)
    yield "rows", x, w
    yield "x columns", np.asfortranarray(x), w
    yield "W columns", x, np.asfortranarray(w)
    yield "strided", _rand(ROWS, 192, seed=2)[:, ::2], _rand(128, 96, seed=3)[::2]
    # fewer rows take the row_products kernel (tests/kernels/test_row_products.py)
    rows = onednn_matmul.MIN_MULTIPLY_ADDS // (64 * 4096) + cr.ops.linear.ROW_PRODUCT_ROWS
    yield "few rows", _rand(rows, 4096, seed=4), _rand(64, 4096, seed=5)


@pytest.mark.parametrize("layout", [name for name, _, _ in _layouts()])
@pytest.mark.parametrize("bias", [True, False])
def test_a_large_float32_product_runs_on_onednn_and_equals_the_reference(layout, bias, calls):
    x, w = next((x, w) for name, x, w in _layouts() if name == layout)
    b = _rand(w.shape[0], seed=6) if bias else None
    got = cr.nn.functional.linear(cr.from_numpy(x), cr.from_numpy(w),
                                  None if b is None else cr.from_numpy(b)).numpy()
    assert calls == [1]
    expected = x.astype(np.float64) @ w.T.astype(np.float64) + (0 if b is None else b)
    assert got.dtype == np.float32 and got.flags.c_contiguous
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


def test_a_3d_input_without_gradients_runs_on_it_and_a_training_forward_does_not(calls):
    cr.manual_seed(0)
    layer = cr.nn.Linear(96, 64)
    x = _rand(4, ROWS // 4 + 1, 96)
    with cr.no_grad():
        y = layer(cr.from_numpy(x)).numpy()
    assert calls == [1] and y.shape == (4, ROWS // 4 + 1, 64)
    trained = compare_with_reference(layer, x)     # needs gradients: MKL's product
    assert calls == [1]
    np.testing.assert_allclose(y, trained, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", ["float64", "small", "disabled", "reference"])
def test_other_products_stay_off_onednn(case, calls, monkeypatch):
    dtype = np.float64 if case == "float64" else np.float32
    rows = 4 if case == "small" else ROWS
    x, w, b = _rand(rows, 96, dtype=dtype), _rand(64, 96, seed=1, dtype=dtype), None
    if case == "disabled":
        monkeypatch.setattr(onednn, "enabled", False)
    run = lambda: cr.nn.functional.linear(cr.from_numpy(x), cr.from_numpy(w), b).numpy()
    if case == "reference":
        with cr.backends.reference():
            got = run()
    else:
        got = run()
    assert calls == []
    np.testing.assert_allclose(got, x @ w.T, rtol=1e-5, atol=1e-4)


def test_repeatable_and_equal_to_the_fused_inference_replay():
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(96, 64), cr.nn.ReLU(), cr.nn.Linear(64, 3))
    x = _rand(ROWS, 96)
    x[0, :2] = [np.nan, np.inf]         # NaN passes the ReLU, as relu's own pass lets it
    x = cr.from_numpy(x)
    compiled = cr.compile(model)
    with cr.no_grad():
        eager = model(x).numpy()
        np.testing.assert_array_equal(model(x).numpy(), eager)
        for _ in range(3):
            replayed = compiled(x).numpy()
    np.testing.assert_array_equal(replayed, eager)
    assert np.isnan(eager[0]).all() and np.isfinite(eager[1:]).all()


def test_the_plans_are_bounded(monkeypatch):
    monkeypatch.setattr(onednn_matmul._PLANS, "limit", 2)
    w = _rand(64, 96, seed=1)
    for rows in (ROWS, ROWS + 1, ROWS + 2):
        onednn_matmul.forward(_rand(rows, 96), w, None)
    assert len(onednn_matmul._PLANS) == 2
    assert (ROWS, 96, 64) not in [key[:3] for key in onednn_matmul._PLANS]


def test_matches_torch_at_the_benchmarks_size():
    pytest.importorskip("torch")
    functional_linear_matches_torch(_rand(1024, 784), _rand(256, 784, seed=1) * 0.05,
                                    _rand(256, seed=2))
