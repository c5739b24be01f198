"""Pictures of training: ``lr_sweep``, ``plot_history`` and ``gradient_flow``.

    cr.viz.lr_sweep(lambda: make_model(), (X, y), lrs=[1e-3, 1e-1, 1.0, 10.0])
    history = cr.train.fit(..., callbacks=[stopper])
    cr.viz.plot_history(history, early_stopping=stopper)
    recorder = cr.viz.GradientRecorder(model)      # a fit callback; or call record() yourself
    cr.train.fit(model, ..., callbacks=[recorder]); cr.viz.gradient_flow(recorder)
"""
import math

import numpy as np

import chainrule as cr
import chainrule.nn  # noqa: F401  (cr.nn)
import chainrule.optim  # noqa: F401  (cr.optim)
from ._figure import Plot, new_figure

try:  # a recorder can be passed to cr.train.fit as a callback
    from ..train.callbacks import Callback as _Callback
except ImportError:  # pragma: no cover - the train package is optional for viz
    _Callback = object


def _as_array(a):
    return a.detach().numpy() if isinstance(a, cr.Tensor) else np.asarray(a)


def _as_tensor(a):
    return a if isinstance(a, cr.Tensor) else cr.tensor(np.asarray(a))


def default_loss(y):
    """cross_entropy for integer class labels, mse_loss otherwise."""
    import chainrule.nn.functional as F
    if _as_array(y).dtype.kind in "iu":
        return F.cross_entropy
    return lambda out, target: F.mse_loss(out.reshape(target.shape), target)


def train_steps(model, X, y, loss_fn, optimizer, steps, batch_size=None, seed=0, on_step=None):
    """A plain training loop: ``steps`` updates on mini-batches of ``batch_size`` (default: the
    whole set), drawn by a NumPy generator seeded with ``seed``. Returns the loss before each
    update; stops at the first non-finite loss (the rest stays NaN). ``on_step(i)`` runs after
    each backward, before the update, while the gradients are there."""
    X, y = _as_tensor(X), _as_tensor(y)
    n = len(X)
    g = np.random.default_rng(seed)
    losses = np.full(steps, np.nan)
    with np.errstate(over="ignore", invalid="ignore"):   # divergence is recorded, not warned
        for i in range(steps):
            if batch_size is None or batch_size >= n:
                xb, yb = X, y
            else:
                idx = g.choice(n, batch_size, replace=False)
                xb, yb = X[idx], y[idx]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            value = loss.item()
            losses[i] = value
            if not math.isfinite(value):
                break
            loss.backward()
            if on_step is not None:
                on_step(i)
            optimizer.step()
    return losses


# -- learning-rate sweep -----------------------------------------------------------------------
def lr_sweep(model_fn, data, lrs, loss_fn=None, optimizer=None, steps=200, batch_size=None,
             seed=0, title=None):
    """Training-loss curves of one model at several learning rates, on one plot.

    ``model_fn()`` builds a fresh model; it is called after ``cr.manual_seed(seed)`` for every
    learning rate, so each run starts from the same weights. ``data`` is ``(X, y)``.
    ``optimizer`` is an optimiser class (default ``cr.optim.SGD``) called as
    ``optimizer(params, lr=lr)``. A run whose loss becomes NaN or infinite is marked diverged
    and its curve stops there.

    Returns a ``Plot`` with ``lrs``, ``losses`` ({lr: per-step losses}) and ``verdicts``
    ({lr: "diverged" | "unstable" | "best" | "slow" | "ok"}).
    """
    X, y = data
    loss_fn = loss_fn or default_loss(y)
    optimizer = optimizer or cr.optim.SGD
    losses = {}
    for lr in lrs:
        cr.manual_seed(seed)
        model = model_fn()
        opt = optimizer(model.parameters(), lr=lr)
        losses[lr] = train_steps(model, X, y, loss_fn, opt, steps, batch_size, seed)
    verdicts = _verdicts(losses)
    fig = new_figure(7.0, 4.6)
    ax = fig.add_subplot()
    colours = _colours(len(lrs), "plasma")
    start = np.nanmax([v[0] for v in losses.values()])
    finite_min = np.nanmin([np.nanmin(v) for v in losses.values()])
    for c, lr in zip(colours, lrs):
        curve = losses[lr]
        ax.plot(np.arange(len(curve)), curve, color=c, lw=1.8,
                label=f"lr = {lr:g}  ({verdicts[lr]})")
        if verdicts[lr] == "diverged":
            last = np.flatnonzero(np.isfinite(curve))
            last = last[-2] if len(last) > 1 else 0
            ax.plot(last, min(curve[last], start * 5), "x", color=c, ms=11, mew=2.5)
    ax.set_yscale("log")
    ax.set_ylim(max(finite_min * 0.7, 1e-6), start * 5)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(title or "Training loss at several learning rates")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9)
    return Plot(fig, lrs=list(lrs), losses=losses, verdicts=verdicts)


def _verdicts(losses):
    """Words for each curve: diverged (non-finite), unstable (ends above its start), best (the
    lowest final loss), slow (ends more than 5 times above the best)."""
    final = {lr: v[-1] for lr, v in losses.items()}
    finite = {lr: f for lr, f in final.items() if math.isfinite(f)}
    best = min(finite, key=finite.get) if finite else None
    out = {}
    for lr, v in losses.items():
        if not math.isfinite(final[lr]):
            out[lr] = "diverged"
        elif final[lr] > v[0]:
            out[lr] = "unstable"
        elif lr == best:
            out[lr] = "best"
        elif final[lr] > 5 * finite[best]:
            out[lr] = "slow"
        else:
            out[lr] = "ok"
    return out


def _colours(n, cmap):
    from matplotlib import colormaps
    m = colormaps[cmap]
    return [m(0.1 + 0.75 * i / max(n - 1, 1)) for i in range(n)]


# -- history -----------------------------------------------------------------------------------
def plot_history(history, early_stopping=None, monitor=None, mode="auto", metrics=None,
                 title=None):
    """Train and validation loss and metrics per epoch, with the best epoch and the early stop.

    ``history``: the ``History`` from ``cr.train.fit`` (or a dict of per-epoch lists).
    ``early_stopping``: the ``EarlyStopping`` callback used, if any: its ``best_epoch`` and
    ``stopped_epoch`` are marked (else the best epoch is the best value of ``monitor``,
    by default "val_loss" when logged, else "loss").

    Returns a ``Plot`` with ``best_epoch`` and ``stopped_epoch`` (1-based, as ``history.epoch``).
    """
    logs = history.history if hasattr(history, "history") else dict(history)
    epochs = list(getattr(history, "epoch", range(1, len(next(iter(logs.values()))) + 1)))
    if not epochs:
        raise ValueError("plot_history: the history is empty (no epochs)")
    if monitor is None:
        monitor = getattr(early_stopping, "monitor", None) or (
            "val_loss" if "val_loss" in logs else "loss")
    if monitor not in logs:
        raise KeyError(f"plot_history: monitor={monitor!r} was not logged; keys: {sorted(logs)}")
    if mode == "auto":
        mode = "max" if any(s in monitor for s in ("acc", "f1", "precision", "recall", "r2")) \
            else "min"
    values = np.array([np.nan if v is None else v for v in logs[monitor]], dtype=float)
    best_epoch = stopped_epoch = None
    if early_stopping is not None and getattr(early_stopping, "best_epoch", None) is not None:
        best_epoch = early_stopping.best_epoch + 1
    elif np.isfinite(values).any():
        best_epoch = epochs[int(np.nanargmin(values) if mode == "min" else np.nanargmax(values))]
    if early_stopping is not None and getattr(early_stopping, "stopped_epoch", None) is not None:
        stopped_epoch = early_stopping.stopped_epoch + 1
    if metrics is None:
        metrics = [k for k in logs if not k.startswith("val_") and k not in ("loss", "time", "lr")
                   and all(v is None or isinstance(v, (int, float)) for v in logs[k])]
    panels = ["loss"] + list(metrics)
    fig = new_figure(4.6 * len(panels), 3.8)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, key in zip(axes, panels):
        for name, style, colour in ((key, "-", "#1e88e5"), ("val_" + key, "-", "#e53935")):
            if name in logs:
                v = np.array([np.nan if x is None else x for x in logs[name]], dtype=float)
                ax.plot(epochs, v, style, color=colour, lw=1.8, marker="o", ms=3,
                        label="validation" if name.startswith("val_") else "training")
        if best_epoch is not None:
            ax.axvline(best_epoch, color="#43a047", ls="--", lw=1.4,
                       label=f"best epoch ({best_epoch}, by {monitor})")
        if stopped_epoch is not None:
            ax.axvline(stopped_epoch, color="#6d4c41", ls=":", lw=1.8,
                       label=f"early stop (epoch {stopped_epoch})")
        if key == monitor.removeprefix("val_") and best_epoch is not None:
            ax.plot(best_epoch, values[epochs.index(best_epoch)], "*", color="#43a047", ms=14,
                    mec="black", mew=0.6, zorder=5)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title or "Training history")
    return Plot(fig, best_epoch=best_epoch, stopped_epoch=stopped_epoch, monitor=monitor,
                epochs=epochs)


# -- gradient flow -----------------------------------------------------------------------------
def weight_layers(model):
    """[(name, module)] of the modules that own a weight matrix (or kernel) directly, in order;
    normalisation layers' 1-D scale vectors are not layers of the depth being measured."""
    out = []
    for name, m in model.named_modules():
        w = m._parameters.get("weight") if hasattr(m, "_parameters") else None
        if w is not None and w.ndim >= 2:
            out.append((name or type(m).__name__, m))
    return out


class GradientRecorder(_Callback):
    """Records the L2 norm of every layer's weight gradient, ||dL/dW||, at each training step.

    Pass it to ``cr.train.fit(..., callbacks=[recorder])`` (it records at the end of each batch,
    after the update, when the gradients of that batch are still in ``.grad``), or call
    ``recorder.record()`` yourself after ``loss.backward()``. ``norms`` is a (steps, layers)
    array; ``names`` the layer names.
    """

    def __init__(self, model, layers=None):
        self.model = model
        found = weight_layers(model)
        if layers is not None:
            wanted = set(layers)
            found = [(n, m) for n, m in found if n in wanted]
        if not found:
            raise ValueError("GradientRecorder: the model has no layer with a weight parameter")
        self.names = [n for n, _ in found]
        self.kinds = [type(m).__name__ for _, m in found]
        self._weights = [m._parameters["weight"] for _, m in found]
        self._rows = []

    def set_context(self, model, optimizer, scheduler, history):
        pass   # keep the model given at construction

    def record(self):
        row = []
        for w in self._weights:
            g = w.grad
            row.append(np.nan if g is None else float(np.sqrt(np.sum(
                g.array.astype(np.float64) ** 2))))
        self._rows.append(row)
        return row

    def on_batch_end(self, batch, logs):
        self.record()

    @property
    def norms(self):
        return np.array(self._rows, dtype=float).reshape(len(self._rows), len(self.names))


def record_gradient_norms(model, X, y, loss_fn=None, optimizer=None, steps=100, lr=0.1,
                          batch_size=None, seed=0):
    """Train ``model`` for ``steps`` steps with a ``GradientRecorder``; returns the recorder."""
    loss_fn = loss_fn or default_loss(y)
    optimizer = optimizer or cr.optim.SGD(model.parameters(), lr=lr)
    rec = GradientRecorder(model)
    rec.losses = train_steps(model, X, y, loss_fn, optimizer, steps, batch_size, seed,
                             on_step=lambda i: rec.record())
    return rec


def gradient_flow(source, X=None, y=None, loss_fn=None, optimizer=None, steps=100, lr=0.1,
                  batch_size=None, seed=0, title=None):
    """Per-layer gradient norms over training, which make vanishing gradients visible.

    ``source``: a ``GradientRecorder`` that has recorded a training run, or a model, which is
    then trained here on ``(X, y)`` for ``steps`` steps (SGD with ``lr`` unless ``optimizer``).
    Left: ||dL/dW|| of each layer against the step (log scale); right: its mean over training
    against depth: a line falling towards the input layer is the vanishing gradient.

    Returns a ``Plot`` with ``norms`` ((steps, layers) array) and ``names``.
    """
    rec = source if isinstance(source, GradientRecorder) else record_gradient_norms(
        source, X, y, loss_fn, optimizer, steps, lr, batch_size, seed)
    norms = rec.norms
    if len(norms) == 0:
        raise ValueError("gradient_flow: the recorder has no steps recorded")
    fig = new_figure(10.0, 4.0)
    left, right = fig.subplots(1, 2)
    colours = _colours(len(rec.names), "viridis")
    for j, (name, c) in enumerate(zip(rec.names, colours)):
        left.plot(np.arange(len(norms)), norms[:, j], color=c, lw=1.4, label=name)
    left.set_yscale("log")
    left.set_xlabel("step")
    left.set_ylabel("‖dL/dW‖")
    left.set_title("gradient norm per layer over training")
    left.grid(alpha=0.3, which="both")
    left.legend(fontsize=7, ncols=2 if len(rec.names) > 6 else 1)
    depth = np.arange(1, len(rec.names) + 1)
    right.plot(depth, np.nanmean(norms, axis=0), "o-", color="#37474f")
    right.set_yscale("log")
    right.set_xticks(depth, rec.names, rotation=45 if len(rec.names) > 5 else 0, fontsize=8)
    right.set_xlabel("layer (input → output)")
    right.set_ylabel("mean ‖dL/dW‖")
    right.set_title("mean gradient norm by depth")
    right.grid(alpha=0.3, which="both")
    fig.suptitle(title or "Gradient flow")
    return Plot(fig, norms=norms, names=list(rec.names), recorder=rec)


def compare_gradient_flow(model_fns, X, y, loss_fn=None, steps=50, lr=0.1, batch_size=None,
                          seed=0, title=None):
    """Mean per-layer gradient norm against depth for several models on one plot (e.g. sigmoid
    versus ReLU, default versus Xavier/He initialisation, with and without batch norm).

    ``model_fns``: ``{label: function returning a fresh model}``; each is built after
    ``cr.manual_seed(seed)`` and trained ``steps`` SGD steps. Returns a ``Plot`` with
    ``norms`` ({label: (steps, layers) array}).
    """
    results = {}
    for label, make in model_fns.items():
        cr.manual_seed(seed)
        model = make()
        results[label] = record_gradient_norms(model, X, y, loss_fn, None, steps, lr,
                                               batch_size, seed)
    fig = new_figure(7.0, 4.4)
    ax = fig.add_subplot()
    for c, (label, rec) in zip(_palette(len(results)), results.items()):
        depth = np.arange(1, rec.norms.shape[1] + 1)
        ax.plot(depth, np.nanmean(rec.norms, axis=0), "o-", color=c, lw=1.8, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = input side)")
    ax.set_ylabel(f"mean ‖dL/dW‖ over {steps} steps")
    ax.set_title(title or "Gradient norm by depth")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return Plot(fig, norms={k: r.norms for k, r in results.items()},
                names={k: r.names for k, r in results.items()},
                losses={k: r.losses for k, r in results.items()})


def _palette(n):
    base = ["#e53935", "#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#00897b", "#6d4c41",
            "#3949ab"]
    return [base[i % len(base)] for i in range(n)]
