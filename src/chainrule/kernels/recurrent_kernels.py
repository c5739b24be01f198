"""The LSTM's per-step gate arithmetic as single-pass kernels (compiled in ``chainrule.kernels``).

``ops.lstm_layer.lstm_sequence_backward`` runs about twenty NumPy passes per time step over
(H, N) blocks (the gate derivatives, the cell gradient); the kernel makes one, reading the
step's saved activations once. A step's gates are feature-major as in ``ops.lstm_layer``:
(4H, N), rows i, f, g, o. The callers pass C-contiguous blocks, on which the compiler knows the
inner stride and vectorises.

Each element is computed with the same operations in the same order as the NumPy code, the
constant 1 arriving in the arrays' dtype, so results are bit-equal.
"""

# ``prange``: plain ``range`` here; ``chainrule.kernels`` binds Numba's before compiling.
prange = range


def lstm_backward_step(dhs_t, dh, dc, has_dc, a, tc, c_prev, dgt, dgx_t, dc_out, one):
    """One step back through ``lstm_steps``, feature-major: gate activations ``a`` (4H, N),
    tanh(c_t) ``tc`` and c_{t-1} ``c_prev`` (H, N); dL/dh_t from the output ``dhs_t`` (N, H,
    PyTorch's layout) and from step t+1 ``dh`` (H, N); dL/dc_t from step t+1 ``dc`` (H, N)::

        dh~ = dL/dh_t + dh;   dc~ = dh~ (1 - tanh^2 c_t) o + dc
        dgt = [dc~ g i(1-i), dc~ c_{t-1} f(1-f), dc~ i (1-g^2), dh~ tanh(c_t) o(1-o)]  (4H, N)
        dc_out = dc~ f          (dL/dc_{t-1}; dL/dh_{t-1}^T = W_hh^T dgt is the caller's product)

    and then ``dgx_t = dgt^T`` (N, 4H), the layout of the products over all steps, copied in
    tiles of 16 rows while the block is still in cache (a copy of the whole sequence after the
    loop took 1.6x as long).
    """
    H, N = tc.shape
    for k in prange(H):
        for n in range(N):
            i, f, g, o = a[k, n], a[H + k, n], a[2 * H + k, n], a[3 * H + k, n]
            t = tc[k, n]
            dht = dhs_t[n, k] + dh[k, n]
            dct = dht * ((one - t * t) * o)
            if has_dc:
                dct += dc[k, n]
            dgt[k, n] = (dct * g) * ((one - i) * i)
            dgt[H + k, n] = (dct * c_prev[k, n]) * ((one - f) * f)
            dgt[2 * H + k, n] = (dct * i) * (one - g * g)
            dgt[3 * H + k, n] = (dht * t) * ((one - o) * o)
            dc_out[k, n] = dct * f
    G = 4 * H
    for tile in prange((G + 15) // 16):
        k0 = tile * 16
        for n in range(N):
            for k in range(k0, min(k0 + 16, G)):
                dgx_t[n, k] = dgt[k, n]


def lstm_gates_cell(a, half, shift, c_prev, c):
    """After the step's tanh over the pre-activations ``a`` (4H*N, a step's (4H, N) block
    flattened), in place: the gates ``a = a half + shift`` (sigma(x) = (1 + tanh(x/2)) / 2 on
    i, f, o; g as it is), then the new cell ``c = f c_prev + i g`` (H*N each); ``lstm_steps``'s
    five NumPy passes in one."""
    B = c.shape[0]
    for j in range(B):
        i = a[j] * half[0] + shift[0]
        f = a[B + j] * half[1] + shift[1]
        g = a[2 * B + j] * half[2] + shift[2]
        o = a[3 * B + j] * half[3] + shift[3]
        a[j], a[B + j], a[2 * B + j], a[3 * B + j] = i, f, g, o
        c[j] = f * c_prev[j] + i * g


def lstm_hidden(o, tc, out_t):
    """h = o tanh(c) from the output gate ``o`` and ``tc`` (H, N), written transposed into the
    step's output rows ``out_t`` (N, H): one pass instead of a product and a transposing copy."""
    H, N = tc.shape
    for k in range(H):
        for n in range(N):
            out_t[n, k] = o[k, n] * tc[k, n]


KERNELS = {"lstm_backward_step": lstm_backward_step, "lstm_gates_cell": lstm_gates_cell,
           "lstm_hidden": lstm_hidden}
# The backward step's parallel build splits its rows of H: inside the loop over a sequence its
# data come from memory rather than cache, and two cores fetch more (W5: 23.5 -> 22.7 ms a step).
# The forward's kernels were slower parallel (their passes are short and cached).
PARALLEL = ("lstm_backward_step",)
