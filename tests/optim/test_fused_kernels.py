"""The optimisers' compiled one-pass kernels equal their NumPy passes bit for bit."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels

pytest.importorskip("numba")


@pytest.fixture(autouse=True)
def fast_path():
    """Kernels belong to the fast path, off under CHAINRULE_REFERENCE=1: turn the switch off."""
    with cr.backends.reference(False):
        yield

OPTIMISERS = {
    "sgd": lambda p: cr.optim.SGD(p, lr=0.1),
    "sgd-momentum": lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9),
    "sgd-nesterov-decay": lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                                 weight_decay=0.01),
    "sgd-dampening": lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.5, dampening=0.3),
    "sgd-maximize-lr1": lambda p: cr.optim.SGD(p, lr=1.0, momentum=0.9, maximize=True),
    "adam": lambda p: cr.optim.Adam(p, lr=1e-2),
    "adam-amsgrad-l2": lambda p: cr.optim.Adam(p, lr=1e-2, amsgrad=True, weight_decay=0.1),
    "adamw": lambda p: cr.optim.AdamW(p, lr=1e-2),
}
# the last one has kernels.PARALLEL_MIN elements and more: the kernels' parallel builds
SHAPES = [(3, 5), (7,), (0, 4), (1,), (33, 17), (2, 4, 3, 3), (257, 256)]


def _trajectory(make, dtype, use_kernels, grads_transposed=False, steps=6):
    rng = np.random.default_rng(0)
    params = [cr.nn.Parameter(cr.from_numpy(rng.standard_normal(s).astype(dtype))) for s in SHAPES]
    opt = make(params)
    for _ in range(steps):
        for p in params:
            g = rng.standard_normal(p.shape[::-1] if grads_transposed else p.shape).astype(dtype)
            if grads_transposed:
                g = g.T   # a non-contiguous gradient: the kernel must step aside
            g = g * 1e3 if rng.random() < 0.2 else g   # now and then a large one
            p.grad = cr.from_numpy(g)
        if use_kernels:
            opt.step()
        else:
            with kernels.disabled():
                opt.step()
    return [p.detach().numpy().copy() for p in params], opt.state_dict()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_kernel_equals_numpy_passes(name, dtype):
    assert kernels.available()
    fast, fast_state = _trajectory(OPTIMISERS[name], dtype, True)
    slow, slow_state = _trajectory(OPTIMISERS[name], dtype, False)
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)
    for key, st in slow_state["state"].items():
        for slot, value in st.items():
            np.testing.assert_array_equal(fast_state["state"][key][slot].numpy(), value.numpy())


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_non_contiguous_gradients_take_the_numpy_passes(name):
    fast, _ = _trajectory(OPTIMISERS[name], np.float32, True, grads_transposed=True)
    slow, _ = _trajectory(OPTIMISERS[name], np.float32, False, grads_transposed=True)
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)


def test_reference_switch_turns_kernels_off():
    assert kernels.get("adam") is not None
    with cr.backends.reference():
        assert kernels.get("adam") is None
    with kernels.disabled():
        assert kernels.get("sgd_momentum") is None


def test_flat_refuses_mixed_layouts():
    a = np.zeros((3, 4), np.float32)
    assert kernels.flat(a, a.T.copy().T) is None          # Fortran order
    assert kernels.flat(a, np.zeros((3, 4), np.float64)) is None
    assert [v.shape for v in kernels.flat(a, a)] == [(12,), (12,)]


def test_plain_sgd_steps_contiguous_parameters_with_its_kernel(monkeypatch):
    assert kernels.available()   # loaded: small parameters take the kernel once it is
    ran, real_get = [], kernels.get

    def get(name, size=0):
        kernel = real_get(name, size)
        if name != "sgd" or kernel is None:
            return kernel
        return lambda *args: (ran.append(args[0].shape), kernel(*args))
    monkeypatch.setattr(kernels, "get", get)
    params = [cr.nn.Parameter(cr.ones(3, 4)), cr.nn.Parameter(cr.ones(5))]
    for p in params:
        p.grad = cr.ones(p.shape)
    cr.optim.SGD(params, lr=0.5).step()
    assert ran == [(3, 4), (5,)]
    np.testing.assert_array_equal(params[0].detach().numpy(), np.full((3, 4), 0.5, np.float32))


def test_a_small_plain_sgd_step_does_not_load_the_kernels(monkeypatch):
    monkeypatch.setattr(kernels, "_kernels", None)      # as in a fresh process
    monkeypatch.setattr(kernels, "_load", lambda: pytest.fail("the kernels were loaded"))
    p = cr.nn.Parameter(cr.ones(8, 8))
    p.grad = cr.ones(8, 8)
    cr.optim.SGD([p], lr=0.5).step()
    np.testing.assert_array_equal(p.detach().numpy(), np.full((8, 8), 0.5, np.float32))
