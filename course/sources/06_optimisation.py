# %% [markdown]
# # 6. Optimisation
#
# Gradient descent steps against the gradient: $\theta \leftarrow \theta - \eta \nabla L$.
# **Mini-batch SGD** estimates $\nabla L$ from a few examples. **Momentum** accumulates a
# velocity $v \leftarrow \mu v + \nabla L$ and steps along it, so it speeds through long valleys
# but **overshoots**; **Nesterov** evaluates the gradient at the look-ahead point and overshoots
# less. **Adagrad** divides each coordinate's step by the root of its summed squared gradients,
# **RMSProp** by a moving average of them (so the step does not decay to zero), **Adadelta**
# also rescales by past step sizes (no learning rate needed), and **Adam** combines momentum with
# RMSProp's scaling, with bias correction.

# %%
import numpy as np

import chainrule as cr
from chainrule import nn
from course_helpers import pick

STEPS = pick(150, 25)

# %% [markdown]
# ## The race on an ill-conditioned bowl
# $f(x, y)$ is 20 times steeper in one direction: plain SGD zig-zags, momentum overshoots.

# %%
optimizers = cr.viz.lecture_optimizers(lr=0.01)
optimizers.update({"Adagrad": (cr.optim.Adagrad, {"lr": 0.5}), "Adadelta": (cr.optim.Adadelta, {"lr": 1.0})})
race = cr.viz.optimizer_race(cr.viz.quadratic_bowl(20), optimizers, steps=STEPS)
for label, losses in race.losses.items():
    print(f"{label:<9} loss after {STEPS} steps: {float(losses[-1]):.4g}")
race

# %% [markdown]
# Momentum's overshoot, measured: how far past the minimum (0 on this bowl) its first
# coordinate goes, against plain SGD's.

# %%
for label in ("SGD", "Momentum", "Nesterov"):
    path = race.trajectories[label]
    start_sign = np.sign(path[0, 0])
    overshoot = max(0.0, float(-(start_sign * path[:, 0]).min()))
    print(f"{label:<9} largest overshoot past the minimum along x: {overshoot:.3f}")

# %% [markdown]
# ## The Rosenbrock valley

# %%
cr.viz.optimizer_race("rosenbrock", cr.viz.lecture_optimizers(lr=pick(2e-3, 2e-3)), steps=pick(300, 40))

# %% [markdown]
# ## Learning rate: too small, right, too large
# The same network from the same initial weights, trained at each rate; each run gets a verdict.

# %%
X, y = cr.datasets.xor(n=pick(200, 80), seed=0)


def make_model():
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))


sweep = cr.viz.lr_sweep(make_model, (X, y), lrs=[0.001, 0.1, 1.0, 50.0], steps=pick(100, 20),
                        loss_fn=nn.CrossEntropyLoss())
print("verdicts:", sweep.verdicts)
sweep

# %% [markdown]
# ## Mini-batches
# Smaller batches take more, noisier steps per epoch. Final training loss after the same number
# of epochs, for three batch sizes:

# %%
for batch_size in (1, 16, len(X)):
    cr.manual_seed(0)
    model = make_model()
    history = cr.train.fit(model, nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.1),
                           (X, y), epochs=pick(20, 3), batch_size=batch_size, progress=False)
    steps = pick(20, 3) * -(-len(X) // batch_size)
    print(f"batch size {batch_size:>3}: {steps:>5} steps, final loss {history['loss'][-1]:.4f}")

# %% [markdown]
# ## Learning-rate schedules
# The rate each schedule gives, epoch by epoch:

# %%
import matplotlib.pyplot as plt

EPOCHS = 60
schedules = {
    "StepLR(step_size=20, gamma=0.5)": lambda o: cr.optim.lr_scheduler.StepLR(o, step_size=20, gamma=0.5),
    "ExponentialLR(gamma=0.95)": lambda o: cr.optim.lr_scheduler.ExponentialLR(o, gamma=0.95),
    "CosineAnnealingLR(T_max=60)": lambda o: cr.optim.lr_scheduler.CosineAnnealingLR(o, T_max=EPOCHS),
}
fig, ax = plt.subplots(figsize=(6, 3.5))
for label, make in schedules.items():
    opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
    sched, rates = make(opt), []
    for _ in range(EPOCHS):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    ax.plot(rates, label=label)
    print(f"{label:<32} lr at epoch 0, 30, 59: {rates[0]:.4f} {rates[30]:.4f} {rates[59]:.4f}")
ax.set_xlabel("epoch")
ax.set_ylabel("learning rate")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Try this
# * `cr.viz.optimizer_race("saddle", ...)`: which optimisers escape the saddle point, and how fast?
# * Raise Momentum's `momentum` to 0.99 (`(cr.optim.SGD, {"lr": 0.01, "momentum": 0.99})`): the
#   overshoot grows.
# * Put `lrs=[0.3, 3.0, 10.0]` in the sweep: where does "best" turn into "unstable"?
# * Adadelta starts with tiny steps (its running averages start at zero): give the race
#   `steps=1000` and see it arrive.
# * Pass `scheduler=` to `cr.train.fit` with one of the schedules above.
