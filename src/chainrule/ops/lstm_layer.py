"""One LSTM layer and direction over a whole sequence as one op: ``LSTMLayer`` (the fast
formulation) and ``LSTMLayerReference`` (the lecture's step equations, its twin).

The fast path keeps a step's gates and cell feature-major, (features, N), the transpose of
PyTorch's (N, features). Why: with the batch N small (32) and 4H large (1024), the step's product
``W_hh h^T`` (4H, H) x (H, N) runs about 1.7x faster in OpenBLAS than ``h W_hh^T``, and its
result is gate-major as it comes out: rows [0, H) are the input gate, [H, 2H) the forget gate,
and so on, each one contiguous block. Every per-step buffer is one contiguous block of a
sequence-long array, (T, features, N): a strided slice per step (time in the middle) would cost
a cache miss per row. The outputs h stay in PyTorch's (T, N, H), which is also the layout the
products over all steps want; the gate gradients go back to (T, N, 4H) for the same reason.
"""
from .. import kernels
from ..backend import array_module, contiguous, xp
from ..kernels import blas
from . import lstm_onednn
from .base import Op
from .recurrent import _lstm_step_backward_reference, _lstm_step_reference, _plus_bias

_HALF = (0.5, 0.5, 1, 0.5)    # per gate i, f, g, o: sigma(a) = (1 + tanh(a/2)) / 2
_SHIFT = (0.5, 0.5, 0, 0.5)


def _gate_rows(values, H, dtype, like):
    """A (4H, 1) column holding each gate's value on its H rows."""
    return array_module(like).repeat(array_module(like).array(values, dtype=dtype), H)[:, None]


def _previous_h(out, h0, t, reverse):
    """h_{t-1} of step t as an (N, H) array: the output of the step before, or h0."""
    first = t == (len(out) - 1 if reverse else 0)
    return h0 if first else out[t + 1 if reverse else t - 1]


def lstm_steps(acts, h0, c0, w_hh, reverse):
    """T LSTM steps. ``acts`` (T, 4H, N) holds W_ih x_t^T + biases with the i, f, o rows halved
    (exact in floating point: sigma(a) = (1 + tanh(a/2)) / 2), so that the four activations
    start as ONE tanh over the step; it is overwritten with the activations.

    Returns (cs, acts, tcs, out): cs (T+1, H, N) holds c^T after every step with c0 in the slot
    before the first step (slot 0, or slot T when ``reverse``); tcs (T, H, N) tanh(c_t); out
    (T, N, H) every h in PyTorch's layout, whose rows also feed the next step's product.
    """
    fused = _lstm_steps_fused(acts, h0, c0, w_hh, reverse)
    if fused is not None:
        return fused
    T, G, N = acts.shape
    H = G // 4
    dt = acts.dtype
    m = array_module(acts)
    half, shift = _gate_rows(_HALF, H, dt, acts), _gate_rows(_SHIFT, H, dt, acts)
    w4 = w_hh * half                                   # W_hh with the i, f, o rows halved
    cs, tcs, out = (m.empty(s, dtype=dt) for s in ((T + 1, H, N), (T, H, N), (T, N, H)))
    out_, prev_ = (0, 1) if reverse else (1, 0)        # slot of step t's cell / its input
    cs[T if reverse else 0] = c0.T
    buf, ig, h = m.empty((G, N), dtype=dt), m.empty((H, N), dtype=dt), m.empty((H, N), dtype=dt)
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        a = acts[t]
        blas.matmul(w4, _previous_h(out, h0, t, reverse).T, out=buf)
        a += buf
        xp.tanh(a, out=a)
        a *= half                                       # tanh(a/2) -> sigma on i, f, o
        a += shift
        i, f, g, o = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
        c = cs[t + out_]
        xp.multiply(f, cs[t + prev_], out=c)
        xp.multiply(i, g, out=ig)
        c += ig
        xp.tanh(c, out=tcs[t])
        xp.multiply(o, tcs[t], out=h)
        out[t] = h.T
    return cs, acts, tcs, out


def _lstm_steps_fused(acts, h0, c0, w_hh, reverse):
    """``lstm_steps`` with the gate scaling and cell update, and then h = o tanh(c) written
    transposed into the output, as compiled passes (``kernels.recurrent_kernels``, bit-equal;
    the tanh stays NumPy's, which rounds as the NumPy path does); None where no kernel applies."""
    cell, hidden = kernels.get("lstm_gates_cell"), kernels.get("lstm_hidden")
    dt = acts.dtype
    if (cell is None or dt not in kernels.DTYPES or any(a.dtype != dt for a in (h0, c0, w_hh))
            or not kernels.on_host(acts, h0, c0, w_hh)):
        return None
    T, G, N = acts.shape
    H = G // 4
    half, shift = xp.array(_HALF, dtype=dt), xp.array(_SHIFT, dtype=dt)
    w4 = w_hh * _gate_rows(_HALF, H, dt, acts)
    cs, tcs, out = (xp.empty(s, dtype=dt) for s in ((T + 1, H, N), (T, H, N), (T, N, H)))
    out_, prev_ = (0, 1) if reverse else (1, 0)
    cs[T if reverse else 0] = c0.T
    packed = blas.packed_left(w4, N)
    if packed:
        return _lstm_steps_packed(packed, acts, h0, cs, tcs, out, half, shift, cell, hidden,
                                  reverse)
    buf = xp.empty((G, N), dtype=dt)
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        a = acts[t]
        blas.matmul(w4, _previous_h(out, h0, t, reverse).T, out=buf)
        a += buf
        xp.tanh(a, out=a)
        cell(a.reshape(-1), half, shift, cs[t + prev_].reshape(-1), cs[t + out_].reshape(-1))
        xp.tanh(cs[t + out_], out=tcs[t])
        hidden(a[3 * H:], tcs[t], out[t])
    return cs, acts, tcs, out


def _lstm_steps_packed(packed, acts, h0, cs, tcs, out, half, shift, cell, hidden, reverse):
    """``_lstm_steps_fused``'s loop with W_hh packed by MKL, which adds each step's product
    W_hh h_{t-1}^T to the step's input part itself (beta = 1: no buffer, no add pass). The
    operands' addresses are computed per step (every h_{t-1} is a row block of ``out``, or h0)
    and the per-step views made before the loop: Python's share of a step is what is left."""
    T, G, N = acts.shape
    H = G // 4
    size = acts.itemsize
    step_product = packed.bound(H, b_transposed=True, accumulate=True)   # h_{t-1}^T (H, N)
    h0 = xp.ascontiguousarray(h0)
    out_, prev_ = (0, 1) if reverse else (1, 0)
    flat_cs = cs.reshape(T + 1, H * N)
    acts_at, out_at, h0_at = acts.ctypes.data, out.ctypes.data, h0.ctypes.data
    order = range(T - 1, -1, -1) if reverse else range(T)
    first = order[0] if T else None
    for t in order:
        a = acts[t]
        h_at = h0_at if t == first else out_at + (t + 1 if reverse else t - 1) * N * H * size
        step_product(h_at, acts_at + t * G * N * size)
        xp.tanh(a, out=a)
        cell(a.reshape(-1), half, shift, flat_cs[t + prev_], flat_cs[t + out_])
        xp.tanh(cs[t + out_], out=tcs[t])
        hidden(a[3 * H:], tcs[t], out[t])
    return cs, acts, tcs, out


def lstm_sequence_backward(saved, w_hh, dhs, dh_last, dc_last, reverse):
    """Backward through time of ``lstm_steps``: (dL/dpre (T, N, 4H), dL/dh0, dL/dc0), the state
    gradients (N, H). ``dhs`` (T, N, H) is dL/d(every h).

    Per step (formulas in ``_lstm_step_backward_reference``) everything is written into
    preallocated buffers, so a step allocates nothing. The steps run feature-major as the forward
    did: the gate gradients of step t are the (4H, N) block ``dgt[t]``, and dL/dh_{t-1}^T =
    W_hh^T dgt[t] is again the fast form of the product. A transposing copy gives dL/dpre in
    the (T*N, 4H) layout of the products over all steps (here once after the loop; the fused
    path copies each block while it is still in cache).
    """
    fused = _lstm_sequence_backward_fused(saved, w_hh, dhs, dh_last, dc_last, reverse)
    if fused is not None:
        return fused
    cs, acts, tcs, _ = saved
    T, G, N = acts.shape
    H = G // 4
    dt = acts.dtype
    m = array_module(acts)
    prev_ = 1 if reverse else 0
    wt = contiguous(w_hh.T)
    dgt = m.empty((T, G, N), dtype=dt)
    deriv, up = m.empty((G, N), dtype=dt), m.empty((G, N), dtype=dt)
    dht, dct, tmp = (m.empty((H, N), dtype=dt) for _ in range(3))
    dh, dc = dh_last.T, None if dc_last is None else dc_last.T
    dh_buf, dc_buf = m.empty((H, N), dtype=dt), m.empty((H, N), dtype=dt)
    for t in (range(T) if reverse else range(T - 1, -1, -1)):
        a, tc = acts[t], tcs[t]
        i, f, g, o = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
        xp.add(dhs[t].T, dh, out=dht)
        # dc~ = dL/dc' + dL/dh' * o * (1 - tanh^2 c')
        xp.multiply(tc, tc, out=tmp)
        xp.subtract(1, tmp, out=tmp)
        tmp *= o
        xp.multiply(dht, tmp, out=dct)
        if dc is not None:
            dct += dc
        xp.multiply(dct, g, out=up[:H])
        xp.multiply(dct, cs[t + prev_], out=up[H:2 * H])
        xp.multiply(dct, i, out=up[2 * H:3 * H])
        xp.multiply(dht, tc, out=up[3 * H:])
        # activation derivatives: a (1 - a) for i, f, o; 1 - g^2 for g
        xp.subtract(1, a, out=deriv)
        deriv *= a
        xp.multiply(g, g, out=deriv[2 * H:3 * H])
        xp.subtract(1, deriv[2 * H:3 * H], out=deriv[2 * H:3 * H])
        xp.multiply(up, deriv, out=dgt[t])
        xp.multiply(dct, f, out=dc_buf)
        blas.matmul(wt, dgt[t], out=dh_buf)
        dc, dh = dc_buf, dh_buf   # both read above before being overwritten: safe to reuse
    dgx = m.empty((T, N, G), dtype=dt)
    dgx[...] = dgt.transpose(0, 2, 1)
    return dgx, contiguous(dh.T), contiguous(dc.T)


def _lstm_sequence_backward_fused(saved, w_hh, dhs, dh_last, dc_last, reverse):
    """``lstm_sequence_backward`` with each step's elementwise part and its transposing copy
    as one compiled pass (``kernels.recurrent_kernels``, bit-equal); None where no kernel or the
    dtypes differ."""
    # the whole sequence's size: each step's call reads its blocks from memory, not cache
    kernel = kernels.get("lstm_backward_step", saved[1].size)
    cs, acts, tcs, _ = saved
    dt = acts.dtype
    arrays = (w_hh, dhs, dh_last) + (() if dc_last is None else (dc_last,))
    if (kernel is None or dt not in kernels.DTYPES or any(a.dtype != dt for a in arrays)
            or not kernels.on_host(acts, *arrays)):
        return None
    T, G, N = acts.shape
    H = G // 4
    prev_ = 1 if reverse else 0
    dhs = xp.ascontiguousarray(dhs)
    dgt, dgx = xp.empty((T, G, N), dtype=dt), xp.empty((T, N, G), dtype=dt)
    dh = xp.ascontiguousarray(xp.broadcast_to(dh_last, (N, H)).T)
    dc = None if dc_last is None else xp.ascontiguousarray(dc_last.T)
    dh_buf, dc_buf = xp.empty((H, N), dtype=dt), xp.empty((H, N), dtype=dt)
    one = dt.type(1)
    packed = blas.packed_left(w_hh.T, N)   # W_hh^T, read through the transpose flag
    if packed:   # each step's dgt[t] and dh_buf by address, as in _lstm_steps_packed
        step_product = packed.bound(N, b_transposed=False)
        dgt_at, dh_at, block = dgt.ctypes.data, dh_buf.ctypes.data, G * N * dgt.itemsize
    else:
        wt = xp.ascontiguousarray(w_hh.T)   # W_hh^T dgt[t]: the fast form for OpenBLAS
    for t in (range(T) if reverse else range(T - 1, -1, -1)):
        has_dc = dc is not None
        kernel(dhs[t], dh, dc if has_dc else dc_buf, has_dc, acts[t], tcs[t], cs[t + prev_],
               dgt[t], dgx[t], dc_buf, one)
        if packed:
            step_product(dgt_at + t * block, dh_at)
        else:
            blas.matmul(wt, dgt[t], out=dh_buf)
        dc, dh = dc_buf, dh_buf
    return dgx, xp.ascontiguousarray(dh.T), xp.ascontiguousarray(dc.T)


class LSTMLayerReference(Op):
    """``LSTMLayer`` as the lecture writes it: for t = 1..T (T..1 when ``reverse``)

        gates = x_t W_ih^T + b_ih + h W_hh^T + b_hh
        i, f, g, o = sigma, sigma, tanh, sigma of the four chunks (PyTorch's order)
        c = f * c + i * g,     h = o * tanh(c)

    Backward through time walks the same steps in reverse order: dL/dh_t = (dL/dh_t from the
    output) + (dL/dh_t from step t+1), dL/dc likewise, each step's derivatives as in
    ``_lstm_step_backward_reference``; then dL/dx_t = dgates_t W_ih, and dL/dW_ih, dL/dW_hh,
    dL/db_ih = dL/db_hh summed over the steps."""

    @staticmethod
    def forward(ctx, x, w_ih, b_ih, b_hh, h0, c0, w_hh, reverse):
        T = x.shape[0]
        steps = range(T - 1, -1, -1) if reverse else range(T)
        dt = xp.result_type(x.dtype, w_ih.dtype, h0.dtype, w_hh.dtype)
        hs = array_module(x).empty((T,) + h0.shape, dtype=dt)
        h, c, saved = h0, c0, {}
        for t in steps:
            gates = _plus_bias(x[t] @ w_ih.T, b_ih) + _plus_bias(h @ w_hh.T, b_hh)
            h_prev = h
            h, c, step_saved = _lstm_step_reference(gates, c)
            saved[t] = (h_prev, step_saved)
            hs[t] = h
        ctx.x, ctx.w_ih, ctx.w_hh, ctx.steps, ctx.saved = x, w_ih, w_hh, steps, saved
        ctx.has_bias = b_ih is not None, b_hh is not None
        return hs, array_module(x).array(h, dtype=dt), array_module(x).array(c, dtype=dt)

    @staticmethod
    def backward(ctx, dhs, dh_last, dc_last):
        x, w_ih, w_hh = ctx.x, ctx.w_ih, ctx.w_hh
        dx = array_module(dhs).zeros(x.shape, dtype=dhs.dtype)
        dw_ih, dw_hh = xp.zeros_like(w_ih), xp.zeros_like(w_hh)
        db = array_module(dhs).zeros(w_hh.shape[0], dtype=dhs.dtype)
        dh, dc = dh_last, dc_last
        for t in reversed(ctx.steps):
            h_prev, step_saved = ctx.saved[t]
            dgates, dc = _lstm_step_backward_reference(step_saved, dhs[t] + dh, dc)
            dx[t] = dgates @ w_ih
            dw_ih += dgates.T @ x[t]
            dw_hh += dgates.T @ h_prev
            db += dgates.sum(axis=0)
            dh = dgates @ w_hh
        has_b_ih, has_b_hh = ctx.has_bias
        return (dx, dw_ih, db if has_b_ih else None, db.copy() if has_b_hh else None, dh, dc,
                dw_hh, None)


class LSTMLayer(Op):
    """One LSTM layer and direction with its input product fused in: x (T, N, in), W_ih, b_ih,
    b_hh, h0, c0, W_hh -> (every h (T, N, H), h_T, c_T).

    The same function as ``Linear(x, W_ih, b_ih + b_hh)`` followed by the steps, but
    W_ih x^T goes straight into the halved, feature-major pre-activations that the steps use
    (no bias node, no reordering pass). Backward, with dgx (T*N, 4H) from
    ``lstm_sequence_backward``: dL/dx = dgx W_ih, dL/dW_ih = dgx^T x, dL/db_ih = dL/db_hh = dgx
    summed over T*N, dL/dW_hh = dgx^T [h_0 ... h_{T-1}]: products over all steps.

    Fast path: on oneDNN's LSTM primitive for float32 where the ``onednn`` extra is installed
    (``lstm_onednn``, as PyTorch's CPU wheel runs it); else sigma through one tanh of halved
    pre-activations, feature-major buffers written in place (module docstring).
    ``LSTMLayerReference`` is the loop of gate equations.
    """

    reference = LSTMLayerReference

    @staticmethod
    def forward(ctx, x, w_ih, b_ih, b_hh, h0, c0, w_hh, reverse):
        T, N, E = x.shape
        H = w_hh.shape[1]
        biases = [b for b in (b_ih, b_hh) if b is not None]
        ctx.onednn = None
        if lstm_onednn.applies(x, w_ih, w_hh, h0, c0, biases):
            training = any(ctx.needs_input_grad)   # else oneDNN's inference kernel: no workspace
            out, h_last, c_last, ctx.onednn = lstm_onednn.forward(x, w_ih, b_ih, b_hh, h0, c0,
                                                                  w_hh, reverse, training)
            return out, h_last, c_last
        dt = xp.result_type(x.dtype, w_ih.dtype, h0.dtype, w_hh.dtype)
        half = _gate_rows(_HALF, H, dt, x)
        if biases:
            # the biases ride in the product as one more column of W_ih against a column of
            # ones in x: no pass over the (T, 4H, N) result to add them
            m = array_module(x)
            w_in = m.empty((4 * H, E + 1), dtype=dt)
            w_in[:, :E] = w_ih
            w_in[:, E] = biases[0] if len(biases) == 1 else biases[0] + biases[1]
            x_in = m.empty((T, N, E + 1), dtype=x.dtype)
            x_in[..., :E] = x
            x_in[..., E] = 1
        else:
            w_in, x_in = w_ih, x
        # W_ih x_t^T (+ b) for every step at once, one product per step into its (4H, N) block
        acts = blas.matmul(w_in * half, x_in.transpose(0, 2, 1))
        ctx.saved = lstm_steps(acts, h0, c0, w_hh, reverse)
        ctx.x, ctx.h0, ctx.w_ih, ctx.w_hh, ctx.reverse = x, h0, w_ih, w_hh, reverse
        cs, out = ctx.saved[0], ctx.saved[3]
        last = 0 if reverse else T
        return out, out[0 if reverse else T - 1].copy(), contiguous(cs[last].T)

    @staticmethod
    def backward(ctx, dhs, dh_last, dc_last):
        if ctx.onednn is not None:
            return _onednn_backward(ctx, dhs, dh_last, dc_last)
        reverse, w_hh = ctx.reverse, ctx.w_hh
        dgx, dh, dc = lstm_sequence_backward(ctx.saved, w_hh, dhs, dh_last, dc_last, reverse)
        need = ctx.needs_input_grad
        T, N, G = dgx.shape
        dg2 = dgx.reshape(T * N, G)
        E = ctx.w_ih.shape[1]
        # explicit sizes: -1 cannot be inferred when the batch is empty (N = 0)
        dx = blas.matmul(dg2, ctx.w_ih).reshape(T, N, E) if need[0] else None
        dw_ih = blas.matmul(dg2.T, ctx.x.reshape(T * N, E)) if need[1] else None
        db_ih, db_hh = _bias_grads(dg2.sum(axis=0) if need[2] or need[3] else None, need)
        dw_hh = None
        if need[6]:
            # h_{t-1} of every step is the output of the step before, h0 for the first step
            out = ctx.saved[3]
            H, rest = G // 4, (T - 1) * N
            steps, first = (dg2[:rest], dg2[rest:]) if reverse else (dg2[N:], dg2[:N])
            before = out[1:] if reverse else out[:T - 1]
            dw_hh = blas.matmul(steps.T, before.reshape(rest, H))
            dw_hh += blas.matmul(first.T, ctx.h0)
        return dx, dw_ih, db_ih, db_hh, dh, dc, dw_hh, None


def _onednn_backward(ctx, dhs, dh_last, dc_last):
    """``LSTMLayer.backward`` of a forward that ran on oneDNN (``lstm_onednn``)."""
    need = ctx.needs_input_grad
    dx, dw_ih, db, dh0, dc0, dw_hh = lstm_onednn.backward(ctx.onednn, dhs, dh_last, dc_last)
    db_ih, db_hh = _bias_grads(db, need)
    return (dx if need[0] else None, dw_ih if need[1] else None, db_ih, db_hh,
            dh0 if need[4] else None, dc0 if need[5] else None, dw_hh if need[6] else None,
            None)


def _bias_grads(db, need):
    """(dL/db_ih, dL/db_hh): both are ``db``, the gradient of the biases' sum, as two arrays
    (each may become a ``.grad``), None where not needed."""
    db_ih = db if need[2] else None
    db_hh = (db.copy() if need[2] else db) if need[3] else None
    return db_ih, db_hh
