"""The backward engine and the Tensor's behaviour around it: graph walking, accumulation, hooks,
grad mode, autograd.grad, user Functions, anomaly mode, in-place safety, errors, repr, protocol."""
import gc
import weakref

import numpy as np
import pytest

import chainrule as cr


def f64(*values, requires_grad=True):
    return cr.tensor(list(values) if len(values) != 1 else values[0], dtype=cr.float64,
                     requires_grad=requires_grad)


# -- graph walking -------------------------------------------------------------------------

def test_50000_operation_chain_backprops_without_recursion():
    x = f64(1.0)
    y = x
    for i in range(25000):
        y = y * 1.00001
        y = y + 0.5
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.00001 ** 25000, rtol=1e-12)


def test_wide_diamond_of_many_branches():
    x = f64(2.0)
    branches = [x * float(i) for i in range(20000)]
    total = branches[0]
    for b in branches[1:]:
        total = total + b
    total.backward()
    assert x.grad.item() == sum(range(20000))


def test_deep_stack_of_diamonds():
    """Each level is used twice, so a naive walk would visit 2^levels paths."""
    x = f64(1.5)
    y = x
    for _ in range(3000):
        y = y * 0.5 + y.sin() * 0.0 + y * 0.5
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0, rtol=1e-12)


def test_shared_subexpression_gets_the_sum_of_its_uses():
    x = f64(3.0)
    h = x * x          # used by three consumers
    (h + h * 2 + h.exp() * 0 + h).backward()
    assert x.grad.item() == 4 * 2 * 3.0


# -- accumulation and graph lifetime -------------------------------------------------------

def test_gradients_accumulate_across_backward_calls():
    x = f64(1.0, 2.0)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3 + 2.0, 3 + 4.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_second_backward_without_retain_graph_raises_clearly():
    x = f64(1.0, 2.0)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph"):
        y.backward()


def test_backward_frees_saved_values_but_keeps_the_graph_structure():
    class ExpTimes(cr.autograd.Function):
        """y = x e^x: saves e^x, a tensor of its own."""
        @staticmethod
        def forward(ctx, x):
            e = x.exp()
            ctx.save_for_backward(x, e)
            saved.append(weakref.ref(e.array))
            return x * e

        @staticmethod
        def backward(ctx, grad):
            x, e = ctx.saved_tensors
            return grad * e * (1 + x)

    saved = []
    x = f64(1.0, 2.0)
    h = ExpTimes.apply(x)
    y = (h * 2.0).sum()
    y.backward()
    gc.collect()
    assert saved[0]() is None                 # the saved e^x is gone
    mul = y.grad_fn.next_functions[0][0]      # the structure is kept, as in PyTorch
    exp_times = mul.next_functions[0][0]
    assert exp_times is h.grad_fn and exp_times.next_functions[0][0].variable is x
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = f64(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-15)


@pytest.mark.parametrize("reduce, twice", [(lambda t: t.sum(), [2.0, 2.0]),
                                           (lambda t: t[0], [2.0, 0.0]),
                                           (lambda t: t.mean(), [1.0, 1.0])])
def test_leaves_sharing_one_gradient_array_accumulate_independently(reduce, twice):
    """a + b hands the same gradient array to both leaves; their .grad must not alias."""
    a, b = f64(1.0, 2.0), f64(3.0, 4.0)
    reduce(a + b).backward()
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    reduce(a + b).backward()
    np.testing.assert_array_equal(a.grad.numpy(), twice)
    np.testing.assert_array_equal(b.grad.numpy(), twice)
    with cr.no_grad():
        a.grad.zero_()
    np.testing.assert_array_equal(b.grad.numpy(), twice)


def test_scalar_leaves_sharing_the_seed_gradient():
    a, b = f64(1.0), f64(3.0)
    (a + b).backward()
    (a + b).backward()
    assert (a.grad.item(), b.grad.item()) == (2.0, 2.0)
    c, d = f64(1.0), f64(3.0)
    (c - d + c).backward(inputs=[c, d])
    (c + d).backward(inputs=[c, d])
    assert (c.grad.item(), d.grad.item()) == (3.0, 0.0)


def test_backward_inputs_runs_leaf_hooks_once():
    x = f64(1.0, 2.0)
    calls = []
    x.register_hook(lambda g: calls.append(1) or g * 2)
    h = x * 3
    h.register_hook(lambda g: calls.append(2) or g)
    h.sum().backward(inputs=[x, h])
    assert calls == [2, 1]   # the non-leaf's hook during the walk, the leaf's once at the end
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    np.testing.assert_array_equal(h.grad.numpy(), [1.0, 1.0])


def test_autograd_backward_with_several_roots_leaves_the_seed_untouched():
    x = f64(1.0, 2.0)
    seed = cr.tensor([1.0, 1.0], dtype=cr.float64)
    cr.autograd.backward([x + 0], [seed])      # x.grad would be the seed's own array
    cr.autograd.backward([x * 2, x + 0], [seed, seed])
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])
    np.testing.assert_array_equal(seed.numpy(), [1.0, 1.0])


def test_leaf_backward_and_grad_of_a_leaf_itself():
    x = f64(2.0)
    x.backward()
    assert x.grad.item() == 1.0


def test_backward_with_explicit_gradient_and_inputs():
    x, y = f64(1.0, 2.0), f64(3.0, 4.0)
    z = x * y
    z.backward(cr.tensor([1.0, 10.0], dtype=cr.float64), inputs=[x])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 40.0])
    assert y.grad is None


def test_retain_grad_keeps_grad_on_a_non_leaf():
    x = f64(1.0, 2.0)
    h = x * 3
    h.retain_grad()
    g = x * 2
    (h * h + g).sum().backward()
    assert h.retains_grad and not g.retains_grad
    np.testing.assert_array_equal(h.grad.numpy(), [6.0, 12.0])
    assert g.grad is None and not g.is_leaf and x.is_leaf


def test_hooks_on_leaf_and_non_leaf_can_observe_and_replace():
    x = f64(1.0, 2.0)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h = x * x
    h.register_hook(lambda g: g * 10)     # replaces the gradient flowing further back
    h.sum().backward()
    np.testing.assert_array_equal(seen[0], [20.0, 40.0])
    np.testing.assert_array_equal(x.grad.numpy(), [20.0, 40.0])
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert len(seen) == 1
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        cr.ones(2).register_hook(lambda g: g)


# -- grad mode -----------------------------------------------------------------------------

def test_no_grad_enable_grad_set_grad_enabled_as_context_managers():
    x = f64(1.0)
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        y = x * 2
        with cr.enable_grad():
            assert cr.is_grad_enabled()
            z = x * 2
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert cr.is_grad_enabled()
    cr.set_grad_enabled(False)
    try:
        assert not cr.is_grad_enabled()
    finally:
        cr.set_grad_enabled(True)
    assert cr.is_grad_enabled()


def test_grad_mode_decorators():
    x = f64(1.0)

    @cr.no_grad()
    def infer(t):
        return t * 2, cr.is_grad_enabled()

    @cr.enable_grad()
    def train(t):
        return t * 2

    y, enabled = infer(x)
    assert not enabled and not y.requires_grad
    with cr.no_grad():
        assert train(x).requires_grad
    assert cr.is_grad_enabled()


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(ValueError):
        with cr.no_grad():
            raise ValueError
    assert cr.is_grad_enabled()


# -- autograd.grad -------------------------------------------------------------------------

def test_autograd_grad_returns_gradients_without_touching_grad():
    x, y = f64(1.0, 2.0), f64(3.0)
    out = (x * x * y).sum()
    gx, gy = cr.autograd.grad(out, (x, y))
    np.testing.assert_array_equal(gx.numpy(), [6.0, 12.0])
    assert gy.item() == 5.0 and gy.shape == ()
    assert x.grad is None and y.grad is None
    with pytest.raises(RuntimeError, match="second time"):
        cr.autograd.grad(out, x)


def test_autograd_grad_of_non_leaf_retain_graph_and_allow_unused():
    x, unused = f64(1.0, 2.0), f64(5.0)
    h = x.exp()
    out = (h * 2).sum()
    (gh,) = cr.autograd.grad(out, h, retain_graph=True)
    np.testing.assert_array_equal(gh.numpy(), [2.0, 2.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        cr.autograd.grad(out, [x, unused], retain_graph=True)
    gx, gu = cr.autograd.grad(out, [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), 2 * np.exp([1.0, 2.0]))
    assert gu is None


def test_autograd_grad_with_grad_outputs():
    x = f64(1.0, 2.0)
    (g,) = cr.autograd.grad(x * x, x, grad_outputs=cr.tensor([1.0, -1.0], dtype=cr.float64))
    np.testing.assert_array_equal(g.numpy(), [2.0, -4.0])


# -- user-defined Functions ----------------------------------------------------------------

class Cube(cr.autograd.Function):
    """y = x^3, dy/dx = 3 x^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x ** 2


class MulAdd(cr.autograd.Function):
    """y = a * b + c (c a Python number);  dy/da = b, dy/db = a."""

    @staticmethod
    def forward(ctx, a, b, c):
        ctx.save_for_backward(a, b)
        ctx.c = c
        return a * b + c

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a, None


def test_custom_function_forward_backward_and_gradcheck():
    x = f64(0.5, -2.0)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward" and isinstance(y, cr.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.75, 12.0])
    assert cr.autograd.gradcheck(Cube.apply, (f64(0.3, 1.7),))
    a, b = f64(1.0, 2.0), f64(3.0)
    assert cr.autograd.gradcheck(lambda a, b: MulAdd.apply(a, b, 4.0), (a, b))
    out = MulAdd.apply(a, b, 4.0)
    np.testing.assert_array_equal(out.detach().numpy(), [7.0, 10.0])
    assert MulAdd.apply(cr.ones(2), cr.ones(2), 1.0).grad_fn is None


def test_custom_function_needs_input_grad():
    seen = {}

    class Probe(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen["needs"] = ctx.needs_input_grad
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g

    Probe.apply(f64(1.0), f64(2.0, requires_grad=False))
    assert seen["needs"] == (True, False)


# -- anomaly mode --------------------------------------------------------------------------

def test_detect_anomaly_names_the_forward_op():
    x = f64(1.0, 0.0)
    with cr.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="LogBackward0 forward produced Inf"):
            x.log()
        with pytest.raises(RuntimeError, match="DivBackward0 forward produced NaN"):
            x / x
    assert not cr.autograd.is_anomaly_enabled()
    x.log()  # outside anomaly mode infinities pass silently, as in PyTorch


def test_detect_anomaly_names_the_backward_op():
    x = f64(0.0, 4.0)
    with cr.autograd.detect_anomaly():
        y = (x.sqrt() * 0).sum()      # finite forward; d sqrt / dx at 0 is 0 * inf = NaN
        with pytest.raises(RuntimeError, match="SqrtBackward0 backward produced NaN"):
            y.backward()


def test_detect_anomaly_as_decorator():
    @cr.autograd.detect_anomaly()
    def f(t):
        return t.log()

    with pytest.raises(RuntimeError, match="LogBackward0"):
        f(f64(-1.0))


# -- in-place operations -------------------------------------------------------------------

def test_in_place_ops_outside_the_graph():
    t = cr.tensor([1.0, 2.0])
    t.add_(1).mul_(2)
    t.sub_(cr.tensor([1.0, 1.0]), alpha=2)
    np.testing.assert_array_equal(t.numpy(), [2.0, 4.0])
    t.clamp_(max=3.0)
    t[0] = 7.0
    np.testing.assert_array_equal(t.numpy(), [7.0, 3.0])
    t.zero_()
    t.fill_(1.5)
    t.copy_(cr.tensor([4.0, 5.0]))
    np.testing.assert_array_equal(t.numpy(), [4.0, 5.0])
    w = f64(1.0, 2.0)
    with cr.no_grad():
        w.sub_(w * 0.5)
        w[1] = 10.0
    np.testing.assert_array_equal(w.numpy(force=True), [0.5, 10.0])
    assert w.requires_grad and w.is_leaf


@pytest.mark.parametrize("op", [lambda t: t.add_(1), lambda t: t.mul_(2), lambda t: t.zero_(),
                                lambda t: t.fill_(1.0), lambda t: t.copy_(cr.ones(2)),
                                lambda t: t.clamp_(0, 1), lambda t: t.__setitem__(0, 5.0)])
def test_in_place_on_leaf_requiring_grad_raises(op):
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation.*no_grad"):
        op(w)


def test_saved_tensor_modified_under_no_grad_is_detected_at_backward():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with cr.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*is at version 1; "
                                           "expected version 0"):
        loss.backward()


def test_saved_constant_modified_in_place_is_detected_at_backward():
    """The constant does not require grad, but MulBackward0 needs its value for w's gradient."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    c = cr.tensor([3.0, 4.0])
    loss = (w * c).sum()
    c[0] = 100.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*MulBackward0"):
        loss.backward()


def test_optimizer_style_update_after_backward_is_fine():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with cr.no_grad():
            w.sub_(w.grad * 0.1)
        w.grad = None
    np.testing.assert_allclose(w.detach().numpy(), np.array([1.0, 2.0]) * 0.8 ** 3, rtol=1e-6)


def test_augmented_assignment_total_loss_in_a_loop():
    x = f64(1.0, 2.0)
    total = 0
    for i in range(1, 4):
        total += (x * i).sum()
    total.backward()
    assert total.item() == 18.0
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    acc = cr.zeros((), dtype=cr.float64)
    for i in range(3):
        acc += (x * x).sum()
    acc.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0 + 6.0, 6.0 + 12.0])
    plain = cr.zeros(2)
    alias = plain
    plain += 1          # no graph involved: truly in place
    assert alias is plain and plain.tolist() == [1.0, 1.0]


# -- bad input -----------------------------------------------------------------------------

def test_non_scalar_backward_without_gradient():
    with pytest.raises(RuntimeError, match=r"implicitly created only for scalar outputs.*\(2, 3\)"):
        (cr.ones(2, 3, requires_grad=True) * 2).backward()


def test_backward_of_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.ones(()).backward()


def test_the_three_ways_into_backward_check_their_seeds_alike():
    x = cr.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(2, 3\); pass grad_outputs="):
        cr.autograd.grad(x * 2, x)
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(2, 3\); pass grad_tensors="):
        cr.autograd.backward(x * 2)
    with pytest.raises(RuntimeError, match=r"backward: gradient has shape \(3,\) but"):
        (x * 2).backward(cr.ones(3))
    with pytest.raises(RuntimeError, match=r"autograd.backward: grad_tensors has shape \(3,\)"):
        cr.autograd.backward(x * 2, cr.ones(3))
    with pytest.raises(RuntimeError, match="element 1 of tensors does not require grad"):
        cr.autograd.backward([x.sum(), cr.ones(())])


@pytest.mark.parametrize("fn, pattern", [
    (lambda: cr.ones(2, 3) @ cr.ones(2, 3), r"matmul.*\(2, 3\).*\(2, 3\)"),
    (lambda: cr.ones(2, 3, 4) @ cr.ones(5, 4, 2), r"matmul.*\(2, 3, 4\).*\(5, 4, 2\)"),
    (lambda: cr.ones(3) @ cr.ones(4), r"matmul.*\(3,\).*\(4,\)"),
    (lambda: cr.ones(2, 3) + cr.ones(4, 3), r"add.*\(2, 3\).*\(4, 3\)"),
    (lambda: cr.ones(2, 3, requires_grad=True) * cr.ones(2), r"mul.*\(2, 3\).*\(2,\)"),
    (lambda: cr.cat([cr.ones(2, 3), cr.ones(2, 4)]), r"cat.*\(2, 3\).*\(2, 4\)"),
    (lambda: cr.stack([cr.ones(2), cr.ones(3)]), r"stack.*\(2,\).*\(3,\)"),
    (lambda: cr.ones(2, 3).reshape(4, 2), r"reshape.*\[4, 2\].*\(2, 3\)"),
    (lambda: cr.ones(2, 3).view(-1, 4), r"view.*\(2, 3\)"),
    (lambda: cr.ones(2, 3).expand(4, 3), r"expand.*\(2, 3\).*\(4, 3\)"),
])
def test_shape_errors_name_the_op_and_both_shapes(fn, pattern):
    with pytest.raises(RuntimeError, match=pattern):
        fn()


def test_dtype_errors():
    with pytest.raises(IndexError, match="float"):
        cr.ones(3)[1.0]
    with pytest.raises(IndexError, match="long, int or bool"):
        cr.ones(3)[cr.tensor([0.0, 1.0])]
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        cr.ones(2, dtype=cr.int64).requires_grad_()
    with pytest.raises(TypeError, match="gather.*int"):
        cr.ones(2, 2).gather(1, cr.ones(2, 2))
    with pytest.raises(IndexError, match="out of range"):
        cr.ones(2, 3).sum(dim=2)
    with pytest.raises(IndexError, match=r"shape \(3,\)"):
        cr.ones(3)[5]


# -- repr and Python protocol --------------------------------------------------------------

def test_repr_like_pytorch():
    assert repr(cr.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert repr((x * 2).sum()) == "tensor(6., grad_fn=<SumBackward0>)"
    assert repr(cr.tensor([1.0, 2.0], dtype=cr.float64)) == "tensor([1., 2.], dtype=chainrule.float64)"
    assert repr(cr.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(cr.tensor([1, 2], dtype=cr.int32)) == "tensor([1, 2], dtype=chainrule.int32)"
    assert repr(cr.tensor(3.5)) == "tensor(3.5000)"
    assert repr(cr.tensor([True, False])) == "tensor([ True, False])"
    assert repr(cr.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(cr.tensor([[1.2292, -2.2351], [0.5, 10.0]])) == (
        "tensor([[ 1.2292, -2.2351],\n"
        "        [ 0.5000, 10.0000]])")
    assert repr(cr.tensor([[1, -20], [300, 4]])) == "tensor([[  1, -20],\n        [300,   4]])"
    assert repr(cr.tensor([float("nan"), 1.5, float("inf")])) == "tensor([   nan, 1.5000,    inf])"
    assert repr(cr.tensor([1e-5, 1.0])) == "tensor([1.0000e-05, 1.0000e+00])"
    assert repr(x.grad_fn if x.grad_fn else (x * 1).grad_fn).startswith("<MulBackward0")
    assert repr(cr.ones(2).shape) == "chainrule.Size([2])"


@pytest.mark.parametrize("make", [
    lambda m: m.randn(3, 2), lambda m: m.tensor([[1.0, -2.5], [100.0, 3.0]]),
    lambda m: m.tensor([-1.0, 0.0, 1.0]), lambda m: m.tensor([[1, -20], [300, 4]]),
    lambda m: m.tensor([1e-5, -1.0]), lambda m: m.tensor([True, False, True]),
    lambda m: m.arange(30.0).reshape(3, 10), lambda m: m.tensor([[[1.5]], [[-2.0]]]),
    lambda m: m.tensor([1e9, 1.0]), lambda m: m.tensor([[0.001, 123.5]]),
], ids=lambda f: "")
def test_repr_matches_torch_layout(make):
    torch = pytest.importorskip("torch")
    cr.manual_seed(0)
    x = make(cr)
    t = torch.tensor(x.numpy())
    assert repr(x) == repr(t)


def test_size_item_tolist_numpy_len_iteration_bool():
    x = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and isinstance(x.shape, cr.Size) and isinstance(x.shape, tuple)
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3 and x.shape.numel() == 6
    assert x.numel() == 6 and x.dim() == 2 and x.ndim == 2 and len(x) == 2
    assert x[1, 2].item() == 6.0 and isinstance(x[1, 2].item(), float)
    assert cr.tensor(3).item() == 3 and isinstance(cr.tensor(3).item(), int)
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert isinstance(x.numpy(), np.ndarray) and x.numpy().dtype == np.float32
    rows = list(x)
    assert len(rows) == 2 and rows[1].tolist() == [4.0, 5.0, 6.0]
    assert bool(cr.tensor([1.0])) and not bool(cr.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    with pytest.raises(RuntimeError, match="6 elements"):
        x.item()
    with pytest.raises(TypeError):
        len(cr.tensor(1.0))
    with pytest.raises(RuntimeError, match="detach"):
        cr.ones(2, requires_grad=True).numpy()
    assert float(cr.tensor(2.5)) == 2.5 and int(cr.tensor(7)) == 7
    assert [0, 1, 2][cr.tensor(1)] == 1
    assert f"{cr.tensor(2.0):.2f}" == "2.00"


def test_detach_data_and_requires_grad_flags():
    x = f64(1.0, 2.0)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and np.shares_memory(d.numpy(), y.array)
    assert x.data.requires_grad is False and np.shares_memory(x.data.numpy(), x.array)
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.requires_grad_(False)
    z = cr.ones(2).requires_grad_()
    assert z.requires_grad and z.is_leaf
    c = x.clone()
    assert c.grad_fn is not None and not np.shares_memory(c.array, x.array)


def test_manual_seed_reproduces_rand_randn_randint():
    def draw():
        return (cr.rand(3).tolist(), cr.randn(2, 2).tolist(), cr.randint(0, 10, (5,)).tolist(),
                cr.randn(2, generator=None).tolist())

    cr.manual_seed(1234)
    first = draw()
    cr.manual_seed(1234)
    assert draw() == first
    cr.manual_seed(4321)
    assert draw() != first
    g = cr.Generator().manual_seed(7)
    a = cr.rand(4, generator=g).tolist()
    assert cr.rand(4, generator=cr.Generator().manual_seed(7)).tolist() == a
    r = cr.rand(1000)
    assert 0 <= r.min().item() and r.max().item() < 1 and r.dtype is cr.float32


@pytest.mark.parametrize("make, name", [
    (lambda x: x.relu(), "ReluBackward0"),
    (lambda x: cr.nn.functional.gelu(x), "GeluBackward0"),
    (lambda x: cr.nn.functional.leaky_relu(x), "LeakyReluBackward0"),
    (lambda x: cr.nn.functional.cross_entropy(x, cr.tensor([0, 2])), "NllLossBackward0"),
    (lambda x: cr.nn.functional.binary_cross_entropy_with_logits(x, x.detach()),
     "BinaryCrossEntropyWithLogitsBackward0"),
    (lambda x: cr.nn.functional.kl_div(x, x.detach(), reduction="sum"), "KLDivBackward0"),
])
def test_ops_named_after_pytorch_keep_their_grad_fn_names(make, name):
    x = cr.randn(2, 3, requires_grad=True)
    assert make(x).grad_fn.name() == name
