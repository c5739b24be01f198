"""Image data in ``torchvision``'s shape: ``transforms`` and ``datasets`` (MNIST, Fashion-MNIST,
CIFAR-10).

    from chainrule.vision import datasets, transforms
    train = datasets.MNIST("data", download=True, transform=transforms.Compose([
        transforms.RandomCrop(28, padding=2), transforms.Normalize((0.1307,), (0.3081,))]))
"""
from . import datasets, functional, models, transforms, utils

__all__ = ["datasets", "functional", "models", "transforms", "utils"]
