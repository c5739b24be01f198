"""``cr.nn.summary(model, input_size)``: a table of layers, output shapes and parameter counts,
in the spirit of Keras' ``model.summary()`` (and torchinfo)."""
import numpy as np

from .. import _dtype
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .module import Module
from ..autograd.tensor_base import make_tensor


class ModelSummary:
    """The result of ``summary``: ``rows`` (name, type, output shape, parameter count) and the
    totals; ``str()`` / ``repr()`` give the table."""

    def __init__(self, model_name, rows, total, trainable, buffers):
        self.model_name = model_name
        self.rows = rows
        self.total_params = total
        self.trainable_params = trainable
        self.non_trainable_params = total - trainable
        self.buffer_elements = buffers

    def __str__(self):
        head = ("Layer (type)", "Output Shape", "Param #")
        body = [(f"{name} ({kind})", shape, f"{n:,}") for name, kind, shape, n in self.rows]
        w0 = max([len(head[0])] + [len(r[0]) for r in body]) + 2
        w1 = max([len(head[1])] + [len(r[1]) for r in body]) + 2
        w2 = max([len(head[2])] + [len(r[2]) for r in body])
        width = w0 + w1 + w2
        line = "=" * width
        out = [f'Model: "{self.model_name}"', "-" * width,
               f"{head[0]:<{w0}}{head[1]:<{w1}}{head[2]:>{w2}}", line]
        out += [f"{a:<{w0}}{b:<{w1}}{c:>{w2}}" for a, b, c in body]
        out += [line,
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}",
                f"Buffers (not learned): {self.buffer_elements:,} elements",
                "-" * width]
        return "\n".join(out)

    __repr__ = __str__

    def _repr_html_(self):
        """The same table as ``str()``, as HTML: Jupyter shows this one."""
        from html import escape
        cells = "".join(f"<tr><td>{escape(name)} ({escape(kind)})</td><td>{escape(shape)}</td>"
                        f"<td style='text-align:right'>{n:,}</td></tr>"
                        for name, kind, shape, n in self.rows)
        totals = [("Total params", self.total_params), ("Trainable params", self.trainable_params),
                  ("Non-trainable params", self.non_trainable_params),
                  ("Buffers (not learned, elements)", self.buffer_elements)]
        foot = "".join(f"<tr><td colspan='2'>{label}</td><td style='text-align:right'>{n:,}</td></tr>"
                       for label, n in totals)
        return (f"<table><caption>Model: {escape(self.model_name)}</caption><thead><tr>"
                "<th>Layer (type)</th><th>Output Shape</th><th>Param #</th></tr></thead>"
                f"<tbody>{cells}</tbody><tfoot>{foot}</tfoot></table>")


def _shape_text(out):
    if isinstance(out, Tensor):
        return str(list(out.shape))
    if isinstance(out, (tuple, list)):
        return ", ".join(_shape_text(o) for o in out)
    return type(out).__name__


def summary(model, input_size=None, input_data=None, dtypes=None):
    """Run ``model`` once (in eval mode, without recording the graph) on zeros of ``input_size``
    (a shape including the batch dimension, or a list of shapes for several inputs; ``dtypes``
    per input, e.g. ``[cr.int64]`` for an Embedding) or on ``input_data``, and tabulate every
    layer that ran: its output shape and the parameters it owns.

    >>> print(cr.nn.summary(model, (1, 784)))
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a chainrule.nn.Module, got {type(model).__name__}")
    if input_data is None:
        if input_size is None:
            raise ValueError("summary: give input_size (with the batch dimension) or input_data")
        sizes = [tuple(input_size)] if all(isinstance(s, int) for s in input_size) \
            else [tuple(s) for s in input_size]
        dts = list(dtypes) if dtypes is not None else [None] * len(sizes)
        inputs = [make_tensor(np.zeros(s, dtype=_dtype.to_numpy_dtype(d) or
                                        _dtype.default_float_np())) for s, d in zip(sizes, dts)]
    else:
        inputs = list(input_data) if isinstance(input_data, (list, tuple)) else [input_data]

    names = {id(m): name for name, m in model.named_modules() if name}
    rows, handles, counted = [], [], set()

    def hook(module, args, out):
        own = [p for p in module.parameters(recurse=False) if id(p) not in counted]
        if module._modules and not own:
            return  # a container: its children have rows of their own
        counted.update(id(p) for p in own)
        rows.append((names[id(module)], type(module).__name__, _shape_text(out),
                     sum(p.numel() for p in own)))

    for name, m in model.named_modules():
        if name:
            handles.append(m.register_forward_hook(hook))
    modes = {id(m): m.training for m in model.modules()}
    model.eval()
    try:
        with no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        for m in model.modules():
            m.training = modes[id(m)]
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    buffers = sum(b.numel() for b in model.buffers())
    return ModelSummary(type(model).__name__, rows, total, trainable, buffers)
