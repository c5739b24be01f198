# %% [markdown]
# # 8. Regularisation
#
# A model that fits its training data but not new data **overfits** (train loss low, test loss
# high); one too simple for the data **underfits** (both high). Regularisers trade a little
# training fit for generalisation: **L2** (weight decay) and **L1** penalties on the weights,
# **dropout** (randomly zeroing units while training), **max-norm** (capping each unit's weight
# vector), **early stopping** (keep the weights of the best validation epoch), and **data
# augmentation** (more varied training examples). **Gradient clipping** is the guard against
# **exploding** gradients.

# %%
import numpy as np

import chainrule as cr
from chainrule import nn
from course_helpers import pick, load_digits
import matplotlib.pyplot as plt

EPOCHS = pick(150, 15)

# %% [markdown]
# ## Over- and under-fitting
# Few, noisy points (the Playground's spiral) and three sizes of network.

# %%
X, y = cr.datasets.spiral(n=pick(200, 100), noise=0.6, seed=0)
X_train, X_test, y_train, y_test = cr.datasets.train_test_split(X, y, ratio=0.5, seed=0)


def mlp(width, depth, dropout=0.0):
    layers, n = [], 2
    for _ in range(depth):
        layers += [nn.Linear(n, width), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
        n = width
    return nn.Sequential(*layers, nn.Linear(n, 2))


def run(model, weight_decay=0.0, l1=0.0, max_norm=None, callbacks=()):
    opt = cr.optim.Adam(model.parameters(), lr=0.01, weight_decay=weight_decay)
    extra = []
    if l1:
        base = nn.CrossEntropyLoss()
        loss_fn = lambda out, t: base(out, t) + l1 * nn.utils.l1_penalty(model)
    else:
        loss_fn = nn.CrossEntropyLoss()
    if max_norm:
        extra.append(cr.train.LambdaCallback(
            on_batch_end=lambda *a, **k: nn.utils.max_norm_(model, max_norm)))
    cr.manual_seed(0)
    return cr.train.fit(model, loss_fn, opt, (X_train, y_train), val_data=(X_test, y_test),
                        epochs=EPOCHS, batch_size=25, metrics=["accuracy"],
                        callbacks=list(callbacks) + extra, progress=False)


cr.manual_seed(0)
histories = {"underfit: 1 layer of 2": run(mlp(2, 1)),
             "overfit: 3 layers of 128": run(mlp(128, 3))}
for label, h in histories.items():
    print(f"{label:<26} train acc {h['accuracy'][-1]:.3f}  test acc {h['val_accuracy'][-1]:.3f}  "
          f"train loss {h['loss'][-1]:.3f}  test loss {h['val_loss'][-1]:.3f}")
cr.viz.plot_history(histories["overfit: 3 layers of 128"], title="overfitting: the test loss turns up")

# %% [markdown]
# ## The regularisers side by side
# The same big network with each regulariser; the gap between training and test accuracy is
# the overfitting.

# %%
cr.manual_seed(0)
variants = {
    "none": lambda: run(mlp(128, 3)),
    "L2 (weight_decay=1e-3)": lambda: run(mlp(128, 3), weight_decay=1e-3),
    "L1 (1e-4 * sum |w|)": lambda: run(mlp(128, 3), l1=1e-4),
    "dropout 0.3": lambda: run(mlp(128, 3, dropout=0.3)),
    "max-norm 1.0": lambda: run(mlp(128, 3), max_norm=1.0),
}
for label, go in variants.items():
    cr.manual_seed(0)
    h = go()
    gap = h["accuracy"][-1] - h["val_accuracy"][-1]
    print(f"{label:<24} train {h['accuracy'][-1]:.3f}  test {h['val_accuracy'][-1]:.3f}  gap {gap:+.3f}")

# %% [markdown]
# Max-norm's promise, checked: every hidden unit's incoming weight vector has norm at most 1.

# %%
cr.manual_seed(0)
capped = mlp(128, 3)
run(capped, max_norm=1.0)
norms = np.linalg.norm(capped[2].weight.detach().numpy(), axis=1)
print(f"largest row norm of layer 2: {norms.max():.4f}")

# %% [markdown]
# ## Early stopping
# Stop when the validation loss has not improved for `patience` epochs and restore the best weights.

# %%
cr.manual_seed(0)
stopper = cr.train.EarlyStopping(patience=25, restore_best_weights=True)
h = run(mlp(128, 3), callbacks=[stopper])
print(f"stopped after {len(h['loss'])} of {EPOCHS} epochs; best validation loss {min(h['val_loss']):.4f} "
      f"at epoch {int(np.argmin(h['val_loss'])) + 1}")
cr.viz.plot_history(h, early_stopping=stopper)

# %% [markdown]
# ## Data augmentation
# Random rotations and shifts make new training digits from old ones.

# %%
from chainrule.vision import transforms

X_digits, y_digits, _, _, source = load_digits(8, 1)
augment = transforms.RandomAffine(degrees=15, translate=(0.1, 0.1))
cr.manual_seed(0)
fig, axes = plt.subplots(2, 8, figsize=(8, 2.2))
for j in range(8):
    axes[0, j].imshow(X_digits[j, 0].numpy(), cmap="gray")
    axes[1, j].imshow(augment(X_digits[j]).numpy()[0], cmap="gray")
for ax in axes.flat:
    ax.axis("off")
fig.suptitle(f"{source}: originals (top), augmented (bottom)")
plt.show()

# %% [markdown]
# ## Exploding gradients and clipping
# A deep stack with large weights multiplies the gradient at every layer; `clip_grad_norm_`
# rescales the whole gradient to a fixed norm before the step.

# %%
cr.manual_seed(0)
deep = nn.Sequential(*[m for _ in range(12) for m in (nn.Linear(16, 16), nn.Identity())])
for m in deep:
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, 0, 0.6)
loss = deep(cr.randn(8, 16)).pow(2).mean()
loss.backward()
before = float(nn.utils.clip_grad_norm_(deep.parameters(), max_norm=1.0))
after = float(nn.utils.get_total_norm([p.grad for p in deep.parameters()]))
print(f"total gradient norm before clipping: {before:.3g}, after: {after:.3g}")

# %% [markdown]
# ## Try this
# * Raise the spiral's `noise`: the over-fitting gap widens; with `noise=0` it nearly vanishes.
# * Try `weight_decay=1e-2` and `dropout 0.5`: too much regularisation underfits.
# * Set `patience=3`: early stopping fires sooner — too soon?
# * Replace `nn.init.normal_(m.weight, 0, 0.6)` by `0.2`: the gradient vanishes instead.
