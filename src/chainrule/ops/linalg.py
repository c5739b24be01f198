"""Matrix products."""
import math

from ..backend import xp
from ..kernels import blas
from .base import Op, promote


def checked_matmul(a, b, product=None):
    """A @ B (by ``product``, ``xp.matmul`` unless given), or PyTorch's error for 0-d operands,
    unequal inner sizes, or batch dimensions that do not broadcast."""
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        raise RuntimeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                           f"multiplied ({ka} != {kb})")
    try:
        return (product or xp.matmul)(a, b)
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of {tuple(a.shape)} and "
                           f"{tuple(b.shape)} do not broadcast") from None


def _as_matrices(a, b, g):
    """A, B and dL/dZ with the axes that the 1-D rules removed put back (both, for a 1-D @ 1-D
    dot product), so that the gradients are plain matrix products."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    if b.ndim == 1:
        g = g[..., None]
    if a.ndim == 1:
        g = g[..., None, :]
    return a2, b2, g


class MatMulReference(Op):
    """Z = A B (batched, with NumPy's and PyTorch's 1-D rules);
    dL/dA = dL/dZ B^T,  dL/dB = A^T dL/dZ.

    A 1-D operand is a row (left) or column (right) vector whose added axis is removed again;
    batch axes that were broadcast are summed back by the engine.
    """

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b)
        ctx.a, ctx.b = a, b
        return checked_matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.a, ctx.b
        need = ctx.needs_input_grad
        a2, b2, g = _as_matrices(a, b, g)
        ga = xp.matmul(g, xp.swapaxes(b2, -1, -2)) if need[0] else None
        gb = xp.matmul(xp.swapaxes(a2, -1, -2), g) if need[1] else None
        if ga is not None and a.ndim == 1:
            ga = ga[..., 0, :]
        if gb is not None and b.ndim == 1:
            gb = gb[..., 0]
        return ga, gb


class MatMul(Op):
    """Z = A B (batched, with NumPy's and PyTorch's 1-D rules);  dL/dA = dL/dZ B^T,  dL/dB = A^T dL/dZ.

    A 1-D operand is treated as a row (left) or column (right) vector and the added axis is
    removed again; batch axes that were broadcast are summed back by the engine.
    Fast path: a batch of inputs against one matrix gets dL/dB as a single product over all rows.
    """

    reference = MatMulReference

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b)
        ctx.a, ctx.b = a, b
        return checked_matmul(a, b, blas.matmul)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.a, ctx.b
        need = ctx.needs_input_grad
        a2, b2, g = _as_matrices(a, b, g)
        ga = gb = None
        if need[0]:
            ga = blas.matmul(g, xp.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                ga = ga[..., 0, :]
        if need[1]:
            if b2.ndim == 2 and a2.ndim > 2:
                # A batch of inputs against one matrix: a single product over all rows, instead
                # of a batch of products that the engine would then have to sum.
                rows = math.prod(a2.shape[:-1])  # not -1: that cannot be inferred for 0-size arrays
                gb = blas.matmul(a2.reshape(rows, a2.shape[-1]).T, g.reshape(rows, g.shape[-1]))
            else:
                gb = blas.matmul(xp.swapaxes(a2, -1, -2), g)
            if b.ndim == 1:
                gb = gb[..., 0]
        return ga, gb


class Einsum(Op):
    """Z = einsum(spec, A, B, ...);  dL/dA = einsum(spec_Z, spec_B, ... -> spec_A)(dL/dZ, B, ...).

    Letters of A that appear nowhere else were summed over, so their gradient is broadcast back.
    """

    @staticmethod
    def forward(ctx, equation, *arrays):
        eq = equation.replace(" ", "")
        if "->" not in eq or "." in eq:
            raise ValueError(f"einsum: use an explicit output and no '...', e.g. 'ij,jk->ik'; "
                             f"got {equation!r}")
        ins, out = eq.split("->")
        specs = ins.split(",")
        if len(specs) != len(arrays):
            raise ValueError(f"einsum: {equation!r} names {len(specs)} operands, got {len(arrays)}")
        for s, a in zip(specs, arrays):
            if len(s) != a.ndim or len(set(s)) != len(s):
                raise ValueError(f"einsum: operand spec {s!r} does not fit shape {tuple(a.shape)} "
                                 f"(one distinct letter per dimension)")
        ctx.specs, ctx.out, ctx.arrays = specs, out, arrays
        return xp.einsum(eq, *arrays)

    @staticmethod
    def backward(ctx, g):
        specs, out, arrays = ctx.specs, ctx.out, ctx.arrays
        grads = [None]
        for i, (spec, a) in enumerate(zip(specs, arrays)):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(specs) if j != i]
            avail = set(out).union(*others) if others else set(out)
            target = "".join(c for c in spec if c in avail)
            terms = ",".join([out] + others)
            gi = xp.einsum(f"{terms}->{target}", g, *[x for j, x in enumerate(arrays) if j != i])
            if target != spec:
                shape = [a.shape[k] if c in avail else 1 for k, c in enumerate(spec)]
                gi = xp.broadcast_to(gi.reshape(shape), a.shape)
            grads.append(gi)
        return tuple(grads)
