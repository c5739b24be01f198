"""Regression: fit the playground's multi-Gaussian surface, and a line through noisy data.

1. A straight line y = 2x - 1 with Gaussian noise, learned by one Linear layer with SGD: the
   learned slope and intercept come out close to 2 and -1.
2. The playground's "multi_gaussian" surface (six signed bumps) learned by a tanh network,
   scored with RMSE and R^2 on held-out points.

Run:  python examples/regression.py [--quick] [--device cpu|cuda]
"""
import argparse
import os

import chainrule as cr
from chainrule import nn


def fit_line(epochs, device="cpu"):
    cr.manual_seed(0)
    x = cr.rand(200, 1) * 4 - 2
    y = 2 * x - 1 + 0.1 * cr.randn(200, 1)
    model = nn.Linear(1, 1).to(device)     # fit() moves each batch to the model's device
    cr.train.fit(model, nn.MSELoss(), cr.optim.SGD(model.parameters(), lr=0.1), (x, y),
                 epochs=epochs, batch_size=20, progress=False)
    slope, intercept = model.weight.item(), model.bias.item()
    print(f"line: learned y = {slope:.3f} x {intercept:+.3f}   (true: y = 2 x - 1)")
    return slope, intercept


def fit_surface(epochs, device="cpu"):
    X, t = cr.datasets.multi_gaussian(n=1000, noise=0.0, seed=2)
    X_train, X_test, t_train, t_test = cr.datasets.train_test_split(X, t, ratio=0.75, seed=0)
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                          nn.Linear(32, 1), nn.Flatten(0)).to(device)
    optimizer = cr.optim.Adam(model.parameters(), lr=0.01)
    scheduler = cr.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=5, factor=0.5)
    history = cr.train.fit(model, nn.MSELoss(), optimizer, (X_train, t_train), epochs=epochs,
                           batch_size=32, val_data=(X_test, t_test), scheduler=scheduler,
                           metrics=["rmse", "r2"], progress=False,
                           callbacks=[cr.train.EarlyStopping(patience=25, restore_best_weights=True)])
    result = cr.train.evaluate(model, (X_test, t_test), nn.MSELoss(), metrics=["mae", "rmse", "r2"])
    print(f"multi_gaussian: {len(history)} epochs, test MAE {result['mae']:.4f}, "
          f"RMSE {result['rmse']:.4f}, R^2 {result['r2']:.4f}")
    return result


def main(quick=False, device="cpu"):
    line = fit_line(10 if quick else 50, device)
    surface = fit_surface(15 if quick else 200, device)
    return {"slope": line[0], "intercept": line[1], **surface}


if __name__ == "__main__":
    from device_option import add_device_option

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (also CHAINRULE_CI=1)")
    add_device_option(parser)
    args = parser.parse_args()
    main(quick=args.quick or os.environ.get("CHAINRULE_CI") == "1", device=args.device)
