"""Embedding's backward kernel (chainrule.kernels.embedding_kernels) sums each row's gradients
as ``np.add.at`` does, bit for bit; so does the op's path for a small gradient, so that its bits
never depend on whether something else loaded Numba."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels

from bit_patterns import bits

pytest.importorskip("numba")


def _weight_grad(idx_np, g_np, rows, use_kernels=True, padding_idx=None):
    emb = cr.nn.Embedding(rows, g_np.shape[-1], padding_idx=padding_idx).to(
        dtype=cr.float64 if g_np.dtype == np.float64 else cr.float32)
    if use_kernels:
        emb(cr.from_numpy(idx_np)).backward(cr.from_numpy(g_np))
    else:
        with kernels.disabled():
            emb(cr.from_numpy(idx_np)).backward(cr.from_numpy(g_np))
    return emb.weight.grad.numpy()


def _add_at(idx_np, g_np, rows):
    expected = np.zeros((rows, g_np.shape[-1]), g_np.dtype)
    np.add.at(expected, idx_np.reshape(-1), g_np.reshape(-1, g_np.shape[-1]))
    return expected


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("idx_shape", [(), (7,), (32, 64), (3, 5, 400)])
def test_weight_gradient_is_add_at_bit_for_bit(idx_shape, dtype):
    rng = np.random.default_rng(len(idx_shape))
    rows = 65
    idx_np = rng.integers(0, rows, idx_shape)
    g_np = rng.standard_normal(idx_shape + (33,)).astype(dtype)
    np.testing.assert_array_equal(bits(_weight_grad(idx_np, g_np, rows)),
                                  bits(_add_at(idx_np, g_np, rows)))


def test_a_strided_gradient_is_read_where_it_lies():
    # an LSTM's time-major gradient seen batch-first: (N, T, D) with T's stride the largest
    rng = np.random.default_rng(5)
    idx_np = rng.integers(0, 20, (8, 50))
    g_np = rng.standard_normal((50, 8, 16)).astype(np.float32).transpose(1, 0, 2)
    np.testing.assert_array_equal(bits(_weight_grad(idx_np, g_np, 20)),
                                  bits(_add_at(idx_np, g_np, 20)))


def test_padding_row_gets_no_gradient():
    rng = np.random.default_rng(6)
    idx_np = rng.integers(0, 10, (16, 40))
    g_np = rng.standard_normal((16, 40, 8)).astype(np.float32)
    grad = _weight_grad(idx_np, g_np, 10, padding_idx=4)
    expected = _add_at(idx_np, g_np, 10)
    expected[4] = 0
    np.testing.assert_array_equal(bits(grad), bits(expected))


def test_a_small_gradient_has_the_kernels_bits_without_them():
    rng = np.random.default_rng(7)
    idx_np = rng.integers(0, 5, (3, 9))            # 3 * 9 * 8 elements: under LOAD_MIN
    g_np = rng.standard_normal((3, 9, 8)).astype(np.float32)
    assert g_np.size < kernels.LOAD_MIN
    np.testing.assert_array_equal(bits(_weight_grad(idx_np, g_np, 5, use_kernels=False)),
                                  bits(_weight_grad(idx_np, g_np, 5)))


def test_a_large_gradient_without_kernels_agrees_to_rounding():
    rng = np.random.default_rng(8)
    idx_np = rng.integers(0, 65, (32, 64))
    g_np = rng.standard_normal((32, 64, 64)).astype(np.float32)
    grad = _weight_grad(idx_np, g_np, 65, use_kernels=False)
    np.testing.assert_allclose(grad, _add_at(idx_np, g_np, 65), rtol=1e-5, atol=1e-5)


def test_the_kernel_is_what_ran(monkeypatch):
    ran = []
    real = kernels.get_lazily
    monkeypatch.setattr(kernels, "get_lazily", lambda name, size: ran.append(name) or
                        real(name, size))
    idx_np = np.random.default_rng(9).integers(0, 65, (32, 64))
    _weight_grad(idx_np, np.ones((32, 64, 64), np.float32), 65)
    assert "embedding_backward" in ran
