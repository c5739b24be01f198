"""The float64 test problem shared by the optimiser tests: a small tanh MLP on least squares,
built twice from the same starting values, once in chainrule and once in PyTorch."""
import numpy as np

import chainrule as cr

_rng = np.random.default_rng(1234)
X = _rng.standard_normal((16, 5))
Y = _rng.standard_normal((16, 3))
INIT = [_rng.standard_normal((5, 6)) * 0.5, _rng.standard_normal(6) * 0.1,
        _rng.standard_normal((6, 3)) * 0.5, _rng.standard_normal(3) * 0.1]


def cr_params(values=INIT):
    return [cr.tensor(v.copy(), dtype=cr.float64, requires_grad=True) for v in values]


def torch_params(torch, values=INIT):
    return [torch.tensor(v.copy(), dtype=torch.float64, requires_grad=True) for v in values]


def cr_loss(params, sign=1.0):
    w1, b1, w2, b2 = params
    x, y = cr.tensor(X, dtype=cr.float64), cr.tensor(Y, dtype=cr.float64)
    out = (x @ w1 + b1).tanh() @ w2 + b2
    return ((out - y) ** 2).mean() * sign


def torch_loss(torch, params, sign=1.0):
    w1, b1, w2, b2 = params
    x, y = torch.tensor(X), torch.tensor(Y)
    out = (x @ w1 + b1).tanh() @ w2 + b2
    return ((out - y) ** 2).mean() * sign


def run_cr(opt, params, steps, sign=1.0):
    for _ in range(steps):
        opt.zero_grad()
        cr_loss(params, sign).backward()
        opt.step()


def run_torch(torch, opt, params, steps, sign=1.0):
    for _ in range(steps):
        opt.zero_grad()
        torch_loss(torch, params, sign).backward()
        opt.step()


def assert_params_close(cr_ps, torch_ps, rtol=1e-10):
    for i, (a, b) in enumerate(zip(cr_ps, torch_ps)):
        a = a.array
        b = b.detach().numpy()
        scale = np.abs(b).max()
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale,
                                   err_msg=f"parameter {i} differs from PyTorch's")
