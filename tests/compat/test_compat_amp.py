"""bfloat16/float16, CPU autocast, GradScaler and compile, against PyTorch on the CPU."""
import warnings

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")
pytest.importorskip("ml_dtypes")

RNG = np.random.default_rng(0)


def to_np(t):
    return np.asarray(t.detach().float().tolist() if isinstance(t, torch.Tensor)
                      else t.detach().float().tolist())


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
def test_low_precision_tensors_round_print_and_compute_as_torch(name):
    x = RNG.standard_normal(6).astype(np.float32)
    a = cr.tensor(x).to(getattr(cr, name))
    b = torch.tensor(x).to(getattr(torch, name))
    assert a.dtype.name == name and a.is_floating_point() and a.dtype.itemsize == 2
    np.testing.assert_array_equal(to_np(a), to_np(b))        # the same rounding
    assert repr(a).split("dtype=")[1] == repr(b).split("dtype=")[1].replace("torch", "chainrule")
    for f in (lambda t: t * 2.5, lambda t: t + t, lambda t: t.exp(), lambda t: t.relu()):
        ra, rb = f(a), f(b)
        assert ra.dtype.name == str(rb.dtype)[6:]
        np.testing.assert_allclose(to_np(ra), to_np(rb), rtol=1e-2)
    assert (a + cr.ones(6)).dtype == cr.float32                   # promotion to float32
    method = {"bfloat16": "bfloat16", "float16": "half"}[name]
    assert getattr(cr.ones(2), method)().dtype.name == str(getattr(torch.ones(2), method)().dtype)[6:]


def test_bfloat16_requires_grad_and_backward():
    w = cr.ones(3, dtype=cr.bfloat16, requires_grad=True)
    (w * 3).sum().backward()
    assert w.grad.dtype == cr.bfloat16 and w.grad.tolist() == [3.0, 3.0, 3.0]


def test_bfloat16_without_ml_dtypes_names_the_package(monkeypatch):
    import builtins
    import chainrule._dtype as dtypes
    real_import = builtins.__import__

    def no_ml_dtypes(name, *args, **kwargs):
        if name == "ml_dtypes":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    fresh = dtypes.dtype("bfloat16", None, is_floating_point=True, itemsize=2)
    monkeypatch.setattr(builtins, "__import__", no_ml_dtypes)
    with pytest.raises(TypeError, match="ml_dtypes"):
        fresh.np


def _autocast_ops(m, x, w, conv, lin, target):
    F = m.nn.functional
    y = x @ w
    return {"matmul": y, "mm": m.mm(x, w), "linear": lin(x), "relu": y.relu(),
            "add": x + x, "conv": conv(x.reshape(1, 1, 4, 4)), "softmax": y.softmax(-1),
            "mse_loss": F.mse_loss(y, y.detach() * 0), "sum": y.sum(),
            "cross_entropy": F.cross_entropy(y, m.tensor([0, 1, 0, 1])),
            "float64": m.matmul(x.double(), w.double())}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_cpu_autocast_casts_the_ops_torch_casts(dtype):
    x = RNG.standard_normal((4, 4)).astype(np.float32)
    w = RNG.standard_normal((4, 2)).astype(np.float32)
    lin_t, conv_t = torch.nn.Linear(4, 3), torch.nn.Conv2d(1, 2, 3)
    lin_c, conv_c = cr.nn.Linear(4, 3), cr.nn.Conv2d(1, 2, 3)
    lin_c.load_state_dict({k: v.detach().numpy() for k, v in lin_t.state_dict().items()})
    conv_c.load_state_dict({k: v.detach().numpy() for k, v in conv_t.state_dict().items()})
    with torch.autocast(device_type="cpu", dtype=getattr(torch, dtype)):
        out_t = _autocast_ops(torch, torch.tensor(x), torch.tensor(w), conv_t, lin_t, dtype)
        assert torch.is_autocast_enabled("cpu")
    with cr.autocast(device_type="cpu", dtype=getattr(cr, dtype)):
        out_c = _autocast_ops(cr, cr.tensor(x), cr.tensor(w), conv_c, lin_c, dtype)
        assert cr.is_autocast_enabled("cpu") and cr.get_autocast_dtype("cpu").name == dtype
    assert not cr.is_autocast_enabled("cpu")
    for name in out_t:
        assert out_c[name].dtype.name == str(out_t[name].dtype)[6:], name
        np.testing.assert_allclose(to_np(out_c[name]), to_np(out_t[name]), rtol=2e-2, atol=2e-2,
                                   err_msg=name)
    assert (cr.tensor(x) @ cr.tensor(w)).dtype == cr.float32     # off again outside the block


def test_autocast_gradients_reach_float32_parameters_as_torch():
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    lin_t = torch.nn.Linear(4, 3)
    lin_c = cr.nn.Linear(4, 3)
    lin_c.load_state_dict({k: v.detach().numpy() for k, v in lin_t.state_dict().items()})
    for m, lin in ((torch, lin_t), (cr, lin_c)):
        with m.autocast("cpu", dtype=m.bfloat16):
            loss = m.nn.functional.mse_loss(lin(m.tensor(x)), m.zeros(5, 3))
        assert str(loss.dtype).endswith("float32")
        loss.backward()
    assert lin_c.weight.grad.dtype == cr.float32
    np.testing.assert_allclose(lin_c.weight.grad.array, lin_t.weight.grad.numpy(), rtol=3e-2,
                               atol=3e-2)


def test_autocast_disabled_and_unsupported_forms_as_torch():
    a = cr.ones(2, 2)
    with cr.autocast("cpu", enabled=False):
        assert (a @ a).dtype == cr.float32
    with cr.amp.autocast("cpu"), cr.cpu.amp.autocast():
        assert (a @ a).dtype == cr.bfloat16
    for m in (torch, cr):
        with pytest.warns(UserWarning, match="target dtype is not supported"):
            with m.autocast("cpu", dtype=m.float32):
                pass
        with pytest.warns(UserWarning, match="CUDA is not available"):
            with m.autocast("cuda"):
                pass

    @cr.autocast("cpu")
    def product(x):
        return x @ x
    assert product(a).dtype == cr.bfloat16


def test_autocast_keeps_the_reference_switch_consistent():
    a = cr.ones(2, 2, requires_grad=True)
    with cr.autocast("cpu"):
        with cr.backends.reference():
            assert (a @ a).dtype == cr.bfloat16
        assert (a @ a).dtype == cr.bfloat16
    assert (a @ a).dtype == cr.float32
    with cr.backends.reference():
        assert type((a @ a).grad_fn).__name__ == "MatMulReference"


def _scaler_run(m, scaler, steps):
    w = m.nn.Parameter(m.tensor([1.0, -2.0]))
    opt = m.optim.SGD([w], lr=0.1)
    trace = []
    for k in steps:
        opt.zero_grad()
        loss = (w * w).sum() * k
        scaler.scale(loss).backward()
        if len(trace) % 2:
            scaler.unscale_(opt)
        scaler.step(opt)
        scaler.update()
        trace.append((scaler.get_scale(), w.detach().tolist(), scaler.state_dict()))
    return trace


def test_grad_scaler_matches_torch_step_for_step():
    steps = [1.0, 1.0, float("inf"), 1.0, 1.0, 1.0, float("nan"), 1.0]
    kwargs = dict(init_scale=8.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = _scaler_run(cr, cr.amp.GradScaler("cpu", **kwargs), steps)
        theirs = _scaler_run(torch, torch.amp.GradScaler("cpu", **kwargs), steps)
    for (sc, wc, dc), (st, wt, dt) in zip(ours, theirs):
        assert sc == st and dc == dt
        np.testing.assert_allclose(wc, wt, rtol=1e-6)


def test_grad_scaler_errors_as_torch():
    for m in (cr, torch):
        s = m.amp.GradScaler("cpu")
        w = m.nn.Parameter(m.ones(2))
        opt = m.optim.SGD([w], lr=0.1)
        s.scale(w.sum()).backward()
        s.unscale_(opt)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
            s.unscale_(opt)
        s.step(opt)
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
            s.step(opt)
        s.update()
        with pytest.raises(AssertionError, match="No inf checks"):
            s.update()
        with pytest.raises(RuntimeError, match="Closure"):
            s.step(opt, closure=lambda: 0)
        with pytest.raises(ValueError, match="outputs must be a Tensor"):
            s.scale(3.0)
        with pytest.raises(RuntimeError, match="state dict is empty"):
            s.load_state_dict({})
        s2 = m.amp.GradScaler("cpu", init_scale=4.0)
        s2.load_state_dict(s.state_dict())
        assert s2.state_dict() == s.state_dict()


def test_disabled_grad_scaler_passes_through_as_torch():
    loss = cr.ones(1, requires_grad=True).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        makers = [lambda m: m.amp.GradScaler("cpu", enabled=False),
                  lambda m: m.amp.GradScaler(),          # 'cuda' without CUDA: disabled
                  lambda m: m.cuda.amp.GradScaler()]
        for make in makers:
            s, t = make(cr), make(torch)
            assert s.is_enabled() == t.is_enabled() is False
            assert s.scale(loss) is loss and s.get_scale() == t.get_scale() == 1.0
            assert s.state_dict() == t.state_dict() == {}
            assert s.update() is None


def test_compile_returns_the_same_behaviour():
    model = cr.nn.Linear(3, 2)
    compiled = cr.compile(model, mode="max-autotune", fullgraph=True, dynamic=False)
    tmodel = torch.compile(torch.nn.Linear(3, 2))
    assert list(compiled.state_dict()) == list(tmodel.state_dict())   # '_orig_mod.' keys
    x = cr.randn(4, 3)
    np.testing.assert_array_equal(compiled(x).array, model(x).array)
    assert compiled.weight is model.weight and compiled._orig_mod is model

    @cr.compile(backend="inductor")
    def double(t):
        return t * 2
    assert double(cr.ones(2)).tolist() == [2.0, 2.0]
    for m in (cr, torch):
        with pytest.raises(RuntimeError, match="Unrecognized mode"):
            m.compile(model, mode="fast")
        with pytest.raises(AssertionError, match="A callable function is expected"):
            m.compile(3)


def _nanogpt_style_steps(m, state, x, y):
    """The device and precision preamble of nanoGPT's train.py, then three optimiser steps."""
    import contextlib
    m.backends.cuda.matmul.allow_tf32 = True
    m.backends.cudnn.allow_tf32 = True
    device = "cuda" if m.cuda.is_available() else "cpu"
    dtype = "bfloat16" if m.cuda.is_available() and m.cuda.is_bf16_supported() else "float16"
    ptdtype = {"float32": m.float32, "bfloat16": m.bfloat16, "float16": m.float16}[dtype]
    ctx = contextlib.nullcontext() if device == "cpu" else m.amp.autocast(device, dtype=ptdtype)
    model = m.nn.Sequential(m.nn.Linear(4, 8), m.nn.GELU(), m.nn.Linear(8, 3))
    model.load_state_dict({k: m.tensor(v) for k, v in state.items()})
    model = model.to(device)
    if m is cr:   # torch.compile would spend seconds generating kernels; ours runs as written
        model = m.compile(model)
    scaler = m.amp.GradScaler(enabled=(dtype == "float16"))
    opt = m.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(3):
        with ctx:
            loss = m.nn.functional.cross_entropy(model(m.tensor(x).to(device)), m.tensor(y))
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        m.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    m.backends.cuda.matmul.allow_tf32 = False
    return losses


def test_a_nanogpt_style_preamble_and_loop_give_torch_numbers():
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.GELU(), torch.nn.Linear(8, 3))
    state = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    x = RNG.standard_normal((6, 4)).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = _nanogpt_style_steps(cr, state, x, y)
        theirs = _nanogpt_style_steps(torch, state, x, y)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
