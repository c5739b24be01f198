"""chainrule.vision: transforms checked against torchvision's documented definitions, by hand
in NumPy (torchvision cannot be installed beside the reference torch here), and the datasets."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.vision import datasets, functional, transforms

RNG = np.random.default_rng(0)
IMAGE = RNG.random((3, 5, 6)).astype(np.float32)


def test_to_tensor_scales_uint8_and_moves_channels_first():
    hwc = RNG.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    out = transforms.ToTensor()(hwc)
    assert out.shape == (3, 4, 5) and out.dtype == cr.float32
    assert np.allclose(out.array, hwc.transpose(2, 0, 1) / 255.0)
    grey = transforms.ToTensor()(hwc[:, :, 0])
    assert grey.shape == (1, 4, 5) and np.allclose(grey.array[0], hwc[:, :, 0] / 255.0)
    floats = transforms.ToTensor()(hwc.astype(np.float64))      # not uint8: values kept
    assert floats.dtype == cr.float64 and np.array_equal(floats.array, hwc.transpose(2, 0, 1))
    already = cr.tensor(IMAGE)
    assert transforms.ToTensor()(already) is already
    assert np.allclose(transforms.ToTensor()(cr.tensor(hwc.transpose(2, 0, 1))).array,
                       hwc.transpose(2, 0, 1) / 255.0)
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        transforms.ToTensor()([1, 2])
    with pytest.raises(ValueError, match="2/3 dimensional"):
        transforms.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))


def test_normalize_per_channel():
    mean, std = (0.1, 0.5, 0.9), (0.2, 0.3, 0.4)
    out = transforms.Normalize(mean, std)(cr.tensor(IMAGE))
    expected = np.stack([(IMAGE[c] - mean[c]) / std[c] for c in range(3)])
    assert out.dtype == cr.float32 and np.allclose(out.array, expected, atol=1e-6)
    batch = cr.tensor(np.stack([IMAGE, IMAGE * 2]))
    assert np.allclose(transforms.Normalize(mean, std)(batch).array[1],
                       np.stack([(2 * IMAGE[c] - mean[c]) / std[c] for c in range(3)]), atol=1e-6)
    with pytest.raises(TypeError, match="float tensor"):
        transforms.Normalize((0,), (1,))(cr.tensor(np.zeros((1, 2, 2), np.int64)))
    with pytest.raises(ValueError, match="division by zero"):
        transforms.Normalize((0,), (0,))(cr.tensor(IMAGE[:1]))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        transforms.Normalize((0,), (1,))(cr.tensor(IMAGE[0]))


def test_compose_applies_in_order_and_lambda():
    pipeline = transforms.Compose([transforms.Lambda(lambda x: x * 2), transforms.Lambda(lambda x: x + 1)])
    assert np.allclose(pipeline(cr.tensor(IMAGE)).array, IMAGE * 2 + 1)
    assert repr(pipeline) == "Compose(\n    Lambda()\n    Lambda()\n)"
    with pytest.raises(TypeError, match="should be callable"):
        transforms.Lambda(3)


def test_random_horizontal_flip_draws_rand_once():
    flip = transforms.RandomHorizontalFlip(p=0.5)
    flipped = 0
    for seed in range(20):
        cr.manual_seed(seed)
        draw = cr.rand(1).item()
        cr.manual_seed(seed)
        out = flip(cr.tensor(IMAGE)).array
        expected = IMAGE[:, :, ::-1] if draw < 0.5 else IMAGE
        assert np.array_equal(out, expected)
        flipped += draw < 0.5
    assert 0 < flipped < 20
    assert np.array_equal(transforms.RandomHorizontalFlip(p=1)(cr.tensor(IMAGE)).array, IMAGE[..., ::-1])


def test_pad_modes_and_sides():
    row = np.array([[1, 2, 3]])
    assert transforms.pad(row, [2, 0], padding_mode="reflect").tolist() == [[3, 2, 1, 2, 3, 2, 1]]
    assert transforms.pad(row, [2, 0], padding_mode="symmetric").tolist() == [[2, 1, 1, 2, 3, 3, 2]]
    assert transforms.pad(row, [2, 0], padding_mode="edge").tolist() == [[1, 1, 1, 2, 3, 3, 3]]
    assert transforms.pad(row, [1, 0], fill=9).tolist() == [[9, 1, 2, 3, 9]]
    # (left, top, right, bottom)
    assert transforms.pad(row, (1, 2, 0, 1)).tolist() == [[0] * 4, [0] * 4, [0, 1, 2, 3], [0] * 4]
    with pytest.raises(ValueError, match="Padding mode"):
        transforms.pad(row, 1, padding_mode="wrap")
    with pytest.raises(ValueError, match="1, 2, or 4 element"):
        transforms.pad(row, (1, 2, 3))


def test_random_crop_with_padding_draws_row_then_column():
    crop = transforms.RandomCrop(5, padding=2)
    padded = np.pad(IMAGE, [(0, 0), (2, 2), (2, 2)])                 # (3, 9, 10)
    corners = set()
    for seed in range(20):
        cr.manual_seed(seed)
        i = cr.randint(0, 9 - 5 + 1, (1,)).item()
        j = cr.randint(0, 10 - 5 + 1, (1,)).item()
        cr.manual_seed(seed)
        assert np.array_equal(crop(cr.tensor(IMAGE)).array, padded[:, i:i + 5, j:j + 5])
        corners.add((i, j))
    assert len(corners) > 5
    whole = transforms.RandomCrop((5, 6))(cr.tensor(IMAGE))
    assert np.array_equal(whole.array, IMAGE)
    grown = transforms.RandomCrop((7, 6), pad_if_needed=True, padding_mode="edge")
    cr.manual_seed(1)
    i = cr.randint(0, 9 - 7 + 1, (1,)).item()        # height 5 padded by 2 on both sides: 9
    cr.manual_seed(1)
    assert np.array_equal(grown(cr.tensor(IMAGE)).array,
                          np.pad(IMAGE, [(0, 0), (2, 2), (0, 0)], mode="edge")[:, i:i + 7])
    with pytest.raises(ValueError, match=r"Required crop size \(6, 6\) is larger"):
        transforms.RandomCrop(6)(cr.tensor(IMAGE))
    assert repr(crop) == "RandomCrop(size=(5, 5), padding=2)"


def _write_idx(folder, prefix, images, labels):
    header = lambda magic, shape: np.array([magic, *shape], ">u4").tobytes()  # noqa: E731
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(header(2051, images.shape) + images.tobytes())
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(header(2049, labels.shape) + labels.tobytes())


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST])
def test_vision_datasets_apply_transform_and_target_transform(cls, tmp_path):
    images = RNG.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    labels = np.array([4, 0, 9], np.uint8)
    _write_idx(tmp_path, "t10k", images, labels)
    pipeline = transforms.Compose([transforms.RandomHorizontalFlip(p=1),
                                   transforms.Normalize((0.5,), (0.25,))])
    data = cls(tmp_path, train=False, transform=pipeline, target_transform=lambda y: y + 10)
    image, label = data[2]
    assert label == 19 and image.shape == (1, 28, 28)
    expected = (images[2][None, :, ::-1].astype(np.float32) / 255 - 0.5) / 0.25
    assert np.allclose(image.array, expected, atol=1e-5)
    assert cls.classes[9] in ("9 - nine", "Ankle boot")


SQUARE = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4) / 32


def test_random_vertical_flip_draws_rand_once():
    cr.manual_seed(3)
    draw = cr.rand(1).item()
    cr.manual_seed(3)
    out = transforms.RandomVerticalFlip(p=0.5)(cr.tensor(IMAGE)).array
    assert np.array_equal(out, IMAGE[:, ::-1] if draw < 0.5 else IMAGE)
    assert np.array_equal(transforms.RandomVerticalFlip(p=1)(cr.tensor(IMAGE)).array, IMAGE[:, ::-1])


def test_rotate_turns_counter_clockwise_and_fills_outside():
    image = cr.tensor(SQUARE)
    assert np.array_equal(functional.rotate(image, 90).array, np.rot90(SQUARE, 1, axes=(1, 2)))
    assert np.array_equal(functional.rotate(image, -90).array, np.rot90(SQUARE, -1, axes=(1, 2)))
    assert np.array_equal(functional.rotate(image, 0, transforms.InterpolationMode.BILINEAR).array, SQUARE)
    # 45 degrees about the middle of a 4x4: the corners' pixel centres land outside and take the fill
    turned = functional.rotate(image, 45, fill=[7.0, 8.0]).array
    assert turned[0, 0, 0] == 7.0 and turned[1, 3, 3] == 8.0
    # the bounding box of a 4x4 square turned 45 degrees: 2 * 2 * sqrt(2) = 5.66, from -0.83 to 4.83
    assert functional.rotate(image, 45, expand=True).shape == (2, 6, 6)


def test_random_rotation_draws_angle_uniformly():
    rotation = transforms.RandomRotation((80, 100), fill=0.5)
    cr.manual_seed(5)
    angle = float(cr.empty(1).uniform_(80.0, 100.0).item())
    cr.manual_seed(5)
    out = rotation(cr.tensor(SQUARE)).array
    assert np.array_equal(out, functional.rotate(cr.tensor(SQUARE), angle, fill=[0.5, 0.5]).array)
    cr.manual_seed(5)
    assert np.array_equal(rotation(cr.tensor(SQUARE)).array, out)       # seeded: repeatable
    assert repr(rotation) == "RandomRotation(degrees=[80.0, 100.0], interpolation=nearest, " \
                             "expand=False, fill=0.5)"
    with pytest.raises(ValueError, match="RandomRotation: If degrees is a single number, it must be positive"):
        transforms.RandomRotation(-3)
    with pytest.raises(ValueError, match="RandomRotation: degrees should be a sequence of length 2"):
        transforms.RandomRotation((1, 2, 3))
    with pytest.raises(TypeError, match="RandomRotation: Argument interpolation"):
        transforms.RandomRotation(3, interpolation="bilinear")
    with pytest.raises(ValueError, match="'bicubic' is unsupported"):
        transforms.RandomRotation(3, interpolation=transforms.InterpolationMode.BICUBIC)(cr.tensor(SQUARE))


def test_affine_identity_translation_scale():
    image = cr.tensor(SQUARE)
    for mode in (transforms.InterpolationMode.NEAREST, transforms.InterpolationMode.BILINEAR):
        assert np.allclose(functional.affine(image, 0, (0, 0), 1.0, 0, mode).array, SQUARE)
    # (right 1, down 2): the vacated column and rows take the fill
    moved = functional.affine(image, 0, (1, 2), 1.0, 0, fill=[-1.0]).array
    expected = np.full_like(SQUARE, -1.0)
    expected[:, 2:, 1:] = SQUARE[:, :2, :3]
    assert np.array_equal(moved, expected)
    # bilinear half a pixel right: each pixel the mean of itself and its left neighbour; the first
    # column reads half outside, so half its value (zeros padding) is weighted by the half mask
    half = functional.affine(image, 0, (0.5, 0), 1.0, 0, transforms.InterpolationMode.BILINEAR,
                             fill=[0.0]).array
    assert np.allclose(half[:, :, 1:], (SQUARE[:, :, 1:] + SQUARE[:, :, :-1]) / 2)
    assert np.allclose(half[:, :, 0], SQUARE[:, :, 0] * 0.5 * 0.5)
    # scale 2 about the middle: output pixel x reads input x / 2 (centred), rounded half to even
    zoomed = functional.affine(image, 0, (0, 0), 2.0, 0).array
    centred = np.arange(4) + 0.5 - 2                                     # -1.5 .. 1.5
    source = (np.rint(centred / 2 + 2 - 0.5)).astype(int)                # pixel read per output
    assert np.array_equal(zoomed, SQUARE[:, source][:, :, source])
    # affine turns clockwise: affine(angle) == rotate(-angle)
    assert np.array_equal(functional.affine(image, 90, (0, 0), 1.0, 0).array,
                          np.rot90(SQUARE, -1, axes=(1, 2)))
    with pytest.raises(ValueError, match="scale should be positive"):
        functional.affine(image, 0, (0, 0), 0.0, 0)
    with pytest.raises(ValueError, match=r"cannot broadcast .* \(3 != 2\)"):
        functional.affine(image, 0, (0, 0), 1.0, 0, fill=[1, 2, 3])


def test_shear_matches_the_matrix():
    # an x-shear with tan = 1/2: forward x' = x - y / 2, so output (x, y) reads input (x + y / 2, y)
    # (chosen so that no read lands on a rounding tie)
    image = cr.tensor(SQUARE)
    sheared = functional.affine(image, 0, (0, 0), 1.0, (math.degrees(math.atan(0.5)), 0)).array
    centred = np.arange(4) + 0.5 - 2
    for row, y in enumerate(centred):
        for col, x in enumerate(centred):
            source = int(np.rint(x + y / 2 + 2 - 0.5))
            expected = SQUARE[:, row, source] if 0 <= source < 4 else 0
            assert np.allclose(sheared[:, row, col], expected)


def test_random_affine_draw_order_and_validation():
    affine = transforms.RandomAffine(10, translate=(0.25, 0.5), scale=(0.9, 1.1), shear=(-5, 5, -3, 3))
    cr.manual_seed(2)
    uniform = lambda low, high: float(cr.empty(1).uniform_(low, high).item())  # noqa: E731
    angle = uniform(-10, 10)
    tx, ty = int(round(uniform(-1.0, 1.0))), int(round(uniform(-2.0, 2.0)))   # 0.25 W, 0.5 H
    scale, shear = uniform(0.9, 1.1), (uniform(-5, 5), uniform(-3, 3))
    cr.manual_seed(2)
    assert affine.get_params(affine.degrees, affine.translate, affine.scale, affine.shear,
                             [4, 4]) == (angle, (tx, ty), scale, shear)
    cr.manual_seed(2)
    expected = functional.affine(cr.tensor(SQUARE), angle, (tx, ty), scale, shear, fill=[0.0, 0.0])
    assert np.array_equal(affine(cr.tensor(SQUARE)).array, expected.array)
    assert repr(affine) == ("RandomAffine(degrees=[-10.0, 10.0], translate=(0.25, 0.5), "
                            "scale=(0.9, 1.1), shear=[-5.0, 5.0, -3.0, 3.0])")
    with pytest.raises(ValueError, match="RandomAffine: translation values should be between 0 and 1"):
        transforms.RandomAffine(0, translate=(0.5, 2))
    with pytest.raises(ValueError, match="RandomAffine: scale values should be positive"):
        transforms.RandomAffine(0, scale=(0, 1))
    with pytest.raises(ValueError, match="RandomAffine: shear should be a sequence of length 2 or 4"):
        transforms.RandomAffine(0, shear=(1, 2, 3))
    with pytest.raises(TypeError, match="RandomAffine: Fill should be either a sequence or a number"):
        transforms.RandomAffine(0, fill={"red": 1})


def test_brightness_contrast_saturation_formulas():
    rgb = cr.tensor(IMAGE)
    assert np.allclose(functional.adjust_brightness(rgb, 0.5).array, IMAGE / 2)
    assert np.allclose(functional.adjust_brightness(rgb, 3.0).array, np.clip(IMAGE * 3, 0, 1))
    gray = 0.2989 * IMAGE[0] + 0.587 * IMAGE[1] + 0.114 * IMAGE[2]
    assert np.allclose(functional.rgb_to_grayscale(rgb).array, gray[None], atol=1e-6)
    contrast = functional.adjust_contrast(rgb, 1.5).array
    assert np.allclose(contrast, np.clip(1.5 * IMAGE - 0.5 * gray.mean(), 0, 1), atol=1e-6)
    assert np.allclose(functional.adjust_contrast(rgb, 0.0).array, gray.mean(), atol=1e-6)
    saturated = functional.adjust_saturation(rgb, 0.25).array
    assert np.allclose(saturated, np.clip(0.25 * IMAGE + 0.75 * gray, 0, 1), atol=1e-6)
    single = cr.tensor(IMAGE[:1])
    assert functional.adjust_saturation(single, 0.3) is single
    assert np.allclose(functional.adjust_contrast(single, 2.0).array,
                       np.clip(2 * IMAGE[:1] - IMAGE[0].mean(), 0, 1), atol=1e-6)
    with pytest.raises(ValueError, match=r"brightness_factor \(-1\) is not non-negative"):
        functional.adjust_brightness(rgb, -1)
    with pytest.raises(TypeError, match="permitted channel values are \\[1, 3\\], but found 2"):
        functional.adjust_contrast(cr.tensor(SQUARE), 1.0)


def test_adjust_hue_turns_the_colour_wheel():
    import colorsys
    out = functional.adjust_hue(cr.tensor(IMAGE), 0.2).array
    for row, col in [(0, 0), (2, 3), (4, 5)]:
        h, s, v = colorsys.rgb_to_hsv(*IMAGE[:, row, col])
        assert np.allclose(out[:, row, col], colorsys.hsv_to_rgb((h + 0.2) % 1, s, v), atol=1e-5)
    assert np.allclose(functional.adjust_hue(cr.tensor(IMAGE), 0.0).array, IMAGE, atol=1e-6)
    with pytest.raises(ValueError, match=r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]"):
        functional.adjust_hue(cr.tensor(IMAGE), 0.7)


def test_color_jitter_orders_by_randperm_then_draws_factors():
    jitter = transforms.ColorJitter(brightness=0.5, contrast=(0.5, 1.5), saturation=0.4, hue=0.1)
    assert (jitter.brightness, jitter.saturation, jitter.hue) == ((0.5, 1.5), (0.6, 1.4), (-0.1, 0.1))
    cr.manual_seed(11)
    order = cr.randperm(4).tolist()
    factors = [float(cr.empty(1).uniform_(lo, hi).item())
               for lo, hi in ((0.5, 1.5), (0.5, 1.5), (0.6, 1.4), (-0.1, 0.1))]
    adjust = [functional.adjust_brightness, functional.adjust_contrast,
              functional.adjust_saturation, functional.adjust_hue]
    expected = cr.tensor(IMAGE)
    for index in order:
        expected = adjust[index](expected, factors[index])
    cr.manual_seed(11)
    assert np.array_equal(jitter(cr.tensor(IMAGE)).array, expected.array)
    assert transforms.ColorJitter(brightness=2).brightness == (0.0, 3.0)     # clipped at 0
    assert transforms.ColorJitter().brightness is None                          # identity: skipped
    assert repr(transforms.ColorJitter(contrast=0.5)) == \
        "ColorJitter(brightness=None, contrast=(0.5, 1.5), saturation=None, hue=None)"
    with pytest.raises(ValueError, match="ColorJitter: If contrast is a single number, it must be non negative"):
        transforms.ColorJitter(contrast=-0.1)
    with pytest.raises(ValueError, match=r"ColorJitter: hue values should be between \(-0.5, 0.5\)"):
        transforms.ColorJitter(hue=0.6)
    with pytest.raises(TypeError, match="ColorJitter: saturation should be a single number or a list/tuple"):
        transforms.ColorJitter(saturation=(1, 2, 3))
