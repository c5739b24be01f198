"""What a trained 2-D model has learned: ``plot_decision_boundary`` and
``plot_hidden_representation`` (the lecture's "original data / after the nonlinear transformation
/ after linear classification")."""
import numpy as np

import chainrule as cr
from ._figure import Plot, new_figure

CLASS_COLOURS = np.array([[0.118, 0.533, 0.898], [0.898, 0.224, 0.208], [0.263, 0.627, 0.278],
                          [0.984, 0.549, 0.0], [0.557, 0.141, 0.667], [0.0, 0.537, 0.482],
                          [0.427, 0.298, 0.255], [0.224, 0.286, 0.671]])


def _np(a):
    return a.detach().numpy() if isinstance(a, cr.Tensor) else np.asarray(a)


def _colour(k):
    return CLASS_COLOURS[k % len(CLASS_COLOURS)]


@cr.no_grad()
def model_outputs(model, points):
    """The model's raw outputs on an (n, 2) array of points, in eval mode, as a NumPy array."""
    was = getattr(model, "training", None)
    if was is not None:
        model.eval()
    try:
        x = cr.tensor(np.asarray(points, dtype=np.float32))
        return _np(model(x)).astype(np.float64)
    finally:
        if was is not None:
            model.train(was)


def interpret_outputs(out, y=None, task="auto", output="auto"):
    """Turn raw outputs into what is drawn.

    Returns (kind, values): kind "multiclass" with (n, C) class probabilities (softmax of the
    outputs, or the outputs themselves with ``output="probabilities"``); "binary" with (n,)
    probabilities of class 1 (sigmoid of logits; outputs already in [0, 1] are taken as
    probabilities; with -1/+1 targets a tanh-style output o in [-1, 1] maps to (o + 1) / 2);
    "regression" with (n,) predictions.
    """
    out = out.reshape(len(out), -1)
    yv = None if y is None else _np(y).reshape(-1)
    if task == "auto":
        if out.shape[1] > 1:
            task = "classification"
        elif yv is not None and (yv.dtype.kind in "iub" or set(np.unique(yv)) <= {-1.0, 0.0, 1.0}):
            task = "classification"
        else:
            task = "regression"
    if task == "regression":
        return "regression", out[:, 0]
    if task != "classification":
        raise ValueError(f"plot_decision_boundary: task must be 'auto', 'classification' or "
                         f"'regression', got {task!r}")
    if out.shape[1] > 1:
        if output == "probabilities":
            return "multiclass", out
        z = out - out.max(axis=1, keepdims=True)
        e = np.exp(z)
        return "multiclass", e / e.sum(axis=1, keepdims=True)
    o = out[:, 0]
    signed = yv is not None and yv.min() < 0
    if output == "probabilities" or (output == "auto" and not signed and o.min() >= 0
                                     and o.max() <= 1):
        return "binary", o
    if signed and output == "auto" and o.min() >= -1 and o.max() <= 1:
        return "binary", (o + 1) / 2
    return "binary", 1 / (1 + np.exp(-o))


def _labels01(y):
    """Class indices from 0/1, -1/+1 or integer labels."""
    yv = _np(y).reshape(-1)
    if yv.dtype.kind == "f" and yv.min() < 0:
        return (yv > 0).astype(int)
    return yv.astype(int)


def _grid(X, resolution, margin=0.1):
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = (hi - lo) * margin + 1e-9
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return gx, gy, np.stack([gx.ravel(), gy.ravel()], axis=1)


def _image(kind, values, shape, discretize):
    """RGBA image of the predictions on the grid (classification)."""
    if kind == "binary":
        p = values.reshape(shape)
        if discretize:
            p = (p >= 0.5).astype(float)
        probs = np.stack([1 - p, p], axis=-1)
    else:
        probs = values.reshape(*shape, -1)
        if discretize:
            probs = np.eye(probs.shape[-1])[probs.argmax(axis=-1)]
    colours = np.array([_colour(k) for k in range(probs.shape[-1])])
    rgb = probs @ colours
    confidence = probs.max(axis=-1)
    # pale where the model is unsure, strong where it is confident
    c = len(colours)
    strength = 0.25 + 0.55 * (confidence - 1 / c) / (1 - 1 / c)
    rgb = 1 - strength[..., None] * (1 - rgb)
    return np.concatenate([rgb, np.ones((*shape, 1))], axis=-1)


def _scatter(ax, X, y, kind):
    if kind == "regression":
        return
    labels = _labels01(y)
    for k in np.unique(labels):
        m = labels == k
        ax.scatter(X[m, 0], X[m, 1], s=14, color=_colour(k), edgecolors="white", linewidths=0.5,
                   label=f"class {k}", zorder=3)


def plot_decision_boundary(model, X, y, discretize=False, task="auto", output="auto",
                           resolution=200, title=None, ax=None):
    """The model's prediction over the plane of 2-D data, with the data on top.

    Classification: a heat map of the predicted class probabilities (each class its colour,
    paler where the model is unsure) and the 0.5 contour for binary problems; ``discretize``
    shows only the predicted class. Binary models may output one logit, a probability or (with
    -1/+1 labels) a tanh value; multi-class models output one score per class (softmax is
    applied). Regression (float targets): a colour map of the prediction, the points coloured
    by their targets on the same scale.

    Returns a ``Plot`` with ``grid_x``, ``grid_y`` (meshgrid arrays), ``kind`` and
    ``values`` (probabilities or predictions on the grid, grid-shaped (+ classes)).
    """
    Xn = _np(X).astype(np.float64)
    if Xn.ndim != 2 or Xn.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (n, 2), got {Xn.shape}")
    gx, gy, pts = _grid(Xn, resolution)
    kind, values = interpret_outputs(model_outputs(model, pts), y, task, output)
    if ax is None:
        fig = new_figure(5.6, 4.8)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    extent = (gx.min(), gx.max(), gy.min(), gy.max())
    if kind == "regression":
        pred = values.reshape(gx.shape)
        yv = _np(y).reshape(-1)
        vmin, vmax = min(pred.min(), yv.min()), max(pred.max(), yv.max())
        im = ax.imshow(pred, origin="lower", extent=extent, aspect="auto", cmap="coolwarm",
                       vmin=vmin, vmax=vmax, alpha=0.85)
        ax.scatter(Xn[:, 0], Xn[:, 1], c=yv, s=14, cmap="coolwarm", vmin=vmin, vmax=vmax,
                   edgecolors="black", linewidths=0.4, zorder=3)
        fig.colorbar(im, ax=ax, label="prediction (background) / target (points)")
        shaped = pred
    else:
        ax.imshow(_image(kind, values, gx.shape, discretize), origin="lower", extent=extent,
                  aspect="auto", interpolation="bilinear")
        if kind == "binary":
            ax.contour(gx, gy, values.reshape(gx.shape), levels=[0.5], colors="black",
                       linewidths=1.2)
            shaped = values.reshape(gx.shape)
        else:
            shaped = values.reshape(*gx.shape, -1)
        _scatter(ax, Xn, y, kind)
        ax.legend(fontsize=8, loc="upper right", framealpha=0.8)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title(title or ("prediction" if kind == "regression" else
                           "decision regions" if discretize else "class probabilities"))
    return Plot(fig, grid_x=gx, grid_y=gy, kind=kind, values=shaped)


# -- hidden representation ---------------------------------------------------------------------
@cr.no_grad()
def hidden_activations(model, layer, X):
    """The output of ``layer`` (a submodule of ``model`` or its name) when ``model`` runs on X,
    captured with a forward hook; returns (activations array, model outputs array)."""
    module = model.get_submodule(layer) if isinstance(layer, str) else layer
    seen = []
    handle = module.register_forward_hook(lambda m, args, out: seen.append(_np(out).copy()))
    was = model.training
    model.eval()
    try:
        out = model(cr.tensor(_np(X).astype(np.float32)))
    finally:
        handle.remove()
        model.train(was)
    if not seen:
        raise ValueError("plot_hidden_representation: the layer did not run in model's forward")
    return seen[-1].reshape(len(_np(X)), -1), _np(out)


def pca(H, k=2):
    """Project the rows of H on their first k principal components (centred, via SVD);
    returns (projection (n, k), components (k, d), explained variance ratios (k,))."""
    centred = H - H.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    var = s ** 2
    ratio = var[:k] / var.sum() if var.sum() > 0 else np.zeros(k)
    return centred @ vt[:k].T, vt[:k], ratio


def _rest_of_sequential(model, module):
    """The modules after ``module`` in a Sequential ``model`` (None if that is not the case)."""
    children = list(model.children()) if hasattr(model, "children") else []
    if type(model).__name__ != "Sequential" or not any(c is module for c in children):
        return None
    i = next(j for j, c in enumerate(children) if c is module)
    return children[i + 1:]


def plot_hidden_representation(model, layer, X, y, resolution=150, title=None):
    """The data as a hidden layer sees it: three panels.

    1. the original data; 2. the same points after the hidden layer (its activations: directly
    when the layer has 2 units, a 3-D plot for 3, else the first two principal components);
    3. "after linear classification": when the layer has 2 units and ``model`` is a Sequential,
    the rest of the network is evaluated over that hidden plane, so the (linear, if the rest is
    linear) decision boundary appears where the transformed classes separate; otherwise the
    hidden points are coloured by the class the model predicts.

    Returns a ``Plot`` with ``hidden`` (the layer's activations, (n, units)), ``projection``
    (the 2-D coordinates drawn), ``explained`` (PCA variance ratios, or None) and
    ``predicted`` (predicted class per point).
    """
    Xn = _np(X).astype(np.float64)
    module = model.get_submodule(layer) if isinstance(layer, str) else layer
    H, out = hidden_activations(model, module, Xn)
    kind, values = interpret_outputs(out, y)
    if kind == "regression":
        raise ValueError("plot_hidden_representation: expects a classification model")
    predicted = values.argmax(axis=1) if kind == "multiclass" else (values >= 0.5).astype(int)
    units = H.shape[1]
    explained = None
    if units in (2, 3):
        projection = H
    else:
        projection, _, explained = pca(H, 2)
    fig = new_figure(14.0, 4.5)
    ax1 = fig.add_subplot(1, 3, 1)
    _scatter(ax1, Xn, y, kind)
    ax1.set_title("original data")
    ax1.set_xlabel("x₁")
    ax1.set_ylabel("x₂")
    ax1.legend(fontsize=8)
    name = layer if isinstance(layer, str) else type(module).__name__
    if units == 3:
        ax2 = fig.add_subplot(1, 3, 2, projection="3d")
        labels = _labels01(y)
        for k in np.unique(labels):
            m = labels == k
            ax2.scatter(H[m, 0], H[m, 1], H[m, 2], s=8, color=_colour(k))
        ax2.set_xlabel("h₁")
        ax2.set_ylabel("h₂")
        ax2.set_zlabel("h₃")
    else:
        ax2 = fig.add_subplot(1, 3, 2)
        _scatter(ax2, projection, y, kind)
        ax2.set_xlabel("h₁" if units == 2 else f"PC 1 ({explained[0]:.0%} of variance)")
        ax2.set_ylabel("h₂" if units == 2 else f"PC 2 ({explained[1]:.0%} of variance)")
    ax2.set_title(f"after the nonlinear transformation\n({name}, {units} units"
                  f"{', PCA' if units > 3 else ''})")
    ax3 = fig.add_subplot(1, 3, 3)
    rest = _rest_of_sequential(model, module) if units == 2 else None
    if rest is not None:
        gx, gy, pts = _grid(H, resolution)
        with cr.no_grad():
            h = cr.tensor(pts.astype(np.float32))
            for m in rest:
                h = m(h)
        gkind, gvals = interpret_outputs(_np(h).astype(np.float64), y)
        ax3.imshow(_image(gkind, gvals, gx.shape, False), origin="lower", aspect="auto",
                   extent=(gx.min(), gx.max(), gy.min(), gy.max()), interpolation="bilinear")
        if gkind == "binary":
            ax3.contour(gx, gy, gvals.reshape(gx.shape), levels=[0.5], colors="black",
                        linewidths=1.2)
        _scatter(ax3, H, y, kind)
        ax3.set_xlabel("h₁")
        ax3.set_ylabel("h₂")
        ax3.set_title("after linear classification\n(the rest of the network on the hidden plane)")
    else:
        for k in np.unique(predicted):
            m = predicted == k
            ax3.scatter(projection[m, 0], projection[m, 1], s=14, color=_colour(k),
                        edgecolors="white", linewidths=0.5, label=f"predicted {k}")
        ax3.legend(fontsize=8)
        ax3.set_title("after linear classification\n(hidden points coloured by prediction)")
    fig.suptitle(title or "What the hidden layer does to the data")
    return Plot(fig, hidden=H, projection=projection, explained=explained, predicted=predicted)
