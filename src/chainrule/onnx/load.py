"""``cr.onnx.load``: an ONNX graph as an ``nn.Module`` that runs and trains in chainrule.

The graph's floating-point initializers become parameters (so an optimizer can fine-tune them),
its other initializers and Constant nodes buffers; ``forward`` runs the nodes in the graph's
order, each through the chainrule function ``import_ops`` maps its operator to, so autograd
sees an ordinary chainrule computation.
"""
import os

import onnx
from onnx import numpy_helper

from .. import nn
from ..creation import tensor as _tensor
from . import import_ops
from .graph import UnsupportedOperatorError


def _attribute_name(name, taken):
    base = "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "value"
    if base[0].isdigit():
        base = "v_" + base
    out, i = base, 1
    while out in taken:
        out, i = f"{base}_{i}", i + 1
    taken.add(out)
    return out


class OnnxModule(nn.Module):
    """The module ``cr.onnx.load`` returns: ``forward(*inputs)`` computes the graph's outputs
    (one tensor, or a tuple when the graph has several)."""

    def __init__(self, proto):
        super().__init__()
        graph = proto.graph
        self.opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")),
                          None)
        taken = set()
        self._names = {}            # ONNX value name -> attribute name
        self._constants = {}        # ONNX value name -> tensor (Constant nodes)
        self._taken = set()         # initializers a load-time layer took over (take_value)
        for init in graph.initializer:
            array = numpy_helper.to_array(init).copy()
            attr = _attribute_name(init.name, taken)
            self._names[init.name] = attr
            if array.dtype.kind == "f":
                self.register_parameter(attr, nn.Parameter(_tensor(array)))
            else:
                self.register_buffer(attr, _tensor(array))
        initialized = {i.name for i in graph.initializer}
        self.input_names = [i.name for i in graph.input if i.name not in initialized]
        self.output_names = [o.name for o in graph.output]
        self.nodes = []
        for node in graph.node:
            if node.domain not in ("", "ai.onnx"):
                raise UnsupportedOperatorError(f"onnx.load: operator {node.domain}.{node.op_type} "
                                               f"is outside the standard ONNX domain")
            if node.op_type not in import_ops.OPS:
                raise UnsupportedOperatorError(f"onnx.load: the ONNX operator {node.op_type} "
                                               f"(node {node.name!r}) has no chainrule import yet")
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            if node.op_type == "Constant":
                self._constants[node.output[0]] = import_ops.constant_value(attrs)
                continue
            prepare = import_ops.PREPARE.get(node.op_type)
            if prepare is not None:
                attrs = prepare(self, node, attrs)
            self.nodes.append((node.op_type, list(node.input), list(node.output), attrs))

    def value(self, name):
        """The initializer or constant ``name`` of the graph (a tensor)."""
        if name in self._constants:
            return self._constants[name]
        return getattr(self, self._names[name])

    def take_value(self, name):
        """The initializer ``name``, removed from the module's own parameters: a layer built at
        load time (a recurrent one) holds it from now on, in its own layout."""
        t = self.value(name)
        attr = self._names.get(name)
        if attr is not None:
            for table in (self._parameters, self._buffers):
                table.pop(attr, None)
            del self._names[name]
        self._taken.add(name)
        return t

    def forward(self, *inputs):
        if len(inputs) != len(self.input_names):
            raise TypeError(f"OnnxModule.forward: the graph takes {len(self.input_names)} "
                            f"input(s) {self.input_names}, got {len(inputs)}")
        env = dict(zip(self.input_names, inputs))

        def get(name):
            if name == "" or name in self._taken:
                return None
            if name in env:
                return env[name]
            return self.value(name)

        for op_type, ins, outs, attrs in self.nodes:
            result = import_ops.OPS[op_type](self, attrs, *[get(n) for n in ins])
            if not isinstance(result, tuple):
                result = (result,)
            env.update((n, r) for n, r in zip(outs, result) if n)
        results = tuple(env[n] for n in self.output_names)
        return results[0] if len(results) == 1 else results


def load(f):
    """The ONNX model in ``f`` (a path, a binary file object or an ``onnx.ModelProto``) as an
    ``nn.Module``; raises ``UnsupportedOperatorError`` naming an operator it cannot run."""
    if isinstance(f, onnx.ModelProto):
        proto = f
    elif hasattr(f, "read"):
        proto = onnx.load_model_from_string(f.read())
    else:
        path = os.fspath(f)
        if not os.path.exists(path):
            raise FileNotFoundError(f"onnx.load: no such file {path!r}")
        proto = onnx.load(path)
    return OnnxModule(proto)


