"""The reference switch: every op's fast path against its reference twin (the lecture's formula
written out), on the whole op-case table, in float64; and the switch itself."""
import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from autograd_op_cases import as_cr, inputs_for, params
from chainrule.ops.base import Op, ops_with_reference


def run_case(case, arrays, reference):
    xs = as_cr(arrays)
    with cr.backends.reference(reference):
        out = case.fn(cr, *xs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        outs = [o for o in outs if isinstance(o, cr.Tensor)]
        rng = np.random.default_rng(0)
        loss = sum((o * cr.tensor(rng.standard_normal(tuple(o.shape)), dtype=cr.float64)).sum()
                   for o in outs if o.requires_grad)
        if isinstance(loss, cr.Tensor):
            loss.backward()
    return [o.detach().array for o in outs], [None if x.grad is None else x.grad.array for x in xs]


@pytest.mark.parametrize("case, shapes", params())
def test_fast_and_reference_paths_agree(case, shapes):
    arrays = inputs_for(case, shapes)
    fast_out, fast_grads = run_case(case, arrays, reference=False)
    ref_out, ref_grads = run_case(case, arrays, reference=True)
    for f, r in zip(fast_out, ref_out):
        np.testing.assert_allclose(f, r, rtol=1e-10, atol=1e-12)
    for f, r in zip(fast_grads, ref_grads):
        assert (f is None) == (r is None)
        if f is not None:
            np.testing.assert_allclose(f, r, rtol=1e-10, atol=1e-12)


def test_every_twin_is_exercised_by_the_op_case_table(monkeypatch):
    """An op that gains a reference twin must also gain a row in the op-case table."""
    ops = [op for op in ops_with_reference() if op.__module__.startswith("chainrule.")]
    ran = set()
    for op in ops:
        def forward(ctx, *args, _forward=op.reference.forward, _op=op):
            ran.add(_op)
            return _forward(ctx, *args)
        monkeypatch.setattr(op.reference, "forward", staticmethod(forward))
    for p in params():
        case, shapes = p.values
        run_case(case, inputs_for(case, shapes), reference=True)
    missing = sorted(op.__name__ for op in ops if op not in ran)
    assert not missing, f"ops whose reference twin no case in autograd_op_cases.py runs: {missing}"


class SquareReference(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x * x

    @staticmethod
    def backward(ctx, g):
        return (2 * ctx.x * g,)


class Square(Op):
    """A toy op whose 'fast path' is recognisably different, to watch the switch choose."""
    reference = SquareReference

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x ** 2 + 0.5          # deliberately not the twin: the test can tell paths apart

    @staticmethod
    def backward(ctx, g):
        return (2 * ctx.x * g + 1,)


def test_switch_chooses_the_path_and_backward_follows_the_forward():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    before = cr.backends.is_reference_enabled()     # True when the suite runs in reference mode
    with cr.backends.reference(False):
        y = Square.apply(x)
    np.testing.assert_array_equal(y.array, [1.5, 4.5])
    with cr.backends.reference():
        assert cr.backends.is_reference_enabled()
        z = Square.apply(x)
        with cr.backends.reference(False):
            np.testing.assert_array_equal(Square.apply(x).array, [1.5, 4.5])
    assert cr.backends.is_reference_enabled() == before
    np.testing.assert_array_equal(z.array, [1.0, 4.0])
    assert z.grad_fn.name() == y.grad_fn.name() == "SquareBackward0"
    z.sum().backward()              # outside the block: the node is the twin, so its backward
    np.testing.assert_array_equal(x.grad.array, [2.0, 4.0])


def test_subclass_of_an_op_with_a_twin_has_none_unless_it_names_one():
    class Shifted(Square):
        pass
    assert Shifted.reference is None
    with cr.backends.reference():
        np.testing.assert_array_equal(Shifted.apply(cr.tensor([1.0])).array, [1.5])


def test_reference_must_be_an_op():
    with pytest.raises(TypeError, match="Bad.reference must be an Op subclass"):
        class Bad(Op):
            reference = staticmethod(lambda x: x)


@pytest.mark.parametrize("value, expected", [("1", True), ("0", False), ("", False),
                                             ("true", True)])
def test_environment_variable_sets_the_switch_at_import(value, expected):
    env = dict(os.environ, CHAINRULE_REFERENCE=value)
    out = subprocess.run([sys.executable, "-c", "import chainrule as cr; "
                          "print(cr.backends.is_reference_enabled())"],
                         env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert out == str(expected)
