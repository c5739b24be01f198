"""XOR: why hidden layers matter.

1. A single perceptron (one Linear layer + sigmoid) cannot separate XOR: at most 3 of 4 points.
2. One hidden layer of tanh units solves it.
3. The lecture's trick: add the product feature x1*x2; then ONE linear layer is enough, because
   XOR(x1, x2) = x1 + x2 - 2 x1 x2 is linear in (x1, x2, x1 x2).

Run:  python examples/xor.py [--quick] [--device cpu|cuda]
"""
import argparse
import os

import chainrule as cr
from chainrule import nn

X = cr.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = cr.tensor([[0.0], [1.0], [1.0], [0.0]])


def train(model, inputs, epochs, lr, device="cpu"):
    model.to(device)     # fit() moves each batch to the model's device
    optimizer = cr.optim.Adam(model.parameters(), lr=lr)
    history = cr.train.fit(model, nn.BCEWithLogitsLoss(), optimizer, (inputs, Y), epochs=epochs,
                           batch_size=4, shuffle=False, metrics=["accuracy"], progress=False)
    return history["accuracy"][-1], history["loss"][-1]


def main(quick=False, device="cpu"):
    epochs = 300 if quick else 1000
    cr.manual_seed(0)
    results = {}
    results["perceptron"] = train(nn.Linear(2, 1), X, epochs, lr=0.1, device=device)
    results["hidden layer"] = train(nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)),
                                    X, epochs, lr=0.1, device=device)
    with_product = cr.cat([X, X[:, :1] * X[:, 1:]], dim=1)          # (x1, x2, x1*x2)
    results["perceptron + x1*x2"] = train(nn.Linear(3, 1), with_product, epochs, lr=0.1,
                                             device=device)
    for name, (acc, loss) in results.items():
        print(f"{name:<20} accuracy {acc:.2f}   loss {loss:.4f}")
    return results


if __name__ == "__main__":
    from device_option import add_device_option

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (also CHAINRULE_CI=1)")
    add_device_option(parser)
    args = parser.parse_args()
    main(quick=args.quick or os.environ.get("CHAINRULE_CI") == "1", device=args.device)
