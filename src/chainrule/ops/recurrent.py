"""One time step of the recurrent cells as single fused ops, in PyTorch's gate order.

The input's contribution ``gx = x W_ih^T + b_ih`` does not depend on the previous state, so the
layers compute it for the whole sequence with one matrix product and hand each step its slice.
A step then costs one product with W_hh and a few whole-array operations; its backward (the
backward through time for that step) is one node that returns every gradient at once.

Each fused op with a fast formulation (sigma through tanh, gate-major buffers written in place)
has a ``...Reference`` twin right above it that runs the lecture's step equations, gate by gate
and step by step (``cr.backends.reference()``). ``RNNCellStep`` is already the equation as
written and has none.
"""
from ..backend import array_module, contiguous, xp
from .base import Op

# -- the lecture's equations, one step at a time (the reference twins' building blocks) -----


def _sigmoid_reference(a):
    """sigma(a) = 1 / (1 + e^-a); e^-a overflowing to inf gives the right limit, 0."""
    with xp.errstate(over="ignore"):
        return 1 / (1 + xp.exp(-a))


def _plus_bias(a, b):
    return a if b is None else a + b


def _lstm_step_reference(gates, c):
    """From the pre-activations gates = x W_ih^T + b_ih + h W_hh^T + b_hh (N, 4H):

        i, f, g, o = sigma, sigma, tanh, sigma of the four chunks
        c' = f * c + i * g,     h' = o * tanh(c')

    Returns h', c' and what the step's backward needs."""
    a_i, a_f, a_g, a_o = xp.split(gates, 4, axis=-1)
    i, f, g, o = _sigmoid_reference(a_i), _sigmoid_reference(a_f), xp.tanh(a_g), \
        _sigmoid_reference(a_o)
    c_new = f * c + i * g
    tanh_c = xp.tanh(c_new)
    h_new = o * tanh_c
    return h_new, c_new, (i, f, g, o, c, tanh_c)


def _lstm_step_backward_reference(saved, dh_new, dc_new):
    """The step's derivatives, from dL/dh' and dL/dc' (dL/dc' also collects the path through h'):

        dL/do = dL/dh' tanh(c'),   dL/dc' += dL/dh' o (1 - tanh^2 c')
        dL/di = dL/dc' g,   dL/df = dL/dc' c,   dL/dg = dL/dc' i,   dL/dc = dL/dc' f
        dL/dgates = [dL/di i(1-i), dL/df f(1-f), dL/dg (1-g^2), dL/do o(1-o)]

    Returns (dL/dgates, dL/dc)."""
    i, f, g, o, c, tanh_c = saved
    do = dh_new * tanh_c
    dc_new = dc_new + dh_new * o * (1 - tanh_c ** 2)
    di, df, dg = dc_new * g, dc_new * c, dc_new * i
    dgates = xp.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2),
                             do * o * (1 - o)], axis=-1)
    return dgates, dc_new * f


def _gru_step_reference(gx, h, w_hh, b_hh):
    """From gx = x W_ih^T + b_ih (N, 3H) and h:

        gh = h W_hh^T + b_hh
        r = sigma(gx_r + gh_r),  z = sigma(gx_z + gh_z),  n = tanh(gx_n + r * gh_n)
        h' = (1 - z) * n + z * h

    Returns h' and what the step's backward needs."""
    gh = _plus_bias(h @ w_hh.T, b_hh)
    gx_r, gx_z, gx_n = xp.split(gx, 3, axis=-1)
    gh_r, gh_z, gh_n = xp.split(gh, 3, axis=-1)
    r = _sigmoid_reference(gx_r + gh_r)
    z = _sigmoid_reference(gx_z + gh_z)
    n = xp.tanh(gx_n + r * gh_n)
    return (1 - z) * n + z * h, (r, z, n, gh_n, h)


def _gru_step_backward_reference(saved, dh_new, w_hh):
    """The step's derivatives from dL/dh':

        dL/dn = dL/dh' (1 - z),   dL/dz = dL/dh' (h - n),   dL/dr = dL/dn~ gh_n
        with the pre-activations' dn~ = dL/dn (1 - n^2), dz~ = dL/dz z(1 - z), dr~ = dL/dr r(1 - r):
        dL/dgx = [dr~, dz~, dn~],   dL/dgh = [dr~, dz~, dn~ r]
        dL/dh = dL/dh' z + dL/dgh W_hh

    Returns (dL/dgx, dL/dgh, dL/dh)."""
    r, z, n, gh_n, h = saved
    dn_pre = dh_new * (1 - z) * (1 - n ** 2)
    dz_pre = dh_new * (h - n) * z * (1 - z)
    dr_pre = dn_pre * gh_n * r * (1 - r)
    dgx = xp.concatenate([dr_pre, dz_pre, dn_pre], axis=-1)
    dgh = xp.concatenate([dr_pre, dz_pre, dn_pre * r], axis=-1)
    return dgx, dgh, dh_new * z + dgh @ w_hh


def _rnn_step_reference(gx, h, w_hh, b_hh, mode):
    """h' = tanh(gx + h W_hh^T + b_hh) (mode 'RNN_TANH') or relu(...) ('RNN_RELU').
    Returns h' and the pre-activation."""
    pre = gx + _plus_bias(h @ w_hh.T, b_hh)
    return (xp.tanh(pre) if mode == "RNN_TANH" else xp.maximum(pre, 0)), pre


def _rnn_step_backward_reference(pre, h_new, dh_new, w_hh, mode):
    """dL/dpre = dL/dh' (1 - h'^2) (tanh) or dL/dh' [pre > 0] (relu);  dL/dh = dL/dpre W_hh.
    Returns (dL/dpre, dL/dh)."""
    dpre = dh_new * (1 - h_new ** 2) if mode == "RNN_TANH" else dh_new * (pre > 0)
    return dpre, dpre @ w_hh


# -- the fast steps ---------------------------------------------------------------------------


def _sigmoid(a):
    """sigma(a) = (1 + tanh(a/2)) / 2: the same function, and it never overflows."""
    return 0.5 * xp.tanh(0.5 * a) + 0.5


def _hidden_product(h, w_hh, b_hh):
    gh = xp.matmul(h, w_hh.T)
    if b_hh is not None:
        gh += b_hh
    return gh


def _state_grads(ctx, dgates_h, h, w_hh, b_hh):
    """dL/dh = dgates W_hh, dL/dW_hh = dgates^T h, dL/db_hh = sum of dgates over the batch."""
    need = ctx.needs_input_grad
    dh = xp.matmul(dgates_h, w_hh) if need[1] else None
    dw = xp.matmul(dgates_h.T, h) if need[-2] else None
    db = dgates_h.sum(axis=0) if b_hh is not None and need[-1] else None
    return dh, dw, db


def lstm_forward(gx, h, c, w_hh, b_hh):
    """One LSTM step on arrays: (h', c', saved) (the formulas are in ``LSTMCellStep``)."""
    gates = _hidden_product(h, w_hh, b_hh)
    gates += gx
    H = c.shape[-1]     # the cell's width (h is narrower with LSTM's proj_size)
    act = _sigmoid(gates)
    act[..., 2 * H:3 * H] = xp.tanh(gates[..., 2 * H:3 * H])
    i, f, g, o = act[..., :H], act[..., H:2 * H], act[..., 2 * H:3 * H], act[..., 3 * H:]
    c_new = f * c
    c_new += i * g
    tc = xp.tanh(c_new)
    return o * tc, c_new, (act, c, tc)


def lstm_backward(saved, dh_new, dc_new):
    """dL/dgates and dL/dc from one step's saved arrays."""
    act, c, tc = saved
    H = c.shape[-1]
    i, f, g, o = act[..., :H], act[..., H:2 * H], act[..., 2 * H:3 * H], act[..., 3 * H:]
    dc = dh_new * o
    dc *= 1 - tc * tc
    if dc_new is not None:
        dc += dc_new
    # d(gates) = upstream * activation derivative, written straight into one (N, 4H) array.
    dgates = xp.empty_like(act)
    xp.multiply(dc, g, out=dgates[..., :H])
    xp.multiply(dc, c, out=dgates[..., H:2 * H])
    xp.multiply(dc, i, out=dgates[..., 2 * H:3 * H])
    xp.multiply(dh_new, tc, out=dgates[..., 3 * H:])
    deriv = act * (1 - act)
    deriv[..., 2 * H:3 * H] = 1 - g * g
    dgates *= deriv
    return dgates, dc * f


class LSTMCellStepReference(Op):
    """``LSTMCellStep`` as the lecture writes it: gates = gx + h W_hh^T + b_hh, then the
    equations of ``_lstm_step_reference``; backward those of ``_lstm_step_backward_reference``,
    with dL/dh = dgates W_hh, dL/dW_hh = dgates^T h, dL/db_hh = sum of dgates over the batch."""

    @staticmethod
    def forward(ctx, gx, h, c, w_hh, b_hh):
        gates = gx + _plus_bias(h @ w_hh.T, b_hh)
        h_new, c_new, ctx.saved = _lstm_step_reference(gates, c)
        ctx.h, ctx.w_hh, ctx.has_bias = h, w_hh, b_hh is not None
        return h_new, c_new

    @staticmethod
    def backward(ctx, dh_new, dc_new):
        dgates, dc = _lstm_step_backward_reference(ctx.saved, dh_new, dc_new)
        db_hh = dgates.sum(axis=0) if ctx.has_bias else None
        return dgates, dgates @ ctx.w_hh, dc, dgates.T @ ctx.h, db_hh


class LSTMCellStep(Op):
    """(h', c') from gx = x W_ih^T + b_ih, h, c, W_hh, b_hh (gates i, f, g, o, as PyTorch):

        [i, f, g, o] = [sigma, sigma, tanh, sigma](gx + h W_hh^T + b_hh)
        c' = f * c + i * g,     h' = o * tanh(c')

    Backward, with dc~ = dL/dc' + dL/dh' * o * (1 - tanh^2 c'):
        d[i, f, g, o] = [dc~ g, dc~ c, dc~ i, dL/dh' tanh c'] * [i(1-i), f(1-f), 1-g^2, o(1-o)]
        dL/dc = dc~ * f,  dL/dh = dgates W_hh,  dL/dW_hh = dgates^T h,  dL/dgx = dgates.

    Fast path: sigma through one tanh over the (N, 4H) gates, the gate gradients written into one
    array; ``LSTMCellStepReference`` is the same step gate by gate.
    """

    reference = LSTMCellStepReference

    @staticmethod
    def forward(ctx, gx, h, c, w_hh, b_hh):
        h_new, c_new, ctx.saved = lstm_forward(gx, h, c, w_hh, b_hh)
        ctx.h, ctx.w_hh, ctx.b_hh = h, w_hh, b_hh
        return h_new, c_new

    @staticmethod
    def backward(ctx, dh_new, dc_new):
        dgates, dc_prev = lstm_backward(ctx.saved, dh_new, dc_new)
        dh, dw, db = _state_grads(ctx, dgates, ctx.h, ctx.w_hh, ctx.b_hh)
        return dgates, dh, dc_prev, dw, db


def gru_forward(gx, h, w_hh, b_hh):
    """One GRU step on arrays: (h', saved) (the formulas are in ``GRUCellStep``)."""
    gh = _hidden_product(h, w_hh, b_hh)
    H = h.shape[-1]
    rz = _sigmoid(gx[..., :2 * H] + gh[..., :2 * H])
    r, z = rz[..., :H], rz[..., H:]
    ghn = gh[..., 2 * H:]
    n = xp.tanh(gx[..., 2 * H:] + r * ghn)
    return n + z * (h - n), (rz, n, ghn, h)


def gru_backward(saved, dh_new, dgx=None, dgh=None):
    """(dL/dgx, dL/dgh, the direct part dL/dh' z of dL/dh) from one step's saved arrays."""
    rz, n, ghn, h = saved
    H = h.shape[-1]
    r, z = rz[..., :H], rz[..., H:]
    if dgx is None:
        dgx = array_module(rz).empty(rz.shape[:-1] + (3 * H,), dtype=rz.dtype)
    dnp = dgx[..., 2 * H:]
    xp.multiply(dh_new, 1 - z, out=dnp)
    dnp *= 1 - n * n
    xp.multiply(dnp, ghn, out=dgx[..., :H])
    xp.multiply(dh_new, h - n, out=dgx[..., H:2 * H])
    dgx[..., :2 * H] *= rz * (1 - rz)
    if dgh is None:
        dgh = dgx.copy()
    else:
        dgh[...] = dgx
    dgh[..., 2 * H:] *= r
    return dgx, dgh, dh_new * z


class GRUCellStepReference(Op):
    """``GRUCellStep`` as the lecture writes it: the equations of ``_gru_step_reference``, and
    backward those of ``_gru_step_backward_reference``, with dL/dW_hh = dL/dgh^T h and
    dL/db_hh = sum of dL/dgh over the batch."""

    @staticmethod
    def forward(ctx, gx, h, w_hh, b_hh):
        h_new, ctx.saved = _gru_step_reference(gx, h, w_hh, b_hh)
        ctx.h, ctx.w_hh, ctx.has_bias = h, w_hh, b_hh is not None
        return h_new

    @staticmethod
    def backward(ctx, dh_new):
        dgx, dgh, dh = _gru_step_backward_reference(ctx.saved, dh_new, ctx.w_hh)
        db_hh = dgh.sum(axis=0) if ctx.has_bias else None
        return dgx, dh, dgh.T @ ctx.h, db_hh


class GRUCellStep(Op):
    """h' from gx = x W_ih^T + b_ih, h, W_hh, b_hh (gates r, z, n, as PyTorch):

        gh = h W_hh^T + b_hh
        r = sigma(gx_r + gh_r),  z = sigma(gx_z + gh_z),  n = tanh(gx_n + r * gh_n)
        h' = (1 - z) * n + z * h

    Backward: dn~ = dL/dh' (1 - z)(1 - n^2),  dz~ = dL/dh' (h - n) z(1 - z),
    dr~ = dn~ gh_n r(1 - r);  dL/dgx = [dr~, dz~, dn~],  dL/dgh = [dr~, dz~, dn~ r],
    dL/dh = dL/dh' z + dL/dgh W_hh,  dL/dW_hh = dL/dgh^T h,  dL/db_hh = sum dL/dgh.

    Fast path: sigma through tanh, h' as n + z (h - n), the gate gradients written into
    preallocated arrays; ``GRUCellStepReference`` is the same step gate by gate.
    """

    reference = GRUCellStepReference

    @staticmethod
    def forward(ctx, gx, h, w_hh, b_hh):
        h_new, ctx.saved = gru_forward(gx, h, w_hh, b_hh)
        ctx.h, ctx.w_hh, ctx.b_hh = h, w_hh, b_hh
        return h_new

    @staticmethod
    def backward(ctx, dh_new):
        dgx, dgh, dh_direct = gru_backward(ctx.saved, dh_new)
        dh, dw, db = _state_grads(ctx, dgh, ctx.h, ctx.w_hh, ctx.b_hh)
        if dh is not None:
            dh += dh_direct
        return dgx, dh, dw, db


class RNNCellStep(Op):
    """h' = act(gx + h W_hh^T + b_hh), act tanh or relu;  with p~ = dL/dh' act'(.):
    dL/dgx = p~, dL/dh = p~ W_hh, dL/dW_hh = p~^T h, dL/db_hh = sum p~."""

    @staticmethod
    def forward(ctx, gx, h, w_hh, b_hh, nonlinearity):
        pre = _hidden_product(h, w_hh, b_hh)
        pre += gx
        if nonlinearity == "tanh":
            h_new = xp.tanh(pre, out=pre)
        else:
            h_new = xp.maximum(pre, 0, out=pre)
        ctx.h_new, ctx.h, ctx.w_hh, ctx.b_hh, ctx.nl = h_new, h, w_hh, b_hh, nonlinearity
        return h_new

    @staticmethod
    def backward(ctx, dh_new):
        y = ctx.h_new
        dp = dh_new * (1 - y * y) if ctx.nl == "tanh" else dh_new * (y > 0)
        need = ctx.needs_input_grad
        dh = xp.matmul(dp, ctx.w_hh) if need[1] else None
        dw = xp.matmul(dp.T, ctx.h) if need[2] else None
        db = dp.sum(axis=0) if ctx.b_hh is not None and need[3] else None
        return dp, dh, dw, db, None


class RecurrentSequenceReference(Op):
    """``RecurrentSequence`` as the lecture writes it: for t = 1..T (T..1 when ``reverse``)
    h_t = step(gx_t, h_{t-1}) with the GRU or RNN step equations (``_gru_step_reference``,
    ``_rnn_step_reference``). Backward through time walks the same steps in reverse order:
    dL/dh_t = (dL/dh_t from the output) + (dL/dh_t from step t+1), each step's derivatives as in
    its ``..._backward_reference``, and dL/dW_hh, dL/db_hh summed over the steps."""

    @staticmethod
    def forward(ctx, gx, h0, w_hh, b_hh, mode, reverse):
        T = gx.shape[0]
        steps = range(T - 1, -1, -1) if reverse else range(T)
        hs = array_module(gx).empty((T,) + h0.shape,
                                    dtype=xp.result_type(gx.dtype, h0.dtype, w_hh.dtype))
        h, saved = h0, {}
        for t in steps:
            h_prev = h
            if mode == "GRU":
                h, step_saved = _gru_step_reference(gx[t], h_prev, w_hh, b_hh)
            else:
                h, pre = _rnn_step_reference(gx[t], h_prev, w_hh, b_hh, mode)
                step_saved = pre, h
            saved[t] = (h_prev, step_saved)
            hs[t] = h
        ctx.steps, ctx.saved, ctx.w_hh, ctx.mode = steps, saved, w_hh, mode
        ctx.has_bias = b_hh is not None
        return hs, array_module(hs).array(h, dtype=hs.dtype)

    @staticmethod
    def backward(ctx, dhs, dh_last):
        w_hh, mode = ctx.w_hh, ctx.mode
        dgx = array_module(dhs).zeros(dhs.shape[:2] + (w_hh.shape[0],), dtype=dhs.dtype)
        dw_hh = xp.zeros_like(w_hh)
        db_hh = array_module(dhs).zeros(w_hh.shape[0], dtype=dhs.dtype)
        dh = dh_last
        for t in reversed(ctx.steps):
            dh_t = dhs[t] + dh
            h_prev, step_saved = ctx.saved[t]
            if mode == "GRU":
                dgx[t], dgh, dh = _gru_step_backward_reference(step_saved, dh_t, w_hh)
            else:
                pre, h_new = step_saved
                dgh, dh = _rnn_step_backward_reference(pre, h_new, dh_t, w_hh, mode)
                dgx[t] = dgh
            dw_hh += dgh.T @ h_prev
            db_hh += dgh.sum(axis=0)
        return dgx, dh, dw_hh, (db_hh if ctx.has_bias else None), None, None


class RecurrentSequence(Op):
    """A GRU or RNN sequence through one layer and direction: the same step as the cell ops, T
    times (LSTM layers run ``LSTMLayer``).

    Inputs gx (T, N, G) (the input products for every step), h0 (N, H), W_hh, b_hh, ``mode``
    'GRU', 'RNN_TANH' or 'RNN_RELU'; outputs every hidden state (T, N, H) and h_T. ``reverse`` runs
    from the last step to the first (the backward direction of a bidirectional layer).

    Fast path: forward is a Python loop of fused steps into one (T+1, N, H) state buffer;
    backward walks the steps in reverse with one fused step backward each (dL/dh flows from
    step t to t-1), writing dL/dgx straight into one (T, N, G) array. The weight gradient
    dL/dW_hh = sum_t dgates_t^T h_{t-1} is then ONE matrix product over all T*N rows instead of
    T thin ones. ``RecurrentSequenceReference`` is the loop of step equations.
    """

    reference = RecurrentSequenceReference

    @staticmethod
    def forward(ctx, gx, h0, w_hh, b_hh, mode, reverse):
        ctx.w_hh, ctx.b_hh, ctx.mode, ctx.reverse = w_hh, b_hh, mode, reverse
        T = gx.shape[0]
        N, H = h0.shape[-2:]
        hs = array_module(gx).empty((T + 1, N, H),
                                    dtype=xp.result_type(gx.dtype, h0.dtype, w_hh.dtype))
        out_, prev_ = (0, 1) if reverse else (1, 0)   # slots as in lstm_steps
        hs[T if reverse else 0] = h0
        w_t = contiguous(w_hh.T)             # once per sequence, not per step
        saved = [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            h = hs[t + prev_]
            if mode == "GRU":
                hs[t + out_], saved[t] = gru_forward(gx[t], h, w_t.T, b_hh)
            else:
                pre = _hidden_product(h, w_t.T, b_hh)
                pre += gx[t]
                if mode == "RNN_TANH":
                    xp.tanh(pre, out=hs[t + out_])
                else:
                    xp.maximum(pre, 0, out=hs[t + out_])
        ctx.saved, ctx.hs = saved, hs
        return (hs[:T] if reverse else hs[1:]), hs[0 if reverse else T].copy()

    @staticmethod
    def backward(ctx, dhs, dh_last):
        mode, reverse, w_hh, hs = ctx.mode, ctx.reverse, ctx.w_hh, ctx.hs
        dgx = array_module(hs).empty(dhs.shape[:2] + (w_hh.shape[0],), dtype=hs.dtype)
        dgh = xp.empty_like(dgx) if mode == "GRU" else dgx
        dh = dh_last
        out_ = 0 if reverse else 1
        T = dgx.shape[0]
        for t in (range(T) if reverse else range(T - 1, -1, -1)):
            dh_t = dhs[t] + dh
            if mode == "GRU":
                _, _, direct = gru_backward(ctx.saved[t], dh_t, dgx[t], dgh[t])
                dh = xp.matmul(dgh[t], w_hh)
                dh += direct
            else:
                y = hs[t + out_]
                if mode == "RNN_TANH":
                    xp.multiply(dh_t, 1 - y * y, out=dgx[t])
                else:
                    xp.multiply(dh_t, y > 0, out=dgx[t])
                dh = xp.matmul(dgx[t], w_hh)
        need = ctx.needs_input_grad
        dw = db = None
        if need[2]:
            # h_{t-1} of every step is one slice of the (T+1, N, H) state buffer: a single
            # (T*N, H) matrix, so dW_hh is one product.
            prev = hs[1:] if reverse else hs[:-1]
            G, H = w_hh.shape
            dw = xp.matmul(dgh.reshape(-1, G).T, prev.reshape(-1, H))
        if ctx.b_hh is not None and need[3]:
            db = dgh.sum(axis=(0, 1))
        return dgx, dh, dw, db, None, None
