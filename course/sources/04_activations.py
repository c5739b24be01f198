# %% [markdown]
# # 4. Activation functions
#
# Without a nonlinearity, stacked layers collapse into one linear map. The lectures' list:
# **sigmoid** $1/(1+e^{-x})$, **tanh**, **ReLU** $\max(0, x)$, **Leaky ReLU** $\max(\alpha x, x)$,
# **ELU**, **softplus** $\log(1 + e^x)$ and **maxout** $\max_k (w_k^\top x + b_k)$.
# What matters for learning is the **derivative**: backprop multiplies by it at every layer.
# Where it is near zero the unit is **saturated** and passes almost no gradient back; a ReLU
# whose input is negative for every example is **dead** (gradient exactly zero).

# %%
import numpy as np

import chainrule as cr
from chainrule import nn
from course_helpers import pick

cr.manual_seed(0)

# %% [markdown]
# ## The functions and their derivatives (computed by backward)
# Grey bands: saturated regions, where $|f'|$ is below 10% of its maximum.

# %%
names = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]
plot = cr.viz.plot_activations(names, points=pick(401, 101), ncols=3)
for name in names:
    d = plot.derivatives[name]
    print(f"{name:<11} largest derivative {d.max():.3f}   saturated on {plot.saturated[name].mean():.0%} of [-5, 5]")
plot

# %% [markdown]
# The sigmoid's derivative never exceeds the number printed above, so through $L$ sigmoid
# layers the gradient shrinks by at least that factor to the power $L$:

# %%
top = float(plot.derivatives["sigmoid"].max())
for depth in (2, 5, 10):
    print(f"{depth:>2} sigmoid layers: gradient scaled by at most {top ** depth:.2e}")

# %% [markdown]
# ## Maxout
# A maxout unit takes the maximum of $k$ linear pieces; with two pieces $(x, -x)$ it is $|x|$,
# with $(x, 0)$ it is a ReLU — it *learns* its activation.

# %%
maxout = nn.Maxout(1, 1, pieces=2)
x = cr.linspace(-2, 2, 5).reshape(-1, 1)
for pieces_w, meaning in (([[1.0], [-1.0]], "pieces x, -x: |x|"), ([[1.0], [0.0]], "pieces x, 0: ReLU")):
    with cr.no_grad():
        maxout.weight.copy_(cr.tensor(pieces_w))
        maxout.bias.zero_()
        print(f"{meaning:<20} maxout(x) for x = {x.flatten().tolist()} -> "
              f"{[round(v, 3) for v in maxout(x).flatten().tolist()]}")

# %% [markdown]
# ## Saturation and dead units on a deep net
# `DEPTH` layers of `WIDTH` units on the Playground's circle data; we measure, after the forward pass,
# the fraction of sigmoid units in their saturated region and the fraction of ReLU units that
# output zero for *every* example (dead).

# %%
X, y = cr.datasets.circle(n=pick(400, 100), seed=0)
DEPTH, WIDTH = 10, 32


def deep(act, std=None):
    layers, width_in = [], 2
    for _ in range(DEPTH):
        linear = nn.Linear(width_in, WIDTH)
        if std is not None:
            nn.init.normal_(linear.weight, 0.0, std)
        layers += [linear, act()]
        width_in = WIDTH
    return nn.Sequential(*layers, nn.Linear(WIDTH, 2))


def activations(model, X):
    outs, h = [], X
    with cr.no_grad():
        for module in model:
            h = module(h)
            if not isinstance(module, nn.Linear):
                outs.append(h.numpy())
    return outs


sig = activations(deep(nn.Sigmoid, std=1.0), X)
saturated = [float(((a < 0.05) | (a > 0.95)).mean()) for a in sig]
relu = activations(deep(nn.ReLU, std=0.5), X)
dead = [float((a.max(axis=0) == 0).mean()) for a in relu]
print("sigmoid, N(0, 1) weights: saturated fraction per layer", [f"{s:.2f}" for s in saturated])
print("ReLU, N(0, 0.5) weights:  dead fraction per layer     ", [f"{d:.2f}" for d in dead])

# %% [markdown]
# ## Gradient flow per layer
# The mean $\|\partial L/\partial W\|$ of each layer during a short training: sigmoid's falls
# towards the input by many orders of magnitude, ReLU's far less.

# %%
flow = cr.viz.compare_gradient_flow(
    {"sigmoid": lambda: deep(nn.Sigmoid), "tanh": lambda: deep(nn.Tanh), "ReLU": lambda: deep(nn.ReLU)},
    X, y, steps=pick(30, 5), lr=0.1)
for label, norms in flow.norms.items():
    mean = np.nanmean(norms, axis=0)
    print(f"{label:<8} first layer / last layer gradient norm: {mean[0] / mean[-1]:.2e}")
flow

# %% [markdown]
# ## Try this
# * Give the sigmoid net `std=0.1`: fewer units saturate (why? look at the plot's grey bands).
# * Raise the ReLU net's `std` to 1.0 and then lower it to 0.1: how does the dead fraction move?
# * Add `nn.LeakyReLU` and `nn.ELU` to the gradient-flow comparison: no unit can die.
# * Increase `DEPTH` to 20: sigmoid's first-to-last ratio shrinks roughly geometrically.
