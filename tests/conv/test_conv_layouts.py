"""The convolution's two layouts and max-pool's fast backward, against PyTorch.

Stride-1 convolutions take the batch-last layout when an image has fewer output positions than
the weight has entries (LeNet's second layer), the per-image layout otherwise; with the compiled
kernels and without, both must give PyTorch's values and gradients. Max pooling with disjoint windows multiplies the upstream
gradient by each offset's mask, falling back to ``where`` when the gradient is not finite."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import functional_conv as F
from torch_compare import compare

torch = pytest.importorskip("torch")
TF = torch.nn.functional

pytestmark = pytest.mark.usefixtures("cpu_path")   # kernels and NumPy passes (conftest.py)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("x_shape, w_shape, padding, dilation", [
    ((3, 6, 14, 14), (16, 6, 5, 5), 0, 1),      # LeNet's second layer: batch-last layout
    ((3, 2, 6, 7), (5, 2, 3, 3), 1, 2),
    ((3, 1, 28, 28), (6, 1, 5, 5), 2, 1),      # LeNet's first layer: per-image layout
    ((2, 3, 12, 10), (2, 3, 3, 3), (1, 2), 1),
])
def test_both_stride1_layouts_match_torch(x_shape, w_shape, padding, dilation):
    arrays = [rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[0], seed=2)]
    compare(lambda x, w, b: F.conv2d(x, w, b, padding=padding, dilation=dilation),
            lambda x, w, b: TF.conv2d(x, w, b, padding=padding, dilation=dilation), arrays)
    # finite differences on one image (the layout depends on the image, not the batch size)
    x1, w = cr.tensor(arrays[0][:1], requires_grad=True), cr.tensor(arrays[1], requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w: F.conv2d(x, w, padding=padding, dilation=dilation),
                                 (x1, w))


def test_batch_last_layout_without_input_gradient_and_in_float32():
    x = cr.tensor(rand(4, 6, 14, 14), dtype=cr.float32)
    w = cr.tensor(rand(16, 6, 5, 5, seed=1), dtype=cr.float32, requires_grad=True)
    y = F.conv2d(x, w)
    assert y.dtype == cr.float32 and y.shape == (4, 16, 10, 10) and y.array.flags.c_contiguous
    (y * y).sum().backward()
    tw = torch.tensor(w.array, requires_grad=True)
    ty = TF.conv2d(torch.tensor(x.array), tw)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.array, ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(w.grad.array, tw.grad.numpy(), rtol=1e-4, atol=1e-2)


@pytest.mark.parametrize("shape", [(2, 3, 8, 6), (2, 3, 7, 6)])  # tiled exactly, and a spare row
def test_max_pool_2x2_backward_matches_torch(shape):
    compare(lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), [rand(*shape)])


def test_max_pool_backward_keeps_inf_gradient_on_the_winner_only():
    a = rand(1, 1, 4, 4)
    x = cr.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    upstream = np.ones((1, 1, 2, 2))
    upstream[0, 0, 0, 1] = np.inf
    F.max_pool2d(x, 2).backward(cr.tensor(upstream))
    TF.max_pool2d(tx, 2).backward(torch.tensor(upstream))
    np.testing.assert_array_equal(x.grad.array, tx.grad.numpy())
    assert np.isnan(x.grad.array).sum() == 0 and np.isinf(x.grad.array).sum() == 1
