"""Stepping a Playground network: its optimiser, and shuffled mini-batch epochs that a frame's
time budget may cut short and the next frame resumes.

Each mini-batch is the five lines of ``chainrule.train.fit``, with the settings' L1 / L2 penalty
added to the weights' gradients before the step:

    dL/dW += rate * sign(W)     (L1)        dL/dW += rate * W     (L2)

``fit`` itself does not fit here: it runs whole epochs from a DataLoader, while a frame must stop
after any mini-batch (at its deadline, or at the first non-finite loss) and the next frame go on
from the same position in the same shuffled order, as the exported script's epochs do.

Without a penalty the mini-batch step is one ``cr.compile``d function (forward, loss,
``backward()``, ``step()``: the same numbers, replayed; docs/devices.md, "A whole training
step"); with one, the model's forward alone is replayed and the penalty added in place.
"""
import time

import numpy as np

from .. import optim
from ..compiler import compile as compile_function
from ..backend import array_module, to_host
from ..autograd.tensor_base import make_tensor
from ..creation import randperm
from ..random import Generator


def make_optimizer(settings, parameters):
    """The settings' optimiser over ``parameters`` (Nesterov without momentum is plain SGD)."""
    params = list(parameters)
    name, lr = settings["optimizer"], settings["learning_rate"]
    if name == "sgd" or (name == "nesterov" and settings["momentum"] == 0):
        return optim.SGD(params, lr=lr)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=settings["momentum"])
    if name == "nesterov":
        return optim.SGD(params, lr=lr, momentum=settings["momentum"], nesterov=True)
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, eps=settings["eps"])
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, alpha=settings["alpha"], eps=settings["eps"])
    return optim.Adam(params, lr=lr, betas=(settings["beta1"], settings["beta2"]),
                      eps=settings["eps"])


def update_hyperparameters(optimizer, settings):
    """Copy the settings' learning rate, betas, alpha, eps and momentum into ``optimizer``'s
    param groups (its state, such as Adam's moments, is kept)."""
    for group in optimizer.param_groups:
        group["lr"] = settings["learning_rate"]
        if "betas" in group:
            group["betas"] = (settings["beta1"], settings["beta2"])
        if "alpha" in group:
            group["alpha"] = settings["alpha"]
        if "eps" in group:
            group["eps"] = settings["eps"]
        if settings["optimizer"] in ("momentum", "nesterov") and "momentum" in group:
            group["momentum"] = settings["momentum"]


class Trainer:
    """One network's optimiser and its place in training: ``epoch``, ``iteration`` (mini-batches
    so far), the shuffled ``order`` of the epoch under way (None between epochs) and ``cursor``
    into it, and ``grad_norms``, the L2 norm of each Linear's weight gradient at the last step."""

    def __init__(self, net, settings):
        self.net = net
        self.optimizer = make_optimizer(settings, net.model.parameters())
        # seed + 1: the initialisation draws from a generator seeded with the seed itself
        self.shuffle_generator = Generator().manual_seed(settings["seed"] + 1)
        self.epoch = 0
        self.iteration = 0
        self.order = None
        self.cursor = 0
        self.grad_norms = [0.0] * len(net.linears())
        self._placed = None     # (features, targets, their tensors on the network's device)
        self._step = None       # (model, loss, optimiser, their compiled step)

    def restart_epoch(self):
        """Drop the epoch under way (its order indexes points that are gone)."""
        self.order = None

    def placed(self, features, targets):
        """``features`` and ``targets`` as tensors on the network's device, copied there once
        per data set (the session replaces the arrays when its points or features change)."""
        p = self._placed
        if p is None or p[0] is not features or p[1] is not targets:
            device = self.net.device
            self._placed = p = (features, targets, make_tensor(features).to(device),
                                make_tensor(targets).to(device))
        return p[2], p[3]

    def compiled_step(self):
        """``step(x, t) -> loss``, one mini-batch's zero_grad, forward, loss, backward and
        optimiser step, compiled; made again when the session swaps the model, the loss or the
        optimiser (a layer's activation, the loss setting, the optimiser setting)."""
        model, loss_fn, optimizer = self.net.model, self.net.loss, self.optimizer
        cached = self._step
        if cached is None or any(a is not b for a, b in zip(cached, (model, loss_fn, optimizer))):
            def step(x, t):
                optimizer.zero_grad()
                loss = loss_fn(model(x), t)
                loss.backward()
                optimizer.step()
                return loss
            cached = self._step = (model, loss_fn, optimizer, compile_function(step))
        return cached[3]

    def train(self, features, targets, settings, epochs, deadline=None):
        """Train until ``epochs`` more epochs are complete, or past ``deadline`` (a
        ``time.perf_counter()`` value, checked after every mini-batch) with the epoch left
        unfinished: the next call goes on where this one stopped, so a large network cannot hold
        a frame (or a worker thread) for long. An epoch is one pass over the training points in
        shuffled mini-batches, as in the exported script. Returns False when a loss or a weight
        became NaN or infinite (the network diverged).
        """
        n = len(features)
        net, optimizer = self.net, self.optimizer
        batchnorm = net.has_batchnorm
        if n == 0 or (batchnorm and n < 2):
            return True
        model, loss_fn = net.model, net.loss
        model.train()
        batch = settings["batch_size"]
        if batchnorm:
            batch = max(batch, 2)       # batch norm needs two samples
        reg, rate = settings["regularization"], settings["regularization_rate"]
        weights = [lin.weight for lin in net.linears()]
        penalty = bool(rate and reg != "none")
        step = None if penalty else self.compiled_step()
        target = self.epoch + epochs
        X, T = self.placed(features, targets)
        try:
            while self.epoch < target:
                if self.order is None:
                    self.order = randperm(n, generator=self.shuffle_generator).array
                    self.cursor = 0
                start = self.cursor
                stop = min(start + batch, n)
                if batchnorm and n - stop == 1:
                    stop = n            # fold a last batch of one into this one
                idx = self.order[start:stop]
                if X.device.type != "cpu":
                    idx = make_tensor(idx).to(X.device)
                if step is not None:
                    loss = step(X[idx], T[idx])
                else:
                    loss = loss_fn(net.compiled(X[idx]), T[idx])
                    optimizer.zero_grad()
                    loss.backward()
                    for w in weights:
                        g = w.grad.array
                        g += rate * (array_module(g).sign(w.array) if reg == "L1" else w.array)
                    optimizer.step()
                self.iteration += 1
                self.cursor = stop
                if not np.isfinite(to_host(loss.array)):
                    return False
                if stop >= n:
                    self.epoch += 1
                    self.order = None
                if deadline is not None and time.perf_counter() > deadline:
                    break
        finally:
            self.grad_norms = [float(np.sqrt(np.sum(np.square(to_host(w.grad.array),
                                                              dtype=np.float64))))
                               if w.grad is not None else 0.0 for w in weights]
        return net.finite()
