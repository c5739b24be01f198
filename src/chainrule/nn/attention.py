"""``MultiheadAttention`` with PyTorch's parameter layout (``in_proj_weight`` (3E, E),
``in_proj_bias`` (3E,), ``out_proj``), masks and returned attention weights."""
import numpy as np

from .. import _dtype
from . import functional as F, init
from .linear import Linear
from .module import Module
from .parameter import Parameter
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor_base import make_tensor


class NonDynamicallyQuantizableLinear(Linear):
    """PyTorch's name for MultiheadAttention's output projection (a plain Linear)."""


class MultiheadAttention(Module):
    """Attention from ``num_heads`` heads of size embed_dim / num_heads, concatenated:

        head_i = softmax(Q W_q,i^T (K W_k,i^T)^T / sqrt(d_head) + mask) V W_v,i^T
        out = concat(head_1, ..., head_h) W_o^T + b_o

    Inputs (L, N, E) ((N, L, E) with ``batch_first``, or unbatched (L, E)). ``key_padding_mask``
    (N, S): True marks keys to ignore; ``attn_mask`` (L, S) or (N * num_heads, L, S): True marks
    pairs that may NOT attend (float masks are added). Returns (output, weights), the weights
    averaged over heads (N, L, S) unless ``average_attn_weights=False`` (N, heads, L, S), or
    None with ``need_weights=False``.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than "
                             f"0, got embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise AssertionError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible "
                                 f"by num_heads ({num_heads})")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are not "
                                      "available in chainrule")
        nd = _dtype.to_numpy_dtype(dtype) or _dtype.default_float_np()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads

        def param(*shape):
            return Parameter(np.empty(shape, nd))
        if self._qkv_same_embed_dim:
            self.in_proj_weight = param(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = param(embed_dim, embed_dim)
            self.k_proj_weight = param(embed_dim, self.kdim)
            self.v_proj_weight = param(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = param(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self._reset_parameters()

    def _reset_parameters(self):
        """Xavier-uniform projections, zero biases (PyTorch's defaults)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def _project(self, query, key, value):
        E = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:  # self-attention: one product for q, k and v
                return F.linear(query, w, b).chunk(3, -1)
            wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return (F.linear(query, wq, bq), F.linear(key, wk, bk),
                F.linear(value, wv, bv))

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: Need attn_mask if specifying the is_causal "
                               "hint (pass the causal mask, e.g. "
                               "generate_square_subsequent_mask(L))")
        unbatched = query.ndim == 2
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise AssertionError(f"MultiheadAttention: query, key and value must all be 2-D "
                                 f"(unbatched) or 3-D, got {tuple(query.shape)}, "
                                 f"{tuple(key.shape)}, {tuple(value.shape)}")
        if query.shape[-1] != self.embed_dim:
            raise AssertionError(f"MultiheadAttention: was expecting embedding dimension of "
                                 f"{self.embed_dim}, but got {query.shape[-1]}")
        same = (query is key, key is value)
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        if not self.batch_first or unbatched:   # -> (N, L, E)
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        if same[0]:
            key = query
        if same[1]:
            value = key
        N, L, E = query.shape
        S = key.shape[1]
        h, hd = self.num_heads, self.head_dim
        q, k, v = self._project(query, key, value)
        q = q.reshape(N, L, h, hd).transpose(1, 2)
        k = k.reshape(N, S, h, hd).transpose(1, 2)
        v = v.reshape(N, S, h, hd).transpose(1, 2)
        bias = F.multi_head_attention_bias(attn_mask, key_padding_mask, N, h, L, S, q.array.dtype)
        p = self.dropout if self.training else 0.0
        # A query whose keys are all masked: PyTorch's paths that compute the weights, or take
        # its fused inference kernel, give NaN; its scaled_dot_product_attention path gives 0.
        nan_rows = need_weights or self._pytorch_fast_path(same, unbatched, attn_mask,
                                                           key_padding_mask, query)
        out, weights = F.scaled_dot_product_attention_with_weights(q, k, v, bias, p,
                                                                   masked_rows_nan=nan_rows)
        if not need_weights:
            weights = None
        out = self.out_proj(out.transpose(1, 2).reshape(N, L, E))
        if unbatched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if weights is not None:
            if average_attn_weights:
                weights = weights.mean(1)
            if unbatched:
                weights = weights.squeeze(0)
        return out, weights

    def _pytorch_fast_path(self, same, unbatched, attn_mask, key_padding_mask, query):
        """Whether PyTorch's MultiheadAttention.forward takes its fused inference kernel here."""
        float_mask = any(m is not None and getattr(m, "is_floating_point", lambda: False)()
                         for m in (attn_mask, key_padding_mask))
        tensors = [query] + [p for p in (self.in_proj_weight, self.in_proj_bias,
                                         self.out_proj.weight, self.out_proj.bias)
                             if p is not None]
        return (not float_mask and not unbatched and all(same) and not self.training
                and self.in_proj_weight is not None and self.num_heads % 2 == 0
                and self.batch_first and self._qkv_same_embed_dim
                and not (is_grad_enabled() and any(t.requires_grad for t in tensors)))

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"


def generate_square_subsequent_mask(sz, dtype=None):
    """The (sz, sz) causal mask: 0 on and below the diagonal, -inf above (PyTorch's
    ``nn.Transformer.generate_square_subsequent_mask``)."""
    nd = _dtype.to_numpy_dtype(dtype) or _dtype.default_float_np()
    return make_tensor(np.triu(np.full((sz, sz), -np.inf, dtype=nd), 1))
