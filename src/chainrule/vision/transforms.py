"""Image transforms as ``torchvision.transforms`` defines them, on (..., C, H, W) tensors.

Chain them with ``Compose``; the random ones draw from chainrule's default generator, so
``cr.manual_seed`` makes a run of augmentations repeatable. chainrule's datasets already give
float tensors, which ``ToTensor`` passes on unchanged (NumPy arrays and PIL images it converts).
They prepare data: their outputs are new tensors outside autograd.
"""
import numbers

import numpy as np

from ..autograd.tensor_base import make_tensor
from ..creation import rand, randint
from ..tensor import Tensor

PADDING_MODES = ("constant", "edge", "reflect", "symmetric")   # np.pad's names for the same rules


def _array(image, transform):
    if not isinstance(image, Tensor):
        raise TypeError(f"{transform}: expected a chainrule Tensor image (..., C, H, W), got "
                        f"{type(image).__name__} (convert it with ToTensor first)")
    if image.ndim < 2:
        raise ValueError(f"{transform}: expected an image of size (..., H, W), got {tuple(image.shape)}")
    return image.array


class Compose:
    """Apply ``transforms`` one after the other: ``Compose([f, g])(x) == g(f(x))``."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, image):
        for transform in self.transforms:
            image = transform(image)
        return image

    def __repr__(self):
        return "Compose(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


class Lambda:
    """Apply a function of your own as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, image):
        return self.lambd(image)

    def __repr__(self):
        return "Lambda()"


class ToTensor:
    """A (H, W) or (H, W, C) NumPy array or PIL image as a (C, H, W) tensor.

    uint8 pixels become float32 ``x / 255`` in [0, 1]; other dtypes keep their values. A
    chainrule Tensor is taken as already (C, H, W): uint8 ones are scaled, others passed on.
    """

    def __call__(self, pic):
        if isinstance(pic, Tensor):
            if pic.array.dtype != np.uint8:
                return pic
            return make_tensor(pic.array.astype(np.float32) / np.float32(255))
        if not (isinstance(pic, np.ndarray) or hasattr(pic, "__array_interface__")):
            raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
        array = np.asarray(pic)
        if array.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {array.ndim} dimensions.")
        chw = np.ascontiguousarray((array[:, :, None] if array.ndim == 2 else array).transpose(2, 0, 1))
        return make_tensor(chw.astype(np.float32) / np.float32(255) if chw.dtype == np.uint8 else chw)

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """Each channel standardised: ``out[c] = (x[c] - mean[c]) / std[c]``."""

    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def __call__(self, image):
        array = _array(image, "Normalize")
        if not np.issubdtype(array.dtype, np.floating):
            raise TypeError(f"Input tensor should be a float tensor. Got {image.dtype}.")
        if array.ndim < 3:
            raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got "
                             f"tensor.size() = {tuple(image.shape)}.")
        mean = np.asarray(self.mean, dtype=array.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=array.dtype).reshape(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {image.dtype}, leading to "
                             f"division by zero.")
        return make_tensor((array - mean) / std)

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class RandomHorizontalFlip:
    """Mirror the image left to right with probability ``p`` (``rand(1) < p``)."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, image):
        array = _array(image, "RandomHorizontalFlip")
        if rand(1).item() < self.p:
            return make_tensor(array[..., ::-1].copy())
        return image

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


def _pair(size, what):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(f"Please provide only two dimensions (h, w) for {what}.")
    return size


def pad(array, padding, fill=0, padding_mode="constant"):
    """``array`` (..., H, W) padded on its last two axes.

    ``padding``: one number for all four sides, ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``. ``padding_mode`` as in NumPy's ``np.pad``: constant (with
    ``fill``), edge, reflect (the edge pixel not repeated) or symmetric (repeated).
    """
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"Padding mode should be either constant, edge, reflect or symmetric, "
                         f"got {padding_mode!r}")
    sides = [padding] * 4 if isinstance(padding, numbers.Number) else list(padding)
    if len(sides) == 1:
        sides = sides * 4
    elif len(sides) == 2:
        sides = sides * 2
    elif len(sides) != 4:
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(sides)} element tuple")
    left, top, right, bottom = (int(s) for s in sides)
    width = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode == "constant":
        return np.pad(array, width, mode="constant", constant_values=fill)
    return np.pad(array, width, mode=padding_mode)


class RandomCrop:
    """A ``size`` (h, w) window at a random place, after ``padding`` the image.

    The top row ``i`` is ``randint(0, H - h + 1)``, then the left column ``j`` is
    ``randint(0, W - w + 1)`` (both 0 when the image is already ``size``). ``pad_if_needed`` pads
    an image smaller than ``size`` by the shortfall on both sides first.
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _pair(size, "size")
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(array, output_size):
        """``(i, j, h, w)``: where the crop of ``output_size`` starts, and its size."""
        height, width = array.shape[-2:]
        th, tw = output_size
        if height < th or width < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(height, width)}")
        if height == th and width == tw:
            return 0, 0, height, width
        i = randint(0, height - th + 1, size=(1,)).item()
        j = randint(0, width - tw + 1, size=(1,)).item()
        return i, j, th, tw

    def __call__(self, image):
        array = _array(image, "RandomCrop")
        if self.padding is not None:
            array = pad(array, self.padding, self.fill, self.padding_mode)
        height, width = array.shape[-2:]
        if self.pad_if_needed and width < self.size[1]:
            array = pad(array, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            array = pad(array, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(array, self.size)
        return make_tensor(np.ascontiguousarray(array[..., i:i + h, j:j + w]))

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"
