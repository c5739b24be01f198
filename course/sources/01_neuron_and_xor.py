# %% [markdown]
# # 1. From logistic regression to a neuron; XOR and why hidden layers
#
# Logistic regression computes a weighted sum of the inputs plus a bias and squashes it with the
# sigmoid: $\hat y = \sigma(w^\top x + b)$. That is exactly one **neuron**. Its decision boundary,
# $w^\top x + b = 0$, is a straight line, so it can only separate classes that a line separates.
# XOR is the lecture's counter-example: the points $(0,0), (1,1)$ are class 0 and $(0,1), (1,0)$
# class 1, and no line splits them. Two ways out, both on the slides:
#
# * a **hidden layer** bends the boundary (a 2-layer network), or
# * a new **feature** $x_1 x_2$: since $\mathrm{XOR}(x_1, x_2) = x_1 + x_2 - 2 x_1 x_2$ is linear
#   in $(x_1, x_2, x_1 x_2)$, one neuron suffices again.
#
# Every number below is computed by the cells; change them and rerun.

# %%
import chainrule as cr
from chainrule import nn
from course_helpers import pick

EPOCHS = pick(300, 60)
cr.manual_seed(0)

# %% [markdown]
# ## One neuron is logistic regression
# A `Linear(2, 1)` followed by the sigmoid; the loss is the binary cross-entropy. No line puts
# all four XOR corners on their right sides, and under the cross-entropy the neuron's best
# compromise is to output 0.5 everywhere.

# %%
X4 = cr.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y4 = cr.tensor([[0.0], [1.0], [1.0], [0.0]])


def train(model, inputs, targets, epochs=EPOCHS, lr=0.1):
    history = cr.train.fit(model, nn.BCEWithLogitsLoss(), cr.optim.Adam(model.parameters(), lr=lr),
                           (inputs, targets), epochs=epochs, batch_size=len(inputs), shuffle=False,
                           metrics=["accuracy"], progress=False)
    return history["accuracy"][-1]


neuron = nn.Linear(2, 1)
print("one neuron on x1, x2:           accuracy", train(neuron, X4, y4))
with cr.no_grad():
    print("its outputs sigma(w.x + b):     ", cr.sigmoid(neuron(X4)).flatten().tolist())

# %% [markdown]
# ## A hidden layer bends the boundary

# %%
two_layer = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
print("2-layer network on x1, x2:      accuracy", train(two_layer, X4, y4))

# %% [markdown]
# ## Or one neuron with the feature x1·x2

# %%
X4_product = cr.cat([X4, X4[:, :1] * X4[:, 1:]], dim=1)
neuron_product = nn.Linear(3, 1)
print("one neuron on x1, x2, x1*x2:    accuracy", train(neuron_product, X4_product, y4))
print("its weights (x1, x2, x1*x2):   ", [round(w, 2) for w in neuron_product.weight.flatten().tolist()])
print("signs as in x1 + x2 - 2 x1 x2:  ", [w > 0 for w in neuron_product.weight.flatten().tolist()])

# %% [markdown]
# ## The same on the Playground's noisy XOR cloud
# 200 points in four quadrants (class = sign of $x_1 x_2$). The pictures show each model's
# predicted probability over the plane.

# %%
X, y = cr.datasets.xor(n=200, seed=0)
yf = y.float().reshape(-1, 1)
line = nn.Linear(2, 1)
hidden = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
print("one neuron:  accuracy", round(train(line, X, yf, lr=0.05), 3))
print("hidden layer: accuracy", round(train(hidden, X, yf, lr=0.05), 3))
cr.viz.plot_decision_boundary(line, X, y, resolution=pick(120, 30), title="one neuron: a line")

# %%
cr.viz.plot_decision_boundary(hidden, X, y, resolution=pick(120, 30), title="one hidden layer of 8 tanh units")

# %% [markdown]
# ## What the hidden layer does
# The hidden units map the points to a new space in which a line (the output neuron) separates
# them: the lecture's "the hidden layer learns the features".

# %%
cr.viz.plot_hidden_representation(hidden, hidden[1], X, y, resolution=pick(80, 20))

# %% [markdown]
# ## Try this
# * Use 2 hidden units instead of 8: it still solves XOR, usually; with 1 it cannot (why?).
# * Replace `nn.Tanh()` by `nn.Identity()`: the "hidden layer" becomes linear, and the whole
#   network is a single linear map again — accuracy falls back to the neuron's.
# * Add the feature `X[:, :1] * X[:, 1:]` to the noisy cloud and train `nn.Linear(3, 1)` on it.
# * Open the same experiment in the Playground (notebook 12): presets *XOR without x1·x2* and
#   *XOR with x1·x2*.
