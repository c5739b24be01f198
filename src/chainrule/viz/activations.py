"""``plot_activations``: each activation function beside its derivative, computed by autograd."""
import numpy as np

import chainrule as cr
from ._figure import Plot, new_figure

DEFAULT_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus", "silu")


def resolve_activation(name):
    """``"relu"`` -> a function of one tensor: ``cr.nn.functional.relu`` when it exists, else the
    Tensor method of that name; a callable is returned as it is."""
    if callable(name):
        return getattr(name, "__name__", "f"), name
    import chainrule.nn.functional as F
    fn = getattr(F, name, None)
    if callable(fn):
        return name, fn
    if callable(getattr(cr.Tensor, name, None)):
        return name, lambda t: getattr(t, name)()
    raise ValueError(f"plot_activations: unknown activation {name!r}; give a name from "
                     f"cr.nn.functional (e.g. {', '.join(DEFAULT_ACTIVATIONS)}) or a callable")


def _try_resolve(name):
    try:
        return resolve_activation(name)
    except ValueError:
        return None


def activation_and_derivative(fn, x):
    """f(x) and df/dx at every point of the 1-D array ``x``, by backward through f (float64)."""
    t = cr.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    y = fn(t)
    y.sum().backward()   # elementwise f: d(sum f)/dx_i = f'(x_i)
    return y.detach().numpy().copy(), t.grad.numpy().copy()


def saturation_mask(derivative, threshold):
    """Where |f'| is below ``threshold`` times its largest value: the unit barely learns there."""
    peak = np.max(np.abs(derivative))
    if peak == 0:
        return np.ones_like(derivative, dtype=bool)
    return np.abs(derivative) < threshold * peak


def _spans(x, mask):
    """[(x_start, x_end)] of the runs where mask is True."""
    out, start = [], None
    for xi, m in zip(x, mask):
        if m and start is None:
            start = xi
        elif not m and start is not None:
            out.append((start, prev))
            start = None
        prev = xi
    if start is not None:
        out.append((start, x[-1]))
    return out


def plot_activations(names=None, x_range=(-5.0, 5.0), points=401, saturation=0.1, ncols=4):
    """Plot activation functions and their autograd derivatives, one panel each.

    ``names``: activation names of ``cr.nn.functional`` (or callables); default: sigmoid, tanh,
    relu, leaky_relu, elu, gelu, softplus, silu. The grey bands are the saturation regions, where
    |f'(x)| < ``saturation`` × max |f'|: gradients flowing back through such a unit nearly vanish.

    Returns a ``Plot`` with ``x``, ``values``, ``derivatives`` and ``saturated`` (dicts of arrays
    by name).
    """
    if names is None:
        fns = [_try_resolve(n) for n in DEFAULT_ACTIVATIONS]
        fns = [f for f in fns if f is not None]
    else:
        fns = [resolve_activation(n) for n in ([names] if isinstance(names, str) else names)]
    x = np.linspace(x_range[0], x_range[1], points)
    values, derivs, saturated = {}, {}, {}
    for label, fn in fns:
        values[label], derivs[label] = activation_and_derivative(fn, x)
        saturated[label] = saturation_mask(derivs[label], saturation)
    ncols = min(ncols, len(fns))
    nrows = -(-len(fns) // ncols)
    fig = new_figure(3.0 * ncols, 2.6 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, (label, _) in zip(axes.flat, fns):
        for a, b in _spans(x, saturated[label]):
            ax.axvspan(a, b, color="#9e9e9e", alpha=0.18, lw=0)
        ax.axhline(0, color="#bdbdbd", lw=0.8)
        ax.axvline(0, color="#bdbdbd", lw=0.8)
        ax.plot(x, values[label], color="#1565c0", lw=2, label="f(x)")
        ax.plot(x, derivs[label], color="#ef6c00", lw=1.6, ls="--", label="f'(x) (autograd)")
        ax.set_title(label)
        ax.set_xlim(x[0], x[-1])
        ax.grid(alpha=0.25)
    for ax in list(axes.flat)[len(fns):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    from matplotlib.patches import Patch
    handles.append(Patch(color="#9e9e9e", alpha=0.3))
    labels.append(f"saturated: |f'| < {saturation:g}·max|f'|")
    fig.legend(handles, labels, loc="outside lower center", ncols=3, frameon=False)
    fig.suptitle("Activation functions and their derivatives")
    return Plot(fig, x=x, values=values, derivatives=derivs, saturated=saturated)
