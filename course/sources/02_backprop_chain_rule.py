# %% [markdown]
# # 2. Backpropagation is the chain rule
#
# A computation is a **graph** of simple nodes. The forward pass computes each node's value; the
# backward pass walks the graph in reverse, and at each node multiplies the **upstream gradient**
# (how the output changes with this node) by the node's **local gradient** (how this node changes
# with its inputs). That product is the chain rule,
# $\frac{\partial f}{\partial x} = \frac{\partial f}{\partial q}\frac{\partial q}{\partial x}$.

# %%
import math

import chainrule as cr

# %% [markdown]
# ## f = (x + y) z by hand
# With the lecture's values $x=-2, y=5, z=-4$: $q = x + y$, $f = q z$. Local gradients:
# $\partial f/\partial q = z$, $\partial f/\partial z = q$, $\partial q/\partial x = \partial q/\partial y = 1$.

# %%
x, y, z = -2.0, 5.0, -4.0
q = x + y
f = q * z
df_dq, df_dz = z, q              # local gradients of the multiply node
df_dx = df_dq * 1.0              # chain rule through the add node
df_dy = df_dq * 1.0
print(f"forward:  q = {q}, f = {f}")
print(f"backward: df/dx = {df_dx}, df/dy = {df_dy}, df/dz = {df_dz}")

# %% [markdown]
# ## The same with `backward()`
# chainrule records the graph as it computes; `f.backward()` runs the backward pass.
# `draw_graph` shows each node's value and the gradient of $f$ with respect to it.

# %%
xt = cr.tensor(x, requires_grad=True)
yt = cr.tensor(y, requires_grad=True)
zt = cr.tensor(z, requires_grad=True)
qt = xt + yt
ft = qt * zt
ft.backward()
print("autograd:", xt.grad.item(), yt.grad.item(), zt.grad.item())
print("equal to the hand computation:", (xt.grad.item(), yt.grad.item(), zt.grad.item()) == (df_dx, df_dy, df_dz))
cr.viz.draw_graph(ft)

# %% [markdown]
# ## The sigmoid neuron
# $f(w, x) = \sigma(w_0 x_0 + w_1 x_1 + w_2)$ with the lecture's $w = (2, -3, -3)$,
# $x = (-1, -2)$. The sigmoid's local gradient is $\sigma(s)(1 - \sigma(s))$, so the whole
# sigmoid block can be one node. Each weight's gradient is that times its input.

# %%
w = [2.0, -3.0, -3.0]
xs = [-1.0, -2.0]
s = w[0] * xs[0] + w[1] * xs[1] + w[2]
out = 1 / (1 + math.exp(-s))
local = out * (1 - out)                       # d sigma / d s
grads_by_hand = [xs[0] * local, xs[1] * local, 1.0 * local]
print(f"s = {s}, sigma(s) = {out:.4f}, local gradient = {local:.4f}")
print("dw by hand:", [round(g, 4) for g in grads_by_hand])
print("dx by hand:", [round(w[0] * local, 4), round(w[1] * local, 4)])

# %%
wt = cr.tensor(w, requires_grad=True)
xv = cr.tensor(xs + [1.0], requires_grad=True)   # the constant 1 multiplies the bias w2
neuron = cr.sigmoid((wt * xv).sum())
neuron.backward()
print("dw by autograd:", [round(g, 4) for g in wt.grad.tolist()])
print("dx by autograd:", [round(g, 4) for g in xv.grad.tolist()[:2]])
print("largest difference from the hand computation:",
      max(abs(a - b) for a, b in zip(wt.grad.tolist(), grads_by_hand)))
cr.viz.draw_graph(neuron, names={"w": wt, "x": xv})

# %% [markdown]
# ## Checked by finite differences
# `gradcheck` compares every backward with $\frac{f(x + \epsilon) - f(x - \epsilon)}{2\epsilon}$
# in float64.

# %%
def neuron_fn(weights, inputs):
    return cr.sigmoid((weights * inputs).sum())


w64 = cr.tensor(w, dtype=cr.float64, requires_grad=True)
x64 = cr.tensor(xs + [1.0], dtype=cr.float64, requires_grad=True)
print("gradcheck passes:", cr.autograd.gradcheck(neuron_fn, (w64, x64)))

eps = 1e-6
bumped = [wi + (eps if i == 0 else 0) for i, wi in enumerate(w)]
dropped = [wi - (eps if i == 0 else 0) for i, wi in enumerate(w)]
numeric = (neuron_fn(cr.tensor(bumped, dtype=cr.float64), x64).item()
           - neuron_fn(cr.tensor(dropped, dtype=cr.float64), x64).item()) / (2 * eps)
neuron_fn(w64, x64).backward()
print(f"df/dw0: finite difference {numeric:.6f}, backprop {w64.grad[0].item():.6f}")

# %% [markdown]
# ## Try this
# * Change $x, y, z$: the gradients follow the rule "add distributes, multiply swaps".
# * Use `q = x * y` instead: which gradient becomes which input's value?
# * Replace the sigmoid by `cr.tanh`: its local gradient is $1 - \tanh^2$; check it by hand.
# * Make `s` large (e.g. $w = (20, -30, -30)$): the local gradient, and with it every weight's
#   gradient, nearly vanishes — notebook 4's saturation.
