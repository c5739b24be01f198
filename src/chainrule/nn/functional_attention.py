"""Attention functions (``torch.nn.functional`` names)."""
import math

import numpy as np

from ..ops.attention import ScaledDotProductAttention
from ..random import rng
from ..tensor import Tensor

__all__ = ["scaled_dot_product_attention"]


def attention_bias(attn_mask, L, S, is_causal, dtype, op="scaled_dot_product_attention"):
    """The additive mask: a boolean ``attn_mask`` (True = may attend) becomes 0 / -inf, a float
    one is used as is, ``is_causal`` adds the lower-triangular mask. Returns an array, a Tensor
    (a float mask that requires grad) or None."""
    bias = None
    if attn_mask is not None:
        m = attn_mask.array if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if m.shape[-2:] != (L, S) and not (m.ndim >= 2 and np.broadcast_shapes(m.shape[-2:], (L, S))
                                           == (L, S)):
            raise RuntimeError(f"{op}: attn_mask of shape {m.shape} does not broadcast to the "
                               f"attention scores (..., {L}, {S})")
        if m.dtype == np.bool_:
            bias = np.where(m, 0.0, -np.inf).astype(dtype)
        elif isinstance(attn_mask, Tensor) and attn_mask.requires_grad:
            bias = attn_mask
        else:
            bias = m.astype(dtype, copy=False)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(f"{op}: explicit attn_mask should not be set when is_causal=True")
        bias = np.where(np.tri(L, S, dtype=bool), 0.0, -np.inf).astype(dtype)
    return bias


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q K^T * scale + mask) V over (..., L, E) queries, (..., S, E) keys and (..., S, Ev)
    values; scale defaults to 1/sqrt(E). A boolean ``attn_mask`` marks with True the keys a query
    may attend to; a float mask is added to the scores; ``is_causal`` lets query i see keys j <= i.
    ``dropout_p`` drops attention weights (always, as PyTorch: pass 0.0 in evaluation)."""
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.ndim < 2:
            raise RuntimeError(f"{op}: {name} must be a tensor with at least 2 dimensions, got "
                               f"{getattr(t, 'shape', type(t).__name__)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}: query {tuple(query.shape)}, key {tuple(key.shape)} and value "
                           f"{tuple(value.shape)} must share the embedding size (query/key) and "
                           f"the sequence length (key/value)")
    if enable_gqa and query.ndim >= 3 and query.shape[-3] != key.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key, value = _repeat_heads(key, rep), _repeat_heads(value, rep)
    L, S = query.shape[-2], key.shape[-2]
    dt = query.array.dtype
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    bias = attention_bias(attn_mask, L, S, is_causal, dt, op)
    keep = dropout_keep(dropout_p, tuple(np.broadcast_shapes(query.shape[:-2], key.shape[:-2]))
                        + (L, S), dt)
    return ScaledDotProductAttention.apply(query, key, value, bias, keep, scale, False)


def dropout_keep(p, shape, dtype):
    """Inverted-dropout mask: 1/(1-p) with probability 1-p, else 0; None when p == 0."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p == 0.0:
        return None
    if p == 1.0:
        return np.zeros(shape, dtype)
    return (rng().random(shape) >= p).astype(dtype) / dtype.type(1.0 - p)


def _repeat_heads(t, rep):
    """(..., H, S, E) -> (..., H*rep, S, E), each head repeated ``rep`` times in place."""
    shp = tuple(t.shape)
    return t.unsqueeze(-3).expand(*shp[:-2], rep, *shp[-2:]).reshape(
        *shp[:-3], shp[-3] * rep, *shp[-2:])
