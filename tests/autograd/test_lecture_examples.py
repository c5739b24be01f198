"""The lecture's worked examples of backpropagation, with their exact numbers."""
import numpy as np

import chainrule as cr


def test_scalar_circuit_x_plus_y_times_z():
    """f(x, y, z) = (x + y) z at (-2, 5, -4): q = x + y = 3, f = -12;
    df/dz = q = 3, df/dq = z = -4, df/dx = df/dy = -4 (the add gate distributes)."""
    x = cr.tensor(-2.0, requires_grad=True)
    y = cr.tensor(5.0, requires_grad=True)
    z = cr.tensor(-4.0, requires_grad=True)
    q = x + y
    q.retain_grad()
    f = q * z
    f.backward()
    assert f.item() == -12.0
    assert q.grad.item() == -4.0
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (-4.0, -4.0, 3.0)
    assert x.grad.shape == () and x.grad.dtype is cr.float32


def _neuron(w, x):
    return 1 / (1 + cr.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))


def test_logistic_neuron_gradients():
    """sigma(w0 x0 + w1 x1 + w2) with w = [2, -3, -3], x = [-1, -2]: the dot product is 1, the
    output 1/(1 + e^-1) = 0.73, and (1 - 0.73) 0.73 = 0.2 flows back: dw = [-0.2, -0.39, 0.2],
    dx = [0.39, -0.59]."""
    w = cr.tensor([2.0, -3.0, -3.0], dtype=cr.float64, requires_grad=True)
    x = cr.tensor([-1.0, -2.0], dtype=cr.float64, requires_grad=True)
    f = _neuron(w, x)
    f.backward()
    assert round(f.item(), 2) == 0.73
    np.testing.assert_array_equal(np.round(w.grad.numpy(), 2), [-0.2, -0.39, 0.2])
    np.testing.assert_array_equal(np.round(x.grad.numpy(), 2), [0.39, -0.59])
    s = 1 / (1 + np.exp(-1.0))
    local = (1 - s) * s
    np.testing.assert_allclose(w.grad.numpy(), [-1 * local, -2 * local, local], rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), [2 * local, -3 * local], rtol=1e-15)


def test_logistic_neuron_with_sigmoid_gate_gives_the_same_numbers():
    w = cr.tensor([2.0, -3.0, -3.0], dtype=cr.float64, requires_grad=True)
    x = cr.tensor([-1.0, -2.0], dtype=cr.float64, requires_grad=True)
    f = (w[:2] @ x + w[2]).sigmoid()
    f.backward()
    w2 = cr.tensor([2.0, -3.0, -3.0], dtype=cr.float64, requires_grad=True)
    x2 = cr.tensor([-1.0, -2.0], dtype=cr.float64, requires_grad=True)
    _neuron(w2, x2).backward()
    np.testing.assert_allclose(f.item(), 0.7310585786300049, rtol=1e-15)
    np.testing.assert_allclose(w.grad.numpy(), w2.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-14)
    assert cr.autograd.gradcheck(_neuron, (w, x))


def _jacobian(fn, x):
    """Numerical Jacobian d fn(x).flatten() / d x.flatten(), by central differences."""
    x = x.copy()
    y0 = fn(x)
    jac = np.zeros((y0.size, x.size))
    flat = x.reshape(-1)
    for k in range(flat.size):
        orig = flat[k]
        flat[k] = orig + 1e-6
        plus = fn(x).reshape(-1)
        flat[k] = orig - 1e-6
        minus = fn(x).reshape(-1)
        flat[k] = orig
        jac[:, k] = (plus - minus) / 2e-6
    return jac


def test_matrix_vector_product_gradient_is_upstream_times_jacobian():
    """y = W x: the Jacobian dy/dx is W itself, so dL/dx = W^T dL/dy = dL/dy^T J."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 4))
    xv = rng.standard_normal(4)
    dy = rng.standard_normal(3)
    x = cr.tensor(xv, requires_grad=True)
    Wt = cr.tensor(W, requires_grad=True)
    (Wt @ x).backward(cr.tensor(dy))
    J = _jacobian(lambda v: W @ v, xv)
    np.testing.assert_allclose(J, W, atol=1e-8)
    np.testing.assert_allclose(x.grad.numpy(), dy @ J, atol=1e-8)
    np.testing.assert_allclose(x.grad.numpy(), W.T @ dy, rtol=1e-14)
    np.testing.assert_allclose(Wt.grad.numpy(), np.outer(dy, xv), rtol=1e-14)


def test_matrix_product_gradients_dW_is_dD_XT_and_dX_is_WT_dD():
    """D = W X: dL/dW = dL/dD X^T and dL/dX = W^T dL/dD, each checked against the explicit
    (vectorised) Jacobian of D with respect to W and to X."""
    rng = np.random.default_rng(1)
    Wv, Xv = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    dD = rng.standard_normal((2, 4))
    W = cr.tensor(Wv, requires_grad=True)
    X = cr.tensor(Xv, requires_grad=True)
    D = W @ X
    D.backward(cr.tensor(dD))
    np.testing.assert_allclose(W.grad.numpy(), dD @ Xv.T, rtol=1e-14)
    np.testing.assert_allclose(X.grad.numpy(), Wv.T @ dD, rtol=1e-14)
    JW = _jacobian(lambda w: w @ Xv, Wv)      # (8, 6)
    JX = _jacobian(lambda x: Wv @ x, Xv)      # (8, 12)
    np.testing.assert_allclose(W.grad.numpy().reshape(-1), dD.reshape(-1) @ JW, atol=1e-8)
    np.testing.assert_allclose(X.grad.numpy().reshape(-1), dD.reshape(-1) @ JX, atol=1e-8)


def test_elementwise_max_jacobian_is_diagonal():
    """y = max(0, x) elementwise: the Jacobian is diagonal (1 where x > 0), so backward is a mask."""
    xv = np.array([-1.5, 0.5, 2.0, -0.25])
    x = cr.tensor(xv, requires_grad=True)
    dy = np.array([1.0, 2.0, 3.0, 4.0])
    x.relu().backward(cr.tensor(dy))
    J = _jacobian(lambda v: np.maximum(v, 0), xv)
    np.testing.assert_allclose(J, np.diag((xv > 0).astype(float)), atol=1e-8)
    np.testing.assert_array_equal(x.grad.numpy(), dy @ J.round())
