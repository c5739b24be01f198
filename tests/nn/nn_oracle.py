"""Helpers for comparing chainrule with PyTorch (the oracle) in float64."""
import numpy as np

import chainrule as cr

RTOL = 1e-6
ATOL = 1e-10


def close(ours, theirs, what="", rtol=RTOL, atol=ATOL):
    a = ours.detach().numpy() if isinstance(ours, cr.Tensor) else np.asarray(ours)
    b = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} vs {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def pair(array, requires_grad=True):
    """The same float64 values as a chainrule tensor and a torch tensor."""
    import torch
    arr = np.array(array)
    ours = cr.tensor(arr, requires_grad=requires_grad and arr.dtype.kind == "f")
    theirs = torch.tensor(arr, requires_grad=requires_grad and arr.dtype.kind == "f")
    return ours, theirs


def run_both(f_ours, f_theirs, arrays, grad_seed=0):
    """Apply both functions to the same inputs, backpropagate the same random upstream
    gradient, and compare outputs and every input gradient."""
    import torch
    ours, theirs = zip(*(pair(a) for a in arrays))
    yo, yt = f_ours(*ours), f_theirs(*theirs)
    close(yo, yt, "forward")
    g = np.random.default_rng(grad_seed).standard_normal(tuple(yo.shape))
    yo.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    for i, (o, t) in enumerate(zip(ours, theirs)):
        if o.requires_grad:
            close(o.grad, t.grad, f"grad of input {i}")
    return ours, theirs


def compare_modules(ours, theirs, x, grad_seed=0, input_grad=True):
    """Load torch's weights into ours, run both on ``x``, compare output, input grad and every
    parameter's gradient."""
    import torch
    ours.load_state_dict(theirs.state_dict())
    xo, xt = pair(x, requires_grad=input_grad)
    yo, yt = ours(xo), theirs(xt)
    close(yo, yt, "forward")
    g = np.random.default_rng(grad_seed).standard_normal(tuple(yo.shape))
    yo.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    if input_grad and xo.requires_grad:
        close(xo.grad, xt.grad, "input grad")
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        if tp[name].grad is None:
            assert p.grad is None, name
        else:
            close(p.grad, tp[name].grad, f"grad of {name}")
    return yo, yt
