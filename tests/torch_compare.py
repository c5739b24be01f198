"""Shared checks: run a function in chainrule and in PyTorch on the same float64 data and compare
the outputs and every gradient (with a random upstream gradient, so each element counts)."""
import numpy as np

import chainrule as cr


def compare(cr_fn, torch_fn, arrays, seed=0, rtol=1e-7, atol=1e-9, grad_mask=None):
    """``arrays`` are float64 inputs; both functions get them as leaf tensors requiring grad
    (unless grad_mask[i] is False) and return a tensor or a tuple of tensors."""
    import torch
    rng = np.random.default_rng(seed)
    grad_mask = grad_mask or [True] * len(arrays)
    xs = [cr.tensor(a, dtype=cr.float64, requires_grad=m) if isinstance(a, np.ndarray) else a
          for a, m in zip(arrays, grad_mask)]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=m) if isinstance(a, np.ndarray) else a
          for a, m in zip(arrays, grad_mask)]
    out_c = cr_fn(*xs)
    out_t = torch_fn(*ts)
    out_c = out_c if isinstance(out_c, (tuple, list)) else (out_c,)
    out_t = out_t if isinstance(out_t, (tuple, list)) else (out_t,)
    assert len(out_c) == len(out_t)
    loss_c, loss_t = 0, 0
    for oc, ot in zip(out_c, out_t):
        assert tuple(oc.shape) == tuple(ot.shape), (tuple(oc.shape), tuple(ot.shape))
        np.testing.assert_allclose(oc.detach().array, ot.detach().numpy(), rtol=rtol, atol=atol)
        if oc.requires_grad:
            w = rng.standard_normal(tuple(oc.shape))
            loss_c = loss_c + (oc * cr.tensor(w, dtype=cr.float64)).sum()
            loss_t = loss_t + (ot * torch.tensor(w)).sum()
    loss_c.backward()
    loss_t.backward()
    for i, (xc, xt) in enumerate(zip(xs, ts)):
        if isinstance(xc, cr.Tensor) and xc.requires_grad:
            assert xc.grad is not None, f"input {i} got no gradient"
            np.testing.assert_allclose(xc.grad.array, xt.grad.numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"gradient of input {i}")
    return out_c


def compare_modules(cr_mod, torch_mod, inputs, seed=0, rtol=1e-7, atol=1e-9, outputs=None):
    """Copy torch_mod's weights into cr_mod through state_dict, check the keys match, run both on
    float64 ``inputs`` (arrays or None) and compare outputs and all gradients (inputs and
    parameters). ``outputs`` picks which returned tensors to compare (default: all)."""
    import torch
    torch_mod = torch_mod.double()
    cr_mod = cr_mod.double()
    assert list(cr_mod.state_dict().keys()) == list(torch_mod.state_dict().keys())
    cr_mod.load_state_dict({k: v.detach().numpy().copy() for k, v in torch_mod.state_dict().items()})
    rng = np.random.default_rng(seed)
    xs = [None if a is None else cr.tensor(a, dtype=cr.float64, requires_grad=a.dtype.kind == "f")
          for a in inputs]
    ts = [None if a is None else torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    out_c = _flat(cr_mod(*xs))
    out_t = _flat(torch_mod(*ts))
    assert len(out_c) == len(out_t)
    pick = outputs if outputs is not None else range(len(out_c))
    loss_c, loss_t = 0, 0
    for i in pick:
        oc, ot = out_c[i], out_t[i]
        assert tuple(oc.shape) == tuple(ot.shape), (i, tuple(oc.shape), tuple(ot.shape))
        np.testing.assert_allclose(oc.detach().array, ot.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"output {i}")
        w = rng.standard_normal(tuple(oc.shape))
        loss_c = loss_c + (oc * cr.tensor(w, dtype=cr.float64)).sum()
        loss_t = loss_t + (ot * torch.tensor(w)).sum()
    loss_c.backward()
    loss_t.backward()
    for i, (xc, xt) in enumerate(zip(xs, ts)):
        if xc is not None and xc.requires_grad:
            np.testing.assert_allclose(xc.grad.array, xt.grad.numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"gradient of input {i}")
    tparams = dict(torch_mod.named_parameters())
    for name, p in cr_mod.named_parameters():
        tp = tparams[name]
        if tp.grad is None:
            assert p.grad is None or not np.any(p.grad.array), name
            continue
        assert p.grad is not None, f"parameter {name} got no gradient"
        np.testing.assert_allclose(p.grad.array, tp.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of {name}")
    return out_c, out_t


def _flat(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_flat(o))
        return res
    return [] if out is None else [out]


def compare_with_reference(layer, x, rtol=1e-5, atol=1e-5):
    """``layer(x)`` and the input's gradient of ``(y * y).sum()`` on the fast path (as the
    caller's switches leave it) equal them under ``cr.backends.reference()`` to the tolerances
    (the fast path's products are other libraries'); returns the fast path's output."""
    outs = []
    for reference in (False, True):
        with cr.backends.reference(reference):
            xt = cr.from_numpy(x).requires_grad_()
            layer.zero_grad()
            y = layer(xt)
            (y * y).sum().backward()
            outs.append((y.detach().numpy(), xt.grad.numpy()))
    (y, gx), (y_ref, gx_ref) = outs
    np.testing.assert_allclose(y, y_ref, rtol=rtol, atol=atol)
    np.testing.assert_allclose(gx, gx_ref, rtol=10 * rtol, atol=10 * atol)
    return y


def functional_linear_matches_torch(x, w, b, rtol=1e-5, atol=1e-5):
    """``F.linear(x, w, b)`` on float32 arrays equals PyTorch's to the tolerances."""
    import torch
    ours = cr.nn.functional.linear(cr.from_numpy(x), cr.from_numpy(w), cr.from_numpy(b))
    theirs = torch.nn.functional.linear(torch.from_numpy(x), torch.from_numpy(w),
                                        torch.from_numpy(b))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=atol)


def replay_equals_eager(model, x, replays=3):
    """Under ``no_grad``, ``cr.compile(model)`` called ``replays`` times (recording, then
    replaying) gives eager mode's output bit for bit; returns (output, the compiled model)."""
    compiled = cr.compile(model)
    with cr.no_grad():
        expected = model(x).numpy()
        for _ in range(replays):
            got = compiled(x).numpy()
    np.testing.assert_array_equal(got, expected)
    return got, compiled
