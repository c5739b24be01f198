"""``GraphBuilder``: the ONNX graph an export is writing, and which ONNX value holds each tensor."""
import numpy as np
from onnx import helper, numpy_helper

from ..autograd.tensor_base import TensorBase


class UnsupportedOperatorError(RuntimeError):
    """The model uses an operation (or a module option) that has no ONNX export yet."""


INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


class GraphBuilder:
    def __init__(self, opset, parameter_names):
        self.opset = opset
        self.nodes = []
        self.initializers = []
        self.parameter_names = parameter_names   # id(tensor) -> state_dict key
        self.values = {}                          # id(tensor) -> ONNX value name
        self.unavailable = {}                     # id(tensor) -> why it cannot be exported
        self.keep = []                            # the tensors above, so their ids stay unique
        self.used = set()

    def fresh(self, base):
        name, i = base, 1
        while name in self.used:
            name, i = f"{base}_{i}", i + 1
        self.used.add(name)
        return name

    def node(self, op_type, inputs, outputs=1, **attrs):
        """Add a node; returns its output name (or the list of them when ``outputs`` > 1)."""
        names = [self.fresh(f"{op_type}_out") for _ in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op_type, list(inputs), names,
                                           name=self.fresh(op_type), **attrs))
        return names[0] if outputs == 1 else names

    def const(self, array, base="const"):
        name = self.fresh(base)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def ints(self, values, base="ints"):
        return self.const(np.asarray(values, dtype=np.int64), base)

    def bind(self, tensor, name):
        self.values[id(tensor)] = name
        self.keep.append(tensor)

    def bind_unavailable(self, tensor, why):
        self.unavailable[id(tensor)] = why
        self.keep.append(tensor)

    def value(self, t, where="an operation"):
        """The ONNX name of tensor ``t``: a traced value, a parameter (an initializer named by
        its state_dict key) or, for any other tensor no traced op made, a constant."""
        key = id(t)
        if key in self.values:
            return self.values[key]
        if key in self.unavailable:
            raise UnsupportedOperatorError(f"onnx.export: {where} uses {self.unavailable[key]}, "
                                           f"which has no ONNX export yet")
        if key in self.parameter_names:
            name = self.parameter_names[key]
            self.used.add(name)
        elif t.grad_fn is not None:
            raise UnsupportedOperatorError(
                f"onnx.export: {where} uses a tensor made by {t.grad_fn.name()}, an operation "
                f"the exporter did not record")
        else:
            name = self.fresh("constant")
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(t.array), name))
        self.bind(t, name)
        return name

    def operand(self, x, dtype, where="an operation"):
        """A tensor or Python number as an ONNX value of NumPy dtype ``dtype`` (cast if needed)."""
        if isinstance(x, TensorBase):
            name = self.value(x, where)
            if x.array.dtype != dtype:
                name = self.node("Cast", [name], to=helper.np_dtype_to_tensor_dtype(dtype))
            return name
        return self.const(np.asarray(x, dtype=dtype), "scalar")
