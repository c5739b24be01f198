"""Every row of the op-case table on the fake CUDA device gives the CPU's outputs and gradients.

The fake device's arrays refuse NumPy (see fake_array_module.py), so a pass means no op makes a
host array, converts to the host or mixes the two where its inputs live on a device.
"""
import numpy as np
import pytest

import chainrule as cr
from autograd_op_cases import inputs_for, params
from chainrule.backend import is_device_array, to_host


def run_case(case, arrays, device):
    with cr.device(device):
        xs = [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in arrays]
        out = case.fn(cr, *xs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        outs = [o for o in outs if isinstance(o, cr.Tensor)]
        rng = np.random.default_rng(0)
        weights = [cr.tensor(rng.standard_normal(tuple(o.shape)), dtype=cr.float64)
                   for o in outs if o.requires_grad]
        terms = [(o * w).sum() for o, w in zip([o for o in outs if o.requires_grad], weights)]
        if terms:
            sum(terms).backward()
    for o in outs:
        assert o.device.type == device, f"{case.name}: an output on {o.device}"
    return ([to_host(o.detach().array) for o in outs],
            [None if x.grad is None else (x.grad.device.type, to_host(x.grad.array)) for x in xs])


@pytest.mark.parametrize("case, shapes", params())
def test_op_case_on_the_fake_device_matches_the_cpu(fake_cuda, case, shapes):
    arrays = inputs_for(case, shapes)
    cpu_out, cpu_grads = run_case(case, arrays, "cpu")
    dev_out, dev_grads = run_case(case, arrays, "cuda")
    assert len(cpu_out) == len(dev_out)
    for c, d in zip(cpu_out, dev_out):
        np.testing.assert_allclose(d, c, rtol=1e-10, atol=1e-12)
    for c, d in zip(cpu_grads, dev_grads):
        assert (c is None) == (d is None)
        if d is not None:
            assert d[0] == "cuda", f"{case.name}: a gradient on {d[0]}"
            np.testing.assert_allclose(d[1], c[1], rtol=1e-10, atol=1e-12)
