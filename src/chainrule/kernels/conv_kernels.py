"""im2col and col2im, convolution's unfolding and folding, as single-pass kernels (compiled in
``chainrule.kernels``).

NumPy builds the columns by copying a strided window view (slow for short rows) or a padded flat
frame whose rows carry wrapped positions that the products then compute for nothing; a kernel
writes each column entry once, straight from the unpadded input, zero in the padding, and folds
the column gradients straight into the unpadded input gradient. The columns are (N, C*kh*kw,
OH*OW), row (c*kh + i)*kw + j holding kernel offset (i, j) of channel c. The batch-last layout
of ``ops.conv_columns`` needs no kernel of its own: an input (C, H, W, N) is one image whose rows
hold W*N values, and unit-stride windows over it with every width argument scaled by N.
The copies are exact; col2im adds in the order of ``ops.conv.col2im`` (kernel offsets in turn,
onto zeros), so results are bit-equal to it.
"""

# The outer loops are ``prange``: plain ``range`` here (the kernels run as Python without
# Numba); ``chainrule.kernels`` binds Numba's prange before compiling, which a serial build
# treats as range and the parallel build (``PARALLEL``) splits over threads.
prange = range


def _valid(lo_pad, offset, stride, size, count):
    """The range [first, stop) of output positions o whose input position o*stride + offset -
    lo_pad lies inside [0, size)."""
    shift = lo_pad - offset
    first = -(-shift // stride) if shift > 0 else 0
    stop = (size - 1 + shift) // stride + 1 if size - 1 + shift >= 0 else 0
    stop = min(stop, count)
    return first, max(first, stop)


def _im2col_kernel(unit_stride):
    """``im2col`` compiled for one kind of stride: with ``unit_stride`` (sw = 1) the row copies
    are contiguous runs, which the compiler vectorises only where no strided loop shares the
    function, so each kind gets its own kernel."""
    def im2col(x, kh, kw, sh, sw, dh, dw, pt, pl, OW, cols):
        """cols[n, (c kh + i) kw + j, oh OW + ow] = x[n, c, oh sh + i dh - pt, ow sw + j dw - pl],
        0 where that position is padding. x is (N, C, H, W); both arrays C-contiguous."""
        N, C, H, W = x.shape
        OH = cols.shape[2] // OW if OW > 0 else 0
        for nc in prange(N * C):
            n, c = nc // C, nc % C
            image = x[n, c]
            for i in range(kh):
                h_first, h_stop = _valid(pt, i * dh, sh, H, OH)
                for j in range(kw):
                    row = (c * kh + i) * kw + j
                    dst = cols[n, row]
                    w_first, w_stop = _valid(pl, j * dw, sw, W, OW)
                    start = w_first * sw + j * dw - pl   # the input column of w_first
                    for oh in range(OH):
                        base = oh * OW
                        # loops, not slice assignments (several times slower compiled),
                        # from 0 over slices: the compiler then knows no index is negative
                        # and vectorises the unit-stride copy
                        if oh < h_first or oh >= h_stop:
                            for ow in range(OW):
                                dst[base + ow] = 0
                            continue
                        src = image[oh * sh + i * dh - pt]
                        for ow in range(w_first):
                            dst[base + ow] = 0
                        run = dst[base + w_first:base + w_stop]
                        if unit_stride:
                            part = src[start:start + w_stop - w_first]
                            for t in range(w_stop - w_first):
                                run[t] = part[t]
                        else:
                            for t in range(w_stop - w_first):
                                run[t] = src[start + t * sw]
                        for ow in range(w_stop, OW):
                            dst[base + ow] = 0
    return im2col


def _col2im_kernel(unit_stride):
    """``col2im`` for one kind of stride, as ``_im2col_kernel``."""
    def col2im(cols, kh, kw, sh, sw, dh, dw, pt, pl, OW, disjoint, gx):
        """The adjoint of ``im2col``: gx[n, c, h, w] (zeros on entry, unpadded (N, C, H, W)) gets
        every column entry that im2col copied from (h, w), added kernel offset by kernel offset as
        ``ops.conv.col2im`` does; where windows do not overlap (``disjoint``) each is assigned,
        as there. Both arrays C-contiguous."""
        N, C, H, W = gx.shape
        OH = cols.shape[2] // OW if OW > 0 else 0
        for nc in prange(N * C):
            n, c = nc // C, nc % C
            image = gx[n, c]
            for i in range(kh):
                h_first, h_stop = _valid(pt, i * dh, sh, H, OH)
                for j in range(kw):
                    row = (c * kh + i) * kw + j
                    src = cols[n, row]
                    w_first, w_stop = _valid(pl, j * dw, sw, W, OW)
                    start = w_first * sw + j * dw - pl
                    for oh in range(h_first, h_stop):
                        dst = image[oh * sh + i * dh - pt]
                        run = src[oh * OW + w_first:oh * OW + w_stop]
                        if unit_stride:
                            part = dst[start:start + w_stop - w_first]
                            if disjoint:
                                for t in range(w_stop - w_first):
                                    part[t] = run[t]
                            else:
                                for t in range(w_stop - w_first):
                                    part[t] += run[t]
                        elif disjoint:
                            for t in range(w_stop - w_first):
                                dst[start + t * sw] = run[t]
                        else:
                            for t in range(w_stop - w_first):
                                dst[start + t * sw] += run[t]
    return col2im


def batch_first(src, bias, has_bias, out):
    """out[n, a, p] = src[a, p, n] (+ bias[a] with ``has_bias``; ``bias`` has A entries either
    way): a batch-last result (A, P, N) back in the batch-first layout (N, A, P), the bias added
    on the way as NumPy's add does."""
    A, P, N = src.shape
    for a in prange(A):
        plane = src[a]
        b = bias[a]
        for n in range(N):
            dst = out[n, a]
            if has_bias:
                for p in range(P):
                    dst[p] = plane[p, n] + b
            else:
                for p in range(P):
                    dst[p] = plane[p, n]


KERNELS = {"batch_first": batch_first, "im2col": _im2col_kernel(False), "im2col_unit_stride": _im2col_kernel(True),
           "col2im": _col2im_kernel(False), "col2im_unit_stride": _col2im_kernel(True)}
HELPERS = {"_valid": _valid}
PARALLEL = ("batch_first", "im2col", "im2col_unit_stride", "col2im", "col2im_unit_stride")
