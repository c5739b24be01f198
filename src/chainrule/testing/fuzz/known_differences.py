"""Differences from PyTorch that are known and documented (docs/reliability.md): the fuzzer does
not generate these cases, so a run reports only what nobody has looked at yet.

Each entry: a name, a reason, and ``applies(expr, values, operand)`` on a proposed line (its
expression text, the PyTorch values of the nodes so far, and the first operand's name).
"""



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


KNOWN = [
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
