# %% [markdown]
# # 5. Losses and probabilities
#
# A classifier's output is read as a probability distribution $q$ over classes (the **softmax**
# of its scores); the data gives the true distribution $p$ (one-hot for a label). The lectures
# connect three quantities:
#
# * **entropy** $H(p) = -\sum_i p_i \log p_i$: the uncertainty of $p$ itself;
# * **cross-entropy** $H(p, q) = -\sum_i p_i \log q_i$: the loss we minimise;
# * **KL divergence** $\mathrm{KL}(p\,\|\,q) = \sum_i p_i \log (p_i / q_i) \ge 0$,
#
# with $H(p, q) = H(p) + \mathrm{KL}(p\,\|\,q)$: minimising cross-entropy minimises the KL
# divergence, since $H(p)$ does not depend on the model. And why not **MSE** for classification?
# Because through a sigmoid its gradient vanishes exactly when the model is confidently wrong.

# %%
import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
import matplotlib.pyplot as plt

# %% [markdown]
# ## Softmax
# $\mathrm{softmax}(s)_i = e^{s_i} / \sum_j e^{s_j}$. Adding a constant to every score changes
# nothing, which is how it is computed stably (subtract the maximum).

# %%
scores = cr.tensor([2.0, 1.0, 0.1])
q = F.softmax(scores, dim=0)
print("softmax:", [round(v, 4) for v in q.tolist()], " sums to", round(q.sum().item(), 6))
shifted = F.softmax(scores + 1000, dim=0)
print("scores + 1000: largest change in the softmax", float((shifted - q).abs().max()))
with np.errstate(over="ignore"):
    naive = np.exp(np.array([1002.0, 1001.0, 1000.1], np.float32))
print("the naive formula at scores + 1000 overflows to:", naive)

# %% [markdown]
# ## H(p, q) = H(p) + KL(p || q), checked numerically

# %%
p = cr.tensor([0.7, 0.2, 0.1])
H_p = -(p * p.log()).sum()
H_pq = -(p * q.log()).sum()
KL = (p * (p / q).log()).sum()
print(f"H(p) = {H_p.item():.6f}   H(p, q) = {H_pq.item():.6f}   KL(p || q) = {KL.item():.6f}")
print(f"H(p) + KL(p || q) - H(p, q) = {(H_p + KL - H_pq).item():.2e}")
# F.kl_div takes log q as input and p as target, as in PyTorch
print(f"F.kl_div gives the same KL: {F.kl_div(q.log(), p, reduction='sum').item():.6f}")
print(f"KL(q || p) = {(q * (q / p).log()).sum().item():.6f}: KL is not symmetric")

# %% [markdown]
# With a one-hot $p$ (a label), $H(p) = 0$ and the cross-entropy is $-\log q_{\text{label}}$,
# which is what `F.cross_entropy` computes from the scores:

# %%
label = 0
print(f"-log softmax(s)[label] = {-q.log()[label].item():.6f}")
print(f"F.cross_entropy        = {F.cross_entropy(scores.reshape(1, -1), cr.tensor([label])).item():.6f}")

# %% [markdown]
# ## MSE versus cross-entropy through a sigmoid
# One output $\hat y = \sigma(z)$, true label $y = 1$. The gradient with respect to the score
# $z$: for cross-entropy it is $\hat y - y$, for MSE $(\hat y - y)\,\hat y (1 - \hat y)$ — the
# sigmoid's derivative appears and kills it when the model is confidently wrong ($z \ll 0$).

# %%
z = cr.linspace(-8, 8, 161, requires_grad=True)
target = cr.ones(161)
F.binary_cross_entropy_with_logits(z, target, reduction="sum").backward()
grad_ce = z.grad.numpy().copy()
z.grad = None
(0.5 * (cr.sigmoid(z) - target) ** 2).sum().backward()
grad_mse = z.grad.numpy()
i = 0   # z = -8: confidently wrong
print(f"at z = {z[i].item():.0f} (prediction {cr.sigmoid(z[i]).item():.4f}, label 1):")
print(f"  |d CE / dz|  = {abs(grad_ce[i]):.4f}")
print(f"  |d MSE / dz| = {abs(grad_mse[i]):.6f}  ({abs(grad_ce[i]) / abs(grad_mse[i]):.0f} times smaller)")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(z.detach().numpy(), np.abs(grad_ce), label="cross-entropy")
ax.plot(z.detach().numpy(), np.abs(grad_mse), label="MSE")
ax.set_xlabel("score z (label is 1)")
ax.set_ylabel("|dL/dz|")
ax.set_yscale("log")
ax.legend()
ax.set_title("the gradient that reaches the score")
plt.show()

# %% [markdown]
# ## Try this
# * Make `p` uniform: $H(p)$ is then $\log 3$, the largest possible for three classes.
# * Set `q = p`: the KL divergence is 0 and $H(p, q) = H(p)$.
# * Divide `scores` by a temperature $T$ (notebook 10 samples text this way): large $T$ flattens
#   the softmax, small $T$ sharpens it. Watch $H(q)$.
# * Train notebook 1's XOR network with `nn.MSELoss()` on a sigmoid output instead of
#   `BCEWithLogitsLoss`: it learns more slowly from bad starts.
