"""Per-operation overhead: forward + backward of a small graph of elementwise ops on tiny tensors.

    python bench/op_overhead.py [--size 4] [--repeats 41] [--inner 200]

With 4-element tensors the arithmetic is nothing; what is timed is the framework's own cost per
operation (building the graph node, dispatch, the backward walk). chainrule and PyTorch run in the
same process, alternating (A B A B ...), after a warm-up; each sample is the mean of ``inner``
iterations and the median of ``repeats`` samples is reported, with the ratio chainrule / PyTorch
(below 1.0 means chainrule has the lower per-op overhead).
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))

import chainrule as cr  # noqa: E402


def graph(x, w, b):
    """16 differentiable operations (including the final sum), then backward."""
    h = x * w + b            # mul, add
    h = h.tanh()             # tanh
    h = h * h - x            # mul, sub
    h = h.sigmoid() * 2.0    # sigmoid, mul
    h = h.exp() / (h + 1.0)  # exp, add, div
    h = h.relu() + h.sin()   # relu, sin, add
    h = h - w * 0.5          # mul, sub
    loss = h.sum()           # sum
    loss.backward()
    return loss


N_OPS = 16


def make_step(lib, size):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(size).astype(np.float32) for _ in range(3)]
    if lib == "chainrule":
        leaves = [cr.tensor(a, requires_grad=True) for a in arrays]
    else:
        import torch
        leaves = [torch.tensor(a, requires_grad=True) for a in arrays]

    def step():
        for t in leaves:
            t.grad = None
        return graph(*leaves)
    return step


def sample(step, inner):
    t0 = time.perf_counter()
    for _ in range(inner):
        step()
    return (time.perf_counter() - t0) / inner


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=4, help="elements per tensor (default 4)")
    p.add_argument("--repeats", type=int, default=41, help="samples per framework (median)")
    p.add_argument("--inner", type=int, default=200, help="iterations per sample")
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("op_overhead: PyTorch is the reference; pip install torch==2.13.0", file=sys.stderr)
        return 2
    steps = {"chainrule": make_step("chainrule", args.size), "torch": make_step("torch", args.size)}
    a = steps["chainrule"]().item()
    b = steps["torch"]().item()
    if not np.isclose(a, b, rtol=1e-4):
        print(f"op_overhead: the two graphs disagree ({a} vs {b})", file=sys.stderr)
        return 1
    for step in steps.values():   # warm-up
        sample(step, args.inner)
    times = {name: [] for name in steps}
    for _ in range(args.repeats):
        for name, step in steps.items():
            times[name].append(sample(step, args.inner))
    med = {name: statistics.median(v) for name, v in times.items()}
    print(f"graph: {N_OPS} ops on {args.size}-element float32 tensors, forward + backward; "
          f"median of {args.repeats} samples x {args.inner} iterations "
          f"(numpy {np.__version__}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} torch threads)")
    for name, t in med.items():
        print(f"  {name:10s} {t * 1e6:8.1f} us per step  {t * 1e6 / N_OPS:6.2f} us per op")
    print(f"ratio chainrule/PyTorch: {med['chainrule'] / med['torch']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
