"""One time step of the recurrent cells as single fused ops, in PyTorch's gate order.

The input's contribution ``gx = x W_ih^T + b_ih`` does not depend on the previous state, so the
layers compute it for the whole sequence with one matrix product and hand each step its slice.
A step then costs one product with W_hh and a few whole-array operations; its backward (the
backward through time for that step) is one node that returns every gradient at once.
"""
from ..backend import xp
from .base import Op


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


class LSTMCellStep(Op):
    """(h', c') from gx = x W_ih^T + b_ih, h, c, W_hh, b_hh (gates i, f, g, o, as PyTorch):

        [i, f, g, o] = [sigma, sigma, tanh, sigma](gx + h W_hh^T + b_hh)
        c' = f * c + i * g,     h' = o * tanh(c')

    Backward, with dc~ = dL/dc' + dL/dh' * o * (1 - tanh^2 c'):
        d[i, f, g, o] = [dc~ g, dc~ c, dc~ i, dL/dh' tanh c'] * [i(1-i), f(1-f), 1-g^2, o(1-o)]
        dL/dc = dc~ * f,  dL/dh = dgates W_hh,  dL/dW_hh = dgates^T h,  dL/dgx = dgates.
    """

    @staticmethod
    def forward(ctx, gx, h, c, w_hh, b_hh):
        gates = _hidden_product(h, w_hh, b_hh)
        gates += gx
        H = h.shape[-1]
        act = _sigmoid(gates)
        act[..., 2 * H:3 * H] = xp.tanh(gates[..., 2 * H:3 * H])
        i, f, g, o = act[..., :H], act[..., H:2 * H], act[..., 2 * H:3 * H], act[..., 3 * H:]
        c_new = f * c
        c_new += i * g
        tc = xp.tanh(c_new)
        h_new = o * tc
        ctx.act, ctx.c, ctx.tc, ctx.h, ctx.w_hh, ctx.b_hh = act, c, tc, h, w_hh, b_hh
        return h_new, c_new

    @staticmethod
    def backward(ctx, dh_new, dc_new):
        act, c, tc = ctx.act, ctx.c, ctx.tc
        H = c.shape[-1]
        i, f, g, o = act[..., :H], act[..., H:2 * H], act[..., 2 * H:3 * H], act[..., 3 * H:]
        dc = dh_new * o
        dc *= 1 - tc * tc
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
        dh, dw, db = _state_grads(ctx, dgates, ctx.h, ctx.w_hh, ctx.b_hh)
        dc_prev = dc * f if ctx.needs_input_grad[2] else None
        return dgates, dh, dc_prev, dw, db


class GRUCellStep(Op):
    """h' from gx = x W_ih^T + b_ih, h, W_hh, b_hh (gates r, z, n, as PyTorch):

        gh = h W_hh^T + b_hh
        r = sigma(gx_r + gh_r),  z = sigma(gx_z + gh_z),  n = tanh(gx_n + r * gh_n)
        h' = (1 - z) * n + z * h

    Backward: dn~ = dL/dh' (1 - z)(1 - n^2),  dz~ = dL/dh' (h - n) z(1 - z),
    dr~ = dn~ gh_n r(1 - r);  dL/dgx = [dr~, dz~, dn~],  dL/dgh = [dr~, dz~, dn~ r],
    dL/dh = dL/dh' z + dL/dgh W_hh,  dL/dW_hh = dL/dgh^T h,  dL/db_hh = sum dL/dgh.
    """

    @staticmethod
    def forward(ctx, gx, h, w_hh, b_hh):
        gh = _hidden_product(h, w_hh, b_hh)
        H = h.shape[-1]
        rz = _sigmoid(gx[..., :2 * H] + gh[..., :2 * H])
        r, z = rz[..., :H], rz[..., H:]
        ghn = gh[..., 2 * H:]
        n = xp.tanh(gx[..., 2 * H:] + r * ghn)
        h_new = n + z * (h - n)
        ctx.rz, ctx.n, ctx.ghn, ctx.h, ctx.w_hh, ctx.b_hh = rz, n, ghn, h, w_hh, b_hh
        return h_new

    @staticmethod
    def backward(ctx, dh_new):
        rz, n, ghn, h = ctx.rz, ctx.n, ctx.ghn, ctx.h
        H = h.shape[-1]
        r, z = rz[..., :H], rz[..., H:]
        dgx = xp.empty(rz.shape[:-1] + (3 * H,), dtype=rz.dtype)
        dnp = dgx[..., 2 * H:]
        xp.multiply(dh_new, 1 - z, out=dnp)
        dnp *= 1 - n * n
        xp.multiply(dnp, ghn, out=dgx[..., :H])
        xp.multiply(dh_new, h - n, out=dgx[..., H:2 * H])
        dgx[..., :2 * H] *= rz * (1 - rz)
        dgh = dgx.copy()
        dgh[..., 2 * H:] *= r
        dh, dw, db = _state_grads(ctx, dgh, h, ctx.w_hh, ctx.b_hh)
        if dh is not None:
            dh += dh_new * z
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
