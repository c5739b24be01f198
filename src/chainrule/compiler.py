"""``cr.compile``: PyTorch's graph compiler entry point, here a trace and replay.

PyTorch traces a model into a graph and generates fused kernels for it. chainrule records the
ops of one eager call and replays them on later calls with the same guards (input shapes and
dtypes, grad mode, ``training`` flags ...): the same op code on the same arrays, so the same
numbers, without the per-op bookkeeping (``chainrule.tracing``). The replay's outputs have one
graph node, ``CompiledFunctionBackward``, whose backward runs the recorded ops' backwards.
What a replay cannot repeat (Python reading tensor values, hooks, in-place writes to inputs)
keeps that call eager; with ``fullgraph=True`` it raises ``Unsupported`` instead, as PyTorch
raises for a graph break.

For a module it is an ``OptimizedModule`` holding the original as ``_orig_mod``, as PyTorch's,
so ``state_dict`` keys carry the same ``_orig_mod.`` prefix that scripts such as nanoGPT strip
when they load a checkpoint. A function comes back wrapped the same way (its tensors other than
its arguments must not require grad, or it stays eager).
"""
import functools

from .nn.module import Module
from .tracing.compiled import CompiledCall, Unsupported, is_compiling as _recording

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def is_compiling():
    """Whether the code runs while ``cr.compile`` records a call (PyTorch's
    ``torch.compiler.is_compiling``): True only during a recording, never in a replay."""
    return _recording()


def disable(fn=None, recursive=True, reason=None):
    """Exclude ``fn`` from compilation: a compiled module or function calling it is recorded
    with the ops ``fn`` runs; the eager ``fn`` itself is returned (for a compiled one, the
    original)."""
    if fn is None:
        return lambda f: disable(f, recursive, reason)
    if isinstance(fn, OptimizedModule):
        return fn._orig_mod
    return getattr(fn, "_torchdynamo_orig_callable", fn)


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
                                 disable=disable, recompile_limit=recompile_limit)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if disable:
        return model
    limit = DEFAULT_RECOMPILE_LIMIT if recompile_limit is None else int(recompile_limit)
    if isinstance(model, Module):
        return OptimizedModule(model, limit, fullgraph)
    return _compiled_function(model, limit, fullgraph)


# PyTorch's torch._dynamo.config.recompile_limit: guard keys recorded per compiled callable
# before new ones run eagerly
DEFAULT_RECOMPILE_LIMIT = 8


def _compiled_function(fn, limit, fullgraph=False):
    call = CompiledCall(fn, None, limit, fullgraph)

    @functools.wraps(fn)
    def compiled(*args, **kwargs):
        return call(args, kwargs)
    compiled._torchdynamo_orig_callable = fn
    compiled._compiled_call = call
    return compiled


class OptimizedModule(Module):
    """What ``cr.compile(module)`` returns: calls ``_orig_mod`` (recorded, then replayed; see
    the module's docstring) and shows its attributes."""

    def __init__(self, mod, recompile_limit=DEFAULT_RECOMPILE_LIMIT, fullgraph=False):
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_compiled_call",
                           CompiledCall(mod, mod, recompile_limit, fullgraph))

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or self._forward_hooks:
            if self._compiled_call.fullgraph:
                raise Unsupported("cr.compile(fullgraph=True) cannot replay this call whole: "
                                  "the compiled module has hooks")
            return super().__call__(*args, **kwargs)
        return self._compiled_call(args, kwargs)

    def forward(self, *args, **kwargs):
        return self._compiled_call(args, kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)
