"""The self-contained script a mismatch prints: paste it into Python to see the difference."""
import numpy as np


def array_literal(a):
    fmt = (lambda v: str(np.float32(v))) if a.dtype == np.float32 else (lambda v: repr(float(v)))
    text = ", ".join(fmt(v) for v in a.ravel())
    text = text.replace("nan", "np.nan").replace("inf", "np.inf")
    return f"np.array([{text}], dtype=np.{a.dtype}).reshape({tuple(a.shape)})"


def program_script(prog, header):
    lines = [f"# {header}", "import numpy as np", "import torch", "import chainrule as cr", "",
             prog.source(), "",
             "inputs = [" + ", ".join(array_literal(a) for _, a in prog.inputs) + "]",
             "weights = [" + ", ".join(array_literal(w) for w in prog.weights) + "]",
             "for lib in (cr, torch):",
             "    xs = [lib.tensor(a.copy(), requires_grad=True) for a in inputs]",
             "    outs = program(lib, *xs)",
             "    sum((o * lib.tensor(w)).sum() for o, w in zip(outs, weights)).backward()",
             "    print(lib.__name__, [o.detach().numpy() for o in outs],",
             "          [None if x.grad is None else x.grad.numpy() for x in xs])"]
    return "\n".join(lines)
