"""``Optimizer``: the base class every optimiser builds on (PyTorch's ``torch.optim.Optimizer``).

An optimiser holds ``param_groups`` (a list of dicts: ``"params"`` plus that group's options, the
constructor's ``defaults`` filling whatever a group leaves out) and ``state`` (a dict keyed by
parameter: step counts, moment estimates). ``step()`` updates every parameter that has a
``.grad`` in place (a frozen parameter, ``requires_grad=False``, never gets one and is
skipped, as in PyTorch: transfer learning passes ``model.parameters()`` whole), directly on ``p.array`` with NumPy ``out=`` arguments, so a step allocates
nothing once its scratch buffers exist.

``state_dict()`` follows PyTorch's format exactly: parameters are replaced by integer ids in
order of appearance, ``state`` maps those ids to dicts of chainrule tensors and numbers.
"""
from collections import defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..autograd.tensor_base import increment_version, make_tensor
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """The default of an option every param group must give (PyTorch's ``required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class ParamsError(TypeError, ValueError):
    """Bad ``params``: a ValueError, and a TypeError where PyTorch raises one (wrong types)."""


def _type_name(x):
    return type(x).__name__


class Optimizer:
    """Base class of all optimisers.

    Args:
        params: an iterable of tensors (or of ``(name, tensor)`` pairs, as from
            ``named_parameters()``), or an iterable of dicts, each a parameter group with its
            own options.
        defaults: the options (``lr``, ``momentum``...) used where a group does not set them.

    Subclasses implement ``_step_group(group)``; ``step(closure)`` calls it for each group.
    Those that keep per-parameter state fill a new parameter's state in ``_init_state`` and
    loop over ``_params_with_grad(group)``, which does the bookkeeping they share.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._scratch = {}
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise ParamsError(f"{name}: params should be an iterable of Tensors or dicts, but got "
                              f"a single Tensor; pass [tensor] or model.parameters()")
        if isinstance(params, (set, frozenset)):
            raise ParamsError(f"{name}: optimizer parameters need to be organized in ordered "
                              f"collections, but the ordering of tensors in sets will change "
                              f"between runs. Please use a list instead.")
        try:
            param_groups = list(params)
        except TypeError:
            raise ParamsError(f"{name}: params should be an iterable of Tensors or dicts, but got "
                              f"{_type_name(params)}") from None
        if len(param_groups) == 0:
            raise ValueError(f"{name}: optimizer got an empty parameter list (params)")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # -- groups ------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``"params"`` and optional options)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise ParamsError(f"{name}.add_param_group: param_group must be a dict, but got "
                              f"{_type_name(param_group)}")
        if "params" not in param_group:
            raise ValueError(f"{name}: parameter group {len(self.param_groups)} has no 'params' "
                             f"key; got keys {sorted(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise ParamsError(f"{name}: optimizer parameters need to be organized in ordered "
                              f"collections, but the ordering of tensors in sets will change "
                              f"between runs. Please use a list instead.")
        else:
            try:
                params = list(params)
            except TypeError:
                raise ParamsError(f"{name}: params should be an iterable of Tensors, but got "
                                  f"{_type_name(params)}") from None

        tensors, names = [], []
        for item in params:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                names.append(item[0])
                item = item[1]
            tensors.append(item)
        if names and len(names) != len(tensors):
            raise ValueError(f"{name}: all optimizer params should be with/without names. Some "
                             f"param names are missing")

        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor):
                raise ParamsError(f"{name}: optimizer can only optimize Tensors, but params[{i}] "
                                  f"is {_type_name(p)}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor: params[{i}] (shape "
                                 f"{tuple(p.shape)}) was computed by {p.grad_fn.node_name()}; "
                                 f"optimize the leaf it came from, or detach() it and call "
                                 f"requires_grad_()")
        if len({id(p) for p in tensors}) != len(tensors):
            seen = set()
            dup = next(i for i, p in enumerate(tensors) if id(p) in seen or seen.add(id(p)))
            raise ValueError(f"{name}: params[{dup}] (shape {tuple(tensors[dup].shape)}) appears "
                             f"more than once in the parameter group")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(tensors):
            if id(p) in existing:
                raise ValueError(f"{name}: some parameters appear in more than one parameter "
                                 f"group: params[{i}] (shape {tuple(p.shape)}) is already in "
                                 f"another group")
        for g in self.param_groups:
            if ("param_names" in g) != bool(names):
                raise ValueError(f"{name}: all optimizer param groups should be with/without "
                                 f"names; cannot add a group "
                                 f"{'with' if names else 'without'} names to this optimizer")

        param_group["params"] = tensors
        if names:
            param_group["param_names"] = names
        for key, default in self.defaults.items():
            if default is required and key not in param_group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required "
                                 f"optimization parameter {key}")
            param_group.setdefault(key, default)
        lr = param_group.get("lr")
        if isinstance(lr, (int, float)) and lr < 0:
            raise ValueError(f"{name}: invalid learning rate lr={lr!r} in parameter group "
                             f"{len(self.param_groups)}; expected lr >= 0")
        self.param_groups.append(param_group)

    # -- stepping ----------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Forget the parameters' gradients: set ``.grad`` to None (default) or fill it with 0."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    g.requires_grad = False
                    g.array.fill(0)
                    increment_version(g)

    def step(self, closure=None):
        """Update every parameter that has a gradient; ``closure`` (optional) re-evaluates
        the model and returns the loss, which ``step`` returns."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group):
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    def _params_with_grad(self, group):
        """``(p, x, g, state, step)`` for each parameter ``p`` of ``group`` that has a gradient:
        ``x`` is ``p.array``; ``g`` the gradient with the group's weight decay and ``maximize``
        applied (``_effective_grad``; with ``decoupled_weight_decay``, AdamW's decay shrinks
        ``x *= 1 - lr * wd`` instead); ``state`` the parameter's state dict, filled by
        ``_init_state`` on its first step; ``step`` its step count, already advanced by one.
        The caller updates ``x`` in place, then calls ``increment_version(p)``."""
        state = self.state
        lr, weight_decay, maximize = group["lr"], group["weight_decay"], group["maximize"]
        decoupled = weight_decay != 0 and group.get("decoupled_weight_decay", False)
        l2 = 0 if decoupled else weight_decay
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            x = p.array
            st = state[p]
            if not st:
                self._init_state(st, p, group)
            step = st["step"].array
            step += 1
            if decoupled:
                x *= 1 - lr * weight_decay
            g = grad.array
            if l2 or maximize:
                g = self._effective_grad(x, g, l2, maximize)
            yield p, x, g, st, step.item()

    def _init_state(self, st, p, group):
        """Hook for subclasses: fill ``st``, the empty state of parameter ``p`` (PyTorch's key
        order, as its ``_init_group`` creates them)."""

    def _buffer(self, like, slot):
        """A scratch array shaped like ``like``, reused across steps (slot tells them apart)."""
        key = (like.shape, like.dtype, slot)
        buf = self._scratch.get(key)
        if buf is None:
            buf = self._scratch[key] = np.empty_like(like)
        return buf

    def _effective_grad(self, p, g, weight_decay, maximize):
        """``g`` with L2 weight decay (``g + wd * p``) and the sign flip for ``maximize``,
        in a scratch buffer; ``g`` itself when neither applies (it is never modified)."""
        if not weight_decay and not maximize:
            return g
        buf = self._buffer(g, "grad")
        if weight_decay:
            np.multiply(p, weight_decay, out=buf)
            if maximize:
                np.subtract(buf, g, out=buf)
            else:
                np.add(g, buf, out=buf)
        else:
            np.negative(g, out=buf)
        return buf

    # -- checkpoints -------------------------------------------------------------------------
    def state_dict(self):
        """The optimiser's state as ``{"state": {id: {...}}, "param_groups": [{..., "params":
        [ids]}]}``, ids numbering the parameters in order of appearance (PyTorch's format).
        The state tensors are the optimiser's own (not copies), as in PyTorch."""
        mapping = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``: options per group and state per parameter, matched by
        position. State tensors are copied and cast to their parameter's dtype ('step' keeps
        its own); tensors may be chainrule tensors, NumPy arrays or anything with ``__array__``."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict \
                or "state" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             f"'param_groups' (as returned by state_dict()), got "
                             f"{_type_name(state_dict)}")
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has {len(saved_groups)} "
                             f"parameter groups, this optimizer has {len(groups)}")
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"{name}.load_state_dict: loaded state dict contains a parameter "
                                 f"group ({i}) of {len(s['params'])} parameters that doesn't "
                                 f"match the size of optimizer's group ({len(g['params'])})")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                p = id_map[k]
                state[p] = {key: _cast_state(p, key, value) for key, value in v.items()}
            else:
                state[k] = v
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
        self.state = state
        self.param_groups = saved_groups
        for group in self.param_groups:
            for key, default in self.defaults.items():
                if default is not required:
                    group.setdefault(key, default)
            self._fix_group(group)

    def _fix_group(self, group):
        """Hook for subclasses: repair a loaded group (AdamW forces decoupled weight decay)."""

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._scratch = {}


def _cast_state(p, key, value):
    if isinstance(value, (bool, int, float)) or value is None:
        if key == "step":  # old checkpoints keep the step as a number; ours is a float32 tensor
            return make_tensor(np.array(float(value), dtype=np.float32))
        return value
    if isinstance(value, Tensor):
        arr = value.array
    elif isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        if hasattr(value, "detach"):  # a torch tensor
            value = value.detach().cpu()
        arr = np.asarray(value)
    elif isinstance(value, dict):
        return {k: _cast_state(p, k, v) for k, v in value.items()}
    elif isinstance(value, (list, tuple)):
        return type(value)(_cast_state(p, None, v) for v in value)
    else:
        return value
    if key == "step" or arr.dtype.kind != "f":
        dtype = arr.dtype
    else:
        dtype = p.array.dtype
    return make_tensor(np.array(arr, dtype=dtype, order="C", copy=True))


def zeros_like_param(p):
    """A state tensor of zeros shaped and typed like parameter ``p`` (PyTorch's zeros_like)."""
    return make_tensor(np.zeros_like(p.array))


def new_step():
    """The step counter PyTorch keeps per parameter: a float32 scalar tensor."""
    return make_tensor(np.zeros((), dtype=np.float32))


# -- argument checks shared by the optimisers (each error names the optimiser and argument) --
def check_lr(opt, lr):
    if isinstance(lr, Tensor):
        if lr.numel() != 1:
            raise ValueError(f"{opt}: a tensor lr must have one element, got shape "
                             f"{tuple(lr.shape)}")
        lr = lr.item()
    if not isinstance(lr, (int, float)) or isinstance(lr, bool):
        raise ValueError(f"{opt}: lr must be a number, got {type(lr).__name__}")
    if not lr >= 0.0:
        raise ValueError(f"{opt}: invalid learning rate lr={lr!r}; expected lr >= 0")
    return lr


def check_nonnegative(opt, arg, value):
    if not value >= 0.0:
        raise ValueError(f"{opt}: invalid {arg}={value!r}; expected {arg} >= 0")


def check_betas(opt, betas):
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"{opt}: betas must be a pair (beta1, beta2), got {betas!r}") from None
    for i, b in enumerate((b1, b2)):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"{opt}: invalid betas[{i}]={b!r}; each beta must be in [0, 1)")
    return (float(b1), float(b2))


def check_not_differentiable(opt, differentiable):
    if differentiable:
        raise NotImplementedError(f"{opt}: differentiable=True is not supported: chainrule "
                                  f"updates parameters in place outside the graph")
