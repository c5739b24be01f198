"""``cr.onnx.export``: run the model once on example inputs and record what it computes.

The trace watches two doors while the model runs: ``Module.__call__`` and ``Function.apply``.
A module with a converter in ``export_modules`` (a convolution, an LSTM, attention) becomes
its ONNX nodes and the ops inside it are not recorded; every other op that runs outside such a
module becomes nodes through ``export_ops``. A tensor no recorded op made is a constant (the
model's parameters keep their state_dict names). An op without a converter stops the export
with an error naming it.
"""
import contextlib
import io as _io

import onnx
from onnx import helper

from ..autograd.function import Function
from ..autograd.tensor_base import TensorBase
from ..backends.reference import reference
from ..io import atomic_write_bytes
from ..nn.module import Module
from . import export_modules, export_ops, export_recurrent  # noqa: F401  (registers converters)
from .graph import GraphBuilder, UnsupportedOperatorError

DEFAULT_OPSET = 17
IR_VERSION = 10     # the newest ONNX Runtime reads


@contextlib.contextmanager
def _tracing(g):
    depth = [0]
    original_call = Module.__call__
    original_apply = Function.__dict__["apply"]

    def traced_call(module, *args, **kwargs):
        convert = export_modules.converter_for(module) if depth[0] == 0 else None
        if convert is None:
            return original_call(module, *args, **kwargs)
        depth[0] += 1
        try:
            out = original_call(module, *args, **kwargs)
        finally:
            depth[0] -= 1
        convert(g, module, args, kwargs, out)
        return out

    def traced_apply(cls, *args):
        out = original_apply.__func__(cls, *args)
        if depth[0] == 0:
            convert = export_ops.converter_for(cls)
            if convert is None:
                raise UnsupportedOperatorError(
                    f"onnx.export: the operation {cls.function_name or cls.__name__} has no ONNX "
                    f"export yet")
            depth[0] += 1
            try:
                convert(g, out, *args)
            finally:
                depth[0] -= 1
        return out

    # Reference twins are reached by an ``apply`` bound when the switch flips, which bypasses
    # Function.apply's door: the switch is off while the doors are watched, and flips back only
    # after they are restored (so nothing stays bound to the tracing apply).
    with reference(False):
        Module.__call__ = traced_call
        Function.apply = classmethod(traced_apply)
        try:
            yield
        finally:
            Module.__call__ = original_call
            Function.apply = original_apply


def _flatten(obj):
    if isinstance(obj, TensorBase):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for item in obj for t in _flatten(item)]
    if obj is None:
        return []
    raise TypeError(f"onnx.export: the model returned a {type(obj).__name__}; expected tensors "
                    f"or (nested) tuples of tensors")


def _tensors_in(args):
    """The tensors among the example arguments, nested tuples and lists included, in order."""
    found = []
    for a in args:
        if isinstance(a, TensorBase):
            found.append(a)
        elif isinstance(a, (tuple, list)):
            found += _tensors_in(a)
    return found


def _value_info(name, t, dynamic):
    dims = [dynamic.get(i, n) for i, n in enumerate(t.shape)]
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(t.array.dtype),
                                         dims)


def _dynamic_for(dynamic_axes, name):
    axes = (dynamic_axes or {}).get(name, {})
    if isinstance(axes, (list, tuple)):
        axes = {int(a): f"{name}_dim{a}" for a in axes}
    return {int(a): str(n) for a, n in axes.items()}


def build_model(model, args, input_names=None, output_names=None, dynamic_axes=None,
                opset_version=None, kwargs=None):
    """The ``onnx.ModelProto`` of ``model`` traced on ``args`` (see ``export``)."""
    opset = opset_version or DEFAULT_OPSET
    args = args if isinstance(args, tuple) else (args,)
    inputs = _tensors_in(args)
    names = list(input_names or [])
    names += [("input" if len(inputs) == 1 else f"input_{i}") for i in range(len(names),
                                                                            len(inputs))]
    parameters = {id(t): k for k, t in model.state_dict(keep_vars=True).items()}
    g = GraphBuilder(opset, parameters)
    for name, t in zip(names, inputs):
        g.used.add(name)
        g.bind(t, name)
    was_training = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with _tracing(g):
            result = model(*args, **(kwargs or {}))
    finally:
        for m, mode in was_training:
            m.training = mode
    outputs = _flatten(result)
    out_names = list(output_names or [])
    out_names += [("output" if len(outputs) == 1 else f"output_{i}")
                  for i in range(len(out_names), len(outputs))]
    nodes = list(g.nodes)
    for name, t in zip(out_names, outputs):
        source = g.value(t, "the model's output")
        nodes.append(helper.make_node("Identity", [source], [name], name=f"{name}_identity"))
    graph = helper.make_graph(
        nodes, type(model).__name__,
        [_value_info(n, t, _dynamic_for(dynamic_axes, n)) for n, t in zip(names, inputs)],
        [_value_info(n, t, _dynamic_for(dynamic_axes, n)) for n, t in zip(out_names, outputs)],
        initializer=g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="chainrule")
    proto.ir_version = IR_VERSION
    onnx.checker.check_model(proto)
    return proto


# torch.onnx.export options that do not change the graph chainrule writes (it has no dynamo or
# TorchScript path, folds nothing it need not, and keeps the weights inside the file)
IGNORED_OPTIONS = {"dynamo", "do_constant_folding", "external_data", "optimize", "verify",
                   "report", "profile", "dump_exported_program", "artifacts_dir",
                   "autograd_inlining", "operator_export_type", "keep_initializers_as_inputs",
                   "export_modules_as_functions", "custom_opsets", "training"}


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None,
           output_names=None, opset_version=None, export_params=True, dynamic_axes=None,
           **options):
    """Export ``model`` to the ONNX file ``f`` (a path or a binary file object), as
    ``torch.onnx.export`` does: the model runs once on ``args`` (a tensor or a tuple of them) in
    eval mode and the operations it performs become the graph; returns the ``onnx.ModelProto``
    (and writes nothing when ``f`` is None).

    ``input_names``/``output_names`` name the graph's inputs and outputs (default ``input``/
    ``output``, numbered when there are several); ``dynamic_axes`` maps a name to the axes that
    may vary (``{"input": {0: "batch"}}`` or ``{"input": [0]}``); ``opset_version`` defaults to
    17. The file is checked with ``onnx.checker`` and written atomically. Raises
    ``UnsupportedOperatorError`` naming an operation or module option that has no export.
    """
    unknown = sorted(set(options) - IGNORED_OPTIONS)
    if unknown:
        raise TypeError(f"onnx.export() got unexpected keyword argument(s) {unknown}")
    training = options.get("training")
    if training is not None and "EVAL" not in str(training).upper():
        raise ValueError(f"onnx.export: training={training} is not supported; chainrule "
                         f"exports the model in eval mode (TrainingMode.EVAL)")
    if not export_params:
        raise ValueError("onnx.export: export_params=False is not supported (the weights are "
                         "always stored in the file)")
    proto = build_model(model, args, input_names, output_names, dynamic_axes, opset_version,
                        kwargs)
    if verbose:
        print(helper.printable_graph(proto.graph))
    if f is None:
        return proto
    data = proto.SerializeToString()
    if isinstance(f, _io.IOBase) or hasattr(f, "write"):
        f.write(data)
    else:
        atomic_write_bytes(f, data)
    return proto
