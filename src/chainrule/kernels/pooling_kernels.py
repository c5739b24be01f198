"""Max pooling's forward (maximum and winning offset together) and backward as single-pass
kernels (compiled in ``chainrule.kernels``).

``ops.pooling.MaxPool`` takes the maximum over the kh*kw strided views of the padded input, a
NumPy pass (and for 2x2 a contiguous copy) per view; the kernels read the unpadded input once,
a position outside it counting as ``low`` (-inf), as the padding does there. They repeat
MaxPool's comparisons exactly, so values, winning offsets and gradients are bit-equal to it:
NumPy's maximum(a, b) is ``a if a > b or a != a else b`` (b on ties, so -0.0 and 0.0 keep
their order; a NaN wins).
"""


from . import conv_kernels

# The outer loops are ``prange``: plain ``range`` here (the kernels run as Python without
# Numba); ``chainrule.kernels`` binds Numba's prange before compiling, which a serial build
# treats as range and the parallel build (``PARALLEL``) splits over threads.
prange = range


def max_pool_2x2(xpad, out, arg):
    """``max_pool`` for the common 2x2 windows at stride 2 (no dilation), row by row: the same
    tournament, each output row read from two input rows."""
    N, C = xpad.shape[:2]
    OH, OW = out.shape[2], out.shape[3]
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        for oh in range(OH):
            top, bottom = xpad[n, c, 2 * oh], xpad[n, c, 2 * oh + 1]
            best, won = out[n, c, oh], arg[n, c, oh]
            for ow in range(OW):
                v0, v1 = top[2 * ow], top[2 * ow + 1]
                v2, v3 = bottom[2 * ow], bottom[2 * ow + 1]
                left = v0 if (v0 > v1) | (v0 != v0) else v1
                right = v2 if (v2 > v3) | (v2 != v2) else v3
                best[ow] = left if (left > right) | (left != left) else right
                arg_left = 1 if v1 > v0 else 0
                arg_right = 3 if v3 > v2 else 2
                won[ow] = arg_right if right > left else arg_left


def max_pool(xpad, kh, kw, sh, sw, dh, dw, out, arg):
    """out, arg (N, C, OH, OW): each window's maximum and its offset q = i kw + j, as MaxPool
    takes them from its padded input xpad (N, C, Hp, Wp; all C-contiguous). Four offsets (2x2
    windows): MaxPool's tournament, the maximum of offsets 0, 1 and of 2, 3 (each pair's offset
    the first on ties), then of the two (the left one unless the right is greater). Other
    windows: the running maximum over the offsets in turn, then the first offset equal to it
    (0 where none is: a NaN maximum). Comparisons combine with | rather than ``or`` and choices
    are conditional expressions, so the compiled loop selects without branching on the data."""
    N, C = xpad.shape[:2]
    OH, OW = out.shape[2], out.shape[3]
    K = kh * kw
    # offset q lies at row (q // kw) dh, column (q % kw) dw of the window: computed where used,
    # not looked up in a list, which the parallel build would read ahead of the K == 4 test
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        image = xpad[n, c]
        if K == 4:  # 2x2 (or 1x4, 4x1) windows
            r1, r2, r3 = (1 // kw) * dh, (2 // kw) * dh, (3 // kw) * dh
            c1, c2, c3 = (1 % kw) * dw, (2 % kw) * dw, (3 % kw) * dw
            for oh in range(OH):
                h = oh * sh
                for ow in range(OW):
                    w = ow * sw
                    v0, v1 = image[h, w], image[h + r1, w + c1]
                    v2, v3 = image[h + r2, w + c2], image[h + r3, w + c3]
                    left = v0 if (v0 > v1) | (v0 != v0) else v1
                    right = v2 if (v2 > v3) | (v2 != v2) else v3
                    out[n, c, oh, ow] = left if (left > right) | (left != left) else right
                    arg_left = 1 if v1 > v0 else 0
                    arg_right = 3 if v3 > v2 else 2
                    arg[n, c, oh, ow] = arg_right if right > left else arg_left
            continue
        for oh in range(OH):
            h = oh * sh
            for ow in range(OW):
                w = ow * sw
                best = image[h, w]
                for q in range(1, K):
                    v = image[h + (q // kw) * dh, w + (q % kw) * dw]
                    best = best if (best > v) | (best != best) else v
                a = 0
                for q in range(K - 1, -1, -1):
                    a = q if image[h + (q // kw) * dh, w + (q % kw) * dw] == best else a
                out[n, c, oh, ow] = best
                arg[n, c, oh, ow] = a


def max_pool_2x2_backward(g, arg, signed, zero, gx):
    """``max_pool_backward`` for 2x2 windows at stride 2 without padding or dilation, row by
    row; ``zero`` is 0 in g's dtype."""
    OH, OW = g.shape[2], g.shape[3]
    for nc in prange(g.shape[0] * g.shape[1]):
        n, c = nc // g.shape[1], nc % g.shape[1]
        for oh in range(OH):
            won, grad = arg[n, c, oh], g[n, c, oh]
            for i in range(2):
                dst = gx[n, c, 2 * oh + i]
                for ow in range(OW):
                    a, v = won[ow], grad[ow]
                    z = v * zero if signed else zero
                    dst[2 * ow] = v if a == 2 * i else z
                    dst[2 * ow + 1] = v if a == 2 * i + 1 else z


def max_pool_backward(g, arg, kh, kw, sh, sw, dh, dw, pt, pl, disjoint, signed, gx):
    """dL/dx (zeros on entry, unpadded (N, C, H, W)) from dL/dy and the winning offsets, as
    MaxPool.backward writes it, padding positions dropped: for non-overlapping windows each
    window position gets g where it won and a zero elsewhere (``signed``: g times the 0/1
    mask, NumPy's product, which leaves -0.0 under a negative g); for overlapping windows, offset
    by offset, g where it won and 0 elsewhere is added onto zeros."""
    N, C, H, W = gx.shape
    OH, OW = g.shape[2], g.shape[3]
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        for q in range(kh * kw):
            i, j = q // kw, q % kw
            h_first, h_stop = conv_kernels._valid(pt, i * dh, sh, H, OH)
            w_first, w_stop = conv_kernels._valid(pl, j * dw, sw, W, OW)
            for oh in range(h_first, h_stop):
                dst = gx[n, c, oh * sh + i * dh - pt]
                won, grad = arg[n, c, oh], g[n, c, oh]
                start = w_first * sw + j * dw - pl
                for t in range(w_stop - w_first):
                    ow = w_first + t
                    v = grad[ow]
                    if disjoint:
                        if signed:
                            dst[start + t * sw] = v * (won[ow] == q)
                        else:
                            dst[start + t * sw] = v if won[ow] == q else 0
                    else:
                        dst[start + t * sw] += v if won[ow] == q else 0


KERNELS = {"max_pool": max_pool, "max_pool_2x2": max_pool_2x2,
           "max_pool_backward": max_pool_backward, "max_pool_2x2_backward": max_pool_2x2_backward}
PARALLEL = tuple(KERNELS)
