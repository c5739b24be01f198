"""``cr.nn.functional`` (``F``): the stateless forms of the layers, activations and losses."""
from ..ops.fused import Linear as _LinearOp


def linear(input, weight, bias=None):
    """y = x W^T + b  (x: (..., in), W: (out, in), b: (out,)); one fused op."""
    shape = input.shape
    if not shape or shape[-1] != weight.shape[-1]:
        raise RuntimeError(f"linear: input (..., {weight.shape[-1]}) expected for a weight of "
                           f"shape {tuple(weight.shape)}, got {tuple(shape)}")
    return _LinearOp.apply(input, weight, bias)
