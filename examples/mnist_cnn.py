"""LeNet-5 on real handwritten digits.

Trains a LeNet-5-style convolutional network on the first 8,000 images of the real MNIST test set
in ../shared/data/mnist (or --root) and evaluates it on the last 2,000, which it never sees while
training. Prints the accuracy and the training time.

Run:  python examples/mnist_cnn.py [--quick] [--epochs N] [--root FOLDER]
"""
import argparse
import os
import time

import chainrule as cr
from chainrule import nn

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "mnist"))


def lenet5():
    """Conv(1->6, 5x5, pad 2) -> ReLU -> MaxPool 2 -> Conv(6->16, 5x5) -> ReLU -> MaxPool 2 ->
    400 -> 120 -> 84 -> 10: 61,706 parameters."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def accuracy(model, X, y, batch=500):
    model.eval()
    correct = 0
    with cr.no_grad():
        for i in range(0, len(X), batch):
            correct += int((model(X[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item())
    model.train()
    return correct / len(X)


def main(quick=False, root=DEFAULT_ROOT, epochs=None, seed=0, device="cpu"):
    images, labels = cr.datasets.load_mnist(root, train=False)   # (10000, 1, 28, 28) in [0, 1]
    n_train, n_test = (1000, 500) if quick else (8000, 2000)
    epochs = epochs or (2 if quick else 12)
    X_train, y_train = (images[:n_train] - 0.1307) / 0.3081, labels[:n_train]
    X_test, y_test = (images[-n_test:] - 0.1307) / 0.3081, labels[-n_test:]
    X_train, y_train, X_test, y_test = (t.to(device) for t in (X_train, y_train, X_test, y_test))

    cr.manual_seed(seed)
    model = lenet5().to(device)
    optimizer = cr.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = cr.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    batch = 64
    losses = []
    start = time.perf_counter()
    for epoch in range(epochs):
        order = cr.randperm(n_train)
        total = 0.0
        for i in range(0, n_train, batch):
            idx = order[i:i + batch]
            loss = loss_fn(model(X_train[idx]), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            losses.append(loss.item())
        scheduler.step()
        print(f"epoch {epoch + 1:2d}  train loss {total / n_train:.4f}  "
              f"test accuracy {accuracy(model, X_test, y_test):.4f}  "
              f"({time.perf_counter() - start:.1f} s)")
    train_time = time.perf_counter() - start
    acc = accuracy(model, X_test, y_test)
    print(f"LeNet-5 trained on {n_train} images for {epochs} epochs in {train_time:.1f} s; "
          f"accuracy on the last {n_test} images: {acc:.4f}")
    return {"accuracy": acc, "train_time": train_time, "losses": losses}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small subset (also CHAINRULE_CI=1)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--root", default=DEFAULT_ROOT, help="folder with the MNIST IDX files")
    parser.add_argument("--device", default="cuda" if cr.cuda.is_available() else "cpu",
                        help="where to train (default: cuda when available)")
    args = parser.parse_args()
    try:
        main(quick=args.quick or os.environ.get("CHAINRULE_CI") == "1", root=args.root,
             epochs=args.epochs, device=args.device)
    except cr.datasets.MNISTFileError as e:   # the data is missing: say where to get it
        parser.exit(2, f"{parser.prog}: {e}\nThen run again, or name the folder with --root FOLDER.\n")
