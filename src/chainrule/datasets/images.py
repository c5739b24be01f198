"""What the image datasets (MNIST, Fashion-MNIST, CIFAR-10) share: torchvision's ``transform`` and
``target_transform`` hooks, and whole batches in one indexing when there are none."""
from ..autograd.tensor_base import make_tensor
from ..utils.data import Dataset


class ImageDataset(Dataset):
    """A labelled image set. Subclasses give ``_images(indices, flatten=False)`` (a float32
    tensor (N, C, H, W) in [0, 1]) and ``_label_array()`` (the int64 labels); ``transform`` and
    ``target_transform`` are set by their constructors."""

    transform = target_transform = None

    def __getitem__(self, index):
        image = self._images([index])[0]
        target = int(self._label_array()[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    @property
    def _fetch_batch(self):
        # The DataLoader takes a whole batch in one indexing through this; with transforms each
        # item must go through them, so the attribute is absent then.
        if self.transform is not None or self.target_transform is not None:
            raise AttributeError("_fetch_batch")
        return lambda indices: [self._images(indices), make_tensor(self._label_array()[indices])]

    def tensors(self, flatten=False):
        """``(images, labels)``: every image at once, float32 (N, C, H, W) in [0, 1] (or
        (N, C*H*W) with ``flatten``), and the int64 labels (N,)."""
        return self._images(slice(None), flatten), make_tensor(self._label_array().copy())
