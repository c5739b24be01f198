"""``FakeData`` (``torchvision.datasets.FakeData``): random images with random labels, to run an
image pipeline end to end without downloading anything."""
import numpy as np

from ..autograd.tensor_base import make_tensor
from .images import ImageDataset


class FakeData(ImageDataset):
    """``size`` random images of ``image_size`` (C, H, W) with labels in ``range(num_classes)``.

    Item ``i`` is the same on every call: it is drawn from a generator seeded with
    ``i + random_offset`` (so two sets with different offsets differ). The image is a float32
    tensor uniform in [0, 1), what ``ToTensor`` gives for torchvision's random PIL image; the
    values are not torchvision's, which come from PyTorch's generator.
    """

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        image_size = tuple(int(s) for s in image_size)
        if len(image_size) != 3 or min(image_size) < 1:
            raise ValueError(f"FakeData: image_size must be (C, H, W) of positive sizes, got {image_size}")
        if int(size) < 0 or int(num_classes) < 1:
            raise ValueError(f"FakeData: expected size >= 0 and num_classes >= 1, got size={size}, "
                             f"num_classes={num_classes}")
        self.size, self.image_size, self.num_classes = int(size), image_size, int(num_classes)
        self.random_offset = int(random_offset)
        self.transform, self.target_transform = transform, target_transform
        self._labels = np.array([self._generator(i).integers(self.num_classes)
                                 for i in range(self.size)], dtype=np.int64)

    def _generator(self, index):
        return np.random.default_rng(index + self.random_offset)

    def __len__(self):
        return self.size

    def _label_array(self):
        return self._labels

    def _images(self, indices, flatten=False):
        try:
            indices = np.arange(self.size)[indices]
        except IndexError:
            raise IndexError(f"FakeData: index {indices} out of range for {self.size} images") from None
        images = np.empty((len(indices),) + self.image_size, dtype=np.float32)
        for k, i in enumerate(indices):
            g = self._generator(int(i))
            g.integers(self.num_classes)                 # the label comes first in the stream
            images[k] = g.random(self.image_size, dtype=np.float32)
        return make_tensor(images.reshape(len(images), -1) if flatten else images)

    def __repr__(self):
        return f"FakeData({self.size} images of {self.image_size}, {self.num_classes} classes)"
