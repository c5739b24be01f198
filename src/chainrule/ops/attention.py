"""Scaled dot-product attention as one fused op."""
from ..backend import xp
from .base import Op


class ScaledDotProductAttentionReference(Op):
    """O = W V with W = P * keep and P = softmax(S), S = Q K^T * scale + B, over the keys.

    ``bias`` B is the additive mask (0 or -inf, or any float) and ``keep`` the dropout mask
    already divided by (1 - p), or None. A query row whose keys are all masked (every S = -inf)
    attends to nothing: its row of P is 0 (PyTorch's scaled_dot_product_attention), or NaN with
    ``masked_rows_nan`` (the plain softmax 0/0, as PyTorch's MultiheadAttention gives).
    Backward, one step at a time:
        dL/dW = dL/dO V^T (+ the gradient of the returned W)
        dL/dV = W^T dL/dO
        dL/dP = dL/dW * keep
        dL/dS = P * (dL/dP - sum_j dL/dP_j P_j)         (the softmax's Jacobian-vector product)
        dL/dQ = dL/dS K * scale,  dL/dK = dL/dS^T Q * scale,  dL/dB = dL/dS
    With ``with_weights`` the op also returns W.
    """

    @staticmethod
    def forward(ctx, q, k, v, bias, keep, scale, with_weights, masked_rows_nan=False):
        s = xp.matmul(q, xp.swapaxes(k, -1, -2)) * scale
        if bias is not None:
            s = s + bias
        row_max = s.max(axis=-1, keepdims=True)
        row_max = xp.where(xp.isfinite(row_max), row_max, 0)  # a fully masked row: all -inf
        e = xp.exp(s - row_max)
        total = e.sum(axis=-1, keepdims=True)
        if masked_rows_nan:
            with xp.errstate(invalid="ignore"):
                p = e / total                                  # ... whose P is 0 / 0
        else:
            p = e / xp.where(total == 0, 1, total)             # ... whose e, and P, stay 0
        w = p * keep if keep is not None else p
        ctx.q, ctx.k, ctx.v, ctx.p, ctx.w, ctx.keep, ctx.scale = q, k, v, p, w, keep, scale
        out = xp.matmul(w, v)
        return (out, w) if with_weights else out

    @staticmethod
    def backward(ctx, dout, dweights=None):
        q, k, v, p, w, keep, scale = ctx.q, ctx.k, ctx.v, ctx.p, ctx.w, ctx.keep, ctx.scale
        need = ctx.needs_input_grad
        dw = xp.matmul(dout, xp.swapaxes(v, -1, -2))
        if dweights is not None:
            dw = dw + dweights
        dv = xp.matmul(xp.swapaxes(w, -1, -2), dout) if need[2] else None
        dp = dw * keep if keep is not None else dw
        ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
        dq = xp.matmul(ds, k) * scale if need[0] else None
        dk = xp.matmul(xp.swapaxes(ds, -1, -2), q) * scale if need[1] else None
        dbias = ds if need[3] else None
        return dq, dk, dv, dbias, None, None, None, None


class ScaledDotProductAttention(Op):
    """O = D(P) V with P = softmax(Q K^T * scale + B) over the keys, D an optional dropout mask.

    ``bias`` B is an additive mask (0 or -inf from a boolean mask, or any float mask) broadcast
    over (..., L, S); ``keep`` is the dropout mask already divided by (1 - p). A query row whose
    keys are all masked attends to nothing (its row of P is 0), or gets NaN with
    ``masked_rows_nan`` (MultiheadAttention's convention in PyTorch).
    With dP~ = (dL/dO V^T + dL/dW) * keep and dS = P * (dP~ - sum_j dP~_j P_j):
        dL/dV = D(P)^T dL/dO,  dL/dQ = dS K * scale,  dL/dK = dS^T Q * scale,  dL/dB = dS.
    With ``with_weights`` the op also returns W = D(P), PyTorch's attention weights.
    Fast path: the scores, softmax and gradients are updated in place, and the fix for fully
    masked rows runs only when there is one.
    """

    reference = ScaledDotProductAttentionReference

    @staticmethod
    def forward(ctx, q, k, v, bias, keep, scale, with_weights, masked_rows_nan=False):
        s = xp.matmul(q, xp.swapaxes(k, -1, -2))
        s *= scale
        if bias is not None:
            s = s + bias
        top = s.max(axis=-1, keepdims=True)
        dead = ~xp.isfinite(top)
        on_device = type(dead) is not xp.ndarray      # there: always mask, never ask the host
        if on_device or dead.any():  # fully masked rows: softmax of all -inf would be NaN
            top = xp.where(dead, 0, top)
        p = xp.exp(s - top)
        total = p.sum(axis=-1, keepdims=True)
        if on_device or dead.any():
            total = xp.where(total == 0, xp.nan if masked_rows_nan else 1, total)
        p /= total
        pd = p * keep if keep is not None else p
        out = xp.matmul(pd, v)
        ctx.q, ctx.k, ctx.v, ctx.p, ctx.pd, ctx.keep, ctx.scale = q, k, v, p, pd, keep, scale
        return (out, pd) if with_weights else out

    @staticmethod
    def backward(ctx, dout, dweights=None):
        q, k, v, p, pd, keep, scale = ctx.q, ctx.k, ctx.v, ctx.p, ctx.pd, ctx.keep, ctx.scale
        need = ctx.needs_input_grad
        dv = xp.matmul(xp.swapaxes(pd, -1, -2), dout) if need[2] else None
        dp = xp.matmul(dout, xp.swapaxes(v, -1, -2))
        if dweights is not None:
            dp += dweights
        if keep is not None:
            dp *= keep
        ds = dp - (dp * p).sum(axis=-1, keepdims=True)
        ds *= p
        dbias = ds if need[3] else None
        dq = xp.matmul(ds, k) * scale if need[0] else None
        dk = xp.matmul(xp.swapaxes(ds, -1, -2), q) * scale if need[1] else None
        return dq, dk, dv, dbias, None, None, None, None
