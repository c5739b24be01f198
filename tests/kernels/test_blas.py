"""Matrix products through MKL (chainrule.kernels.blas, the ``mkl`` extra): equal to NumPy's
matmul to rounding for every layout BLAS can read without a copy (rows, transposed views,
row slices, broadcast 2-d operands against a batch), into ``out=``; NumPy's own matmul for
everything else; and the layers that route their products through it still match PyTorch with
every product on MKL."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.backends import mkl
from chainrule.kernels import blas

needs_mkl = pytest.mark.skipif(not blas.available(), reason="the mkl extra is not installed")


@pytest.fixture
def every_product_on_mkl(monkeypatch):
    """Route even tiny products to MKL, so that small test shapes exercise it."""
    monkeypatch.setattr(blas, "MIN_MULTIPLY_ADDS", 0)


def operand(shape, dtype, layout, seed):
    """An array of ``shape`` laid out as C rows, a transposed ('T') C array, or a slice of wider
    rows ('S'), the three forms BLAS reads through its transpose flag and leading dimension."""
    rng = np.random.default_rng(seed)
    if layout == "T":
        return rng.standard_normal(shape[:-2] + shape[:-3:-1]).astype(dtype).swapaxes(-1, -2)
    if layout == "S":
        return rng.standard_normal(shape[:-1] + (shape[-1] + 3,)).astype(dtype)[..., :shape[-1]]
    return rng.standard_normal(shape).astype(dtype)


def close(got, want):
    tol = 1e-5 if got.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * 10)


@needs_mkl
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("la", "CTS")
@pytest.mark.parametrize("lb", "CTS")
@pytest.mark.parametrize("batches", [(None, None), (4, 4), (None, 4), (4, None), (1, 4), (4, 1)])
def test_products_equal_numpy_for_every_layout(every_product_on_mkl, dtype, la, lb, batches):
    m, k, n = 33, 70, 41
    sa = (m, k) if batches[0] is None else (batches[0], m, k)
    sb = (k, n) if batches[1] is None else (batches[1], k, n)
    a, b = operand(sa, dtype, la, 0), operand(sb, dtype, lb, 1)
    got = blas.matmul(a, b)
    want = np.matmul(a, b)
    assert got.shape == want.shape and got.dtype == want.dtype and got.flags.c_contiguous
    close(got, want)


@needs_mkl
def test_a_large_product_goes_to_mkl_and_agrees(monkeypatch):
    a, b = operand((300, 500), np.float32, "C", 0), operand((500, 200), np.float32, "T", 1)
    assert 300 * 500 * 200 >= blas.MIN_MULTIPLY_ADDS
    calls = []
    gemm = mkl.functions()[np.dtype(np.float32)]
    monkeypatch.setitem(mkl.functions(), np.dtype(np.float32),
                        (lambda *args: calls.append(args) or gemm[0](*args),) + gemm[1:])
    got = blas.matmul(a, b)
    assert len(calls) == 1 and calls[0][2] == 112     # b read through the transpose flag, no copy
    close(got, a @ b)


@needs_mkl
def test_out_is_written_in_place(every_product_on_mkl):
    a, b = operand((8, 16), np.float64, "C", 0), operand((16, 5), np.float64, "C", 1)
    out = np.full((8, 5), np.nan)
    assert blas.matmul(a, b, out=out) is out
    close(out, a @ b)


@needs_mkl
@pytest.mark.parametrize("case", ["overlapping out", "strided out", "mixed dtypes", "float16",
                                  "1-d", "4-d", "empty", "zero inner", "negative strides",
                                  "no common layout"])
def test_anything_else_is_numpys_matmul(every_product_on_mkl, case):
    rng = np.random.default_rng(0)
    a, b, out = rng.standard_normal((6, 7)), rng.standard_normal((7, 5)), None
    if case == "overlapping out":
        a = np.ascontiguousarray(rng.standard_normal((6, 6)))
        b, out = a, None
        out = a                                   # NumPy copies when out aliases an input
        want = a @ b
        got = blas.matmul(a, b, out=out)
        close(got, want)
        return
    if case == "strided out":
        out = np.empty((6, 10))[:, ::2]
    elif case == "mixed dtypes":
        b = b.astype(np.float32)
    elif case == "float16":
        a, b = a.astype(np.float16), b.astype(np.float16)
    elif case == "1-d":
        b = b[:, 0].copy()
    elif case == "4-d":
        a, b = rng.standard_normal((2, 3, 6, 7)), rng.standard_normal((2, 3, 7, 5))
    elif case == "empty":
        a = a[:0]
    elif case == "zero inner":
        a, b = a[:, :0], b[:0]
    elif case == "negative strides":
        a = a[::-1]
    elif case == "no common layout":
        a = rng.standard_normal((6, 14, 3))[:, ::2, 0]
    want = np.matmul(a, b)
    got = blas.matmul(a, b) if out is None else blas.matmul(a, b, out=out)
    assert got.shape == want.shape and got.dtype == want.dtype
    if got.size:
        np.testing.assert_allclose(got, want, rtol=1e-3 if got.dtype == np.float16 else 1e-12)


@needs_mkl
def test_unequal_sizes_raise_numpys_error(every_product_on_mkl):
    with pytest.raises(ValueError):
        blas.matmul(np.ones((3, 4)), np.ones((5, 2)))
    with pytest.raises(ValueError):
        blas.matmul(np.ones((2, 3, 4)), np.ones((3, 4, 2)))


@needs_mkl
def test_the_reference_switch_keeps_numpys_products(every_product_on_mkl, monkeypatch):
    calls = []
    gemm = mkl.functions()[np.dtype(np.float64)]
    monkeypatch.setitem(mkl.functions(), np.dtype(np.float64),
                        (lambda *args: calls.append(1) or gemm[0](*args),) + gemm[1:])
    a = np.ones((4, 4))
    with cr.backends.reference():
        blas.matmul(a, a)
    assert calls == []
    blas.matmul(a, a)
    assert calls == [1]


def test_the_switch_and_availability_are_public():
    assert cr.backends.mkl.is_available() == blas.available()
    assert (cr.backends.mkl.library_path() is None) == (not blas.available())
    code = "from chainrule.kernels import blas; print(blas.available())"
    env = dict(os.environ, CHAINRULE_BLAS="numpy")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "False"


# -- the layers whose products route through blas, with every product on MKL, against PyTorch


def _torch_and_chainrule(make, x_shape, dtype, seed=0):
    torch.manual_seed(seed)
    t_layer = make(torch.nn).to(getattr(torch, dtype))
    c_layer = make(cr.nn).to(getattr(cr, dtype))
    c_layer.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in t_layer.state_dict().items()})
    x = np.random.default_rng(seed).standard_normal(x_shape).astype(dtype)
    tx, cx = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
    return t_layer, c_layer, tx, cx


LAYERS = {
    "Linear": (lambda nn: nn.Linear(20, 30), (7, 5, 20)),
    "Conv2d": (lambda nn: nn.Conv2d(3, 8, 3, padding=1), (4, 3, 9, 9)),
    "Conv2d groups": (lambda nn: nn.Conv2d(4, 6, 3, stride=2, groups=2), (3, 4, 9, 8)),
    "Conv1d": (lambda nn: nn.Conv1d(3, 5, 4, dilation=2), (2, 3, 20)),
    "LSTM": (lambda nn: nn.LSTM(6, 10, batch_first=True), (3, 7, 6)),
    "LSTM 2 layers bidirectional": (lambda nn: nn.LSTM(5, 8, num_layers=2, bidirectional=True),
                                    (6, 2, 5)),
}


@needs_mkl
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layers_match_torch_with_every_product_on_mkl(every_product_on_mkl, name, dtype):
    make, shape = LAYERS[name]
    t_layer, c_layer, tx, cx = _torch_and_chainrule(make, shape, dtype)
    t_out, c_out = t_layer(tx), c_layer(cx)
    if isinstance(t_out, tuple):
        t_out, c_out = t_out[0], c_out[0]
    t_out.square().sum().backward()
    c_out.square().sum().backward()
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(c_out.detach().numpy(), t_out.detach().numpy(), **tol)
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), **tol)
    for (n, tp), cp in zip(t_layer.named_parameters(), c_layer.parameters()):
        np.testing.assert_allclose(cp.grad.numpy(), tp.grad.numpy(), err_msg=n, **tol)


@needs_mkl
def test_batched_matmul_matches_torch_with_every_product_on_mkl(every_product_on_mkl):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 4, 6)), rng.standard_normal((6, 3))
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ca, cb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    (ta @ tb).sin().sum().backward()
    (ca @ cb).sin().sum().backward()
    np.testing.assert_allclose(ca.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(cb.grad.numpy(), tb.grad.numpy(), rtol=1e-12)


@needs_mkl
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("la", "CT")
@pytest.mark.parametrize("lb", "CTS")
def test_a_packed_left_operand_gives_the_products(every_product_on_mkl, dtype, la, lb):
    w = operand((40, 24), dtype, la, 0)
    packed = blas.packed_left(w, 7)
    assert isinstance(packed, blas.PackedLeft)
    for seed in range(3):                      # one packing, many products
        b = operand((24, 7), dtype, lb, seed + 1)
        out = np.full((40, 7), np.nan, dtype)
        assert packed.matmul(b, out=out) is out
        close(out, w @ b)


def test_no_packing_where_matmul_would_not_take_mkl():
    small = np.ones((4, 4), np.float32)
    assert blas.packed_left(small, 4) is None               # below MIN_MULTIPLY_ADDS
    assert blas.packed_left(np.ones((600, 600), np.float16), 600) is None
    with cr.backends.reference():
        assert blas.packed_left(np.ones((600, 600), np.float32), 600) is None


FORK_AFTER_THREADS = """
import os, sys
import chainrule as cr
cr.relu(cr.randn(1 << 18))                  # the kernels' parallel build: OpenMP threads start
class Products(cr.utils.data.Dataset):
    def __len__(self):
        return 4
    def __getitem__(self, i):
        w = cr.randn(600, 600)
        return float((w @ w).sum())          # a product big enough for MKL, in a forked worker
batches = list(cr.utils.data.DataLoader(Products(), batch_size=2, num_workers=2))
pid = os.fork()
if pid == 0:
    w = cr.randn(600, 600)
    os._exit(0 if float((w @ w).sum()) == float((w @ w).sum()) else 1)
_, status = os.waitpid(pid, 0)
print("done", os.waitstatus_to_exitcode(status), len(batches))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_products_in_a_fork_after_the_kernels_threads_started():
    """MKL's OpenMP threads hung in a forked child of a process whose GNU OpenMP threads had
    started; a forked child loads MKL sequential (and DataLoader workers run one thread)."""
    out = subprocess.run([sys.executable, "-c", FORK_AFTER_THREADS], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["done", "0", "2"]     # the child's product, both batches


@needs_mkl
def test_strides_beyond_32_bits_take_numpys_matmul():
    """MKL's integers are 32 bits and ctypes wraps larger ones silently: a leading dimension of
    2^32 (a one-row view with a huge row stride) must not reach MKL."""
    base = np.random.default_rng(0).standard_normal(300).astype(np.float32)
    a = np.lib.stride_tricks.as_strided(base, shape=(1, 300), strides=(2 ** 34, 4))
    b = np.random.default_rng(1).standard_normal((300, 1000)).astype(np.float32)
    assert 300 * 1000 >= blas.MIN_MULTIPLY_ADDS
    close(blas.matmul(a, b), base[None, :] @ b)


@needs_mkl
@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("accumulate", [False, True])
def test_a_bound_packed_product_by_address(every_product_on_mkl, transposed, accumulate):
    w = operand((40, 24), np.float64, "C", 0)
    packed = blas.packed_left(w, 7)
    rows = np.random.default_rng(1).standard_normal((3, 7, 24) if transposed else (3, 24, 7))
    run = packed.bound(24 if transposed else 7, b_transposed=transposed, accumulate=accumulate)
    outs = np.random.default_rng(2).standard_normal((3, 40, 7))
    want = [(o if accumulate else 0) + w @ (r.T if transposed else r) for o, r in zip(outs, rows)]
    for t in range(3):                          # each step's operands by address
        run(rows.ctypes.data + t * rows[0].nbytes, outs.ctypes.data + t * outs[0].nbytes)
    for t in range(3):
        close(outs[t], want[t])
