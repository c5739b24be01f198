"""The four classification datasets of playground.tensorflow.org, each learned by a small network.

Same settings as the site's defaults: 500 points, 50% of them for testing, tanh units, and the
noise slider at 10 (noise=0.1). Prints train/test accuracy per dataset; with --plot FILE draws the
decision regions (needs matplotlib).

Run:  python examples/playground_datasets.py [--quick] [--plot regions.png] [--device cpu|cuda]
"""
import argparse
import os

import numpy as np

import chainrule as cr
from chainrule import nn

DATASETS = ["circle", "xor", "gaussian", "spiral"]


def make_model(hidden):
    layers, width = [], 2
    for h in hidden:
        layers += [nn.Linear(width, h), nn.Tanh()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, 2))


def learn(name, epochs, noise=0.1, device="cpu"):
    X, y = cr.datasets.make(name, n=500, noise=noise, seed=1)
    X_train, X_test, y_train, y_test = cr.datasets.train_test_split(X, y, ratio=0.5, seed=0)
    cr.manual_seed(0)
    model = make_model([16, 16] if name == "spiral" else [8]).to(device)   # fit() moves batches
    optimizer = cr.optim.Adam(model.parameters(), lr=0.02)
    history = cr.train.fit(model, nn.CrossEntropyLoss(), optimizer, (X_train, y_train),
                           epochs=epochs * (3 if name == "spiral" else 1), batch_size=10,
                           val_data=(X_test, y_test), metrics=["accuracy"], progress=False)
    return model, X, y, history


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 4))
    grid = np.linspace(-6, 6, 121, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    points = cr.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1))
    for ax, (name, (model, X, y, history)) in zip(axes, results.items()):
        prob = cr.train.predict(model, points).softmax(1)[:, 1].cpu().numpy().reshape(gx.shape)
        ax.contourf(gx, gy, prob, levels=20, cmap="RdBu", alpha=0.6)
        ax.scatter(*X.numpy().T, c=y.numpy(), cmap="RdBu", s=8, edgecolors="k", linewidths=0.3)
        ax.set_title(f"{name}: test accuracy {history['val_accuracy'][-1]:.2f}")
        ax.set_xlim(-6, 6)
        ax.set_ylim(-6, 6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(quick=False, plot_path=None, device="cpu"):
    epochs = 15 if quick else 60
    results = {name: learn(name, epochs, device=device) for name in DATASETS}
    for name, (_, _, _, h) in results.items():
        print(f"{name:<9} train accuracy {h['accuracy'][-1]:.3f}   test accuracy {h['val_accuracy'][-1]:.3f}")
    if plot_path:
        plot(results, plot_path)
        print(f"wrote {plot_path}")
    return {name: h["val_accuracy"][-1] for name, (_, _, _, h) in results.items()}


if __name__ == "__main__":
    from device_option import add_device_option

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (also CHAINRULE_CI=1)")
    parser.add_argument("--plot", default=None, help="write the decision regions to this image")
    add_device_option(parser)
    args = parser.parse_args()
    main(quick=args.quick or os.environ.get("CHAINRULE_CI") == "1", plot_path=args.plot,
         device=args.device)
