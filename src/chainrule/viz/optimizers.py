"""``optimizer_race``: chainrule optimisers racing across a 2-D loss surface.

    race = cr.viz.optimizer_race("rosenbrock", {
        "SGD": (cr.optim.SGD, {"lr": 1e-3}),
        "momentum": (cr.optim.SGD, {"lr": 1e-3, "momentum": 0.9}),
        "Adam": (cr.optim.Adam, {"lr": 0.05}),
    }, steps=300)
    race.save("race.png"); race.save_gif("race.gif")
    race.trajectories["Adam"]      # (steps + 1, 2) array of the points visited
    cr.viz.optimizer_race("beale", ["SGD", "Adam"])   # names: cr.optim's defaults

Each step is the ordinary training loop on one parameter, the point p = (x, y):
``opt.zero_grad(); f(p[0], p[1]).backward(); opt.step()``: the gradient comes from chainrule's
autograd and the update from ``cr.optim``.
"""
import math

import numpy as np

import chainrule as cr
import chainrule.optim  # noqa: F401  (cr.optim)
from ._figure import Plot, new_figure, write_atomic


class Surface:
    """A 2-D test function ``f(x, y)`` (written with tensor operations so autograd works), with a
    default start, its minima, the plotting window and whether contours are log-spaced."""

    def __init__(self, name, f, start, minima, xlim, ylim, log_levels=True, formula=""):
        self.name, self.f, self.start, self.minima = name, f, tuple(start), list(minima)
        self.xlim, self.ylim, self.log_levels, self.formula = xlim, ylim, log_levels, formula

    def __call__(self, x, y):
        return self.f(x, y)

    def grid(self, n=200):
        """(X, Y, Z) on an n×n grid over the window, Z = f(X, Y) computed without a graph."""
        xs = np.linspace(*self.xlim, n)
        ys = np.linspace(*self.ylim, n)
        X, Y = np.meshgrid(xs, ys)
        with cr.no_grad():
            Z = self.f(cr.tensor(X, dtype=cr.float64), cr.tensor(Y, dtype=cr.float64)).numpy()
        return X, Y, Z

    def __repr__(self):
        return f"Surface({self.name}: {self.formula})"


def quadratic_bowl(condition=10.0):
    """f = (x² + κ y²) / 2: an elongated bowl; κ (the condition number) sets how elongated."""
    k = float(condition)
    return Surface(f"quadratic bowl (κ={k:g})", lambda x, y: 0.5 * (x * x + k * y * y),
                   (-4.5, 2.0), [(0.0, 0.0)], (-5, 5), (-3, 3), log_levels=False,
                   formula=f"(x² + {k:g}y²)/2")


def rosenbrock(a=1.0, b=100.0):
    """f = (a − x)² + b (y − x²)²: a curved valley with its minimum at (a, a²)."""
    return Surface("Rosenbrock", lambda x, y: (a - x) ** 2 + b * (y - x * x) ** 2,
                   (-1.5, 2.5), [(a, a * a)], (-2, 2), (-1, 3),
                   formula=f"({a:g} − x)² + {b:g}(y − x²)²")


def beale():
    """f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)², minimum at (3, 0.5)."""
    def f(x, y):
        return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2
                + (2.625 - x + x * y * y * y) ** 2)
    return Surface("Beale", f, (1.0, 1.4), [(3.0, 0.5)], (-4.5, 4.5), (-4.5, 4.5),
                   formula="(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²")


def saddle():
    """f = x² − y²: a saddle point at the origin; plain gradient descent started near the ridge
    creeps away from it, momentum escapes faster."""
    return Surface("saddle point", lambda x, y: x * x - y * y, (-4.5, 0.01), [], (-5, 5), (-5, 5),
                   log_levels=False, formula="x² − y²")


def himmelblau():
    """f = (x² + y − 11)² + (x + y² − 7)²: four minima of equal height (value 0)."""
    return Surface("Himmelblau", lambda x, y: (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2,
                   (-0.3, -0.9), [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                                  (3.584428, -1.848126)], (-5.5, 5.5), (-5.5, 5.5),
                   formula="(x² + y − 11)² + (x + y² − 7)²")


SURFACES = {"quadratic": quadratic_bowl, "bowl": quadratic_bowl, "rosenbrock": rosenbrock,
            "beale": beale, "saddle": saddle, "himmelblau": himmelblau}


def get_surface(function):
    if isinstance(function, Surface):
        return function
    if isinstance(function, str):
        make = SURFACES.get(function.lower())
        if make is None:
            raise ValueError(f"optimizer_race: unknown function {function!r}; built in: "
                             f"{', '.join(SURFACES)} (or pass a Surface or a callable f(x, y))")
        return make()
    if callable(function):
        return Surface(getattr(function, "__name__", "f"), function, (-1.0, 1.0), [],
                       (-2, 2), (-2, 2), log_levels=False)
    raise TypeError(f"optimizer_race: function must be a name, a Surface or a callable f(x, y), "
                    f"got {type(function).__name__}")


def _describe(cls, kwargs):
    args = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in kwargs.items())
    return f"{cls.__name__}({args})"


def optimizer_class(name):
    """The ``cr.optim`` optimiser class called ``name`` ("SGD", "Adam", ...)."""
    classes = {n: getattr(cr.optim, n) for n in cr.optim.__all__}
    classes = {n: c for n, c in classes.items() if isinstance(c, type)
               and issubclass(c, cr.optim.Optimizer) and c is not cr.optim.Optimizer}
    if name not in classes:
        raise ValueError(f"optimizer_race: unknown optimiser {name!r}; cr.optim has "
                         f"{', '.join(classes)}")
    return classes[name]


def _make_optimizer(spec, start):
    """(label, optimizer, point tensor) for an optimiser name, class, instance or a
    (class, kwargs) pair."""
    if isinstance(spec, str):
        spec = optimizer_class(spec)
    if isinstance(spec, cr.optim.Optimizer):
        params = [p for g in spec.param_groups for p in g["params"]]
        if len(params) != 1 or params[0].numel() != 2:
            raise ValueError(f"optimizer_race: an optimiser instance must hold exactly one "
                             f"parameter with 2 elements (the point), got shapes "
                             f"{[tuple(p.shape) for p in params]}")
        p = params[0]
        with cr.no_grad():
            p.copy_(cr.tensor(start, dtype=p.dtype).reshape(p.shape))
        return _describe(type(spec), {k: v for k, v in spec.defaults.items()
                                      if k == "lr"}), spec, p
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], type):
        cls, kwargs = spec
        p = cr.tensor(start, dtype=cr.float64, requires_grad=True)
        return _describe(cls, kwargs), cls([p], **kwargs), p
    if isinstance(spec, type) and issubclass(spec, cr.optim.Optimizer):
        p = cr.tensor(start, dtype=cr.float64, requires_grad=True)
        return spec.__name__, spec([p]), p
    raise TypeError(f"optimizer_race: each optimiser must be a cr.optim.Optimizer instance, a "
                    f"class, its name, or a (class, kwargs) pair; got {spec!r}")


def run_optimizer(surface, optimizer, point, steps):
    """Run ``steps`` steps; returns (points (steps+1, 2), losses (steps+1,)). Stops early, padding
    with NaN, when the point leaves the finite numbers (divergence)."""
    pts = np.full((steps + 1, 2), np.nan)
    losses = np.full(steps + 1, np.nan)
    pts[0] = point.detach().numpy().reshape(2)
    with np.errstate(over="ignore", invalid="ignore"):   # divergence is shown, not warned about
        _steps(surface, optimizer, point, steps, pts, losses)
    return pts, losses


def _steps(surface, optimizer, point, steps, pts, losses):
    for i in range(steps):
        optimizer.zero_grad()
        flat = point.reshape(2)
        loss = surface(flat[0], flat[1])
        loss.backward()
        losses[i] = loss.item()
        optimizer.step()
        pts[i + 1] = point.detach().numpy().reshape(2)
        if not np.all(np.isfinite(pts[i + 1])):
            break
    else:
        with cr.no_grad():
            flat = point.reshape(2)
            losses[steps] = surface(flat[0], flat[1]).item()


COLOURS = ["#e53935", "#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#00897b", "#6d4c41", "#3949ab"]


class Race(Plot):
    """The result of ``optimizer_race``: ``figure`` (contour plot), ``surface``,
    ``trajectories`` and ``losses`` (dicts of arrays by label), ``save(path)``, ``save_gif``."""

    def save_gif(self, path, frames=30, fps=8, dpi=50):
        """An animated GIF of the race (matplotlib's PillowWriter), ``frames`` frames long."""
        import io
        from matplotlib.animation import FuncAnimation, PillowWriter
        steps = max(len(t) for t in self.trajectories.values()) - 1
        fig, lines, heads = _draw(self.surface, self.trajectories, self.title, width=5.0,
                                  height=4.2, animate=True)
        marks = np.unique(np.round(np.geomspace(1, steps + 1, frames)).astype(int)) \
            if self.log_time else np.unique(np.linspace(1, steps + 1, frames).astype(int))

        def update(k):
            for (line, head), traj in zip(zip(lines, heads), self.trajectories.values()):
                seen = traj[:k]
                line.set_data(seen[:, 0], seen[:, 1])
                last = seen[np.isfinite(seen).all(axis=1)][-1:]
                head.set_data(last[:, 0], last[:, 1])
            return lines + heads

        anim = FuncAnimation(fig, update, frames=list(marks), blit=False)
        tmp = str(path) + ".part.gif"
        anim.save(tmp, writer=PillowWriter(fps=fps), dpi=dpi)
        with open(tmp, "rb") as f:
            data = f.read()
        import os
        os.unlink(tmp)
        return write_atomic(path, data)


def optimizer_race(function, optimizers, start=None, steps=200, title=None, log_time=False):
    """Race optimisers across a 2-D function and draw their paths over its contours.

    Args:
        function: "quadratic" (κ=10; or ``quadratic_bowl(κ)``), "rosenbrock", "beale", "saddle",
            "himmelblau", a ``Surface``, or a callable ``f(x, y)`` of tensors.
        optimizers: ``{label: spec}`` or a list of specs; a spec is the name of a ``cr.optim``
            class (``["SGD", "Adam"]``, default settings), the class, a ``(class, kwargs)``
            pair, or an optimiser instance over one 2-element tensor (which is moved to
            ``start``).
        start: the starting point (default: the function's own).
        steps: optimisation steps per optimiser.
        log_time: in the GIF, space frames logarithmically in time (early steps in detail).

    Returns a ``Race`` with ``trajectories[label]`` of shape (steps + 1, 2) and ``losses``.
    """
    surface = get_surface(function)
    start = surface.start if start is None else tuple(float(v) for v in start)
    if len(start) != 2:
        raise ValueError(f"optimizer_race: start must be a point (x, y), got {start!r}")
    items = optimizers.items() if isinstance(optimizers, dict) else [(None, o) for o in optimizers]
    trajectories, losses = {}, {}
    for label, spec in items:
        auto, opt, point = _make_optimizer(spec, start)
        label = auto if label is None else label
        trajectories[label], losses[label] = run_optimizer(surface, opt, point, steps)
    title = title or f"{surface.name}: {steps} steps from ({start[0]:g}, {start[1]:g})"
    fig, _, _ = _draw(surface, trajectories, title)
    return Race(fig, surface=surface, trajectories=trajectories, losses=losses, start=start,
                title=title, log_time=log_time)


def _draw(surface, trajectories, title, width=7.0, height=5.6, animate=False):
    from matplotlib.colors import LogNorm
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    X, Y, Z = surface.grid(240 if not animate else 160)
    if surface.log_levels:
        lo = max(Z.min(), 1e-3)
        levels = np.geomspace(lo, Z.max(), 18)
        if not animate:   # GIF frames stay small without the filled shading
            ax.contourf(X, Y, np.maximum(Z, lo), levels=levels, norm=LogNorm(), cmap="Greys_r",
                        alpha=0.5)
        ax.contour(X, Y, np.maximum(Z, lo), levels=levels, norm=LogNorm(), colors="#9e9e9e",
                   linewidths=0.5)
    else:
        if not animate:
            ax.contourf(X, Y, Z, levels=18, cmap="Greys_r", alpha=0.5)
        ax.contour(X, Y, Z, levels=18, colors="#9e9e9e", linewidths=0.5)
    for mx, my in surface.minima:
        ax.plot(mx, my, marker="*", ms=13, color="gold", mec="black", mew=0.8, zorder=5,
                ls="none")
    lines, heads = [], []
    for i, (c, (label, traj)) in enumerate(zip(_cycle(COLOURS), trajectories.items())):
        ok = traj[np.isfinite(traj).all(axis=1)]
        diverged = len(ok) < len(traj) or np.any(
            (ok[:, 0] < surface.xlim[0] - 1e3) | (ok[:, 0] > surface.xlim[1] + 1e3))
        name = label + (" (diverged)" if diverged else "")
        shown = ok[:1] if animate else ok
        # earlier entries drawn wider, so paths that coincide stay visible side by side
        (line,) = ax.plot(shown[:, 0], shown[:, 1], "-", color=c, lw=max(3.4 - 0.5 * i, 1.2),
                          label=name, alpha=0.9,
                          marker="o" if len(traj) <= 60 else None, ms=2.5)
        (head,) = ax.plot(shown[-1:, 0], shown[-1:, 1], "o", color=c, ms=6, mec="black", mew=0.6)
        lines.append(line)
        heads.append(head)
    s = next(iter(trajectories.values()))[0]
    ax.plot(s[0], s[1], "s", color="white", mec="black", ms=7, zorder=6, label="start")
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title, fontsize=11)
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    return fig, lines, heads


def _cycle(items):
    while True:
        yield from items


def lecture_optimizers(lr=1e-3, momentum=0.9):
    """The lecture's five: SGD, momentum, Nesterov, RMSProp, Adam (as (class, kwargs) pairs);
    the adaptive ones get a larger step, as they take steps of size ~lr whatever the gradient."""
    adaptive = 0.1 * math.sqrt(lr / 1e-3)
    return {
        "SGD": (cr.optim.SGD, {"lr": lr}),
        "Momentum": (cr.optim.SGD, {"lr": lr, "momentum": momentum}),
        "Nesterov": (cr.optim.SGD, {"lr": lr, "momentum": momentum, "nesterov": True}),
        "RMSprop": (cr.optim.RMSprop, {"lr": adaptive * 0.1}),
        "Adam": (cr.optim.Adam, {"lr": adaptive}),
    }
