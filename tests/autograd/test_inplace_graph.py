"""In-place ops on tensors in a graph are recorded as PyTorch records them, guarded by version
counters; ``inplace=True`` layers and functions modify their input."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

# op(h, w, lib): an in-place update of h = w * 2 (a tensor in the graph), w a leaf
INPLACE = {
    "iadd": lambda h, w, m: h.__iadd__(w), "isub": lambda h, w, m: h.__isub__(w),
    "imul": lambda h, w, m: h.__imul__(w), "itruediv": lambda h, w, m: h.__itruediv__(w + 3),
    "add_": lambda h, w, m: h.add_(1), "add_alpha": lambda h, w, m: h.add_(w, alpha=2),
    "sub_": lambda h, w, m: h.sub_(w, alpha=2), "mul_": lambda h, w, m: h.mul_(2),
    "div_": lambda h, w, m: h.div_(2),
    "pow_": lambda h, w, m: h.pow_(2), "neg_": lambda h, w, m: h.neg_(),
    "exp_": lambda h, w, m: h.exp_(), "clamp_": lambda h, w, m: h.clamp_(-1, 1),
    "relu_": lambda h, w, m: h.relu_(), "sigmoid_": lambda h, w, m: h.sigmoid_(),
    "tanh_": lambda h, w, m: h.tanh_(), "zero_": lambda h, w, m: h.zero_(),
    "fill_": lambda h, w, m: h.fill_(2.0), "copy_": lambda h, w, m: h.copy_(w * 5),
    "masked_fill_": lambda h, w, m: h.masked_fill_(h > 0, 0.0),
    "setitem_scalar": lambda h, w, m: h.__setitem__(0, 5.0),
    "setitem_tensor": lambda h, w, m: h.__setitem__(slice(1, 3), w[:2] * 3),
    "setitem_mask": lambda h, w, m: h.__setitem__(h < 0, 0.0),
    "relu_inplace": lambda h, w, m: m.nn.functional.relu(h, inplace=True),
    "leaky_relu_inplace": lambda h, w, m: m.nn.functional.leaky_relu(h, 0.1, inplace=True),
    "elu_inplace": lambda h, w, m: m.nn.functional.elu(h, inplace=True),
    "hardtanh_inplace": lambda h, w, m: m.nn.functional.hardtanh(h, inplace=True),
    "module_relu_inplace": lambda h, w, m: m.nn.ReLU(inplace=True)(h),
}
W = [0.5, -1.5, 2.0, -0.25]


def _run(lib, case):
    w = lib.tensor(W, dtype=lib.float64, requires_grad=True)
    h = w * 2
    returned = INPLACE[case](h, w, lib)
    (h * lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64)).sum().backward()
    name = h.grad_fn.name().replace("torch::autograd::", "")
    return h, returned, name, w.grad, h._version


@pytest.mark.parametrize("case", sorted(INPLACE))
def test_in_place_op_is_recorded_as_in_torch(case):
    h, returned, name, grad, version = _run(cr, case)
    th, treturned, tname, tgrad, tversion = _run(torch, case)
    assert name == tname
    assert (returned is h) == (treturned is th)
    assert version == tversion
    np.testing.assert_allclose(h.detach().numpy(), th.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(grad.numpy(), tgrad.numpy(), rtol=1e-12)


def test_in_place_on_a_plain_tensor_with_an_operand_requiring_grad():
    for lib in (cr, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        acc = lib.zeros(2)
        acc += w * w
        acc[0] = w[1]
        acc.sum().backward()
        assert acc.requires_grad and w.grad.tolist() == [0.0, 5.0]


def test_gradcheck_through_in_place_ops():
    def f(w):
        h = w * 1.5
        h.mul_(w)
        h[1:] = w[:-1] * 2
        h += w
        h.clamp_(-2.0, 2.0)
        return h.exp_()
    w = cr.tensor([0.3, -0.4, 0.8], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(f, (w,))


def test_leaf_requiring_grad_raises_torchs_error():
    for lib in (cr, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                               "in an in-place operation"):
            w += 1
        with lib.no_grad():
            w += 1
        assert w.tolist() == [2.0, 3.0] and w.is_leaf


def test_modifying_a_saved_tensor_raises_torchs_error_at_backward():
    for lib in (cr, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        h = w * 2
        y = h * h            # saves h
        h.add_(1)
        with pytest.raises(RuntimeError, match="one of the variables needed for gradient "
                                               "computation has been modified by an inplace "
                                               "operation"):
            y.sum().backward()


def test_inplace_modules_modify_their_input_and_return_it():
    x = cr.tensor([-1.0, 2.0])
    for layer in (cr.nn.ReLU(inplace=True), cr.nn.LeakyReLU(inplace=True), cr.nn.ELU(inplace=True),
                  cr.nn.Hardtanh(inplace=True), cr.nn.ReLU6(inplace=True), cr.nn.SiLU(inplace=True)):
        t = x.clone()
        out = layer(t)
        assert out is t
        np.testing.assert_allclose(t.numpy(), layer.__class__(inplace=False)(x).numpy())
    cr.manual_seed(0)
    t = cr.ones(1000)
    assert cr.nn.Dropout(0.5, inplace=True)(t) is t and 0 < (t == 0).sum().item() < 1000
    assert set(np.unique(t.numpy())) <= {0.0, 2.0}


def test_an_operand_computed_from_the_modified_tensor_is_refused_clearly():
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = w * 2
    with pytest.raises(RuntimeError, match=r"__setitem__: an operand .* computed from the tensor"
                       r"|add_: in-place operation on a view"):
        h[1:] += w[:-1]    # h[1:] is read from h, then written back into it
    c = cr.zeros(3)
    c[1:] += w[:-1]        # a tensor outside the graph: x[i] += v works, as in PyTorch
    c.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0, 0.0]


def test_an_inplace_op_on_a_view_of_a_graph_tensor_is_refused_not_lost():
    """PyTorch carries an in-place change of a view (x[0].mul_(2)) to the viewed tensor;
    chainrule cannot yet, so it refuses rather than leave the viewed tensor unchanged."""
    w = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    h = w * 2
    for view in (lambda t: t[0], lambda t: t.t(), lambda t: t.reshape(4)):
        with pytest.raises(RuntimeError, match="in-place operation on a view"):
            view(h).mul_(2.0)
    assert h.tolist() == [[2.0, 4.0], [6.0, 8.0]]
    t = h.clone()
    t.tril_()                          # on the tensor itself: recorded, as in PyTorch
    t.sum().backward()
    assert w.grad.tolist() == [[2.0, 0.0], [2.0, 2.0]]
