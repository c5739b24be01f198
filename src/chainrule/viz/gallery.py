"""The lecture's pictures, each made from a real computation: shared by ``chainrule plot`` and
``scripts/make_gallery.py``. Every recipe takes ``quick`` (smaller data and fewer steps, for CI)
and returns what it drew (a ``Graph``, ``Race`` or ``Plot``)."""

import chainrule as cr
import chainrule.nn as nn
import chainrule.optim  # noqa: F401  (cr.optim)
from chainrule.datasets import playground

from . import decision, training
from .activations import plot_activations
from .graph import draw_graph
from .optimizers import optimizer_race, quadratic_bowl


# -- graphs ------------------------------------------------------------------------------------
def lecture_graph(quick=False, engine="auto"):
    """f = (x + y) z at x = -2, y = 5, z = -4: values -2, 5, -4, 3, -12; gradients -4, -4, 3."""
    x = cr.tensor(-2.0, requires_grad=True)
    y = cr.tensor(5.0, requires_grad=True)
    z = cr.tensor(-4.0, requires_grad=True)
    q = x + y
    f = q * z
    return draw_graph(f, names={"x": x, "y": y, "z": z, "q": q, "f": f}, engine=engine)


def neuron_graph(quick=False, engine="auto"):
    """The sigmoid neuron f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), node by node."""
    w0, x0, w1, x1, w2 = (cr.tensor(v, requires_grad=True) for v in (2.0, -1.0, -3.0, -2.0, -3.0))
    f = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
    return draw_graph(f, names={"w0": w0, "x0": x0, "w1": w1, "x1": x1, "w2": w2, "f": f},
                      engine=engine)


def mlp_graph(quick=False, engine="auto"):
    """A 2-16-16-3 classifier's loss, summarised by layer."""
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 3))
    X, y = playground.blobs(8, seed=0)
    loss = nn.functional.cross_entropy(model(X), y)
    return draw_graph(loss, module=model, names={"loss": loss, "X": X}, max_nodes=10,
                      engine=engine)


# -- functions and optimisers ------------------------------------------------------------------
def activations(quick=False):
    return plot_activations(points=101 if quick else 401)


RACES = {
    # name: (surface, steps, optimiser settings): step sizes chosen so each has a story
    "rosenbrock": ("rosenbrock", 500, {
        "SGD": (cr.optim.SGD, {"lr": 1e-3}),
        "Momentum": (cr.optim.SGD, {"lr": 1e-3, "momentum": 0.9}),
        "Nesterov": (cr.optim.SGD, {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
        "RMSprop": (cr.optim.RMSprop, {"lr": 2e-2}),
        "Adam": (cr.optim.Adam, {"lr": 0.1})}),
    "bowl": (quadratic_bowl(20.0), 80, {
        "SGD": (cr.optim.SGD, {"lr": 0.04}),
        "Momentum": (cr.optim.SGD, {"lr": 0.04, "momentum": 0.8}),
        "Nesterov": (cr.optim.SGD, {"lr": 0.04, "momentum": 0.8, "nesterov": True}),
        "RMSprop": (cr.optim.RMSprop, {"lr": 0.1}),
        "Adam": (cr.optim.Adam, {"lr": 0.3})}),
    "saddle": ("saddle", 60, {
        "SGD": (cr.optim.SGD, {"lr": 0.02}),
        "Momentum": (cr.optim.SGD, {"lr": 0.02, "momentum": 0.9}),
        "Nesterov": (cr.optim.SGD, {"lr": 0.02, "momentum": 0.9, "nesterov": True}),
        "RMSprop": (cr.optim.RMSprop, {"lr": 0.05}),
        "Adam": (cr.optim.Adam, {"lr": 0.1})}),
    "beale": ("beale", 500, {
        "SGD": (cr.optim.SGD, {"lr": 1e-3}),
        "Momentum": (cr.optim.SGD, {"lr": 1e-3, "momentum": 0.9}),
        "Adagrad": (cr.optim.Adagrad, {"lr": 0.3}),
        "RMSprop": (cr.optim.RMSprop, {"lr": 1e-2}),
        "Adam": (cr.optim.Adam, {"lr": 5e-2})}),
    "himmelblau": ("himmelblau", 150, {
        "SGD": (cr.optim.SGD, {"lr": 5e-3}),
        "Momentum": (cr.optim.SGD, {"lr": 2e-3, "momentum": 0.9}),
        "RMSprop": (cr.optim.RMSprop, {"lr": 5e-2}),
        "Adam": (cr.optim.Adam, {"lr": 0.2})}),
}


def race(name="rosenbrock", quick=False):
    surface, steps, specs = RACES[name]
    return optimizer_race(surface, specs, steps=max(steps // 10, 10) if quick else steps)


# -- training ----------------------------------------------------------------------------------
def _mlp(hidden, out, act=nn.Tanh, inputs=2):
    layers, prev = [], inputs
    for h in hidden:
        layers += [nn.Linear(prev, h), act()]
        prev = h
    return nn.Sequential(*layers, nn.Linear(prev, out))


def _fit(model, X, y, steps, lr=0.03):
    opt = cr.optim.Adam(model.parameters(), lr=lr)
    training.train_steps(model, X, y, training.default_loss(y), opt, steps)
    return model


def lr_sweep(quick=False):
    """A small regression net on the playground's 'plane' data, four learning rates."""
    X, y = playground.plane(80 if quick else 200, noise=0.1, seed=0)
    return training.lr_sweep(lambda: _mlp([8], 1), (X / 6, y * 2), [0.003, 0.05, 0.4, 2.5],
                             steps=40 if quick else 150, title="Training loss (MSE) at four "
                             "learning rates, SGD")


def xor_model(quick=False):
    X, y = playground.xor(120 if quick else 400, seed=1)
    X = X / 5
    cr.manual_seed(0)
    model = _fit(_mlp([8, 2], 2), X, y, 80 if quick else 400)
    return model, X, y


def decision_xor(quick=False, discretize=False):
    model, X, y = xor_model(quick)
    return decision.plot_decision_boundary(
        model, X, y, discretize=discretize, resolution=60 if quick else 200,
        title="XOR: " + ("decision regions" if discretize else "probability of each class"))


def decision_spirals(quick=False):
    X, y = playground.spirals(150 if quick else 300, k=3, noise=0.05, seed=2)
    X = X / 5
    cr.manual_seed(0)
    model = _fit(_mlp([32, 32], 3, nn.ReLU), X, y, 100 if quick else 600, lr=0.01)
    return decision.plot_decision_boundary(model, X, y, resolution=60 if quick else 200,
                                           title="Three spirals, 2-32-32-3 ReLU network")


def decision_regression(quick=False):
    X, y = playground.multi_gaussian(120 if quick else 400, seed=3)
    X = X / 5
    cr.manual_seed(0)
    model = _fit(_mlp([16, 16], 1), X, y, 80 if quick else 600, lr=0.01)
    return decision.plot_decision_boundary(model, X, y, resolution=60 if quick else 200,
                                           title="Regression: prediction over the plane")


def hidden_xor(quick=False):
    model, X, y = xor_model(quick)
    return decision.plot_hidden_representation(model, "3", X, y,
                                               resolution=60 if quick else 150,
                                               title="XOR through a 2-8-2-2 tanh network")


def history(quick=False):
    """A too-large network on few noisy points: validation loss turns up, early stopping."""
    X, y = playground.spiral(120 if quick else 300, noise=0.35, seed=4)
    X = X / 5
    cut = len(X) // 2
    cr.manual_seed(0)
    model = _mlp([64, 64], 2, nn.ReLU)
    stopper = cr.train.EarlyStopping(patience=10 if quick else 25, restore_best_weights=True)
    h = cr.train.fit(model, nn.functional.cross_entropy,
                     cr.optim.Adam(model.parameters(), lr=0.01), (X[:cut], y[:cut]),
                     epochs=30 if quick else 300, val_data=(X[cut:], y[cut:]),
                     metrics=["accuracy"], callbacks=[stopper], progress=False, batch_size=32)
    return training.plot_history(h, early_stopping=stopper,
                                 title="Noisy spiral: training vs validation, early stopping")


def _deep(act, init=None, batch_norm=False, depth=8, width=32):
    layers, prev = [], 2
    for _ in range(depth):
        lin = nn.Linear(prev, width)
        if init is not None:
            init(lin.weight)
            nn.init.zeros_(lin.bias)
        layers.append(lin)
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(act())
        prev = width
    return nn.Sequential(*layers, nn.Linear(prev, 2))


def gradient_flow(quick=False):
    X, y = playground.circle(100 if quick else 300, seed=5)
    cr.manual_seed(0)
    return training.gradient_flow(_deep(nn.Sigmoid), X / 5, y, steps=15 if quick else 100,
                                  lr=0.5, title="Gradient flow in an 8-layer sigmoid network")


def gradient_flow_comparison(quick=False):
    X, y = playground.circle(100 if quick else 300, seed=5)
    xavier = nn.init.xavier_uniform_

    def he(w):
        return nn.init.kaiming_normal_(w, nonlinearity="relu")
    fns = {
        "sigmoid, default init": lambda: _deep(nn.Sigmoid),
        "sigmoid, Xavier init": lambda: _deep(nn.Sigmoid, xavier),
        "sigmoid + batch norm": lambda: _deep(nn.Sigmoid, batch_norm=True),
        "ReLU, default init": lambda: _deep(nn.ReLU),
        "ReLU, He init": lambda: _deep(nn.ReLU, he),
    }
    return training.compare_gradient_flow(fns, X / 5, y, steps=5 if quick else 30, lr=0.05,
                                          title="Vanishing gradients: 8 layers of 32 units")


RECIPES = {
    "graph": lecture_graph, "neuron": neuron_graph, "mlp-graph": mlp_graph,
    "activations": activations, "race": race, "lr-sweep": lr_sweep,
    "boundary": decision_xor, "spirals": decision_spirals, "regression": decision_regression,
    "hidden": hidden_xor, "history": history, "gradient-flow": gradient_flow,
    "gradient-comparison": gradient_flow_comparison,
}
