# %% [markdown]
# # 3. Backprop in matrix form
#
# A `Linear` layer computes $Y = X W^\top + b$ for a batch $X$ of shape (N, in), weights $W$ of
# shape (out, in) and bias $b$ of shape (out). Given the upstream gradient
# $\delta = \partial L/\partial Y$ of shape (N, out), the chain rule in matrix form gives
#
# $$\frac{\partial L}{\partial W} = \delta^\top X,\qquad
#   \frac{\partial L}{\partial X} = \delta W,\qquad
#   \frac{\partial L}{\partial b} = \textstyle\sum_n \delta_n .$$
#
# Each gradient has the **shape of the thing it is the gradient of** — the quickest check of a
# derivation. Below: the shapes, then a two-layer MLP's whole backward written in NumPy and
# compared with chainrule's, number for number.

# %%
import numpy as np

import chainrule as cr
from chainrule import nn

cr.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## One Linear layer: the Jacobian products and their shapes

# %%
N, n_in, n_out = 5, 4, 3
layer = nn.Linear(n_in, n_out)
X = cr.from_numpy(rng.normal(size=(N, n_in)).astype(np.float32)).requires_grad_()
Y = layer(X)
delta = rng.normal(size=(N, n_out)).astype(np.float32)     # an upstream gradient dL/dY
Y.backward(cr.from_numpy(delta))

W = layer.weight.detach().numpy()
Xn = X.detach().numpy()
by_hand = {"dL/dW": delta.T @ Xn, "dL/dX": delta @ W, "dL/db": delta.sum(axis=0)}
by_autograd = {"dL/dW": layer.weight.grad.numpy(), "dL/dX": X.grad.numpy(), "dL/db": layer.bias.grad.numpy()}
for name in by_hand:
    print(f"{name}: shape {by_hand[name].shape}, max |hand - autograd| = "
          f"{np.abs(by_hand[name] - by_autograd[name]).max():.2e}")
print("shapes of W, X, b:", W.shape, Xn.shape, layer.bias.shape)

# %% [markdown]
# ## A two-layer MLP, backward by hand
# $H = \mathrm{ReLU}(X W_1^\top + b_1)$, scores $S = H W_2^\top + b_2$, loss = mean softmax
# cross-entropy. The backward, layer by layer:
# $\partial L/\partial S = (\mathrm{softmax}(S) - \mathrm{onehot}(y)) / N$;
# then the Linear rule for $W_2, b_2$ and $H$; then the ReLU passes the gradient only where
# its input was positive; then the Linear rule for $W_1, b_1$.

# %%
N, D, Hdim, C = 16, 6, 10, 3
Xb = rng.normal(size=(N, D)).astype(np.float32)
yb = rng.integers(0, C, N)
mlp = nn.Sequential(nn.Linear(D, Hdim), nn.ReLU(), nn.Linear(Hdim, C))
W1, b1 = mlp[0].weight.detach().numpy(), mlp[0].bias.detach().numpy()
W2, b2 = mlp[2].weight.detach().numpy(), mlp[2].bias.detach().numpy()

# forward
Z1 = Xb @ W1.T + b1
H = np.maximum(Z1, 0)
S = H @ W2.T + b2
P = np.exp(S - S.max(axis=1, keepdims=True))
P /= P.sum(axis=1, keepdims=True)
loss_by_hand = -np.log(P[np.arange(N), yb]).mean()

# backward
dS = P.copy()
dS[np.arange(N), yb] -= 1
dS /= N
dW2, db2, dH = dS.T @ H, dS.sum(axis=0), dS @ W2
dZ1 = dH * (Z1 > 0)
dW1, db1 = dZ1.T @ Xb, dZ1.sum(axis=0)

# %% [markdown]
# ## The same with chainrule

# %%
loss = nn.functional.cross_entropy(mlp(cr.from_numpy(Xb)), cr.from_numpy(yb))
loss.backward()
print(f"loss: by hand {loss_by_hand:.6f}, chainrule {loss.item():.6f}")
pairs = {"W1": (dW1, mlp[0].weight), "b1": (db1, mlp[0].bias),
         "W2": (dW2, mlp[2].weight), "b2": (db2, mlp[2].bias)}
for name, (hand, param) in pairs.items():
    diff = np.abs(hand - param.grad.numpy()).max()
    print(f"d loss / d {name}: shape {hand.shape}, max difference {diff:.2e}, "
          f"equal to float32 precision: {np.allclose(hand, param.grad.numpy(), atol=1e-6)}")

# %% [markdown]
# The graph chainrule recorded, summarised by layer:

# %%
cr.viz.draw_graph(loss, module=mlp, max_nodes=10)

# %% [markdown]
# ## Try this
# * Replace the ReLU by a sigmoid in both versions: the hand backward's mask becomes
#   `H * (1 - H)`.
# * Drop the `/ N` in `dS`: every hand gradient is then N times chainrule's (the mean in the loss).
# * Print `dH.shape` and `W2.shape`: why is it `dS @ W2` and not `dS @ W2.T`?
# * Make the batch size 1: the sum over the batch in `db` disappears, the formulas stay the same.
