"""One route from a module to its ops: module -> ``chainrule.nn.functional`` -> op.

Statically, no nn file but ``functional*.py`` imports ``chainrule.ops``; dynamically, a forward
pass of every module class in ``chainrule.nn`` calls into ``nn.functional`` and never calls
anything defined in ``chainrule/ops`` from an nn file other than ``functional*.py``.
"""
import ast
import pathlib
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.autograd.function import Function

NN_DIR = pathlib.Path(nn.__file__).parent
OPS_DIR = NN_DIR.parent / "ops"
APPLY_CODE = Function.apply.__func__.__code__   # every op's ``apply`` (an ops/ file or this)


def _is_functional(path):
    path = pathlib.Path(path)
    return path.parent == NN_DIR and path.name.startswith("functional")


def _module_files():
    return sorted(p for p in NN_DIR.rglob("*.py") if not _is_functional(p))


def _imports_ops(node, path):
    """Whether an import statement in ``path`` names a module under chainrule.ops."""
    if isinstance(node, ast.Import):
        return any(a.name == "chainrule.ops" or a.name.startswith("chainrule.ops.")
                   for a in node.names)
    if isinstance(node, ast.ImportFrom):
        if node.level == 0:
            return node.module == "chainrule.ops" or (node.module or "").startswith("chainrule.ops.")
        package = pathlib.Path(path).parent
        for _ in range(node.level - 1):
            package = package.parent
        target = package.joinpath(*(node.module or "").split(".")) if node.module else package
        names = [target] if node.module else [package / a.name for a in node.names]
        return any(t == OPS_DIR or OPS_DIR in t.parents for t in names)
    return False


@pytest.mark.parametrize("path", _module_files(), ids=lambda p: str(p.relative_to(NN_DIR)))
def test_no_nn_module_file_imports_ops(path):
    tree = ast.parse(path.read_text())
    bad = [ast.unparse(n) for n in ast.walk(tree) if _imports_ops(n, path)]
    assert not bad, f"{path.name} reaches ops directly; go through nn.functional: {bad}"


def test_the_import_check_sees_relative_and_absolute_ops_imports():
    path = NN_DIR / "linear.py"
    for source in ("from ..ops.linear import Linear", "from ..ops import activation",
                   "from .. import ops", "import chainrule.ops.linear",
                   "from chainrule.ops import conv"):
        assert _imports_ops(ast.parse(source).body[0], path), source
    for source in ("from . import functional as F", "from ..tensor import Tensor",
                   "from .. import _dtype"):
        assert not _imports_ops(ast.parse(source).body[0], path), source


# -- every module class, one forward pass ---------------------------------------------------------

def _x(*shape):
    return cr.randn(*shape, requires_grad=True)


def _idx(*values):
    return cr.tensor(np.array(values, dtype=np.int64))


_SEQ = dict(input_size=3, hidden_size=4)
CASES = {
    "ELU": (nn.ELU, (_x, 2, 3)), "GELU": (nn.GELU, (_x, 2, 3)),
    "Hardsigmoid": (nn.Hardsigmoid, (_x, 2, 3)), "Hardswish": (nn.Hardswish, (_x, 2, 3)),
    "Hardtanh": (nn.Hardtanh, (_x, 2, 3)), "LeakyReLU": (nn.LeakyReLU, (_x, 2, 3)),
    "LogSoftmax": (lambda: nn.LogSoftmax(1), (_x, 2, 3)), "Mish": (nn.Mish, (_x, 2, 3)),
    "PReLU": (nn.PReLU, (_x, 2, 3)), "ReLU": (nn.ReLU, (_x, 2, 3)),
    "ReLU6": (nn.ReLU6, (_x, 2, 3)), "SELU": (nn.SELU, (_x, 2, 3)),
    "SiLU": (nn.SiLU, (_x, 2, 3)), "Sigmoid": (nn.Sigmoid, (_x, 2, 3)),
    "Softmax": (lambda: nn.Softmax(1), (_x, 2, 3)), "Softmin": (lambda: nn.Softmin(1), (_x, 2, 3)),
    "Softplus": (nn.Softplus, (_x, 2, 3)), "Softsign": (nn.Softsign, (_x, 2, 3)),
    "Tanh": (nn.Tanh, (_x, 2, 3)),
    "Linear": (lambda: nn.Linear(3, 2), (_x, 2, 3)),
    "NonDynamicallyQuantizableLinear": (
        lambda: nn.attention.NonDynamicallyQuantizableLinear(3, 2), (_x, 2, 3)),
    "Maxout": (lambda: nn.Maxout(3, 2, 2), (_x, 2, 3)),
    "MultiheadAttention": (lambda: nn.MultiheadAttention(4, 2), (_x, 3, 2, 4), (_x, 5, 2, 4),
                           (_x, 5, 2, 4)),
    "TransformerEncoderLayer": (lambda: nn.TransformerEncoderLayer(4, 2, 8), (_x, 3, 2, 4)),
    "TransformerEncoder": (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), 2),
                           (_x, 3, 2, 4)),
    "Sequential": (lambda: nn.Sequential(nn.Linear(3, 2), nn.ReLU()), (_x, 2, 3)),
    "Conv1d": (lambda: nn.Conv1d(2, 3, 3), (_x, 1, 2, 6)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (_x, 1, 2, 5, 5)),
    "ConvTranspose1d": (lambda: nn.ConvTranspose1d(2, 3, 3), (_x, 1, 2, 6)),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(2, 3, 3), (_x, 1, 2, 5, 5)),
    "Dropout": (nn.Dropout, (_x, 2, 3)), "Dropout1d": (nn.Dropout1d, (_x, 2, 3, 4)),
    "Dropout2d": (nn.Dropout2d, (_x, 2, 3, 4, 4)), "Dropout3d": (nn.Dropout3d, (_x, 2, 3, 2, 2, 2)),
    "Fold": (lambda: nn.Fold((3, 3), 2), (_x, 1, 8, 4)), "Unfold": (lambda: nn.Unfold(2), (_x, 1, 2, 3, 3)),
    "BCELoss": (nn.BCELoss, lambda: cr.rand(4), lambda: cr.rand(4)),
    "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss, (_x, 4), lambda: cr.rand(4)),
    "CrossEntropyLoss": (nn.CrossEntropyLoss, (_x, 2, 3), lambda: _idx(0, 2)),
    "HuberLoss": (nn.HuberLoss, (_x, 4), (_x, 4)), "L1Loss": (nn.L1Loss, (_x, 4), (_x, 4)),
    "KLDivLoss": (lambda: nn.KLDivLoss(reduction="batchmean"), (_x, 2, 3), lambda: cr.rand(2, 3)),
    "MSELoss": (nn.MSELoss, (_x, 4), (_x, 4)), "SmoothL1Loss": (nn.SmoothL1Loss, (_x, 4), (_x, 4)),
    "NLLLoss": (nn.NLLLoss, (_x, 2, 3), lambda: _idx(0, 2)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), (_x, 4, 3)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), (_x, 2, 3, 2, 2)),
    "BatchNorm3d": (lambda: nn.BatchNorm3d(3), (_x, 2, 3, 2, 2, 2)),
    "LayerNorm": (lambda: nn.LayerNorm(3), (_x, 2, 3)),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), (_x, 2, 4, 3)),
    "InstanceNorm1d": (lambda: nn.InstanceNorm1d(3), (_x, 2, 3, 4)),
    "InstanceNorm2d": (lambda: nn.InstanceNorm2d(3), (_x, 2, 3, 2, 2)),
    "InstanceNorm3d": (lambda: nn.InstanceNorm3d(3), (_x, 2, 3, 2, 2, 2)),
    "AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(2), (_x, 1, 2, 5)),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d(2), (_x, 1, 2, 5, 5)),
    "AdaptiveMaxPool1d": (lambda: nn.AdaptiveMaxPool1d(2), (_x, 1, 2, 5)),
    "AdaptiveMaxPool2d": (lambda: nn.AdaptiveMaxPool2d(2), (_x, 1, 2, 5, 5)),
    "AvgPool1d": (lambda: nn.AvgPool1d(2), (_x, 1, 2, 6)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), (_x, 1, 2, 4, 4)),
    "MaxPool1d": (lambda: nn.MaxPool1d(2), (_x, 1, 2, 6)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (_x, 1, 2, 4, 4)),
    "RNN": (lambda: nn.RNN(**_SEQ, num_layers=2, dropout=0.5), (_x, 5, 2, 3)),
    "LSTM": (lambda: nn.LSTM(**_SEQ, bidirectional=True), (_x, 5, 2, 3)),
    "GRU": (lambda: nn.GRU(**_SEQ), (_x, 5, 2, 3)),
    "RNNBase": (lambda: nn.RNNBase("RNN_TANH", **_SEQ), (_x, 5, 2, 3)),
    "RNNCell": (lambda: nn.RNNCell(**_SEQ), (_x, 2, 3)),
    "LSTMCell": (lambda: nn.LSTMCell(**_SEQ), (_x, 2, 3)),
    "GRUCell": (lambda: nn.GRUCell(**_SEQ), (_x, 2, 3)),
    "Embedding": (lambda: nn.Embedding(5, 3, max_norm=1.0), lambda: _idx(0, 4, 4)),
    "Upsample": (lambda: nn.Upsample(scale_factor=2), (_x, 1, 2, 3, 3)),
    "UpsamplingNearest2d": (lambda: nn.UpsamplingNearest2d(scale_factor=2), (_x, 1, 2, 3, 3)),
    "UpsamplingBilinear2d": (lambda: nn.UpsamplingBilinear2d(scale_factor=2), (_x, 1, 2, 3, 3)),
    # no op of their own, in PyTorch too: the input itself, or a view through Tensor methods
    "Identity": (nn.Identity, (_x, 2, 3)),
    "Flatten": (nn.Flatten, (_x, 2, 3, 4)),
    "Unflatten": (lambda: nn.Unflatten(1, (2, 2)), (_x, 3, 4)),
    "TransformerDecoderLayer": (lambda: nn.TransformerDecoderLayer(4, 2, 8), (_x, 3, 2, 4), (_x, 5, 2, 4)),
    "TransformerDecoder": (lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 8), 2),
                           (_x, 3, 2, 4), (_x, 5, 2, 4)),
    "Transformer": (lambda: nn.Transformer(4, 2, 1, 1, 8), (_x, 5, 2, 4), (_x, 3, 2, 4)),
    "PixelShuffle": (lambda: nn.PixelShuffle(2), (_x, 1, 8, 2, 2)),
    "PixelUnshuffle": (lambda: nn.PixelUnshuffle(2), (_x, 1, 2, 4, 4)),
    "ReflectionPad1d": (lambda: nn.ReflectionPad1d(1), (_x, 1, 2, 4)),
    "ReflectionPad2d": (lambda: nn.ReflectionPad2d(1), (_x, 1, 2, 3, 3)),
    "ReplicationPad1d": (lambda: nn.ReplicationPad1d(1), (_x, 1, 2, 4)),
    "ReplicationPad2d": (lambda: nn.ReplicationPad2d(1), (_x, 1, 2, 3, 3)),
    "ConstantPad1d": (lambda: nn.ConstantPad1d(1, 2.0), (_x, 1, 2, 4)),
    "ConstantPad2d": (lambda: nn.ConstantPad2d(1, 2.0), (_x, 1, 2, 3, 3)),
    "ZeroPad1d": (lambda: nn.ZeroPad1d(1), (_x, 1, 2, 4)),
    "ZeroPad2d": (lambda: nn.ZeroPad2d(1), (_x, 1, 2, 3, 3)),
}
WITHOUT_FUNCTIONAL = {"Identity", "Flatten", "Unflatten"}
# F.pad is chainrule.functions.pad (the same function as cr.pad), outside nn/functional*.py where
# the tracer counts calls: the padding layers' one call is to it, and none goes to an op directly.
WITHOUT_FUNCTIONAL |= {f"{kind}Pad{d}d" for kind in ("Reflection", "Replication", "Constant", "Zero")
                       for d in (1, 2)}
# Containers without a forward of their own, and the cells' shared base.
NO_FORWARD = {"ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "RNNCellBase"}
# A wrapper whose forward is the wrapped module's (and needs MPI): tests/distributed covers it.
NO_FORWARD |= {"DistributedDataParallel"}


def _module_classes():
    found, stack = set(), [nn.Module]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return sorted((c for c in found if c.__module__.startswith("chainrule.nn.")
                   and not c.__name__.startswith("_")), key=lambda c: c.__name__)


def test_every_module_class_has_a_route_case():
    names = {c.__name__ for c in _module_classes()}
    assert names - NO_FORWARD == set(CASES), "add the new module to CASES (or NO_FORWARD)"


def _traced_forward(name):
    """Run one forward pass; return (functional calls, direct op calls from nn files)."""
    factory, *inputs = CASES[name]
    module = factory()
    args = [item[0](*item[1:]) if isinstance(item, tuple) else item() for item in inputs]
    functional_calls, direct = [], []

    def profile(frame, event, arg):
        if event != "call":
            return
        callee = pathlib.Path(frame.f_code.co_filename)
        caller = frame.f_back
        if caller is None:
            return
        caller_file = pathlib.Path(caller.f_code.co_filename)
        from_module_file = NN_DIR in caller_file.parents and not _is_functional(caller_file)
        if _is_functional(callee) and from_module_file:
            functional_calls.append(frame.f_code.co_name)
        if (frame.f_code is APPLY_CODE or OPS_DIR in callee.parents) and from_module_file:
            direct.append(f"{caller_file.name}:{caller.f_lineno} -> {frame.f_code.co_name}")

    sys.setprofile(profile)
    try:
        module(*args)
    finally:
        sys.setprofile(None)
    return functional_calls, direct


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_goes_through_functional(name):
    functional_calls, direct = _traced_forward(name)
    assert not direct, f"{name} calls ops directly: {direct}"
    if name in WITHOUT_FUNCTIONAL:
        assert not functional_calls
    else:
        assert functional_calls, f"{name}'s forward never calls chainrule.nn.functional"


def test_the_trace_sees_a_direct_op_call(monkeypatch):
    """A module forward in an nn file that bypasses functional is caught (guards the tracer)."""
    from chainrule.ops.activation import ReLU as ReLUOp
    namespace = {"ReLUOp": ReLUOp}
    source = "def forward(self, input):\n    return ReLUOp.apply(input)\n"
    exec(compile(source, str(NN_DIR / "activation.py"), "exec"), namespace)
    monkeypatch.setattr(nn.ReLU, "forward", namespace["forward"])
    functional_calls, direct = _traced_forward("ReLU")
    assert direct and not functional_calls
