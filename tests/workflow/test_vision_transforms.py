"""chainrule.vision: transforms checked against torchvision's documented definitions, by hand
in NumPy (torchvision cannot be installed beside the reference torch here), and the datasets."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.vision import datasets, transforms

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
