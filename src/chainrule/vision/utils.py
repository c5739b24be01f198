"""``torchvision.utils``: ``make_grid`` tiles a batch of images into one, ``save_image`` writes it.

    grid = make_grid(images, nrow=8, padding=2)     # (B, C, H, W) -> (C, H', W')
    save_image(images, "samples.png")               # needs Pillow (the viz extra)
"""
import math
import os
import tempfile

import numpy as np

from ..autograd.tensor_base import make_tensor
from ..tensor import Tensor


def _batch(tensor):
    if isinstance(tensor, (list, tuple)):
        arrays = [np.asarray(t.array if isinstance(t, Tensor) else t) for t in tensor]
        if not arrays or len({a.shape for a in arrays}) != 1:
            raise ValueError(f"make_grid: expected a non-empty list of images of one shape, got "
                             f"shapes {[a.shape for a in arrays]}")
        array = np.stack(arrays)
    elif isinstance(tensor, Tensor):
        array = tensor.array
    else:
        raise TypeError(f"make_grid: expected a tensor or a list of tensors, got {type(tensor).__name__}")
    if array.ndim == 2:                          # one image (H, W)
        array = array[None]
    if array.ndim == 3:                          # one image (C, H, W)
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"make_grid: expected images of shape (B, C, H, W), (C, H, W) or (H, W), "
                         f"got {array.shape}")
    if array.shape[1] == 1:                      # grey images become three equal channels
        array = np.concatenate([array] * 3, axis=1)
    return array.astype(np.float32) if array.dtype.kind != "f" else array.copy()


def _normalize(array, value_range):
    low, high = value_range if value_range is not None else (array.min(), array.max())
    np.clip(array, low, high, out=array)
    array -= low
    array /= max(high - low, 1e-5)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """Tile (B, C, H, W) images ``nrow`` to a row with ``padding`` pixels of ``pad_value`` between.

    As torchvision's: one-channel images become three channels, one image comes back without a
    border, and ``normalize=True`` maps ``value_range`` (default: the images' min and max, per
    image with ``scale_each``) onto [0, 1]. The result does not track gradients.
    """
    if value_range is not None and not (isinstance(value_range, tuple) and len(value_range) == 2):
        raise TypeError(f"make_grid: value_range has to be a tuple (min, max) if specified, got {value_range!r}")
    array = _batch(tensor)
    if normalize:
        for image in (array if scale_each else [array]):
            _normalize(image, value_range)
    if array.shape[0] == 1:
        return make_tensor(array[0])
    count, channels, height, width = array.shape
    columns = min(nrow, count)
    rows = int(math.ceil(count / columns))
    cell_h, cell_w = height + padding, width + padding
    grid = np.full((channels, cell_h * rows + padding, cell_w * columns + padding), pad_value,
                   dtype=array.dtype)
    for k in range(count):
        y, x = divmod(k, columns)
        grid[:, y * cell_h + padding:(y + 1) * cell_h, x * cell_w + padding:(x + 1) * cell_w] = array[k]
    return make_tensor(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Save images (one, or a batch tiled by ``make_grid(**kwargs)``) as a picture file, [0, 1] -> 0..255."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("save_image needs Pillow: pip install 'chainrule[viz]' (or pip install pillow)") from None
    grid = make_grid(tensor, **kwargs).array
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    image = Image.fromarray(pixels)
    if not isinstance(fp, (str, os.PathLike)):
        image.save(fp, format=format)
        return
    path = os.fspath(fp)
    if format is None:
        format = Image.registered_extensions().get(os.path.splitext(path)[1].lower())
        if format is None:
            raise ValueError(f"save_image: cannot tell the picture format from {path!r}; pass format=")
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".save_image.")
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format=format)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
