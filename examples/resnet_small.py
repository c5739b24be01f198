"""Residual connections make deep networks trainable: a small ResNet against a plain network.

Both networks see the same digits (the first 8,000 images of the real MNIST test set in
../shared/data/mnist, evaluated on the last 2,000), the same optimiser, batch size and number of
steps. The residual network (skip connections, batch norm) has 2 * blocks + 1 convolutions; the
plain network stacks MORE 3x3 convolutions (4 * blocks + 1) with ReLU and no skip connections or
normalisation, the "just go deeper" design. It trains worse: its training loss stays higher.

Run:  python examples/resnet_small.py [--quick] [--blocks 3] [--epochs 2] [--root FOLDER]
      [--device cpu|cuda]
"""
import argparse
import os
import time

import chainrule as cr
from chainrule import nn

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "mnist"))


class BasicBlock(nn.Module):
    """y = relu(x + bn2(conv2(relu(bn1(conv1(x))))))  (He et al., 2015)."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = self.bn1(self.conv1(x)).relu()
        return (x + self.bn2(self.conv2(out))).relu()


def stem(channels):
    """1x28x28 -> channels x 14x14."""
    return [nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]


def head(channels):
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10)]


def resnet(blocks, channels=16):
    return nn.Sequential(*stem(channels), *[BasicBlock(channels) for _ in range(blocks)],
                         *head(channels))


def plain(layers, channels=16):
    convs = []
    for _ in range(layers):
        convs += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*stem(channels), *convs, *head(channels))


def train(model, X, y, X_test, y_test, epochs, batch=64, seed=0):
    cr.manual_seed(seed)
    optimizer = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    losses, epoch_losses = [], []
    start = time.perf_counter()
    for _ in range(epochs):
        order = cr.randperm(len(X))
        total = 0.0
        for i in range(0, len(X), batch):
            idx = order[i:i + batch]
            loss = loss_fn(model(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            total += loss.item() * len(idx)
        epoch_losses.append(total / len(X))
    seconds = time.perf_counter() - start
    model.eval()
    with cr.no_grad():
        acc = sum(int((model(X_test[i:i + 500]).argmax(1) == y_test[i:i + 500]).sum().item())
                  for i in range(0, len(X_test), 500)) / len(X_test)
    return {"losses": losses, "epoch_losses": epoch_losses, "accuracy": acc, "seconds": seconds}


def main(quick=False, root=DEFAULT_ROOT, blocks=3, epochs=None, device="cpu"):
    images, labels = cr.datasets.load_mnist(root, train=False)
    n_train, n_test = (640, 500) if quick else (8000, 2000)
    epochs = epochs or (2 if quick else 3)
    X, y = (images[:n_train] - 0.1307) / 0.3081, labels[:n_train]
    X_test, y_test = (images[-n_test:] - 0.1307) / 0.3081, labels[-n_test:]
    X, y, X_test, y_test = (t.to(device) for t in (X, y, X_test, y_test))
    results = {}
    for name, make in (("residual", lambda: resnet(blocks)),
                       ("plain", lambda: plain(4 * blocks))):
        cr.manual_seed(0)
        model = make().to(device)
        n_conv = sum(isinstance(m, nn.Conv2d) for m in model.modules())
        r = train(model, X, y, X_test, y_test, epochs)
        results[name] = r
        print(f"{name:8s} {n_conv:2d} convolutions: training loss per epoch "
              f"{', '.join(f'{v:.3f}' for v in r['epoch_losses'])}; test accuracy "
              f"{r['accuracy']:.4f} ({r['seconds']:.0f} s)")
    better = results["residual"]["epoch_losses"][-1] < results["plain"]["epoch_losses"][-1]
    print("the residual network trains better" if better else
          "the plain network kept up this time")
    return results


if __name__ == "__main__":
    from device_option import add_device_option

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small subset (also CHAINRULE_CI=1)")
    parser.add_argument("--blocks", type=int, default=3, help="residual blocks (plain: 4x convs)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--root", default=DEFAULT_ROOT, help="folder with the MNIST IDX files")
    add_device_option(parser)
    args = parser.parse_args()
    try:
        main(quick=args.quick or os.environ.get("CHAINRULE_CI") == "1", root=args.root,
             blocks=args.blocks, epochs=args.epochs, device=args.device)
    except cr.datasets.MNISTFileError as e:   # the data is missing: say where to get it
        parser.exit(2, f"{parser.prog}: {e}\nThen run again, or name the folder with --root FOLDER.\n")
