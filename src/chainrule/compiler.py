"""``cr.compile``: PyTorch's graph compiler entry point, which here runs the model as written.

PyTorch traces a model into a graph and generates fused kernels for it; chainrule runs every
op eagerly on NumPy, so ``cr.compile(model)`` gives back something that computes exactly what
``model`` computes. For a module it is an ``OptimizedModule`` holding the original as
``_orig_mod``, as PyTorch's, so ``state_dict`` keys carry the same ``_orig_mod.`` prefix that
scripts such as nanoGPT strip when they load a checkpoint. Functions come back unchanged.
"""
import functools

from .nn.module import Module

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def is_compiling():
    """Whether the code runs inside a compiled trace (never: chainrule does not trace)."""
    return False


def disable(fn=None, recursive=True, reason=None):
    """Exclude ``fn`` from compilation: it already runs eagerly."""
    if fn is None:
        return lambda f: f
    return fn


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, name=None, disable=False, recompile_limit=None,
            isolate_recompiles=False, shapes_spec=None):
    """``cr.compile(model)`` or ``@cr.compile(fullgraph=True)``: a callable that behaves as
    ``model``. The keywords are PyTorch's and are checked as PyTorch checks them."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic,
                                 backend=backend, mode=mode, options=options, name=name,
                                 disable=disable)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if isinstance(model, Module) and not disable:
        return OptimizedModule(model)
    return model


class OptimizedModule(Module):
    """What ``cr.compile(module)`` returns: calls ``_orig_mod`` and shows its attributes."""

    def __init__(self, mod):
        super().__init__()
        self._orig_mod = mod

    def forward(self, *args, **kwargs):
        return self._orig_mod(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)
