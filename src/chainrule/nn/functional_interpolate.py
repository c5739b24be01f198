"""``interpolate`` (and the older ``upsample*`` names): resizing by PyTorch's modes. Each mode
is a linear map per spatial axis (an interpolation matrix), applied with ``pooling.Separable``;
nearest by integer factors is one broadcast copy."""
import math
import numbers

from ..ops import pooling, upsampling
from ..tensor import Tensor
from .functional_checks import not_a_tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_MODE_DIMS = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by ``scale_factor``.

    Modes: 'nearest' (output i reads input floor(i * scale)), 'nearest-exact'
    (floor((i + 0.5) * scale)), 'linear' / 'bilinear' / 'trilinear' (3-, 4-, 5-D), 'bicubic'
    (4-D, Keys' cubic with a = -0.75), 'area' (adaptive average pooling). scale is
    1 / scale_factor when one is given (unless ``recompute_scale_factor``), else in / out.
    ``align_corners=True`` maps the corner pixels' centres onto each other
    (src = i (in - 1) / (out - 1)); False (the default) maps pixel areas
    (src = (i + 0.5) scale - 0.5)."""
    if not isinstance(input, Tensor):
        raise not_a_tensor("interpolate", input)
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not available; expected one "
                                  f"of {', '.join(_MODES)}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not available in chainrule")
    ndim = input.ndim
    if ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | area | nearest-exact (got {mode})")
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != ndim:
        raise NotImplementedError(f"Got {ndim}D input, but {mode} mode needs "
                                  f"{_MODE_DIMS[mode]}D input")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    ins = tuple(input.shape[2:])
    outs, scales = _output_size(ins, size, scale_factor, recompute_scale_factor or mode == "area",
                                empty_ok=mode == "area")
    dt = input.array.dtype
    if mode == "area":
        return _separable(input, [pooling.adaptive_matrix(i, o, dt) for i, o in zip(ins, outs)])
    scales = [i / o if s is None else 1.0 / s for i, o, s in zip(ins, outs, scales)]
    # PyTorch's kernels ignore a given scale factor on some axes (found by the fuzzer): the
    # linear modes copy an axis whose size stays, and the 2-D nearest kernel also reads
    # i >> 1 on an axis whose size doubles (its 1-D and 3-D kernels use the scale as it is)
    if mode in ("linear", "bilinear", "trilinear") and not align_corners:
        scales = [1.0 if o == i else s for i, o, s in zip(ins, outs, scales)]
    elif mode == "nearest" and ndim == 4:
        scales = [1.0 if o == i else 0.5 if o == 2 * i else s
                  for i, o, s in zip(ins, outs, scales)]
    if mode == "nearest":
        factors = tuple(o // i if i and o % i == 0 else 0 for i, o in zip(ins, outs))
        if ndim < 5 and all(f > 0 for f in factors) and all(
                abs(s * f - 1) < 1e-12 for s, f in zip(scales, factors)):
            return upsampling.UpsampleNearestInt.apply(input, factors)
        mats = [upsampling.nearest_matrix(i, o, s, dt) for i, o, s in zip(ins, outs, scales)]
    elif mode == "nearest-exact":
        mats = [upsampling.nearest_exact_matrix(i, o, s, dt) for i, o, s in zip(ins, outs, scales)]
    else:
        build = upsampling.cubic_matrix if mode == "bicubic" else upsampling.linear_matrix
        mats = [build(i, o, s, align_corners, dt) for i, o, s in zip(ins, outs, scales)]
    return _separable(input, mats)


def _output_size(ins, size, scale_factor, recompute, empty_ok=False):
    """(output size, scale factor or None per axis), checked as PyTorch checks them ('area',
    adaptive average pooling, gives an empty output where a scale factor rounds a size to 0)."""
    dim = len(ins)
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * dim
        if len(sizes) != dim:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, "
                             f"but got input with spatial dimensions of {list(ins)} and output "
                             f"size of {size}. Please provide input tensor in (N, C, d1, d2, "
                             f"...,dK) format and output size in (o1, o2, ...,oK) format.")
        if not all(isinstance(s, numbers.Integral) for s in sizes):
            raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                            f"Tuple[int, int, int], but got size with types "
                            f"{[type(s) for s in sizes]}")
        if any(s <= 0 for s in sizes):
            raise RuntimeError(f"interpolate: output size must be positive, got {size}")
        return tuple(int(s) for s in sizes), (None,) * dim
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    factors = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else \
        [scale_factor] * dim
    if len(factors) != dim:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of {list(ins)} and "
                         f"scale_factor of shape {scale_factor}. Please provide input tensor in "
                         f"(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) "
                         f"format.")
    outs = tuple(int(math.floor(float(i) * float(f))) for i, f in zip(ins, factors))
    if any(o <= 0 for o in outs) and not empty_ok:
        raise RuntimeError(f"interpolate: scale_factor {scale_factor} gives an empty output "
                           f"{outs} for input size {ins}")
    return outs, (None,) * dim if recompute else tuple(float(f) for f in factors)


def _separable(input, mats):
    """Apply one (out, in) matrix per spatial axis; a 3-D resize is the depth axis (with
    height and width flattened) and then the other two."""
    if len(mats) == 1:
        return pooling.Separable.apply(input, None, mats[0])
    if len(mats) == 3:
        n, c, d, h, w = input.shape
        input = pooling.Separable.apply(input.reshape(n, c, d, h * w), mats[0], None)
        input = input.reshape(n, c, mats[0].shape[0], h, w)
    return pooling.Separable.apply(input, mats[-2], mats[-1])


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, "bilinear", align_corners=True)
