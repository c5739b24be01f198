"""The deterministic forms of the transforms, as ``torchvision.transforms.functional`` has them.

Each takes a chainrule Tensor image (..., C, H, W) and returns a new one. Geometry follows
torchvision's tensor path: an inverse affine matrix maps every output pixel back to a point of
the input, which is sampled like ``grid_sample(..., align_corners=False)`` (nearest rounds half
to even, bilinear lets outside neighbours count as zero). Colour follows its ``_blend``:
``clamp(ratio * image + (1 - ratio) * other, 0, 1)``.
"""
import math
import numbers
from enum import Enum

from ..autograd.tensor_base import make_tensor
from ..backend import xp
from ..tensor import Tensor

GRAYSCALE_WEIGHTS = (0.2989, 0.587, 0.114)   # ITU-R 601-2 luma, as torchvision rounds them


class InterpolationMode(Enum):
    """torchvision's names for the ways of reading between pixels; rotate and affine take
    NEAREST and BILINEAR, as torchvision's tensor path does."""
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def image_array(image, transform):
    """The NumPy array inside a Tensor image, or an error that names ``transform``."""
    if not isinstance(image, Tensor):
        raise TypeError(f"{transform}: expected a chainrule Tensor image (..., C, H, W), got "
                        f"{type(image).__name__} (convert it with ToTensor first)")
    if image.ndim < 2:
        raise ValueError(f"{transform}: expected an image of size (..., H, W), got {tuple(image.shape)}")
    return image.array


def _channels(array):
    return array.shape[-3] if array.ndim >= 3 else 1


def _get_inverse_affine_matrix(center, angle, translate, scale, shear):
    """The 2x3 matrix (flattened) taking output points back to input points, centre at (0, 0).

    The forward map is ``M = T * C * RSS * C^-1`` with ``RSS = R(angle) * S(scale) * SHy * SHx``;
    ``det(R * SHy * SHx) == 1``, so its inverse is the adjugate divided by ``scale``.
    """
    rot = math.radians(angle)
    shear_x, shear_y = (math.radians(s) for s in shear)
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - shear_y) / math.cos(shear_y)
    b = -math.cos(rot - shear_y) * math.tan(shear_x) / math.cos(shear_y) - math.sin(rot)
    c = math.sin(rot - shear_y) / math.cos(shear_y)
    d = -math.sin(rot - shear_y) * math.tan(shear_x) / math.cos(shear_y) + math.cos(rot)
    matrix = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty) + cx
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty) + cy
    return matrix


def _rotated_size(matrix, width, height):
    """(width, height) that holds the whole rotated image, as torchvision (and PIL) count it."""
    corners = xp.array([[-0.5 * width, -0.5 * height, 1.0], [-0.5 * width, 0.5 * height, 1.0],
                        [0.5 * width, 0.5 * height, 1.0], [0.5 * width, -0.5 * height, 1.0]],
                       dtype=xp.float32)
    points = corners @ xp.asarray(matrix, dtype=xp.float32).reshape(2, 3).T   # float32, as torchvision
    shift = xp.array([0.5 * width, 0.5 * height], dtype=xp.float32)
    tol = xp.float32(1e-4)   # so that a corner at 3.0000001 does not round up to a whole extra pixel
    upper = xp.ceil(xp.trunc((points.max(axis=0) + shift) / tol) * tol)
    lower = xp.floor(xp.trunc((points.min(axis=0) + shift) / tol) * tol)
    new_width, new_height = (upper - lower).astype(int)
    return int(new_width), int(new_height)


def _sample(array, xs, ys):
    """``array[..., ys, xs]`` at float pixel positions, and how much of it fell inside.

    Returns (values, inside) for nearest when ``xs``/``ys`` are already whole, or the bilinear
    blend of the four neighbours when they are not; ``inside`` is the same blend of ones.
    """
    height, width = array.shape[-2:]
    values = xp.zeros(array.shape[:-2] + xs.shape, dtype=xp.float64)
    inside = xp.zeros(xs.shape, dtype=xp.float64)
    x0, y0 = xp.floor(xs), xp.floor(ys)
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        px, py = x0 + dx, y0 + dy
        weight = (1 - abs(xs - px)) * (1 - abs(ys - py))
        weight = xp.where((px >= 0) & (px < width) & (py >= 0) & (py < height), weight, 0.0)
        col = xp.clip(px, 0, width - 1).astype(xp.int64)
        row = xp.clip(py, 0, height - 1).astype(xp.int64)
        values += array[..., row, col] * weight
        inside += weight
    return values, inside


def _warp(array, matrix, interpolation, fill, output_size=None, transform="affine"):
    """Every output pixel read from the input at ``matrix`` @ (its centred position, 1)."""
    if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        if not isinstance(interpolation, InterpolationMode):
            raise TypeError(f"{transform}: Argument interpolation should be a InterpolationMode, "
                            f"got {type(interpolation).__name__}")
        raise ValueError(f"{transform}: Interpolation mode '{interpolation.value}' is unsupported "
                         f"with Tensor input")
    channels = _channels(array)
    if fill is not None and not isinstance(fill, numbers.Number) and len(fill) not in (1, channels):
        raise ValueError(f"{transform}: The number of elements in 'fill' cannot broadcast to match "
                         f"the number of channels of the image ({len(fill)} != {channels})")
    height, width = array.shape[-2:]
    out_width, out_height = output_size or (width, height)
    m = xp.asarray(matrix, dtype=xp.float64)
    x_out = xp.arange(out_width) + 0.5 - out_width * 0.5
    y_out = (xp.arange(out_height) + 0.5 - out_height * 0.5)[:, None]
    # grid_sample(align_corners=False) reads pixel index = centred position + size / 2 - 1/2
    xs = m[0] * x_out + m[1] * y_out + m[2] + width * 0.5 - 0.5
    ys = m[3] * x_out + m[4] * y_out + m[5] + height * 0.5 - 0.5
    if interpolation == InterpolationMode.NEAREST:
        xs, ys = xp.rint(xs), xp.rint(ys)
    values, inside = _sample(array, xs, ys)
    if fill is not None:
        colour = xp.asarray([fill] if isinstance(fill, numbers.Number) else fill, dtype=xp.float64)
        colour = colour.reshape(-1, 1, 1) if array.ndim >= 3 else colour.reshape(())
        if interpolation == InterpolationMode.NEAREST:
            values = xp.where(inside < 0.5, colour, values)
        else:
            values = values * inside + (1.0 - inside) * colour
    if not xp.issubdtype(array.dtype, xp.floating):
        values = xp.rint(values)
    return values.astype(array.dtype)


def _centre(center, array):
    """A pixel position (x, y) as an offset from the image centre, torchvision's ``center_f``."""
    if center is None:
        return [0.0, 0.0]
    height, width = array.shape[-2:]
    return [1.0 * (c - s * 0.5) for c, s in zip(center, (width, height))]


def rotate(image, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
           fill=None):
    """``image`` turned ``angle`` degrees counter-clockwise about ``center`` (default the middle).

    ``expand`` grows the output to hold the whole turned image; pixels from outside the input
    take ``fill`` (one number, or one per channel; None leaves zeros).
    """
    array = image_array(image, "rotate")
    # torchvision's affine and rotate turn opposite ways, so rotate hands affine -angle
    matrix = _get_inverse_affine_matrix(_centre(center, array), -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    height, width = array.shape[-2:]
    size = _rotated_size(matrix, width, height) if expand else None
    return make_tensor(_warp(array, matrix, interpolation, fill, size, "rotate"))


def affine(image, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST,
           fill=None, center=None):
    """``image`` rotated by ``angle`` degrees (clockwise, as torchvision's affine turns),
    scaled by ``scale``, sheared by ``shear`` degrees (x, or (x, y)), then moved ``translate``
    = (right, down) pixels, all about ``center`` (default the middle)."""
    array = image_array(image, "affine")
    if not isinstance(angle, numbers.Number):
        raise TypeError("affine: Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)) or len(translate) != 2:
        raise ValueError("affine: Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("affine: Argument scale should be positive")
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    shear = list(shear) * 2 if len(shear) == 1 else list(shear)
    if len(shear) != 2:
        raise ValueError(f"affine: Shear should be a sequence containing two values. Got {shear}")
    matrix = _get_inverse_affine_matrix(_centre(center, array), angle,
                                        [1.0 * t for t in translate], scale, shear)
    return make_tensor(_warp(array, matrix, interpolation, fill, None, "affine"))


def _blend(array, other, ratio):
    bound = 1.0 if xp.issubdtype(array.dtype, xp.floating) else xp.iinfo(array.dtype).max
    return xp.clip(ratio * array + (1.0 - ratio) * other, 0, bound).astype(array.dtype)


def _colour_array(image, transform, factor, name):
    array = image_array(image, transform)
    if factor < 0:
        raise ValueError(f"{transform}: {name} ({factor}) is not non-negative.")
    if array.ndim < 3 or array.shape[-3] not in (1, 3):
        raise TypeError(f"{transform}: Input image tensor permitted channel values are [1, 3], but "
                        f"found {_channels(array)}")
    return array


def _grayscale(array):
    if array.shape[-3] == 1:
        return array.copy()
    red, green, blue = (array[..., c:c + 1, :, :] for c in range(3))
    weights = GRAYSCALE_WEIGHTS
    return (weights[0] * red + weights[1] * green + weights[2] * blue).astype(array.dtype)


def rgb_to_grayscale(image):
    """(..., 1, H, W) luma ``0.2989 R + 0.587 G + 0.114 B`` (a 1-channel image is copied)."""
    return make_tensor(_grayscale(_colour_array(image, "rgb_to_grayscale", 0, "")))


def adjust_brightness(image, brightness_factor):
    """``clamp(factor * image, 0, 1)``: a blend with black; 0 is black, 1 the image."""
    array = _colour_array(image, "adjust_brightness", brightness_factor, "brightness_factor")
    return make_tensor(_blend(array, xp.zeros_like(array), brightness_factor))


def adjust_contrast(image, contrast_factor):
    """``clamp(factor * image + (1 - factor) * mean(gray), 0, 1)``, the mean over (C, H, W) of
    the grayscale image; 0 gives a flat grey, 1 the image."""
    array = _colour_array(image, "adjust_contrast", contrast_factor, "contrast_factor")
    mean = _grayscale(array).astype(xp.float64).mean(axis=(-3, -2, -1), keepdims=True)
    if xp.issubdtype(array.dtype, xp.floating):
        mean = mean.astype(array.dtype)
    return make_tensor(_blend(array, mean, contrast_factor))


def adjust_saturation(image, saturation_factor):
    """``clamp(factor * image + (1 - factor) * gray, 0, 1)``; 0 gives the grayscale image, 1
    the image. A 1-channel image is returned as it is (PIL does the same)."""
    array = _colour_array(image, "adjust_saturation", saturation_factor, "saturation_factor")
    if array.shape[-3] == 1:
        return image
    return make_tensor(_blend(array, _grayscale(array), saturation_factor))


def _rgb_to_hsv(array):
    red, green, blue = (array[..., c, :, :] for c in range(3))
    top, bottom = array.max(axis=-3), array.min(axis=-3)
    grey = top == bottom
    spread = top - bottom
    saturation = spread / xp.where(grey, 1.0, top)
    divisor = xp.where(grey, 1.0, spread)
    rc, gc, bc = ((top - channel) / divisor for channel in (red, green, blue))
    hue = ((top == red) * (bc - gc) + ((top == green) & (top != red)) * (2.0 + rc - bc)
           + ((top != green) & (top != red)) * (4.0 + gc - rc))
    return xp.fmod(hue / 6.0 + 1.0, 1.0), saturation, top


def _hsv_to_rgb(hue, saturation, value):
    sector = xp.floor(hue * 6.0)
    within = hue * 6.0 - sector
    p = xp.clip(value * (1.0 - saturation), 0.0, 1.0)
    q = xp.clip(value * (1.0 - saturation * within), 0.0, 1.0)
    t = xp.clip(value * (1.0 - saturation * (1.0 - within)), 0.0, 1.0)
    sector = sector.astype(xp.int64) % 6
    # per sector of the colour wheel, which of v, q, p, t each of R, G, B is
    choices = [(value, q, p, p, t, value), (t, value, value, q, p, p), (p, p, t, value, value, q)]
    return xp.stack([xp.choose(sector, options) for options in choices], axis=-3)


def adjust_hue(image, hue_factor):
    """Turn every pixel's hue by ``hue_factor`` (in [-0.5, 0.5], a fraction of the colour wheel):
    RGB to HSV, ``h = (h + factor) mod 1``, back to RGB. A 1-channel image is returned as it is."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"adjust_hue: hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    array = _colour_array(image, "adjust_hue", 0, "hue_factor")
    if array.shape[-3] == 1:
        return image
    if not xp.issubdtype(array.dtype, xp.floating):
        raise TypeError(f"adjust_hue: expected a float image in [0, 1], got {array.dtype}")
    hue, saturation, value = _rgb_to_hsv(array)
    return make_tensor(_hsv_to_rgb((hue + hue_factor) % 1.0, saturation, value).astype(array.dtype))
