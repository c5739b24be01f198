"""Embedding's backward, the scatter-add of the output's gradient rows into the table's
(compiled in ``chainrule.kernels``).

``dL/dW[k] = sum of g[p] over the positions p where idx[p] == k``. NumPy's ``add.at`` does it
unbuffered, one Python-level index at a time (W5: 0.9 ms); sorting by index and summing
segments (``add.reduceat``) is faster but sums each row in another order. The kernel walks the
positions in order and adds each row where ``add.at`` adds it, so its sums are ``add.at``'s,
bit for bit, in a few microseconds.
"""


def embedding_backward(idx, g, gw):
    """gw[idx[a, b]] += g[a, b] over the positions (a, b) in row-major order, as ``add.at``
    takes them; ``gw`` (rows, D) starts at zero, ``g`` is (A, B, D) in any layout (a batch-first
    view of a time-major LSTM's gradient, read where it lies), ``idx`` (A, B) the positions'
    rows (checked in range by the forward)."""
    outer, inner, width = g.shape
    for a in range(outer):
        for b in range(inner):
            source, target = g[a, b], gw[idx[a, b]]
            for d in range(width):
                target[d] += source[d]


KERNELS = {"embedding_backward": embedding_backward}
