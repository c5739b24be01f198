# %% [markdown]
# # 7. Initialisation and normalisation
#
# The starting weights decide whether a deep network can train at all:
#
# * **zeros** (or any constant): every unit of a layer computes the same thing and receives the
#   same gradient — the **symmetry** is never broken;
# * **too large** random weights: tanh/sigmoid units saturate, activations explode or gradients vanish;
# * **Xavier/Glorot**: $\mathrm{Var}(w) = 2 / (n_\text{in} + n_\text{out})$ keeps the variance of
#   tanh activations roughly constant from layer to layer;
# * **He/Kaiming**: $\mathrm{Var}(w) = 2 / n_\text{in}$ does the same for ReLU, which zeroes half
#   its inputs.
#
# **Batch normalisation** re-centres and re-scales each unit over the batch, so the next layer
# sees activations of a steady size whatever the weights do.

# %%
import numpy as np

import chainrule as cr
from chainrule import nn
from course_helpers import pick
import matplotlib.pyplot as plt

cr.manual_seed(0)

# %% [markdown]
# ## A constant: symmetry is never broken
# All weights 0.3 (with exact zeros the output layer's weights are 0 too, so the hidden layer
# receives no gradient at all). Every hidden unit starts equal, gets the same gradient, and
# stays equal to the others.

# %%
X, y = cr.datasets.circle(n=pick(300, 100), seed=0)
model = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 2))
for layer in (model[0], model[2]):
    nn.init.constant_(layer.weight, 0.3)
    nn.init.zeros_(layer.bias)
history = cr.train.fit(model, nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.5),
                       (X, y), epochs=pick(30, 5), metrics=["accuracy"], progress=False)
W = model[0].weight.detach().numpy()
print("hidden units' weight rows after training:\n", W.round(4))
print("largest difference between any two rows:", float(np.abs(W - W[0]).max()))
print("training accuracy:", round(history["accuracy"][-1], 3))

# %% [markdown]
# ## Activations through a deep net, by initialisation
# `DEPTH` layers of `WIDTH` units on random inputs; the standard deviation of each layer's output.

# %%
DEPTH, WIDTH = 10, pick(256, 64)
inputs = cr.randn(pick(500, 100), WIDTH)


def layer_stds(activation, init):
    h, stds = inputs, []
    with cr.no_grad():
        for _ in range(DEPTH):
            linear = nn.Linear(WIDTH, WIDTH)
            init(linear.weight)
            nn.init.zeros_(linear.bias)
            h = activation(linear(h))
            stds.append(float(h.std()))
    return stds


cases = {
    "tanh, N(0, 0.01)": (cr.tanh, lambda w: nn.init.normal_(w, 0, 0.01)),
    "tanh, N(0, 1)": (cr.tanh, lambda w: nn.init.normal_(w, 0, 1.0)),
    "tanh, Xavier": (cr.tanh, nn.init.xavier_normal_),
    "ReLU, Xavier": (cr.relu, nn.init.xavier_normal_),
    "ReLU, He": (cr.relu, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
}
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for label, (act, init) in cases.items():
    stds = layer_stds(act, init)
    ax.plot(range(1, DEPTH + 1), stds, "o-", label=label)
    print(f"{label:<18} std at layer 1: {stds[0]:.3g}   at layer {DEPTH}: {stds[-1]:.3g}")
ax.set_yscale("log")
ax.set_xlabel("layer")
ax.set_ylabel("std of activations")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# With tanh and $N(0, 1)$ the units saturate: the fraction of outputs beyond $|0.99|$ at the
# last layer:

# %%
h = inputs
with cr.no_grad():
    for _ in range(DEPTH):
        linear = nn.Linear(WIDTH, WIDTH)
        nn.init.normal_(linear.weight, 0, 1.0)
        h = cr.tanh(linear(h))
print(f"saturated tanh units: {float((h.abs() > 0.99).float().mean()):.0%}")

# %% [markdown]
# ## Batch norm on a deep sigmoid net
# Eight sigmoid layers train slowly (notebook 4's vanishing gradient); the same with
# `BatchNorm1d` after each Linear trains much faster.

# %%
def deep_sigmoid(batch_norm):
    layers, n = [], 2
    for _ in range(8):
        layers += [nn.Linear(n, 16)] + ([nn.BatchNorm1d(16)] if batch_norm else []) + [nn.Sigmoid()]
        n = 16
    return nn.Sequential(*layers, nn.Linear(16, 2))


curves = {}
for batch_norm in (False, True):
    cr.manual_seed(0)
    model = deep_sigmoid(batch_norm)
    history = cr.train.fit(model, nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.5),
                           (X, y), epochs=pick(40, 6), batch_size=32, metrics=["accuracy"], progress=False)
    curves["with batch norm" if batch_norm else "without"] = history["loss"]
    print(f"{'with' if batch_norm else 'without':<7} batch norm: final loss {history['loss'][-1]:.4f}, "
          f"accuracy {history['accuracy'][-1]:.3f}")
fig, ax = plt.subplots(figsize=(6, 3.5))
for label, loss in curves.items():
    ax.plot(loss, label=label)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.legend()
plt.show()

# %% [markdown]
# ## Try this
# * Initialise the zeros model with `nn.init.normal_(w, 0, 0.3)` instead: the rows differ and
#   accuracy rises.
# * Change `N(0, 0.01)` to `N(0, 0.1)` and watch when the activations stop vanishing.
# * Use `cr.relu` with `N(0, 1)`: the activations explode instead.
# * Remove the sigmoid and keep only BatchNorm: what does the network compute now?
