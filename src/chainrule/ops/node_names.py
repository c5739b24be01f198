"""The names PyTorch 2.13 prints for the graph nodes of chainrule's ops (``grad_fn=<MulBackward0>``).

Tutorials print ``loss.grad_fn`` and walk ``next_functions``, and explain the names they see, so
each op's node prints the name of the node PyTorch records for the same call. PyTorch's name is
the op's class name + ``Backward0`` for most ops; this table holds the others. An entry is a
string, or a function of the op's forward arguments (arrays where tensors were passed) for ops
whose PyTorch counterpart depends on the call: ``F.linear`` records ``AddmmBackward0`` on a 2-D
input with a bias and ``MmBackward0`` without one, ``x.sum()`` is ``SumBackward0`` and
``x.sum(1)`` is ``SumBackward1``. Where chainrule fuses what PyTorch composes (cross-entropy is
log-softmax then NLL in PyTorch), the node prints PyTorch's last step.
"""
from ..backend import is_array, xp


def _is_array(a):
    return is_array(a)


def _linear(x, weight, bias, *rest):
    if x.ndim == 2:
        return "AddmmBackward0" if bias is not None else "MmBackward0"
    if x.ndim == 1 and bias is None:
        return "SqueezeBackward4"
    return "ViewBackward0" if bias is not None else "UnsafeViewBackward0"


def _matmul(a, b, *rest):
    if a.ndim == 2 and b.ndim == 2:
        return "MmBackward0"
    if a.ndim == 2 and b.ndim == 1:
        return "MvBackward0"
    if a.ndim == 1 and b.ndim == 1:
        return "DotBackward0"
    if a.ndim == 1:
        return "SqueezeBackward4"
    return "UnsafeViewBackward0"


def _reduction(name):
    """``SumBackward0`` for the whole tensor, ``SumBackward1`` over given dims."""
    def node_name(a, dims, *rest):
        # dims arrive normalised (sorted, distinct), so all of them is len(dims) == a.ndim
        return whole_name if len(dims) == a.ndim and not rest[-1] else dims_name
    whole_name, dims_name = f"{name}Backward0", f"{name}Backward1"
    return node_name


def _prod(a, dim, keepdim):
    return "ProdBackward0" if dim is None else "ProdBackward1"


def _sub(a, b):
    return "SubBackward0" if _is_array(a) else "RsubBackward1"


def _div(a, b):
    return "DivBackward0" if _is_array(a) else "MulBackward0"   # 2 / x is 2 * x.reciprocal()


def _pow(a, p):
    if not _is_array(a):
        return "PowBackward2"
    return "PowBackward1" if _is_array(p) and p.ndim else "PowBackward0"


def _reshape(a, shape):
    return "ViewBackward0" if a.flags.c_contiguous else "UnsafeViewBackward0"


def _getitem(a, index):
    """PyTorch indexes one dimension at a time; the node is the last step's: an int selects, a
    slice slices (a full ``:`` is no step), any list, array or mask makes it ``IndexBackward0``."""
    items = index if type(index) is tuple else (index,)
    name = "AliasBackward0"
    for i in items:
        if i is None:
            name = "UnsqueezeBackward0"
        elif i is Ellipsis:
            continue
        elif type(i) is slice:
            if i != slice(None):
                name = "SliceBackward0"
        elif isinstance(i, (int, xp.integer)) and not isinstance(i, bool):
            name = "SelectBackward0"
        else:
            return "IndexBackward0"
    return name


def _setitem(a, value, index):
    """``x[i] = v`` is ``CopySlices`` in PyTorch, ``IndexPutBackward0`` with a list, array or mask."""
    advanced = any(is_array(i) or type(i) is list for i in index)
    return "IndexPutBackward0" if advanced else "CopySlices"


def _normalize(x, weight, bias, axes, *rest):
    return "NativeBatchNormBackward0" if 0 in axes else "NativeLayerNormBackward0"


def _pool(two_d_and_up):
    def node_name(x, *args):
        spatial = args[-1]
        return "SqueezeBackward1" if spatial == 1 else two_d_and_up.format(d=spatial)
    return node_name


def _l1(input, target, reduction, *rest):
    return {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(reduction, "AbsBackward0")


NODE_NAMES = {
    "Sub": _sub, "Div": _div, "Pow": _pow,
    "Log1p": "Log1PBackward0", "Square": "PowBackward0", "Clamp": "ClampBackward1",
    "SELU": "EluBackward0", "Softsign": "DivBackward0", "PReLU": "PreluKernelBackward0",
    "Linear": _linear, "MatMul": _matmul,
    "Sum": _reduction("Sum"), "Mean": _reduction("Mean"), "Prod": _prod,
    "Amax": "AmaxBackward0", "Amin": "AminBackward0",
    "MaxAll": "MaxBackward1", "MinAll": "MinBackward1",   # x.max(), x.min()
    "MaxDim": "MaxBackward0", "MinDim": "MinBackward0", "LogSumExp": "LogsumexpBackward0",
    "Norm": "LinalgVectorNormBackward0", "TopK": "TopkBackward0",
    "Reshape": _reshape, "View": "ViewBackward0", "Flatten": "ViewBackward0",
    "Unflatten": "ViewBackward0", "Pad": "ConstantPadNdBackward0", "GetItem": _getitem,
    "MSELoss": "MseLossBackward0", "L1Loss": _l1, "CrossEntropyLoss": "NllLossBackward0",
    "NLLLoss": "NllLossBackward0", "BCEWithLogitsLoss": "BinaryCrossEntropyWithLogitsBackward0",
    "BCELoss": "BinaryCrossEntropyBackward0", "Dropout": "MulBackward0",
    "Normalize": _normalize, "BatchNormEval": "NativeBatchNormBackward0",
    "Conv": "ConvolutionBackward0", "ConvTranspose": "ConvolutionBackward0",
    "MaxPool": _pool("MaxPool{d}DWithIndicesBackward0"), "AvgPool": _pool("AvgPool{d}DBackward0"),
    "UpsampleNearestInt": lambda x, factors: f"UpsampleNearest{len(factors)}DBackward0",
    "Unfold": "Im2ColBackward0", "Fold": "Col2ImBackward0",
    "Copy": "CloneBackward0", "Cast": "ToCopyBackward0",
    "Fill": lambda a, value, zero: "ZeroBackward0" if zero else "FillBackward2",
    "CopyFrom": "CopyBackwards", "SetItem": _setitem,
}


# ``next_functions`` lists one entry per tensor argument, as PyTorch's does, hiding integer and
# bool tensors (targets, masks) that carry no gradient; these ops also list a Python number
# argument, which PyTorch wraps into a tensor (``x * 2`` has two entries).
SHOWS_SCALARS = {"Add", "Sub", "Mul", "Div"}
# These list an optional tensor argument left out (a conv's bias=None) as (None, 0), as PyTorch's
# native ops do.
SHOWS_NONE = {"Conv", "ConvTranspose", "Normalize", "BatchNormEval", "Linear"}


class TransposeView:
    """The ``TBackward0`` node PyTorch records between a Linear's weight and its ``addmm``:
    shown in ``next_functions`` only (chainrule's Linear uses W directly)."""

    __slots__ = ("next_functions",)

    def __init__(self, weight_entry):
        self.next_functions = (weight_entry,)

    @staticmethod
    def node_name():
        return "TBackward0"

    def name(self):
        return "TBackward0"

    def __repr__(self):
        return f"<TBackward0 object at {hex(id(self))}>"


def _linear_next(node, entries):
    """PyTorch's 2-D ``F.linear`` is ``addmm(b, x, W.t())`` (``mm(x, W.t())`` without a bias)."""
    name = node.node_name()
    if name == "AddmmBackward0":
        x, weight, bias = entries
        return (bias, x, (TransposeView(weight), 0))
    if name == "MmBackward0":
        return (entries[0], (TransposeView(entries[1]), 0))
    return entries


def _rsub_next(node, entries):
    """``1 - x`` is ``rsub(x, 1)`` in PyTorch, which lists only x."""
    return entries[1:] if node.node_name() == "RsubBackward1" else entries


NEXT_FUNCTIONS = {"Linear": _linear_next, "Sub": _rsub_next,
                  # (input, weight, bias); the statistics slot (None) is chainrule's own
                  "Normalize": lambda node, entries: entries[:3]}
