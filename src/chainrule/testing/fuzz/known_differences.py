"""Differences from PyTorch that are known and documented (docs/reliability.md): the fuzzer does
not generate these cases, so a run reports only what nobody has looked at yet.

Each entry: a name, a reason, and ``applies(expr, values, operand)`` on a proposed line (its
expression text, the PyTorch values of the nodes so far, and the first operand's name).
"""
import re



def _graph_inplace_unsupported():
    """True while chainrule refuses in-place ops on tensors inside the autograd graph."""
    import chainrule as cr
    try:
        cr.ones(1, requires_grad=True).clone().mul_(2)
        return False
    except RuntimeError:
        return True


_GRAPH_INPLACE_UNSUPPORTED = None


def _inplace_on_graph(expr, values, operand):
    global _GRAPH_INPLACE_UNSUPPORTED
    if ".clone()." not in expr or ".detach().clone()." in expr:
        return False
    if _GRAPH_INPLACE_UNSUPPORTED is None:
        _GRAPH_INPLACE_UNSUPPORTED = _graph_inplace_unsupported()
    return _GRAPH_INPLACE_UNSUPPORTED


def _rounding_inside_graph(expr, values, operand):
    return (operand.startswith("v") and any(f".{op}()" in expr for op in
                                            ("floor", "ceil", "round", "trunc")))


def _saturated_bce(expr, values, operand):
    """binary_cross_entropy on a probability that rounded to exactly 0 or 1."""
    if "binary_cross_entropy(" not in expr or "with_logits" in expr:
        return False
    p = values[operand].sigmoid()
    return bool(((p == 0) | (p == 1)).any())


_SELECTIONS = re.compile(r"\.(sort|topk|max|min)\((?:\d+, )?dim=(-?\d+)")


def _tied_selection(expr, values, operand):
    """sort, topk, max(dim) or min(dim) along a dimension where the operand has equal values:
    which of the tied elements is picked (and gets the gradient) is not promised by PyTorch."""
    found = _SELECTIONS.search(expr)
    if not found:
        return False
    v = values[operand]
    if v.ndim == 0 or v.numel() == 0:
        return False
    d = int(found.group(2))
    ordered = v.sort(dim=d).values
    return bool((ordered.narrow(d, 1, v.shape[d] - 1) == ordered.narrow(d, 0, v.shape[d] - 1))
                .any()) if v.shape[d] > 1 else False


def _interpolate_backward_disagrees(expr, values, operand):
    """F.interpolate where PyTorch's backward is not the transpose of its forward (a resize is
    linear, so <w, f(x)> must equal <f^T(w), x>): 'nearest' of 1-D and 3-D inputs and 'bicubic'
    by some scale factors (2.25, 1.3), where its backward kernels copy an axis whose size stays
    (and nearest's reads i >> 1 on one that doubles) and its forward kernels do not."""
    if "F.interpolate(" not in expr:
        return False
    import torch
    shape = values[operand].shape
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(shape, dtype=torch.float64, generator=gen).requires_grad_()
    try:
        y = eval(expr, {"m": torch, "F": torch.nn.functional, operand: x})
        w = torch.randn(y.shape, dtype=torch.float64, generator=gen)
        (y * w).sum().backward()
    except Exception:
        return False
    forward, backward = float((y * w).sum().detach()), float((x.grad * x.detach()).sum())
    return abs(forward - backward) > 1e-9 * (1 + abs(forward))


def _interpolate_non_finite(expr, values, operand):
    return "F.interpolate(" in expr and not bool(values[operand].isfinite().all())


KNOWN = [
    ("interpolate-non-finite", "NOT YET FIXED in chainrule: F.interpolate of a tensor holding "
     "an infinity; chainrule resizes by matrix products, so 0 * inf spreads NaN to outputs that "
     "do not read the infinity (PyTorch reads only the neighbours)", _interpolate_non_finite),
    ("interpolate-backward", "F.interpolate 'nearest' of a 1-D or 3-D input, or 'bicubic', by "
     "some scale factors (2.25, 1.3): PyTorch's backward is not the transpose of its forward "
     "(its backward kernels take shortcuts its forward kernels do not); chainrule's gradient "
     "is its forward's", _interpolate_backward_disagrees),
    ("tied-selection", "sort, topk, max(dim) and min(dim) where the operand has equal values "
     "along the dimension: PyTorch does not promise which tied element it picks, so which one "
     "gets the gradient is not comparable (the values are; ties elsewhere are fuzzed)",
     _tied_selection),
    ("saturated-bce", "binary_cross_entropy at a probability of exactly 0 or 1: PyTorch clamps "
     "the log at -100 in the loss and the input's gradient but not in the target's gradient "
     "(log(0) there gives inf and NaN); chainrule clamps both consistently", _saturated_bce),
    ("rounding-outside-graph", "floor, ceil, round and trunc give chainrule tensors outside the "
     "graph; PyTorch's carry a zero gradient back, which turns into NaN where an earlier op's "
     "derivative is infinite (0 * inf); on leaf inputs they are fuzzed", _rounding_inside_graph),
    ("inplace-on-graph", "chainrule raises on an in-place op on a tensor in the autograd graph, "
     "even where PyTorch's version counters allow it (clone().mul_()); in-place ops outside the "
     "graph are fuzzed", _inplace_on_graph),
]


def known_difference(expr, values, operand):
    """The name of the known difference this line would hit, or None."""
    for name, _reason, applies in KNOWN:
        if applies(expr, values, operand):
            return name
    return None
