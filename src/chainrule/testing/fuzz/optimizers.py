"""Optimiser fuzzing: random parameter sets and hyperparameters, 20 steps in both libraries.

The loss is ``sum(c * (p - t)**2) + 0.1 * sum(sin(3 p))`` per parameter (convex plus a ripple,
so gradients change sign); one parameter now and then gets no gradient at all. The parameters
after every step must agree.
"""
import numpy as np

from .compare import difference

STEPS = 20


def _pick(rng, *options):
    return options[int(rng.integers(len(options)))]


def _common(rng):
    return {"weight_decay": _pick(rng, 0, 0, 0.01, 0.1), "maximize": bool(rng.random() < 0.2)}


def _sgd(rng):
    momentum = _pick(rng, 0, 0.5, 0.9)
    nesterov = bool(momentum and rng.random() < 0.5)
    return {"lr": _pick(rng, 0.01, 0.1, 0.5), "momentum": momentum,
            "dampening": 0 if nesterov else _pick(rng, 0, 0.1), "nesterov": nesterov,
            **_common(rng)}


def _betas(rng):
    return (_pick(rng, 0.9, 0.5, 0.0), _pick(rng, 0.999, 0.9, 0.99))


SPACES = {
    "SGD": _sgd,
    "Adam": lambda r: {"lr": _pick(r, 1e-3, 0.01, 0.1), "betas": _betas(r),
                       "eps": _pick(r, 1e-8, 1e-3), "amsgrad": bool(r.integers(2)),
                       "decoupled_weight_decay": bool(r.integers(2)), **_common(r)},
    "AdamW": lambda r: {"lr": _pick(r, 1e-3, 0.01, 0.1), "betas": _betas(r),
                        "eps": _pick(r, 1e-8, 1e-3), "amsgrad": bool(r.integers(2)),
                        **_common(r)},
    "Adamax": lambda r: {"lr": _pick(r, 2e-3, 0.05), "betas": _betas(r),
                         "eps": _pick(r, 1e-8, 1e-3), **_common(r)},
    "NAdam": lambda r: {"lr": _pick(r, 2e-3, 0.05), "betas": _betas(r),
                        "momentum_decay": _pick(r, 4e-3, 0.0, 0.1),
                        "decoupled_weight_decay": bool(r.integers(2)), **_common(r)},
    "RMSprop": lambda r: {"lr": _pick(r, 0.01, 1e-3), "alpha": _pick(r, 0.99, 0.9),
                          "eps": _pick(r, 1e-8, 1e-3), "momentum": _pick(r, 0, 0.9),
                          "centered": bool(r.integers(2)), **_common(r)},
    "Adagrad": lambda r: {"lr": _pick(r, 0.01, 0.1), "lr_decay": _pick(r, 0, 0.01),
                          "initial_accumulator_value": _pick(r, 0, 0.1),
                          "eps": _pick(r, 1e-10, 1e-3), **_common(r)},
    "Adadelta": lambda r: {"lr": _pick(r, 1.0, 0.1), "rho": _pick(r, 0.9, 0.5),
                           "eps": _pick(r, 1e-6, 1e-3), **_common(r)},
}


def make_problem(rng):
    shapes = [tuple(int(d) for d in rng.integers(0, 4, int(rng.integers(0, 3))))
              for _ in range(int(rng.integers(1, 4)))]
    start = [np.round(rng.standard_normal(s), 3) for s in shapes]
    scale = [np.round(rng.uniform(0.1, 3.0, s), 2) for s in shapes]
    target = [np.round(rng.standard_normal(s), 2) for s in shapes]
    unused = int(rng.integers(len(shapes))) if len(shapes) > 1 and rng.random() < 0.2 else None
    return start, scale, target, unused


def run_optimizer(lib, name, hyper, problem, two_groups):
    start, scale, target, unused = problem
    params = [lib.nn.Parameter(lib.tensor(a.copy())) for a in start]
    if two_groups and len(params) > 1:
        groups = [{"params": params[:1]}, {"params": params[1:], "lr": hyper["lr"] * 0.5}]
    else:
        groups = params
    opt = getattr(lib.optim, name)(groups, **hyper)
    trace = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = 0
        for i, (p, c, t) in enumerate(zip(params, scale, target)):
            if i != unused:
                loss = loss + (lib.tensor(c) * (p - lib.tensor(t)) ** 2).sum() \
                    + 0.1 * (3 * p).sin().sum()
        loss.backward()
        opt.step()
        trace.append([p.detach().numpy().copy() for p in params])
    return trace


def fuzz_one(rng, allowed, cr, torch):
    """``(mismatch descriptions or None when skipped, reproducer script)``."""
    names = [n for n in SPACES if allowed is None or n in allowed]
    if not names:
        return None, ""
    name = names[int(rng.integers(len(names)))]
    hyper = SPACES[name](rng)
    problem = make_problem(rng)
    two_groups = bool(rng.random() < 0.3)
    script = _script(name, hyper, problem, two_groups)
    want = run_optimizer(torch, name, hyper, problem, two_groups)
    try:
        got = run_optimizer(cr, name, hyper, problem, two_groups)
    except Exception as e:
        return [f"{name}({hyper}): chainrule raised {type(e).__name__}: {e}"], script
    for step, (g_params, w_params) in enumerate(zip(got, want)):
        for i, (g, w) in enumerate(zip(g_params, w_params)):
            d = difference(g, w, "float64")
            if d:
                return [f"{name}({hyper}) step {step + 1} parameter {i}: {d}"], script
    return [], script


def _script(name, hyper, problem, two_groups):
    start, scale, target, unused = problem
    lit = lambda arrs: "[" + ", ".join(f"np.array({a.tolist()!r}, dtype=np.float64)"
                                       for a in arrs) + "]"
    return "\n".join([
        f"# optimiser fuzz: {name} for {STEPS} steps, chainrule vs PyTorch", "import numpy as np",
        "import torch", "import chainrule as cr",
        "from chainrule.testing.fuzz.optimizers import run_optimizer",
        f"problem = ({lit(start)}, {lit(scale)}, {lit(target)}, {unused!r})",
        "for lib in (cr, torch):",
        f"    print(lib.__name__, run_optimizer(lib, {name!r}, {hyper!r}, problem, "
        f"{two_groups!r})[-1])"])
