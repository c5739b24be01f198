"""vision.datasets.FakeData: torchvision's stand-in data set, used to run the CIFAR-10 tutorial offline."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import DataLoader
from chainrule.vision import datasets, transforms


def test_items_are_images_and_labels_that_repeat():
    data = datasets.FakeData(size=20, image_size=(3, 8, 6), num_classes=4)
    image, label = data[3]
    assert len(data) == 20 and tuple(image.shape) == (3, 8, 6) and image.dtype == cr.float32
    assert 0 <= float(image.min()) and float(image.max()) < 1 and label in range(4)
    again, same = data[3]
    np.testing.assert_array_equal(image.numpy(), again.numpy())
    assert same == label
    other = datasets.FakeData(size=20, image_size=(3, 8, 6), num_classes=4, random_offset=100)
    assert not np.array_equal(other[3][0].numpy(), image.numpy())
    assert len({data[i][1] for i in range(20)}) > 1


def test_transforms_and_loader_batches():
    normalize = transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    data = datasets.FakeData(size=10, image_size=(3, 4, 4), transform=normalize,
                             target_transform=lambda y: y + 100)
    image, label = data[0]
    raw = datasets.FakeData(size=10, image_size=(3, 4, 4))[0][0]
    np.testing.assert_allclose(image.numpy(), (raw.numpy() - 0.5) / 0.5, rtol=1e-6)
    assert label >= 100
    images, labels = next(iter(DataLoader(datasets.FakeData(size=10, image_size=(1, 2, 2)), batch_size=4)))
    assert tuple(images.shape) == (4, 1, 2, 2) and labels.dtype == cr.int64


def test_bad_arguments_name_fakedata():
    with pytest.raises(ValueError, match="FakeData: image_size"):
        datasets.FakeData(image_size=(32, 32))
    with pytest.raises(ValueError, match="FakeData"):
        datasets.FakeData(num_classes=0)
    with pytest.raises(IndexError, match="FakeData"):
        datasets.FakeData(size=3, image_size=(1, 2, 2))[5]
