"""``LSTMLayer`` on oneDNN's LSTM primitive (``backends/onednn.py``): the whole sequence,
forward and backward, in two library calls.

The formulas are ``LSTMLayerReference``'s; what oneDNN adds is the scheduling: each step's
gate arithmetic runs inside the step's matrix product while its tile is in cache, and the
weight gradients are summed over all steps at once. PyTorch's CPU wheel runs its LSTM the same
way, so here both frameworks do the same work (W5's step: 25-27 ms on the NumPy path, 21.5-22.5
on oneDNN, PyTorch's 21-23.5).

Layouts: x (T, N, E), every h (T, N, H) and the states (N, H) are oneDNN's ``tnc`` and ``ldnc``
as they are; W_ih (4H, E) and W_hh (4H, H), rows i, f, g, o, are its ``ldgoi`` (the gate order
is PyTorch's), reordered into the layout the primitive prefers and back for their gradients;
the two biases enter as their sum, and both receive its gradient.
"""
import ctypes

import numpy as np

from ..backends import onednn as dnn
from ..backends.reference import is_reference_enabled



def applies(x, w_ih, w_hh, h0, c0, biases):
    """Whether the layer can run on oneDNN: float32 host arrays, a non-empty sequence."""
    arrays = (x, w_ih, w_hh, h0, c0) + tuple(biases)
    return (all(type(a) is np.ndarray and a.dtype == np.float32 for a in arrays)
            and x.shape[0] > 0 and x.shape[1] > 0 and dnn.enabled and not is_reference_enabled()
            and dnn.is_available())


class _Buffer:
    """A oneDNN memory object over a NumPy buffer of the descriptor's size: the weights and
    their gradients in the primitives' own layouts."""

    def __init__(self, md):
        self.array = np.empty(max(1, dnn.library().dnnl_memory_desc_get_size(md)), np.uint8)
        self.mem = dnn.memory(md)
        dnn.set_handle(self.mem, self.array.ctypes.data)


class _Workspace:
    """What a training forward leaves for its backward (40 MB for W5's layer). Its array goes
    back to the plan's pool once nothing holds it (the graph node is freed after backward):
    a fresh one each step cost 3 ms of page faults."""

    __slots__ = ("array", "pool")

    def __init__(self, pool, size):
        self.pool = pool
        self.array = pool.pop() if pool else np.empty(max(1, size), np.uint8)

    def __del__(self):
        if len(self.pool) < 2:
            self.pool.append(self.array)


class _Plan:
    """The forward (and, for training, backward) primitives of one shape, their weight
    reorders, and a memory object per argument."""

    def __init__(self, T, N, E, H, reverse, training):
        lib = dnn.library()
        md = dnn.memory_desc
        self.mds = [md((T, N, E), dnn.TNC), md((1, 1, N, H), dnn.LDNC), md((T, N, H), dnn.TNC),
                    md((1, 1, E, 4, H), dnn.LDGOI), md((1, 1, H, 4, H), dnn.LDGOI),
                    md((1, 1, E, 4, H), dnn.ANY), md((1, 1, H, 4, H), dnn.ANY),
                    md((1, 1, 4, H), dnn.LDGO)]
        src, state, dst, wl, wi, wl_any, wi_any, bias = self.mds
        direction = dnn.RIGHT2LEFT if reverse else dnn.LEFT2RIGHT
        fwd = ctypes.c_void_p()
        kind = dnn.FORWARD_TRAINING if training else dnn.FORWARD_INFERENCE
        dnn.check(lib.dnnl_lstm_forward_primitive_desc_create(
            ctypes.byref(fwd), dnn.engine, kind, direction, src, state, state,
            wl_any, wi_any, None, None, bias, dst, state, state, 0, None), "LSTM forward")
        self.forward = dnn.primitive(fwd)
        self.weights = {}
        for name, arg, user in (("fwd_layer", dnn.ARG["weights_layer"], wl),
                                ("fwd_iter", dnn.ARG["weights_iter"], wi)):
            want = dnn.query_md(fwd, arg)
            self.weights[name] = _reordering(user, want)
        roles = {"x": src, "h0": state, "c0": state, "out": dst, "hT": state, "cT": state,
                 "w_ih": wl, "w_hh": wi, "bias": bias}
        self.pds = (fwd,)
        self.workspace_size, self.pool = 0, []
        if training:
            self._add_backward(lib, direction, fwd, roles)
        # one memory object per (descriptor, role), its address set at each call
        self.mem = {role: dnn.memory(m) for role, m in roles.items()}

    def _add_backward(self, lib, direction, fwd, roles):
        src, state, dst, wl, wi, wl_any, wi_any, bias = self.mds
        bwd = ctypes.c_void_p()
        dnn.check(lib.dnnl_lstm_backward_primitive_desc_create(
            ctypes.byref(bwd), dnn.engine, dnn.BACKWARD, direction, src, state, state,
            wl_any, wi_any, None, None, bias, dst, state, state,
            src, state, state, wl_any, wi_any, None, None, bias, dst, state, state,
            dnn.DIFF_WEIGHTS_OVERWRITE, fwd, None), "LSTM backward")
        self.pds = (fwd, bwd)
        self.backward = dnn.primitive(bwd)
        a = dnn.ARG
        workspace = lib.dnnl_primitive_desc_query_md(fwd, dnn.QUERY_WORKSPACE_MD, 0)
        self.workspace_size = lib.dnnl_memory_desc_get_size(workspace)
        roles["workspace"] = workspace
        # the weights as the backward reads them, and the weight gradients as it writes them
        for name, arg, user in (("bwd_layer", a["weights_layer"], wl),
                                ("bwd_iter", a["weights_iter"], wi)):
            want = dnn.query_md(bwd, arg)
            self.weights[name] = _reordering(user, want)
        self.grads = {}
        for name, arg, user in (("layer", a["diff_weights_layer"], wl),
                                ("iter", a["diff_weights_iter"], wi)):
            have = dnn.query_md(bwd, arg)
            self.grads[name] = _reordering(have, user, into=have)
        roles.update(dx=src, dh0=state, dc0=state, dout=dst, dhT=state, dcT=state, dw_ih=wl,
                     dw_hh=wi, dbias=bias)

    def __del__(self):
        # an evicted plan (a sequence length no longer used) frees its C objects; a forward
        # whose backward is pending still holds its plan. (getattr: a plan whose making
        # failed half-way has only some of them.)
        lib = dnn.library()
        if not lib:
            return
        pairs = list(getattr(self, "weights", {}).values()) + \
            list(getattr(self, "grads", {}).values())
        prims = [getattr(self, "forward", None), getattr(self, "backward", None)]
        for prim in prims + [p for p, _ in pairs]:
            if prim is not None:
                lib.dnnl_primitive_destroy(prim)
        for pd in getattr(self, "pds", ()):
            lib.dnnl_primitive_desc_destroy(pd)
        for mem in list(getattr(self, "mem", {}).values()) + [b.mem for _, b in pairs if b]:
            lib.dnnl_memory_destroy(mem)
        for md in getattr(self, "mds", ()):
            lib.dnnl_memory_desc_destroy(md)

    def _weight(self, name, user_role, address):
        """The memory object holding weights ``name`` in the primitive's layout: the user's
        array reordered into a buffer, or the user's array itself where the layouts agree."""
        prim, buf = self.weights[name]
        dnn.set_handle(self.mem[user_role], address)
        if prim is None:
            return self.mem[user_role]
        dnn.execute(prim, [(dnn.ARG["from_"], self.mem[user_role]),
                           (dnn.ARG["to"], buf.mem)])
        return buf.mem

    def _arguments(self, pairs, arrays, weights, prefix):
        """[(argument id, memory)] for the forward's arguments (``arrays`` in ``_SEQUENCE``'s
        order, each memory given its array's address) and the weights as ``prefix`` reads
        them."""
        a, m = dnn.ARG, self.mem
        for (arg, role), arr in zip(_SEQUENCE, arrays):
            dnn.set_handle(m[role], arr.ctypes.data)
            pairs.append((a[arg], m[role]))
        w_ih, w_hh = weights
        pairs.append((a["weights_layer"], self._weight(prefix + "_layer", "w_ih",
                                                        w_ih.ctypes.data)))
        pairs.append((a["weights_iter"], self._weight(prefix + "_iter", "w_hh",
                                                       w_hh.ctypes.data)))
        return pairs

    def run_forward(self, x, h0, c0, w_ih, w_hh, bias, out, hT, cT, workspace):
        a, m = dnn.ARG, self.mem
        args = self._arguments([], (x, h0, c0, bias, out, hT, cT), (w_ih, w_hh), "fwd")
        if workspace is not None:
            dnn.set_handle(m["workspace"], workspace.array.ctypes.data)
            args.append((a["workspace"], m["workspace"]))
        dnn.execute(self.forward, args)

    def run_backward(self, saved, grads, outs):
        a, m = dnn.ARG, self.mem
        x, h0, c0, w_ih, w_hh, bias, out, hT, cT, workspace = saved
        args = self._arguments([], (x, h0, c0, bias, out, hT, cT), (w_ih, w_hh), "bwd")
        diffs = tuple(zip(("dout", "dhT", "dcT"), grads)) + \
            tuple(zip(("dx", "dh0", "dc0", "dbias", "dw_ih", "dw_hh"), outs))
        for role, arr in diffs:
            dnn.set_handle(m[role], arr.ctypes.data)
        dnn.set_handle(m["workspace"], workspace.array.ctypes.data)
        (to_wl, dwl), (to_wi, dwi) = self.grads["layer"], self.grads["iter"]
        args += [(a["diff_" + arg], m["d" + role]) for arg, role in _SEQUENCE]
        args += [(a["diff_weights_layer"], m["dw_ih"] if to_wl is None else dwl.mem),
                 (a["diff_weights_iter"], m["dw_hh"] if to_wi is None else dwi.mem),
                 (a["workspace"], m["workspace"])]
        dnn.execute(self.backward, args)
        for prim, have, user in ((to_wl, dwl, "dw_ih"), (to_wi, dwi, "dw_hh")):
            if prim is not None:
                dnn.execute(prim, [(a["from_"], have.mem), (a["to"], m[user])])


# the arguments the forward and backward both read, (oneDNN's name, this module's role); the
# backward's gradients of them are "diff_" + name and role "d" + role
_SEQUENCE = (("src_layer", "x"), ("src_iter", "h0"), ("src_iter_c", "c0"), ("bias", "bias"),
             ("dst_layer", "out"), ("dst_iter", "hT"), ("dst_iter_c", "cT"))


def _reordering(src_md, dst_md, into=None):
    """(reorder primitive, buffer) from ``src_md``'s layout to ``dst_md``'s, or (None, None)
    where they agree; the buffer holds the side in oneDNN's layout (``dst_md``, or ``into``)."""
    prim = dnn.reorder(src_md, dst_md)
    return (None, None) if prim is None else (prim, _Buffer(dst_md if into is None else into))


# (T, N, E, H, reverse, training) -> _Plan
_PLANS = dnn.Plans(_Plan, limit=16)


def forward(x, w_ih, b_ih, b_hh, h0, c0, w_hh, reverse, training=True):
    """(every h (T, N, H), h_T, c_T, saved state for ``backward``); without ``training`` the
    inference primitive runs (no workspace) and the state is None."""
    T, N, E = x.shape
    H = w_hh.shape[1]
    c = np.ascontiguousarray
    x, w_ih, w_hh, h0, c0 = c(x), c(w_ih), c(w_hh), c(h0), c(c0)
    biases = [b for b in (b_ih, b_hh) if b is not None]
    bias = (np.zeros(4 * H, np.float32) if not biases else
            c(biases[0]) if len(biases) == 1 else biases[0] + biases[1])
    out = np.empty((T, N, H), np.float32)
    hT, cT = np.empty((N, H), np.float32), np.empty((N, H), np.float32)
    with _PLANS.lock:
        plan = _PLANS.plan((T, N, E, H, reverse, training))
        workspace = _Workspace(plan.pool, plan.workspace_size) if training else None
        plan.run_forward(x, h0, c0, w_ih, w_hh, bias, out, hT, cT, workspace)
    if not training:
        return out, hT, cT, None
    return out, hT, cT, (plan, (x, h0, c0, w_ih, w_hh, bias, out, hT, cT, workspace))


def backward(state, dhs, dh_last, dc_last):
    """(dL/dx, dL/dW_ih, dL/db, dL/dh0, dL/dc0, dL/dW_hh) from the gradients of the outputs."""
    plan, saved = state
    x, h0, w_ih, w_hh = saved[0], saved[1], saved[3], saved[4]
    T, N, E = x.shape
    H = h0.shape[1]
    grads = [np.ascontiguousarray(dhs, dtype=np.float32)]
    for g in (dh_last, dc_last):
        grads.append(np.zeros((N, H), np.float32) if g is None else
                     np.ascontiguousarray(np.broadcast_to(g, (N, H)), dtype=np.float32))
    outs = (np.empty((T, N, E), np.float32), np.empty((N, H), np.float32),
            np.empty((N, H), np.float32), np.empty(4 * H, np.float32),
            np.empty_like(w_ih), np.empty_like(w_hh))
    with _PLANS.lock:
        plan.run_backward(saved, grads, outs)
    dx, dh0, dc0, db, dw_ih, dw_hh = outs
    return dx, dw_ih, db, dh0, dc0, dw_hh
