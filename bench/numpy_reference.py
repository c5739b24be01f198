"""Hand-written NumPy versions of the MLP workloads (W1, W2, W3, W6): no autograd, no modules.

Each step is what a student would write with the lecture's formulas: the forward pass, the
gradient of each layer by hand, the optimiser's update in place. No framework built on NumPy can
do less work than this, so its time is the floor for chainrule on one thread of elementwise
NumPy plus OpenBLAS's matrix products. The suite times it in the same alternation as the two
frameworks and checks its loss after five steps against PyTorch's, like theirs.
"""
import numpy as np


class NumpyMLP:
    """Linear layers with ``act`` ("relu" or "tanh") between them and on the output when
    ``act_out``; weights copied from a chainrule model (PyTorch's (out, in) layout)."""

    def __init__(self, model, act, act_out=False):
        linears = [m for m in model.modules() if type(m).__name__ == "Linear"]
        self.weights = [np.array(m.weight.array) for m in linears]
        self.biases = [np.array(m.bias.array) for m in linears]
        self.act, self.act_out = act, act_out

    def params(self):
        return self.weights + self.biases

    def _act(self, z):
        return np.maximum(z, 0, out=z) if self.act == "relu" else np.tanh(z, out=z)

    def forward(self, x):
        """The output and every layer's input and activation (for backward)."""
        hs = [x]
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = hs[-1] @ w.T
            z += b
            if i < last or self.act_out:
                z = self._act(z)
            hs.append(z)
        return hs

    def backward(self, hs, g):
        """Gradients (weights then biases) from dL/d(output) ``g``."""
        last = len(self.weights) - 1
        gw, gb = [None] * len(self.weights), [None] * len(self.biases)
        for i in range(last, -1, -1):
            if i < last or self.act_out:
                h = hs[i + 1]
                g = g * (h > 0) if self.act == "relu" else g * (1 - h * h)
            gw[i] = g.T @ hs[i]
            gb[i] = g.sum(axis=0)
            if i:
                g = g @ self.weights[i]
        return gw + gb


def cross_entropy(z, y):
    """Mean softmax cross-entropy and its gradient with respect to the logits ``z``."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = float(np.mean(np.log(s[:, 0]) - z[np.arange(n), y]))
    g = e / s
    g[np.arange(n), y] -= 1
    g /= n
    return loss, g


def mse(out, y):
    d = out - y
    return float(np.mean(d * d)), d * (2 / d.size)


class SGD:
    def __init__(self, params, lr, momentum=0.0):
        self.params, self.lr, self.momentum = params, lr, momentum
        self.velocity = None

    def step(self, grads):
        if not self.momentum:
            for p, g in zip(self.params, grads):
                p -= self.lr * g
            return
        if self.velocity is None:  # PyTorch's first step: the buffer is the gradient itself
            self.velocity = [g.copy() for g in grads]
        else:
            for v, g in zip(self.velocity, grads):
                v *= self.momentum
                v += g
        for p, v in zip(self.params, self.velocity):
            p -= self.lr * v


class Adam:
    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        b1, b2 = self.betas
        step_size = self.lr / (1 - b1 ** self.t)
        root_bc2 = (1 - b2 ** self.t) ** 0.5
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= step_size * m / (np.sqrt(v) / root_bc2 + self.eps)


def training_step(net, x, y, loss_fn, opt):
    """One step's ``run(want_loss=False)``."""
    def run(want_loss=False):
        hs = net.forward(x)
        loss, g = loss_fn(hs[-1], y)
        opt.step(net.backward(hs, g))
        return loss if want_loss else None
    return run


def inference(net, x):
    def run(want_loss=False):
        out = net.forward(x)[-1]
        return float(out.sum()) if want_loss else None
    return run
