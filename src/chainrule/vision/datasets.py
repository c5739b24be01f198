"""``torchvision.datasets``' image sets: each item is ``(image, label)`` with ``transform`` and
``target_transform`` applied; the image is already a float tensor (C, H, W) in [0, 1]."""
from ..datasets.cifar import CIFAR10
from ..datasets.fake import FakeData
from ..datasets.mnist import MNIST, FashionMNIST

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "FakeData"]
