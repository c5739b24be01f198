"""Every differentiable operation against float64 central finite differences.

The operations, their shapes (0-d scalars and broadcasting included) and their input domains are
listed once in ``autograd_op_cases.py``; here each is run through ``cr.autograd.gradcheck``.
"""
import numpy as np
import pytest

import chainrule as cr
from autograd_op_cases import as_cr, inputs_for, params


@pytest.mark.parametrize("case, shapes", params())
def test_gradcheck(case, shapes):
    xs = as_cr(inputs_for(case, shapes))
    assert cr.autograd.gradcheck(lambda *t: case.fn(cr, *t), xs, atol=1e-6, rtol=1e-5)


def test_gradcheck_reports_input_element_and_values():
    class WrongSquare(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x   # should be 2 x

    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.autograd.GradcheckError, match=r"input 0 element \(0,\).*numerical 2.0"):
        cr.autograd.gradcheck(WrongSquare.apply, (x,))
    assert cr.autograd.gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_gradcheck_refuses_float32_and_no_grad_inputs():
    with pytest.raises(ValueError, match="float64"):
        cr.autograd.gradcheck(lambda x: x * 2, (cr.ones(2, requires_grad=True),))
    with pytest.raises(ValueError, match="requires_grad"):
        cr.autograd.gradcheck(lambda x: x * 2, (cr.ones(2, dtype=cr.float64),))


def test_gradcheck_docstring_example():
    cr.manual_seed(0)
    x = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)
    w = cr.randn(4, 2, dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w: (x @ w).tanh(), (x, w))


def test_gradcheck_with_non_tensor_arguments_and_partial_grads():
    a = cr.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=cr.float64, requires_grad=True)
    b = cr.tensor(np.ones((2, 3)), dtype=cr.float64)  # not checked
    assert cr.autograd.gradcheck(lambda a, b, k: (a * b * k).sin(), (a, b, 3.0))


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
def test_to_dtype_gradient_comes_back_in_the_input_dtype(dtype):
    x = cr.tensor([0.5, -1.25, 2.0], dtype=dtype, requires_grad=True)
    other = cr.float64 if dtype is cr.float32 else cr.float32
    y = x.to(other)
    assert y.dtype is other and y.grad_fn is not None
    (y * cr.tensor([1.0, 2.0, 3.0], dtype=other)).sum().backward()
    assert x.grad.dtype is dtype
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])


def test_to_float32_and_back_gradcheck():
    x = cr.tensor([0.5, -1.25, 2.0], dtype=cr.float64, requires_grad=True)
    # float32 rounding makes a 1e-6 step meaningless; a linear map survives a coarse step.
    assert cr.autograd.gradcheck(lambda x: x.float().double() * 3, (x,), eps=1e-2, atol=1e-4)
    assert cr.autograd.gradcheck(lambda x: x.to(cr.float64).double().to(dtype=cr.float64).exp(),
                                 (x,))
