"""MNIST with a multi-layer perceptron.

Uses the real 10,000-image MNIST test set in ../shared/data/mnist (or --root): trains on its
first 8,000 images and evaluates on the last 2,000, which the network never sees while training.
At full size this reaches at least 95% accuracy. Saves the weights, reloads them into a fresh
model and checks the reloaded model scores the same.

Run:  python examples/mnist_mlp.py [--quick] [--root FOLDER]
"""
import argparse
import os
import tempfile

import chainrule as cr
from chainrule import nn

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "mnist"))


def make_model():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.1),
                         nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def main(quick=False, root=DEFAULT_ROOT, device="cpu"):
    images, labels = cr.datasets.load_mnist(root, train=False, flatten=True)   # (10000, 784), (10000,)
    n_train, n_test, epochs = (1000, 500, 2) if quick else (8000, 2000, 12)
    X_train, y_train = images[:n_train], labels[:n_train]
    X_test, y_test = images[-n_test:], labels[-n_test:]

    cr.manual_seed(0)
    model = make_model().to(device)     # fit() moves each batch to the model's device
    optimizer = cr.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = cr.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.3)
    history = cr.train.fit(model, nn.CrossEntropyLoss(), optimizer, (X_train, y_train),
                           epochs=epochs, batch_size=64, val_data=(X_test, y_test),
                           scheduler=scheduler, metrics=["accuracy"])
    result = cr.train.evaluate(model, (X_test, y_test), nn.CrossEntropyLoss(),
                               metrics=["accuracy", "f1"])
    print(f"trained on {n_train} images for {epochs} epochs in {history.wall_time:.1f} s")
    print(f"test on the last {n_test}: accuracy {result['accuracy']:.4f}, macro F1 "
          f"{result['f1']:.4f}, loss {result['loss']:.4f}")

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "mnist_mlp.safetensors")
        cr.save(model.state_dict(), path)
        fresh = make_model()
        fresh.load_state_dict(cr.load(path))
        again = cr.train.evaluate(fresh, (X_test, y_test), metrics=["accuracy"])
        assert again["accuracy"] == result["accuracy"]
    print("saved, reloaded and re-evaluated: same accuracy")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small subset (also CHAINRULE_CI=1)")
    parser.add_argument("--root", default=DEFAULT_ROOT, help="folder with the MNIST IDX files")
    parser.add_argument("--device", default="cuda" if cr.cuda.is_available() else "cpu",
                        help="where to train (default: cuda when available)")
    args = parser.parse_args()
    try:
        main(quick=args.quick or os.environ.get("CHAINRULE_CI") == "1", root=args.root,
             device=args.device)
    except cr.datasets.MNISTFileError as e:   # the data is missing: say where to get it
        parser.exit(2, f"{parser.prog}: {e}\nThen run again, or name the folder with --root FOLDER.\n")
