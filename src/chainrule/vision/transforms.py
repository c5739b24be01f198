"""Image transforms as ``torchvision.transforms`` defines them, on (..., C, H, W) tensors.

Chain them with ``Compose``; the random ones draw from chainrule's default generator, so
``cr.manual_seed`` makes a run of augmentations repeatable. chainrule's datasets already give
float tensors, which ``ToTensor`` passes on unchanged (NumPy arrays and PIL images it converts).
They prepare data: their outputs are new tensors outside autograd. The deterministic forms
(``rotate``, ``affine``, ``adjust_brightness``...) live in ``chainrule.vision.functional``.
"""
import numbers
from collections.abc import Sequence

import numpy as np

from ..autograd.tensor_base import make_tensor
from ..creation import empty, rand, randint, randperm
from ..tensor import Tensor
from . import functional
from .functional import InterpolationMode, image_array as _array

PADDING_MODES = ("constant", "edge", "reflect", "symmetric")   # np.pad's names for the same rules


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


class RandomVerticalFlip:
    """Mirror the image top to bottom with probability ``p`` (``rand(1) < p``)."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, image):
        array = _array(image, "RandomVerticalFlip")
        if rand(1).item() < self.p:
            return make_tensor(array[..., ::-1, :].copy())
        return image

    def __repr__(self):
        return f"RandomVerticalFlip(p={self.p})"


def _uniform(low, high):
    """One draw as ``torch.empty(1).uniform_(low, high)`` makes it (float32, then a float)."""
    return float(empty(1).uniform_(float(low), float(high)).item())


def _check_sequence(value, name, transform, sizes):
    lengths = " or ".join(str(n) for n in sizes)
    if not isinstance(value, Sequence):
        raise TypeError(f"{transform}: {name} should be a sequence of length {lengths}.")
    if len(value) not in sizes:
        raise ValueError(f"{transform}: {name} should be a sequence of length {lengths}.")


def _angle_range(value, name, transform, sizes=(2,)):
    """``[-value, value]`` for one number, else the sequence itself, as floats."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"{transform}: If {name} is a single number, it must be positive.")
        value = [-value, value]
    else:
        _check_sequence(value, name, transform, sizes)
    return [float(v) for v in value]


def _geometry_options(interpolation, fill, center, transform):
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError(f"{transform}: Argument interpolation should be a InterpolationMode, got "
                        f"{type(interpolation).__name__}")
    if fill is None:
        fill = 0
    elif not isinstance(fill, (Sequence, numbers.Number)):
        raise TypeError(f"{transform}: Fill should be either a sequence or a number.")
    if center is not None:
        _check_sequence(center, "center", transform, (2,))
    return interpolation, fill, center


def _fill_per_channel(fill, array):
    """torchvision hands the tensor path one fill value per channel."""
    channels = array.shape[-3] if array.ndim >= 3 else 1
    if isinstance(fill, numbers.Number):
        return [float(fill)] * channels
    return [float(f) for f in fill]


class RandomRotation:
    """Rotate counter-clockwise by an angle drawn uniformly from ``degrees`` (``(-d, d)`` for one
    number): ``empty(1).uniform_(lo, hi)``. See ``functional.rotate`` for the rest."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
                 fill=0):
        self.degrees = _angle_range(degrees, "degrees", "RandomRotation")
        self.interpolation, self.fill, self.center = _geometry_options(
            interpolation, fill, center, "RandomRotation")
        self.expand = expand

    @staticmethod
    def get_params(degrees):
        """The angle, in degrees."""
        return _uniform(degrees[0], degrees[1])

    def __call__(self, image):
        fill = _fill_per_channel(self.fill, _array(image, "RandomRotation"))
        angle = self.get_params(self.degrees)
        return functional.rotate(image, angle, self.interpolation, self.expand, self.center, fill)

    def __repr__(self):
        text = f"RandomRotation(degrees={self.degrees}, interpolation={self.interpolation.value}, " \
               f"expand={self.expand}"
        if self.center is not None:
            text += f", center={self.center}"
        return text + f", fill={self.fill})"


class RandomAffine:
    """A random ``functional.affine``: its parameters drawn in torchvision's order.

    angle ``uniform(degrees)``; then, if ``translate = (a, b)``, ``tx = round(uniform(-a W, a W))``
    and ``ty = round(uniform(-b H, b H))``; then scale ``uniform(scale)`` (else 1); then shear x
    ``uniform(shear[0:2])`` and, for four values, shear y ``uniform(shear[2:4])`` (else 0).
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None):
        self.degrees = _angle_range(degrees, "degrees", "RandomAffine")
        if translate is not None:
            _check_sequence(translate, "translate", "RandomAffine", (2,))
            if not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError("RandomAffine: translation values should be between 0 and 1")
        if scale is not None:
            _check_sequence(scale, "scale", "RandomAffine", (2,))
            if any(s <= 0 for s in scale):
                raise ValueError("RandomAffine: scale values should be positive")
        self.translate, self.scale = translate, scale
        self.shear = None if shear is None else _angle_range(shear, "shear", "RandomAffine", (2, 4))
        self.interpolation, self.fill, self.center = _geometry_options(
            interpolation, fill, center, "RandomAffine")

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """``(angle, (tx, ty), scale, (shear_x, shear_y))`` for an image of ``img_size`` (W, H)."""
        angle = _uniform(degrees[0], degrees[1])
        translations = (0, 0)
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            translations = (int(round(_uniform(-max_dx, max_dx))), int(round(_uniform(-max_dy, max_dy))))
        scale = 1.0 if scale_ranges is None else _uniform(scale_ranges[0], scale_ranges[1])
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = _uniform(shears[2], shears[3])
        return angle, translations, scale, (shear_x, shear_y)

    def __call__(self, image):
        array = _array(image, "RandomAffine")
        fill = _fill_per_channel(self.fill, array)
        height, width = array.shape[-2:]
        angle, translations, scale, shear = self.get_params(
            self.degrees, self.translate, self.scale, self.shear, [width, height])
        return functional.affine(image, angle, translations, scale, shear,
                                 self.interpolation, fill, self.center)

    def __repr__(self):
        options = [f"degrees={self.degrees}"]
        options += [f"{name}={value}" for name, value in
                    (("translate", self.translate), ("scale", self.scale), ("shear", self.shear))
                    if value is not None]
        if self.interpolation != InterpolationMode.NEAREST:
            options.append(f"interpolation={self.interpolation.value}")
        if self.fill != 0:
            options.append(f"fill={self.fill}")
        if self.center is not None:
            options.append(f"center={self.center}")
        return f"RandomAffine({', '.join(options)})"


class ColorJitter:
    """Brightness, contrast, saturation and hue changed by random factors, in a random order.

    ``randperm(4)`` orders the four adjustments first; then each factor set is drawn, in the
    order brightness, contrast, saturation, hue, uniformly from its range: one number ``v``
    means ``[max(0, 1 - v), 1 + v]`` (hue: ``[-v, v]``, ``v <= 0.5``). A range of just the
    identity (1 or, for hue, 0) is skipped and draws nothing.
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def _check_input(value, name, center=1, bound=(0, float("inf")), clip_first_on_zero=True):
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f"ColorJitter: If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f"ColorJitter: {name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"ColorJitter: {name} values should be between {bound}, but got {value}.")
        return None if value[0] == value[1] == center else tuple(value)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """``(order, brightness, contrast, saturation, hue)``: None for a factor not jittered."""
        order = randperm(4)
        factors = [None if bounds is None else _uniform(bounds[0], bounds[1])
                   for bounds in (brightness, contrast, saturation, hue)]
        return (order, *factors)

    def __call__(self, image):
        _array(image, "ColorJitter")
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        adjust = (functional.adjust_brightness, functional.adjust_contrast,
                  functional.adjust_saturation, functional.adjust_hue)
        for index in order.tolist():
            if factors[index] is not None:
                image = adjust[index](image, factors[index])
        return image

    def __repr__(self):
        return (f"ColorJitter(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")
