"""One test per mismatch the fuzzer found (python -m chainrule.testing.fuzz), each the shrunk
program it printed, run in chainrule and PyTorch: values, NaN/inf and every gradient agree."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.testing.fuzz.compare import difference, run_program

torch = pytest.importorskip("torch")

nan, inf = np.nan, np.inf


def f64(*v, shape=None):
    a = np.array(v, dtype=np.float64)
    return a.reshape(shape) if shape is not None else a


def empty(*shape):
    return np.zeros(shape, dtype=np.float64)


CASES = {
    # an infinite upstream gradient gives 0 where the mask is off, not 0 * inf = NaN
    "relu_inf_upstream": ("r = x0.relu()\n    return [1.0 / r]", [f64(0.0, -1.0, 2.0)]),
    "clamp_inf_upstream": ("r = x0.clamp(0.0, 1.0)\n    return [1.0 / r]", [f64(-1.0, 0.5, 2.0)]),
    "hardtanh_nan_passes": ("r = F.relu6(x0.sqrt())\n    return [r]", [f64(-1.0, 4.0, 49.0)]),
    "maximum_nan_operand": ("return [m.maximum(x0.sqrt(), x1), m.minimum(x0.sqrt(), x1)]",
                            [f64(-1.0, 4.0, 1.0), f64(0.5, 0.5, 1.0)]),
    "maximum_inf_upstream": ("r = m.maximum(x0, x1)\n    return [1.0 / r]",
                             [f64(0.0, -1.0), f64(-1.0, 0.0)]),
    "sign_nan_is_zero": ("return [x0.sqrt().sign(), x0.sqrt().abs()]", [f64(-1.0, 4.0, 0.0)]),
    "clamp_tensor_bound_tie": ("return [x0.clamp(min=x1), x0.clamp(max=x1), x0.clamp(x1, x2)]",
                               [f64(0.5, -1.0, 2.0), f64(0.5, 0.0, 0.0), f64(1.0, 1.0, 1.5)]),
    "softmax_empty": ("return [x0.softmax(-1), x0.log_softmax(-1), x0.logsumexp(-1)]",
                      [empty(2, 0)]),
    "prod_empty_dim": ("return [x0.prod(-1), x0.prod()]", [empty(2, 0)]),
    "matmul_batch_empty": ("return [(x0 @ x1) @ x2]",
                           [f64(*range(4), shape=(1, 1, 4, 1)), empty(1, 0), empty(0, 0)]),
    "layer_norm_no_rows": ("return [F.layer_norm(x0, (2,)).sum(dim=-2, keepdim=True)]",
                           [empty(0, 2)]),
    "amax_other_dim_empty": ("return [x0.amax(0), x0.amin(0)]", [empty(2, 0)]),
    "index_int_before_tensor": ("return [x0[0, 0::2, m.tensor([0]), -2], x0[0, m.tensor([1, 0]), :, 1]]",
                                [f64(*range(20), shape=(1, 5, 2, 2))]),
    "sort_descending_nan_first": ("s = x0.sqrt()\n    return [s.sort(descending=True).values, s.topk(2).values]",
                                  [f64(4.0, -1.0, 9.0, 1.0)]),
    "var_no_degrees_of_freedom": ("return [x0.var(dim=-1, correction=2), x0.std(dim=-1, correction=2), "
                                  "x0.reshape(()).var(correction=1)]", [f64(-0.67)]),
    # x.var() (no dim) and x.var(dim=0) of a vector differ in PyTorch when N - correction = 0:
    # the second divides 2 (a_i - mean) by 0 as it is, keeping the sign of a_i - mean
    "var_dim_given_no_degrees_of_freedom": ("return [x0.var(dim=0, correction=2), "
                                            "x0.var(correction=2)]", [f64(-0.61, 0.02)]),
    "var_dims_empty_denominator": ("return [x0.var(dim=-1, correction=2, keepdim=True)]",
                                   [f64(0.1, 0.7, shape=(1, 2))]),
    "kl_div_negative_target": ("return [F.kl_div(x0, x1, reduction='sum')]",
                               [f64(0.1, -1.3, 0.7), f64(0.8, -0.3, 0.4)]),
    "hardsigmoid_flat_nan_upstream": ("h = F.hardsigmoid(x0)\n    s = F.hardswish(x0)\n    "
                                      "return [(h - 0.5).sqrt() + (s - 1.0).sqrt()]",
                                      [f64(-3.4, 5.1, 0.5)]),
    "max_all_inf_upstream": ("r = x0.max() / x0\n    q = x0.min() / x0\n    return [r, q]",
                             [f64(-1.9, 0.0, 2.3, 30.0)]),
    # a 0-d tensor's gradient arrives as a NumPy scalar, which t[mask] = v's backward indexed
    "setitem_zero_d_mask": ("t = x0.clone()\n    t[t > 1.0] = x1.mean()\n    return [t * 0.5]",
                            [f64(2.0).reshape(()), f64(1.0, 3.0)]),
    # tril_/triu_ on a tensor in the graph are recorded (they raised)
    "tril_inplace_in_graph": ("return [x0.clone().tril_(), (x0 * 2).triu_(1)]",
                              [f64(*range(6), shape=(2, 3))]),
    # PyTorch ignores the scale factor on an axis whose size stays (linear modes) or, in its
    # 2-D nearest kernel, doubles
    "interpolate_kept_or_doubled_axis": (
        "return [F.interpolate(x0, scale_factor=(2.25, 1.3), mode='nearest'), "
        "F.interpolate(x0, scale_factor=(2.25, 1.3), mode='bilinear'), "
        "F.interpolate(x0.flatten(2), scale_factor=1.3, mode='linear')]",
        [f64(*range(6), shape=(1, 1, 2, 3))]),
    # the target's gradient at targets <= 0: NaN at 0, NaN below 0 except where the upstream
    # gradient is 0 (PyTorch's xlogy rule; chainrule gave -inf at 0 and NaN below)
    "kl_div_target_gradient_at_zero_and_below": (
        "return [F.kl_div(x0, x1, reduction='none'), F.kl_div(x0, x1 * 0.5, reduction='sum')]",
        [f64(0.3, -1.2, 0.5, 0.1, 0.7, 0.2), f64(0.5, 0.0, -0.3, 0.0, -0.3, 2.0)]),
    # PyTorch computes x ** -0.5 as 1 / sqrt(x) (and x ** 0.5's gradient through it): -0.0 gives
    # -inf, where IEEE pow (and chainrule) gave +inf
    "pow_half_signed_zero": ("return [x0 ** -0.5, x0 ** 0.5]", [f64(-0.0, 0.0, 4.0)]),
    # nearest source indices are computed in float32, as PyTorch does: (4 + 0.5) / 2.25 is 2
    "interpolate_nearest_exact_float32_index": (
        "return [F.interpolate(x0, scale_factor=2.25, mode='nearest-exact')]",
        [f64(1.0, 2.0, 3.0, shape=(1, 1, 3))]),
    # prod's gradient as PyTorch's: z / a_i when no a_i is 0 (inf / inf = NaN at an infinite
    # a_i), and all zeros for prod() of a tensor with two zeros, even under an inf upstream
    "prod_divides_without_zeros": ("return [(x0 / x1).prod(dim=-1)]",
                                   [f64(2.2, -3.6, -0.5), f64(0.26, 0.0, 0.0)]),
    "prod_two_zeros_inf_upstream": ("return [1.0 / x0.prod()]", [f64(0.0, 3.0, 0.0)]),
    # a zero remainder keeps the dividend's sign in PyTorch (NumPy's takes the divisor's)
    "remainder_signed_zero": ("return [1.0 / (x0 % -1.5), 1.0 / (x0 % 1.5)]",
                              [f64(0.0, -0.0, 3.0, -3.0, 2.0, -2.0)]),
    # hardswish's slope at the corners is the outer side's: 0 at -3, 1 at 3 (was -0.5, 1.5)
    "hardswish_corners": ("return [F.hardswish(x0), F.hardswish(F.relu6(x0 + 1.0))]",
                          [f64(-3.0, 3.0, 2.0, 6.0, 2.9)]),
    # PyTorch's softsign is the composite a / (|a| + 1): an infinite upstream gradient gives NaN
    "softsign_inf_upstream": ("s = F.softsign(x0)\n    return [s, s.var(correction=2)]",
                              [f64(0.86, -0.79)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_regression(name):
    body, inputs = CASES[name]
    args = ", ".join(f"x{i}" for i in range(len(inputs)))
    source = f"def program(m, {args}):\n    F = m.nn.functional\n    {body}\n"
    with np.errstate(all="ignore"):
        probe = run_program(source, torch, inputs, [None] * 8)[0]
        weights = [np.linspace(-1.0, 1.5, o.size).reshape(o.shape) for o in probe]
        want_out, want_grad = run_program(source, torch, inputs, weights)
        got_out, got_grad = run_program(source, cr, inputs, weights)
    for i, (g, w) in enumerate(zip(got_out, want_out)):
        assert difference(g, w, "float64") is None, (i, g, w)
    for i, (g, w) in enumerate(zip(got_grad, want_grad)):
        assert difference(g, w, "float64") is None, (f"gradient of x{i}", g, w)


def test_interpolate_area_may_round_a_size_to_empty():
    """PyTorch gives an empty output (and refuses its backward); chainrule raised."""
    for lib in (cr, torch):
        out = lib.nn.functional.interpolate(lib.ones(1, 1, 1), scale_factor=0.5, mode="area")
        assert tuple(out.shape) == (1, 1, 0)
