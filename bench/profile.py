"""``python -m bench --profile``: where chainrule's step spends its time, per workload.

The step runs under cProfile with NumPy's product functions (``matmul``, ``dot``, ``tensordot``,
``einsum``) wrapped, so their time is counted apart; chainrule's ops call them through ``xp``
(never ``@``) for this reason. cProfile cannot see inside a ufunc call (an elementwise pass),
whose time lands in the Python function that called it. Each function's own time goes to one
category:

- ``products``: the matrix products (BLAS, MKL's through ``kernels/blas.py``, and a Linear's
  forward on oneDNN's matmul, ``kernels/onednn_matmul.py``);
- ``kernels``: the compiled one-pass kernels of ``chainrule.kernels`` (Numba) and the calls into
  oneDNN's other primitives (``backends/onednn.py``: the LSTM layer, with the ``onednn`` extra);
- ``numpy reductions``: NumPy's C methods (``sum``, ``max``, ``reduce``, ``copy``, ...);
- ``ops``: the rest of chainrule's ops and optimisers, i.e. their elementwise NumPy passes and
  their Python;
- ``engine``: the autograd machinery, modules, tensors and everything else.

Profiling slows the Python parts, so the fractions over-state the overhead somewhat; the
unprofiled median of the same step is printed beside them.
"""
import cProfile
import contextlib
import pstats
import statistics
import time

import numpy as np

from .workloads import WORKLOADS

PRODUCTS = ("matmul", "dot", "tensordot", "einsum")
CATEGORIES = ("products", "kernels", "numpy reductions", "ops", "engine")


@contextlib.contextmanager
def products_wrapped():
    """NumPy's product functions replaced by Python wrappers (visible to cProfile) while open."""
    saved = {name: getattr(np, name) for name in PRODUCTS}

    def wrap(fn):
        def product(*args, **kwargs):
            return fn(*args, **kwargs)
        product.__qualname__ = f"numpy.{fn.__name__} (product)"
        return product
    for name, fn in saved.items():
        setattr(np, name, wrap(fn))
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(np, name, fn)


def category(func):
    """The category of one cProfile entry, (file, line, name)."""
    path, _, name = func
    if name == "product" or "(product)" in name or path.endswith(
            ("chainrule/kernels/blas.py", "chainrule/kernels/onednn_matmul.py")):
        return "products"   # MKL's and oneDNN's ctypes calls are timed inside these files
    if "chainrule/kernels/" in path or path.endswith("chainrule/backends/onednn.py"):
        return "kernels"    # oneDNN's calls: its LSTM primitive and weight reorders
    if path == "~":
        return "numpy reductions" if ("numpy" in name or "ufunc" in name) else "engine"
    if "/chainrule/ops/" in path or "/chainrule/optim/" in path:
        return "ops"
    return "engine"


def profile_workload(name, steps=None, warm=5):
    """{'step_ms': unprofiled median, 'profiled_ms': per step under cProfile,
    category: fraction of the profiled time, 'top': [(seconds per step, function), ...]}."""
    step = WORKLOADS[name][1]("chainrule")
    heavy = name in ("W3", "W4", "W5")
    steps = steps or (10 if heavy else 200)
    for _ in range(warm):
        step.run()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step.run()
        times.append(time.perf_counter() - t0)
    profiler = cProfile.Profile()
    with products_wrapped():
        step.run()
        profiler.enable()
        for _ in range(steps):
            step.run()
        profiler.disable()
    stats = pstats.Stats(profiler).stats
    totals = dict.fromkeys(CATEGORIES, 0.0)
    own = []
    for func, (_, _, tottime, _, _) in stats.items():
        totals[category(func)] += tottime
        own.append((tottime / steps, func))
    whole = sum(totals.values()) or 1.0
    own.sort(reverse=True)
    result = {"step_ms": statistics.median(times) * 1e3, "profiled_ms": whole / steps * 1e3,
              "top": [(t, _label(f)) for t, f in own[:6]]}
    result.update({c: totals[c] / whole for c in CATEGORIES})
    return result


def _label(func):
    path, line, name = func
    if path == "~":
        return name
    short = path.split("/src/", 1)[-1] if "/src/" in path else path.rsplit("/", 1)[-1]
    return f"{short}:{line}({name})"


def format_profile(results):
    head = (f"{'workload':<22}{'step ms':>9}{'profiled':>10}"
            + "".join(f"{c:>18}" for c in CATEGORIES))
    lines = [head, "-" * len(head)]
    for name, r in results.items():
        lines.append(f"{name + ' ' + WORKLOADS[name][0]:<22.22}{r['step_ms']:>9.3f}"
                     f"{r['profiled_ms']:>10.3f}"
                     + "".join(f"{r[c] * 100:>17.1f}%" for c in CATEGORIES))
    lines.append("")
    for name, r in results.items():
        lines.append(f"{name}: " + "; ".join(f"{label} {t * 1e3:.3f} ms" for t, label in r["top"]))
    lines.append("categories: products = matmul/dot/tensordot/einsum, MKL (kernels.blas) and Linear's oneDNN matmul; kernels = chainrule.kernels and oneDNN's LSTM; "
                 "ops = the ops' and optimisers' own time, with their elementwise NumPy passes; "
                 "engine = autograd, modules, tensors (python -m bench --help)")
    return "\n".join(lines)
