"""The LSTM's per-step gate arithmetic as single-pass kernels (compiled in ``chainrule.kernels``).

``ops.recurrent.lstm_sequence_backward`` runs about twenty NumPy passes per time step over
(N, H) blocks (the gate derivatives, the cell gradient); the kernel makes one, reading the
step's saved activations once. Each element is computed with the same operations in the same
order as the NumPy code, the constant 1 arriving in the arrays' dtype, so results are bit-equal.
"""


def lstm_backward_step(dhs_t, dh, dc, has_dc, a, tc, c_prev, dgx_t, dc_out, one):
    """One step back through ``lstm_steps`` (gate activations ``a`` (4, N, H): i, f, g, o)::

        dh~ = dL/dh_t + dh;   dc~ = dh~ (1 - tanh^2 c_t) o + dc
        dgx_t = [dc~ g i(1-i), dc~ c_{t-1} f(1-f), dc~ i (1-g^2), dh~ tanh(c_t) o(1-o)]
        dc_out = dc~ f          (dL/dc_{t-1}; dL/dh_{t-1} = dgx_t W_hh is the caller's product)
    """
    N, H = tc.shape
    for n in range(N):
        for k in range(H):
            i, f, g, o = a[0, n, k], a[1, n, k], a[2, n, k], a[3, n, k]
            t = tc[n, k]
            dht = dhs_t[n, k] + dh[n, k]
            dct = dht * ((one - t * t) * o)
            if has_dc:
                dct += dc[n, k]
            dgx_t[n, k] = (dct * g) * ((one - i) * i)
            dgx_t[n, H + k] = (dct * c_prev[n, k]) * ((one - f) * f)
            dgx_t[n, 2 * H + k] = (dct * i) * (one - g * g)
            dgx_t[n, 3 * H + k] = (dht * t) * ((one - o) * o)
            dc_out[n, k] = dct * f


def lstm_gates_cell(a, half, shift, c_prev, c):
    """After the step's tanh over the pre-activations ``a`` (4, N, H), in place: the gates
    ``a = a half + shift`` (sigma(x) = (1 + tanh(x/2)) / 2 on i, f, o; g as it is), then the
    new cell ``c = f c_prev + i g``; ``lstm_steps``'s five NumPy passes in one."""
    N, H = c.shape
    for n in range(N):
        for k in range(H):
            i = a[0, n, k] * half[0] + shift[0]
            f = a[1, n, k] * half[1] + shift[1]
            g = a[2, n, k] * half[2] + shift[2]
            o = a[3, n, k] * half[3] + shift[3]
            a[0, n, k], a[1, n, k], a[2, n, k], a[3, n, k] = i, f, g, o
            c[n, k] = f * c_prev[n, k] + i * g


KERNELS = {"lstm_backward_step": lstm_backward_step, "lstm_gates_cell": lstm_gates_cell}
