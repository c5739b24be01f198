"""ONNX export and import (the ``onnx`` extra: ``pip install chainrule[onnx]``).

``cr.onnx.export(model, args, "model.onnx", input_names=, output_names=, dynamic_axes=,
opset_version=)`` has ``torch.onnx.export``'s signature; ``cr.onnx.load("model.onnx")`` returns
an ``nn.Module`` that runs (and trains) the graph in chainrule.
"""
try:
    import onnx as _onnx  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    raise ImportError("chainrule.onnx needs the onnx package: pip install 'chainrule[onnx]' "
                      "(onnx, onnxruntime)") from None

from .export import export
from .graph import UnsupportedOperatorError
from .load import OnnxModule, load

__all__ = ["export", "load", "OnnxModule", "UnsupportedOperatorError"]
