"""Attention functions: ``scaled_dot_product_attention`` (``torch.nn.functional``), and for
``nn.MultiheadAttention`` the same with its weights and the merge of its masks."""
import math

import numpy as np

from ..backend import array_module, placed_like

from ..ops.attention import ScaledDotProductAttention
from ..random import rng
from ..tensor import Tensor

__all__ = ["multi_head_attention_bias", "scaled_dot_product_attention",
           "scaled_dot_product_attention_with_weights"]


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
    ``dropout_p`` drops attention weights (always, as PyTorch: pass 0.0 in evaluation). A query
    whose keys are all masked gets 0 (and gradient 0), as PyTorch 2.13 does."""
    return _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa,
                      False, False)


def scaled_dot_product_attention_with_weights(query, key, value, attn_mask=None, dropout_p=0.0,
                                              is_causal=False, scale=None, enable_gqa=False,
                                              masked_rows_nan=False):
    """``scaled_dot_product_attention`` that also returns the attention weights
    W = dropout(softmax(Q K^T * scale + mask)) (..., L, S): (output, W). PyTorch has no public
    equivalent (its MultiheadAttention computes them inside ``F.multi_head_attention_forward``).
    ``masked_rows_nan``: a query whose keys are all masked gets NaN (MultiheadAttention's plain
    softmax) instead of 0 (scaled_dot_product_attention's)."""
    return _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa,
                      True, masked_rows_nan)


def _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa,
               with_weights, masked_rows_nan):
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.ndim < 2:
            raise RuntimeError(f"{op}: {name} must be a tensor with at least 2 dimensions, got "
                               f"{getattr(t, 'shape', type(t).__name__)}")
    q_shape, k_shape = query.array.shape, key.array.shape
    if q_shape[-1] != k_shape[-1] or k_shape[-2] != value.array.shape[-2]:
        raise RuntimeError(f"{op}: query {tuple(query.shape)}, key {tuple(key.shape)} and value "
                           f"{tuple(value.shape)} must share the embedding size (query/key) and "
                           f"the sequence length (key/value)")
    if enable_gqa and len(q_shape) >= 3 and q_shape[-3] != k_shape[-3]:
        rep = q_shape[-3] // k_shape[-3]
        key, value = _repeat_heads(key, rep), _repeat_heads(value, rep)
        k_shape = key.array.shape
    L, S = q_shape[-2], k_shape[-2]
    dt = query.array.dtype
    scale = 1.0 / math.sqrt(q_shape[-1]) if scale is None else float(scale)
    bias = attention_bias(attn_mask, L, S, is_causal, dt, op)
    keep = None if dropout_p == 0.0 else dropout_keep(
        dropout_p, tuple(np.broadcast_shapes(q_shape[:-2], k_shape[:-2])) + (L, S), dt,
        query.array)
    if bias is not None and not isinstance(bias, Tensor):
        bias = placed_like(bias, query.array)
    return ScaledDotProductAttention.apply(query, key, value, bias, keep, scale, with_weights,
                                           masked_rows_nan)


def _mask_array(mask, what, dtype):
    """A boolean mask (True = not allowed, MultiheadAttention's convention) -> 0 / -inf; a float
    mask stays additive."""
    if mask is None:
        return None
    m = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype == np.bool_:
        return np.where(m, -np.inf, 0.0).astype(dtype)
    if m.dtype.kind != "f":
        raise AssertionError(f"MultiheadAttention: only bool and floating types of {what} are "
                             f"supported, got {m.dtype}")
    return m.astype(dtype, copy=False)


def multi_head_attention_bias(attn_mask, key_padding_mask, batch_size, num_heads, L, S, dtype):
    """MultiheadAttention's two masks as one additive array broadcasting to its scores
    (N, num_heads, L, S), or None: ``attn_mask`` (L, S) or (N * num_heads, L, S),
    ``key_padding_mask`` (N, S), each boolean (True = may NOT attend: -inf) or float (added).
    PyTorch merges them inside ``F.multi_head_attention_forward``."""
    bias = None
    m = _mask_array(attn_mask, "attn_mask", dtype)
    if m is not None:
        if m.ndim == 2:
            if m.shape != (L, S):
                raise RuntimeError(f"MultiheadAttention: The shape of the 2D attn_mask is "
                                   f"{m.shape}, but should be {(L, S)}.")
            bias = m
        elif m.ndim == 3:
            if m.shape != (batch_size * num_heads, L, S):
                raise RuntimeError(f"MultiheadAttention: The shape of the 3D attn_mask is "
                                   f"{m.shape}, but should be "
                                   f"{(batch_size * num_heads, L, S)}.")
            bias = m.reshape(batch_size, num_heads, L, S)
        else:
            raise RuntimeError(f"MultiheadAttention: attn_mask's dimension {m.ndim} is not "
                               f"supported")
    kp = _mask_array(key_padding_mask, "key_padding_mask", dtype)
    if kp is not None:
        if kp.shape != (batch_size, S):
            raise RuntimeError(f"MultiheadAttention: expecting key_padding_mask shape of "
                               f"{(batch_size, S)}, but got {kp.shape}")
        kp = kp.reshape(batch_size, 1, 1, S)
        bias = kp if bias is None else bias + kp
    return bias


def dropout_keep(p, shape, dtype, like=None):
    """Inverted-dropout mask: 1/(1-p) with probability 1-p, else 0; None when p == 0."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p == 0.0:
        return None
    if p == 1.0:
        return array_module(like).zeros(shape, dtype)
    return (rng(like=like).random(shape) >= p).astype(dtype) / dtype.type(1.0 - p)


def _repeat_heads(t, rep):
    """(..., H, S, E) -> (..., H*rep, S, E), each head repeated ``rep`` times in place."""
    shp = tuple(t.shape)
    return t.unsqueeze(-3).expand(*shp[:-2], rep, *shp[-2:]).reshape(
        *shp[:-3], shp[-3] * rep, *shp[-2:])
