"""The matrix products of one chainrule training step, timed alone in NumPy and in PyTorch.

``python -m bench --profile`` prints it beside the profile: a chainrule step's products run on
NumPy's BLAS (OpenBLAS in NumPy's wheels), PyTorch's on its own (MKL/oneDNN in its x86 wheel).
Replaying the same products, with the same shapes, dtypes and memory layouts, in both libraries
says how much of a workload's ratio the BLAS alone decides, whatever the framework around it.
"""
import statistics
import time

import numpy as np

from chainrule.kernels import blas, onednn_matmul

from .profile import PRODUCTS
from .workloads import WORKLOADS


def _layout(a):
    """'C', 'F' (a transposed C array) or 'C' again for anything else (copied to C order)."""
    if a.flags.c_contiguous or a.ndim < 2:
        return "C"
    if a.flags.f_contiguous or (a.ndim == 2 and a.strides[0] == a.itemsize):
        return "F"
    return "C"


def record_products(name):
    """[(function name, [(shape, dtype, layout) per array argument], other arguments)] of one
    chainrule training step of workload ``name``, in call order."""
    step = WORKLOADS[name][1]("chainrule")
    for _ in range(3):
        step.run()
    calls = []
    saved = {n: getattr(np, n) for n in PRODUCTS}
    inside = []   # a product through chainrule.kernels.blas is one call, whichever library runs it

    def wrap(fname, fn):
        def product(*args, **kwargs):
            if inside:
                return fn(*args, **kwargs)
            arrays = [(a.shape, a.dtype, _layout(a)) if isinstance(a, np.ndarray) else a
                      for a in args]
            extra = {k: v for k, v in kwargs.items() if k != "out"}
            calls.append((fname, arrays, extra))
            inside.append(True)
            try:
                return fn(*args, **kwargs)
            finally:
                inside.pop()
        return product
    blas_matmul, packed_bound = blas.matmul, blas.PackedLeft.bound

    def bound(self, b_rows, b_transposed, accumulate=False):
        # products with a left operand MKL packed once (the LSTM's W_hh), called by address:
        # recorded with the operand's layout, replayed unpacked
        run = packed_bound(self, b_rows, b_transposed, accumulate)
        spec = [((self.m, self.k), self.dtype, "C"),
                ((self.k, self.n), self.dtype, "F" if b_transposed else "C")]

        def recorded(b_address, out_address):
            calls.append(("matmul", spec, {}))
            return run(b_address, out_address)
        return recorded
    onednn_forward = onednn_matmul.forward
    matmul_recorded = wrap("matmul", lambda a, b: None)

    def linear_forward(x2, weight, bias):
        # a Linear's forward on oneDNN (its bias inside the product): recorded as x2 @ W^T
        matmul_recorded(x2, weight.T)
        return onednn_forward(x2, weight, bias)
    for n, fn in saved.items():
        setattr(np, n, wrap(n, fn))
    blas.matmul = wrap("matmul", blas_matmul)
    blas.PackedLeft.bound = bound
    onednn_matmul.forward = linear_forward
    try:
        step.run()
    finally:
        for n, fn in saved.items():
            setattr(np, n, fn)
        blas.matmul, blas.PackedLeft.bound = blas_matmul, packed_bound
        onednn_matmul.forward = onednn_forward
    return calls


def _make(spec, rng):
    if not isinstance(spec, tuple) or len(spec) != 3 or not isinstance(spec[1], np.dtype):
        return spec                                   # a string (einsum) or a number
    shape, dtype, layout = spec
    if layout == "F":
        return rng.standard_normal(shape[::-1]).astype(dtype).T
    return rng.standard_normal(shape).astype(dtype)


def _median_ms(fn, reps):
    # The other library's threads spin for a while after its last call and would take this
    # one's cores: let them fall asleep first (OpenBLAS spins for about 0.1 s).
    time.sleep(0.3)
    for _ in range(2):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def time_products(calls, reps=10):
    """(NumPy ms, PyTorch ms, MKL ms): the median time of all ``calls`` in a row in each library,
    MKL's being NumPy's calls with every ``matmul`` through ``chainrule.kernels.blas`` (None where
    the ``mkl`` extra is not installed)."""
    import torch

    rng = np.random.default_rng(0)
    np_calls = [(getattr(np, f), [_make(a, rng) for a in args], kw) for f, args, kw in calls]
    mkl_calls = [(blas.matmul if f == "matmul" else fn, args, kw)
                 for (f, _, _), (fn, args, kw) in zip(calls, np_calls)]
    torch_fns = {"matmul": torch.matmul, "dot": _torch_dot, "tensordot": torch.tensordot,
                 "einsum": torch.einsum}
    t_calls = [(torch_fns[f], [torch.from_numpy(a) if isinstance(a, np.ndarray) else a
                               for a in args], _torch_keywords(kw))
               for (f, _, kw), (_, args, _) in zip(calls, np_calls)]

    def run(batch):
        for fn, args, kw in batch:
            fn(*args, **kw)
    mkl_ms = _median_ms(lambda: run(mkl_calls), reps) if blas.available() else None
    return _median_ms(lambda: run(np_calls), reps), _median_ms(lambda: run(t_calls), reps), mkl_ms


def _torch_keywords(kw):
    return {("dims" if k == "axes" else k): v for k, v in kw.items()}


def _torch_dot(a, b):
    import torch
    return torch.dot(a, b) if a.dim() == 1 and b.dim() == 1 else torch.matmul(a, b)


def products_comparison(name, reps=None):
    """{'calls': n, 'numpy_ms': ..., 'torch_ms': ...} for workload ``name``."""
    calls = record_products(name)
    reps = reps or (5 if name in ("W3", "W4", "W5") else 50)
    numpy_ms, torch_ms, mkl_ms = time_products(calls, reps)
    return {"calls": len(calls), "numpy_ms": numpy_ms, "torch_ms": torch_ms, "mkl_ms": mkl_ms}


def format_products(results):
    lines = ["the step's matrix products alone, replayed with the same shapes and layouts:",
             f"{'workload':<12}{'products':>9}{'NumPy ms':>11}{'PyTorch ms':>12}{'ratio':>8}"
             f"{'MKL ms':>9}{'ratio':>8}"]
    for name, r in results.items():
        mkl = (f"{r['mkl_ms']:>9.3f}{r['mkl_ms'] / r['torch_ms']:>8.2f}"
               if r.get("mkl_ms") is not None else f"{'-':>9}{'-':>8}")
        lines.append(f"{name:<12}{r['calls']:>9}{r['numpy_ms']:>11.3f}{r['torch_ms']:>12.3f}"
                     f"{r['numpy_ms'] / r['torch_ms']:>8.2f}{mkl}")
    lines.append("ratio > 1: NumPy's BLAS alone is slower than PyTorch's on these products, a floor "
                 "for chainrule's ratio on the workload whatever else it does; MKL: the same calls with "
                 "each matmul through chainrule.kernels.blas (the mkl extra)")
    return "\n".join(lines)
