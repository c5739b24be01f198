"""ONNX's own recurrent operators for nn.RNN/LSTM/GRU, and nn.MultiheadAttention written out as
projections, scaled dot products and a softmax.

PyTorch stacks an LSTM's gates (i, f, g, o) and a GRU's (r, z, n); ONNX wants (i, o, f, c) and
(z, r, h), with the input and hidden biases concatenated. ONNX's LSTM takes (seq, batch, feature)
and returns Y of shape (seq, directions, batch, hidden): a transpose and a reshape give PyTorch's
(seq, batch, directions * hidden).
"""
import numpy as np

from .. import nn
from .export_modules import refuse, converts

_ONNX_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}


def _gates(array, mode):
    blocks = np.split(array, len(_ONNX_GATE_ORDER[mode]), axis=0)
    return np.concatenate([blocks[i] for i in _ONNX_GATE_ORDER[mode]], axis=0)


def _layer_weights(m, layer):
    dirs = ["", "_reverse"] if m.bidirectional else [""]
    W, R, B = [], [], []
    for d in dirs:
        suffix = f"_l{layer}{d}"
        w_ih = getattr(m, "weight_ih" + suffix).array
        w_hh = getattr(m, "weight_hh" + suffix).array
        W.append(_gates(w_ih, m.mode))
        R.append(_gates(w_hh, m.mode))
        if m.bias:
            b_ih = getattr(m, "bias_ih" + suffix).array
            b_hh = getattr(m, "bias_hh" + suffix).array
        else:
            b_ih = b_hh = np.zeros(w_ih.shape[0], w_ih.dtype)
        B.append(np.concatenate([_gates(b_ih, m.mode), _gates(b_hh, m.mode)]))
    return np.stack(W), np.stack(R), np.stack(B)


@converts(nn.RNN, nn.LSTM, nn.GRU)
def _recurrent(g, m, args, kwargs, out):
    if m.proj_size:
        refuse(m, "proj_size")
    if m.training and m.dropout and m.num_layers > 1:
        refuse(m, "dropout in training mode")
    x, hx = args[0], (args[1] if len(args) > 1 else kwargs.get("hx"))
    if x.ndim != 3:
        refuse(m, "an unbatched (2-d) input")
    lstm = m.mode == "LSTM"
    op = {"LSTM": "LSTM", "GRU": "GRU"}.get(m.mode, "RNN")
    dirs = 2 if m.bidirectional else 1
    h = m.hidden_size
    seq = g.value(x, type(m).__name__)
    if m.batch_first:
        seq = g.node("Transpose", [seq], perm=[1, 0, 2])
    h0s = c0s = None
    if hx is not None:
        h0, c0 = hx if lstm else (hx, None)
        h0s = g.value(h0)
        c0s = g.value(c0) if lstm else None
    attrs = {"hidden_size": h, "direction": "bidirectional" if dirs == 2 else "forward"}
    if op == "RNN":
        attrs["activations"] = ["Tanh" if m.mode == "RNN_TANH" else "Relu"] * dirs
    if op == "GRU":
        attrs["linear_before_reset"] = 1       # PyTorch applies r to (W_hn h + b_hn)
    last_h, last_c = [], []
    for layer in range(m.num_layers):
        W, R, B = _layer_weights(m, layer)
        inputs = [seq, g.const(W, f"{op}_W"), g.const(R, f"{op}_R"), g.const(B, f"{op}_B"), ""]
        if h0s is not None:
            span = [g.ints([layer * dirs]), g.ints([(layer + 1) * dirs])]
            inputs.append(g.node("Slice", [h0s] + span))
            if lstm:
                inputs.append(g.node("Slice", [c0s] + span))
        outs = g.node(op, inputs, outputs=3 if lstm else 2, **attrs)
        y = g.node("Transpose", [outs[0]], perm=[0, 2, 1, 3])      # seq, batch, dirs, hidden
        seq = g.node("Reshape", [y, g.ints([0, 0, dirs * h])])
        last_h.append(outs[1])
        if lstm:
            last_c.append(outs[2])
    output, state = out
    g.bind(output, g.node("Transpose", [seq], perm=[1, 0, 2]) if m.batch_first else seq)
    h_n = state[0] if lstm else state
    g.bind(h_n, g.node("Concat", last_h, axis=0))
    if lstm:
        g.bind(state[1], g.node("Concat", last_c, axis=0))


@converts(nn.MultiheadAttention)
def _multihead_attention(g, m, args, kwargs, out):
    names = ["query", "key", "value", "key_padding_mask", "need_weights", "attn_mask",
             "average_attn_weights", "is_causal"]
    given = dict(zip(names, args), **kwargs)
    for option in ("key_padding_mask", "attn_mask"):
        if given.get(option) is not None:
            refuse(m, option)
    if given.get("is_causal"):
        refuse(m, "is_causal=True")
    if m.bias_k is not None or m.add_zero_attn:
        refuse(m, "add_bias_kv or add_zero_attn")
    e, heads = m.embed_dim, m.num_heads
    d = e // heads
    if m._qkv_same_embed_dim:
        weights = np.split(m.in_proj_weight.array, 3)
    else:
        weights = [m.q_proj_weight.array, m.k_proj_weight.array, m.v_proj_weight.array]
    biases = np.split(m.in_proj_bias.array, 3) if m.in_proj_bias is not None else [None] * 3
    dtype = weights[0].dtype

    def project(x, w, b, which):
        v = g.value(x, "MultiheadAttention")
        if not m.batch_first:
            v = g.node("Transpose", [v], perm=[1, 0, 2])               # batch, seq, embed
        y = g.node("MatMul", [v, g.const(np.ascontiguousarray(w.T), f"attn_{which}_weight")])
        if b is not None:
            y = g.node("Add", [y, g.const(b, f"attn_{which}_bias")])
        heads_apart = g.node("Reshape", [y, g.ints([0, 0, heads, d])])
        return g.node("Transpose", [heads_apart], perm=[0, 2, 1, 3])   # batch, heads, seq, d

    q, k, v = (project(given[n], w, b, n[0]) for n, w, b in zip(names, weights, biases))
    scores = g.node("MatMul", [q, g.node("Transpose", [k], perm=[0, 1, 3, 2])])
    scores = g.node("Mul", [scores, g.const(np.asarray(1 / np.sqrt(d), dtype), "scale")])
    attended = g.node("MatMul", [g.node("Softmax", [scores], axis=-1), v])
    merged = g.node("Reshape", [g.node("Transpose", [attended], perm=[0, 2, 1, 3]),
                                g.ints([0, 0, e])])
    y = g.node("MatMul", [merged, g.node("Transpose", [g.value(m.out_proj.weight)], perm=[1, 0])])
    if m.out_proj.bias is not None:
        y = g.node("Add", [y, g.value(m.out_proj.bias)])
    if not m.batch_first:
        y = g.node("Transpose", [y], perm=[1, 0, 2])
    attn_output, attn_weights = out
    g.bind(attn_output, y)
    if attn_weights is not None:
        g.bind_unavailable(attn_weights, "the attention weights MultiheadAttention returns "
                                         "(pass need_weights=False)")
