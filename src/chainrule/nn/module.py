"""``Module``: the base of every layer and model (``torch.nn.Module``).

A module owns three ordered dictionaries, filled by plain attribute assignment:
``_parameters`` (learnable :class:`Parameter` objects), ``_buffers`` (tensors that are state but
not learned, such as BatchNorm's running mean) and ``_modules`` (submodules). Everything else
(``parameters()``, ``state_dict()``, ``train()``, ``to()``, the printed tree) walks them.
"""
import collections
import itertools

import numpy as np

from .. import _dtype
from ..autograd.grad_mode import no_grad
from ..autograd.tensor_base import increment_version
from ..backend import placed_like, to_device
from ..device import check_available
from ..tensor import Tensor, _parse_to
from .module_changes import WatchedDict, _changed
from .parameter import Buffer, Parameter
from ..autograd.tensor_base import make_tensor

class _IncompatibleKeys(collections.namedtuple("IncompatibleKeys",
                                               ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns (PyTorch's ``_IncompatibleKeys``): the keys the module
    expected and did not get, and those it got and did not expect. Prints
    ``<All keys matched successfully>`` when both are empty, as tutorials show."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


IncompatibleKeys = _IncompatibleKeys


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks_dict):
        self.hooks_dict = hooks_dict
        self.id = next(RemovableHandle._ids)

    def remove(self):
        self.hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _addindent(s, num_spaces):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join(num_spaces * " " + line for line in lines)


def _as_array(value):
    """A state-dict value as a NumPy array: chainrule tensors, NumPy arrays, PyTorch tensors."""
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, np.ndarray):
        return value
    detach = getattr(value, "detach", None)
    if detach is not None:  # a torch.Tensor: go through NumPy without importing torch
        return np.asarray(detach().cpu().numpy())
    return np.asarray(value)


class Module:
    """Base class for all neural-network modules; subclass it and define ``forward``.

    >>> class TwoLayer(cr.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = cr.nn.Linear(2, 8)
    ...         self.out = cr.nn.Linear(8, 1)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).tanh())
    >>> [name for name, _ in TwoLayer().named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    _version = 1
    training: bool

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments "
                            f"{args} {kwargs}")
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", WatchedDict())
        setattr_(self, "_buffers", WatchedDict())
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_modules", WatchedDict())
        setattr_(self, "_forward_hooks", WatchedDict())
        setattr_(self, "_forward_pre_hooks", WatchedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  f'"forward" function')

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    # -- registration ------------------------------------------------------------------------
    def register_parameter(self, name, param):
        """Add ``param`` (a Parameter or None) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            f"(chainrule.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: state that is not learned (running statistics, masks). Persistent buffers
        are part of ``state_dict()``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            f"(chainrule Tensor or None required)")
        if isinstance(tensor, (Buffer, Parameter)):
            tensor = make_tensor(tensor.array)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module under ``name`` (None leaves a placeholder)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string, got {type(name).__name__}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name or name == "":
            raise KeyError(f'module name can\'t contain ".", or be empty, got "{name}"')
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        _changed()
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _remove_from(name, d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(chainrule.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            modules = d.get("_modules")
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            _remove_from(name, d, params, self._buffers, self._non_persistent_buffers_set)
            modules[name] = value
        elif d.get("_modules") is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                f"(chainrule.nn.Module or None expected)")
            d["_modules"][name] = None
        elif isinstance(value, Buffer):
            self.register_buffer(name, value, value.persistent)
        elif d.get("_buffers") is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(chainrule Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            t = d.get(table)
            if t is not None and name in t:
                return t[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        _changed()
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = set(super().__dir__())
        keys.update(self._parameters, self._buffers, self._modules)
        return sorted(k for k in keys if not k[0].isdigit())

    def __setstate__(self, state):
        _changed()
        self.__dict__.update(state)

    # -- traversal ---------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every descendant, depth first, once each."""
        if memo is None:
            memo = set()
        # An explicit stack rather than nested generators: this runs in every zero_grad().
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            yield name, module
            children = module.__dict__["_modules"]
            if children:
                dot = name + "." if name else ""
                stack.extend((dot + key, child) for key, child in reversed(children.items())
                             if child is not None)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, table, prefix, recurse, remove_duplicate):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for mod_prefix, module in mods:
            for name, value in module.__dict__[table].items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, parameter) pairs, in registration order; a shared parameter appears once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target):
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if item not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = mod._modules[item]
        return mod

    def get_parameter(self, target):
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"{type(mod).__name__} has no parameter `{name}`")
        return mod._parameters[name]

    def get_buffer(self, target):
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._buffers:
            raise AttributeError(f"{type(mod).__name__} has no buffer `{name}`")
        return mod._buffers[name]

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and then on self; returns self.
        Typical use: custom initialisation."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- modes and gradients -----------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (Dropout drops, BatchNorm uses batch statistics); returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Set evaluation mode: ``train(False)``. Unrelated to ``no_grad``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: to None (default) or to zeros."""
        for _, module in self.named_modules():
            for p in module.__dict__["_parameters"].values():
                if p is None or p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.grad_fn = None
                    p.grad.array[...] = 0

    # -- dtype -------------------------------------------------------------------------------
    def _apply(self, fn):
        """Apply ``fn`` (array -> array) to every parameter, gradient and buffer, in place, so
        that Parameter objects (and optimisers holding them) stay the same."""
        for module in self.modules():
            for p in module._parameters.values():
                if p is None:
                    continue
                new = fn(p.array)
                if new is not p.array:
                    p.array = new
                    increment_version(p)
                if p.grad is not None:
                    p.grad.array = fn(p.grad.array)
            for name, b in module._buffers.items():
                if b is not None:
                    b.array = fn(b.array)
        return self

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` (its dtype and
        device): converts floating-point parameters and buffers in place (integer buffers keep
        their type); returns self. A device that cannot hold tensors raises, as in PyTorch."""
        dev, dtype, _ = _parse_to(args, kwargs, f"{type(self).__name__}.to")
        if dev is not None:
            dev = check_available(dev, f"{type(self).__name__}.to")
            self._apply(lambda a: to_device(a, dev.type, dev.index))
        if dtype is None:
            return self
        nd = _dtype.to_numpy_dtype(dtype)
        if not _dtype.is_float_np(nd):
            raise TypeError(f"{type(self).__name__}.to only accepts floating point dtypes, "
                            f"but got desired dtype={dtype}")
        return self._apply(lambda a: a.astype(nd) if _dtype.is_float_np(a.dtype) and a.dtype != nd
                           else a)

    def cuda(self, device=None):
        """Move the parameters and buffers to the GPU, in place; raises PyTorch's CPU-build
        AssertionError where CUDA is not available."""
        if isinstance(device, int) and not isinstance(device, bool):
            device = f"cuda:{device}"
        return self.to(check_available(device or "cuda", f"{type(self).__name__}.cuda"))

    def bfloat16(self):
        return self.to(_dtype.bfloat16)

    def type(self, dst_type):
        return self.to(dst_type)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def half(self):
        return self.to(_dtype.float16)

    def cpu(self):
        return self.to("cpu")

    # -- state dict --------------------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An ordered dict from dotted name to tensor (parameters, then persistent buffers, per
        module), sharing memory with the module; key names match PyTorch's for the same
        architecture, so weights move between the two."""
        if args:
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
        if destination is None:
            destination = collections.OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, strict, missing_keys, unexpected_keys,
                              error_msgs, assign=False):
        """Copy this module's own entries (not its children's) from ``state_dict``; with
        ``assign`` the module takes the checkpoint's arrays (and dtypes) instead of copying."""
        persistent = {k: v for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set}
        local = itertools.chain(self._parameters.items(), persistent.items())
        for name, target in local:
            if target is None:
                continue
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            arr = _as_array(state_dict[key])
            if arr.shape != target.array.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{tuple(arr.shape)} from checkpoint, the shape in current "
                                  f"model is {tuple(target.array.shape)}.")
                continue
            with no_grad():
                if assign:
                    target.array = arr if getattr(arr.flags, "writeable", True) else arr.copy()
                else:     # across devices too, as PyTorch's copy_ does
                    np.copyto(target.array, placed_like(arr, target.array), casting="unsafe")
                increment_version(target)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from ``state_dict`` (chainrule or PyTorch tensors, or NumPy
        arrays) into this module. Returns ``(missing_keys, unexpected_keys)``, a namedtuple that
        prints ``<All keys matched successfully>`` when both are empty; with ``strict`` any
        missing or unexpected key is an error, and a shape mismatch always is. The error lists
        every offending key. ``assign=True`` makes the module use the checkpoint's arrays (their
        memory and dtype) rather than copying into its own, as PyTorch's ``assign``."""
        if not isinstance(state_dict, collections.abc.Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        missing, unexpected, errors = [], [], []
        expected = set()
        for prefix, module in self.named_modules():
            prefix = prefix + "." if prefix else ""
            module._load_from_state_dict(state_dict, prefix, strict, missing, unexpected, errors,
                                         assign)
            for name in module._parameters:
                expected.add(prefix + name)
            for name in module._buffers:
                expected.add(prefix + name)
        unexpected.extend(k for k in state_dict if k not in expected)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        return _IncompatibleKeys(missing, unexpected)

    # -- hooks -------------------------------------------------------------------------------
    def register_forward_hook(self, hook):
        """``hook(module, args, output)`` runs after ``forward``; a non-None result replaces the
        output. Returns a handle with ``remove()``."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook):
        """``hook(module, args)`` runs before ``forward``; a non-None result replaces the
        positional arguments (a tuple, or a single value)."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # -- printing ----------------------------------------------------------------------------
    def extra_repr(self):
        """The text inside ``Name(...)``; layers override it to show their configuration."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2)
                       for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _check_name(name, kind):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if "." in name or name == "":
        raise KeyError(f'{kind} name can\'t contain ".", or be empty, got "{name}"')


def _remove_from(name, *tables):
    for t in tables:
        if t is None:
            continue
        if isinstance(t, set):
            t.discard(name)
        elif name in t:
            del t[name]
