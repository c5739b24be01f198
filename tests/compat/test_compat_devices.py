"""The device model, cr.cuda, cr.backends and cr.accelerator answer as PyTorch's CPU build."""
import pickle

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

DEVICES = ["cpu", "cpu:0", "cuda", "cuda:1", "mps", "meta", "xpu:3"]


@pytest.mark.parametrize("spec", DEVICES)
def test_device_strings_parse_print_and_compare_as_torch(spec):
    d, t = cr.device(spec), torch.device(spec)
    assert (d.type, d.index, str(d)) == (t.type, t.index, str(t))
    assert repr(d) == repr(t)
    assert d == cr.device(spec) and hash(d) == hash(cr.device(spec))
    assert pickle.loads(pickle.dumps(d)) == d


def test_device_from_type_and_index_and_equality_rules():
    assert cr.device("cuda", 0) == cr.device("cuda:0")
    assert repr(cr.device("cuda", 0)) == repr(torch.device("cuda", 0))
    assert cr.device(cr.device("cuda:2")) == cr.device("cuda:2")
    # a device with an index is not the device without one, and never equals a string
    assert (cr.device("cpu") == cr.device("cpu", 0)) == (torch.device("cpu") == torch.device("cpu", 0))
    assert (cr.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")
    assert len({cr.device("cuda", 1), cr.device("cuda:1"), cr.device("cuda")}) == 2


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cuda:-1", "cuda:01", ""])
def test_bad_device_strings_raise_runtime_error_as_torch(bad):
    with pytest.raises(RuntimeError):
        torch.device(bad)
    with pytest.raises(RuntimeError):
        cr.device(bad)


def test_negative_index_and_bare_index_raise_as_torch():
    for make in (lambda m: m.device("cuda", -1), lambda m: m.device(0)):
        with pytest.raises(RuntimeError):
            make(torch)
        with pytest.raises(RuntimeError):
            make(cr)


FACTORIES = [
    lambda m, **k: m.tensor([1.0, 2.0], **k),
    lambda m, **k: m.zeros(2, 3, **k),
    lambda m, **k: m.ones((2,), **k),
    lambda m, **k: m.empty(2, **k),
    lambda m, **k: m.full((2,), 3.0, **k),
    lambda m, **k: m.arange(4, **k),
    lambda m, **k: m.linspace(0, 1, 5, **k),
    lambda m, **k: m.eye(3, **k),
    lambda m, **k: m.rand(2, **k),
    lambda m, **k: m.randn(2, **k),
    lambda m, **k: m.randint(0, 5, (3,), **k),
    lambda m, **k: m.randperm(4, **k),
    lambda m, **k: m.normal(0.0, 1.0, size=(2,), **k),
    lambda m, **k: m.zeros_like(m.ones(2), **k),
    lambda m, **k: m.full_like(m.ones(2), 7, **k),
    lambda m, **k: m.rand_like(m.ones(2), **k),
]


@pytest.mark.parametrize("factory", FACTORIES)
def test_every_factory_takes_device_and_refuses_cuda_as_torch(factory):
    for spec in ("cpu", torch.device("cpu")):
        assert factory(torch, device=spec).device.type == "cpu"
    for spec in ("cpu", cr.device("cpu")):
        assert factory(cr, device=spec).device == cr.device("cpu")
    with pytest.raises(AssertionError, match="not compiled with CUDA"):
        factory(torch, device="cuda")
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled.*cuda"):
        factory(cr, device="cuda")


@pytest.mark.parametrize("factory", [FACTORIES[i] for i in (0, 1, 2, 4, 8, 9)])
def test_pin_memory_false_is_accepted_and_true_refused_as_torch(factory):
    factory(cr, pin_memory=False)
    factory(torch, pin_memory=False)
    with pytest.raises(RuntimeError):
        factory(torch, pin_memory=True)
    with pytest.raises(RuntimeError, match="pin_memory"):
        factory(cr, pin_memory=True)
    assert cr.zeros(2).is_pinned() == torch.zeros(2).is_pinned() is False


def test_other_devices_without_a_backend_raise():
    with pytest.raises(NotImplementedError, match="mps"):
        cr.zeros(2, device="mps")


def test_default_device():
    assert str(cr.get_default_device()) == str(torch.get_default_device()) == "cpu"
    cr.set_default_device("cpu")
    try:
        assert cr.zeros(1).device == cr.device("cpu")
    finally:
        cr.set_default_device(None)
    with pytest.raises(AssertionError, match="CUDA"):
        cr.set_default_device("cuda")
    assert cr.get_default_device() == cr.device("cpu")
    with cr.device("cpu", 0):
        assert cr.get_default_device() == cr.device("cpu", 0)
        assert cr.ones(1).device == cr.device("cpu")
    assert cr.get_default_device() == cr.device("cpu")
    with torch.device("cpu", 0):
        assert torch.get_default_device() == torch.device("cpu", 0)
    with pytest.raises(AssertionError, match="CUDA"):
        with cr.device("cuda"):
            pass
    assert cr.get_default_device() == cr.device("cpu")


def test_cuda_module_answers_as_torch_cpu_build():
    assert cr.cuda.is_available() is torch.cuda.is_available() is False
    assert cr.cuda.device_count() == torch.cuda.device_count() == 0
    assert cr.cuda.is_bf16_supported() == torch.cuda.is_bf16_supported()
    assert cr.cuda.memory_allocated() == torch.cuda.memory_allocated() == 0
    assert cr.cuda.max_memory_allocated() == torch.cuda.max_memory_allocated()
    assert cr.cuda.is_initialized() == torch.cuda.is_initialized()
    for name in ("manual_seed", "manual_seed_all"):
        assert getattr(cr.cuda, name)(1) is None and getattr(torch.cuda, name)(1) is None
    assert cr.cuda.empty_cache() is None and torch.cuda.empty_cache() is None
    for name in ("current_device", "synchronize", "get_device_name"):
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            getattr(torch.cuda, name)()
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            getattr(cr.cuda, name)()


def test_the_usual_device_line_picks_the_cpu():
    def pick(m):
        return ("cuda" if m.cuda.is_available() else
                "mps" if m.backends.mps.is_available() else "cpu")
    assert pick(cr) == pick(torch) == "cpu"
    acc = cr.accelerator.current_accelerator().type if cr.accelerator.is_available() else "cpu"
    assert acc == "cpu"
    assert cr.accelerator.is_available() == torch.accelerator.is_available()
    assert cr.accelerator.current_accelerator() == torch.accelerator.current_accelerator() is None
    assert cr.accelerator.device_count() == torch.accelerator.device_count()


def test_backends_flags_keep_what_scripts_set():
    for name in ("allow_tf32", "allow_fp16_reduced_precision_reduction"):
        assert getattr(cr.backends.cuda.matmul, name) == getattr(torch.backends.cuda.matmul, name)
    for name in ("benchmark", "deterministic", "allow_tf32", "enabled"):
        assert getattr(cr.backends.cudnn, name) == getattr(torch.backends.cudnn, name)
    assert cr.backends.cudnn.is_available() == torch.backends.cudnn.is_available()
    assert cr.backends.mps.is_available() == torch.backends.mps.is_available()
    assert cr.backends.mps.is_built() == torch.backends.mps.is_built()
    cr.backends.cuda.matmul.allow_tf32 = True
    cr.backends.cudnn.benchmark = True
    try:
        assert cr.backends.cuda.matmul.allow_tf32 is True and cr.backends.cudnn.benchmark is True
    finally:
        cr.backends.cuda.matmul.allow_tf32 = False
        cr.backends.cudnn.benchmark = False
    with pytest.raises(AttributeError, match="Unknown attribute"):
        cr.backends.cuda.matmul.alow_tf32 = True
    with cr.backends.reference():          # the reference switch is still there
        assert cr.backends.is_reference_enabled()


def test_tensor_device_to_cpu_cuda():
    x = cr.ones(2, requires_grad=True)
    assert x.device == cr.device("cpu") and x.is_cuda is False and x.get_device() == -1
    assert x.to("cpu") is x and x.cpu() is x and x.to(device="cpu") is x
    for args, kwargs in [((cr.float64,), {}), (("cpu", cr.float64), {}),
                         ((), {"device": "cpu", "dtype": cr.float64}),
                         ((cr.zeros(1, dtype=cr.float64),), {}),
                         ((cr.float64, False, True), {})]:
        y = x.to(*args, **kwargs)
        assert y.dtype == cr.float64 and y.grad_fn is not None
    y = x.to("cpu", copy=True)
    assert y is not x and np.array_equal(y.array, x.array) and y.grad_fn is not None
    assert torch.ones(2).to("cpu", copy=True) is not None
    for bad in [("cpu", "cpu"), ("x",)]:
        with pytest.raises((TypeError, RuntimeError)):
            x.to(*bad)
        with pytest.raises((TypeError, RuntimeError)):
            torch.ones(2).to(*bad)
    for call in (lambda t: t.cuda(), lambda t: t.to("cuda"), lambda t: t.to("cuda:0", torch.float16
                                                                             if isinstance(t, torch.Tensor) else cr.float16)):
        with pytest.raises(AssertionError):
            call(torch.ones(2))
        with pytest.raises(AssertionError, match="CUDA"):
            call(cr.ones(2))


def test_module_to_cpu_cuda_and_dtype():
    m = cr.nn.Linear(2, 3)
    assert m.to("cpu") is m and m.cpu() is m and m.to(cr.device("cpu")) is m
    assert m.to("cpu", cr.float64).weight.dtype == cr.float64
    assert m.to(device="cpu", dtype=cr.float32).weight.dtype == cr.float32
    with pytest.raises(AssertionError):
        torch.nn.Linear(2, 3).cuda()
    with pytest.raises(AssertionError, match="CUDA"):
        m.cuda()
    with pytest.raises(AssertionError, match="CUDA"):
        m.to("cuda")
    with pytest.raises(TypeError, match="floating point"):
        m.to(cr.int64)
