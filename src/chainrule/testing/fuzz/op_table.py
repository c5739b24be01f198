"""Every differentiable op the program fuzzer draws from, written once for both libraries.

Each entry is ``(name, arity, make)``: ``make(rng, shapes)`` returns a Python expression with
``{0}``, ``{1}`` for the operands (``m`` is the library, ``F`` its ``nn.functional``), or None
when the op does not apply to operands of these shapes. The same expression text runs in
chainrule and in PyTorch, and it is the reproducer a mismatch prints.
"""
import numpy as np


def _dim(rng, shape):
    n = len(shape)
    return int(rng.integers(-max(n, 1), max(n, 1)))


def _dims(rng, shape):
    if len(shape) < 2:
        return None
    k = int(rng.integers(1, len(shape) + 1))
    return tuple(int(d) for d in sorted(rng.choice(len(shape), k, replace=False)))


def _kd(rng):
    return bool(rng.integers(2))


def _unary(expr):
    return lambda rng, s: expr


def _reduce(method, empty_ok=True):
    """``x.method()``, ``x.method(dim=d, keepdim=k)`` or over several dims."""
    def make(rng, s):
        (shape,) = s
        if not empty_ok and 0 in shape:
            return None
        choice = rng.integers(3)
        if choice == 0:
            return f"{{0}}.{method}()"
        if choice == 1 or _dims(rng, shape) is None:
            return f"{{0}}.{method}(dim={_dim(rng, shape)}, keepdim={_kd(rng)})"
        return f"{{0}}.{method}(dim={_dims(rng, shape)}, keepdim={_kd(rng)})"
    return make


def _with_dim(template, need_ndim=1, empty_ok=True):
    def make(rng, s):
        (shape,) = s
        if len(shape) < need_ndim or (not empty_ok and 0 in shape):
            return None
        return template.format(d=_dim(rng, shape), kd=_kd(rng), a="{0}")
    return make


def _scalar(rng):
    return float(rng.choice([-2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0]))


def _index(rng, s):
    (shape,) = s
    if not shape:
        return None
    parts = []
    for n in shape[:int(rng.integers(1, len(shape) + 1))]:
        kind = rng.integers(4)
        if kind == 0 and n > 0:
            parts.append(str(int(rng.integers(-n, n))))
        elif kind == 1:
            parts.append(f"{int(rng.integers(0, 2))}::{int(rng.integers(1, 3))}")
        elif kind == 2 and n > 0:
            idx = [int(i) for i in rng.integers(0, n, int(rng.integers(1, 4)))]
            parts.append(f"m.tensor({idx})")
            if sum(p.startswith("m.") for p in parts) > 1:
                return None
        else:
            parts.append(":")
    if rng.integers(4) == 0:
        parts.insert(int(rng.integers(len(parts) + 1)), "None")
    return "{0}[" + ", ".join(parts) + "]"


def _permute(rng, s):
    (shape,) = s
    if len(shape) < 2:
        return None
    return f"{{0}}.permute{tuple(int(i) for i in rng.permutation(len(shape)))}"


def _transpose(rng, s):
    (shape,) = s
    if len(shape) < 2:
        return None
    a, b = rng.choice(len(shape), 2, replace=False)
    return f"{{0}}.transpose({int(a)}, {int(b)})"


def _reshape(rng, s):
    (shape,) = s
    n = int(np.prod(shape, dtype=np.int64))
    if n == 0:
        return "{0}.reshape(0, -1)" if shape and shape[-1] else None
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    d = int(rng.choice(divisors))
    return f"{{0}}.reshape({d}, -1)" if rng.integers(2) else f"{{0}}.reshape(-1, {d})"


def _expand(rng, s):
    (shape,) = s
    target = [int(rng.integers(2, 4)) if n == 1 else n for n in shape]
    if rng.integers(2):
        target = [2] + target
    return f"{{0}}.expand({', '.join(map(str, target)) or '()'})" if target else None


def _squeeze(rng, s):
    (shape,) = s
    if rng.integers(2) or not shape:
        return "{0}.squeeze()"
    return f"{{0}}.squeeze({_dim(rng, shape)})"


def _split(rng, s):
    (shape,) = s
    if not shape:
        return None
    d = _dim(rng, shape)
    size = int(rng.integers(1, 3))
    pieces = -(-shape[d] // size)
    if pieces == 0:
        return None
    return f"{{0}}.split({size}, dim={d})[{int(rng.integers(pieces))}]"


def _chunk(rng, s):
    (shape,) = s
    if not shape or shape[0] == 0:
        return None
    return f"{{0}}.chunk({int(rng.integers(1, 4))}, dim=0)[0]"


def _unbind(rng, s):
    (shape,) = s
    if not shape or shape[0] == 0:
        return None
    return f"{{0}}.unbind(0)[{int(rng.integers(shape[0]))}]"


def _topk(rng, s):
    (shape,) = s
    if not shape:
        return None
    d = _dim(rng, shape)
    k = int(rng.integers(0, shape[d] + 1))
    return f"{{0}}.topk({k}, dim={d}, largest={_kd(rng)}).values"


def _gather(rng, s):
    (shape,) = s
    if not shape or 0 in shape:
        return None
    d = _dim(rng, shape)
    idx = rng.integers(0, shape[d], shape).tolist()
    return f"{{0}}.gather({d}, m.tensor({idx}))"


def _index_select(rng, s):
    (shape,) = s
    if not shape or 0 in shape:
        return None
    d = _dim(rng, shape)
    idx = [int(i) for i in rng.integers(0, shape[d], int(rng.integers(1, 4)))]
    return f"{{0}}.index_select({d}, m.tensor({idx}))"


def _pad(rng, s):
    (shape,) = s
    if not shape:
        return None
    pads = [int(p) for p in rng.integers(0, 3, 2 * int(rng.integers(1, min(len(shape), 2) + 1)))]
    return f"F.pad({{0}}, {tuple(pads)}, value={_scalar(rng)})"


def _layer_norm(rng, s):
    (shape,) = s
    if not shape:
        return None
    k = int(rng.integers(1, len(shape) + 1))
    return f"F.layer_norm({{0}}, {tuple(shape[-k:])})"


def _normalize(rng, s):
    (shape,) = s
    if not shape:
        return None
    return f"F.normalize({{0}}, p={float(rng.choice([1.0, 2.0, 3.0]))}, dim={_dim(rng, shape)})"


def _norm(rng, s):
    (shape,) = s
    p = rng.choice(["1", "2", "3", "float('inf')"])
    if rng.integers(2) or not shape:
        return f"{{0}}.norm(p={p})"
    return f"{{0}}.norm(p={p}, dim={_dim(rng, shape)}, keepdim={_kd(rng)})"


def _var(method):
    def make(rng, s):
        (shape,) = s
        corr = int(rng.integers(0, 3))
        if rng.integers(2) or not shape:
            return f"{{0}}.{method}(correction={corr})"
        return f"{{0}}.{method}(dim={_dim(rng, shape)}, correction={corr}, keepdim={_kd(rng)})"
    return make


def _roll(rng, s):
    (shape,) = s
    if not shape:
        return None
    return f"{{0}}.roll({int(rng.integers(-3, 4))}, {_dim(rng, shape)})"


def _repeat(rng, s):
    (shape,) = s
    reps = [int(r) for r in rng.integers(1, 3, len(shape) + int(rng.integers(2)))]
    return f"{{0}}.repeat({', '.join(map(str, reps))})" if reps else None


def _flip(rng, s):
    (shape,) = s
    if not shape:
        return None
    return f"{{0}}.flip({_dim(rng, shape)})"


def _pow_scalar(rng, s):
    return f"{{0}} ** {float(rng.choice([0.0, 1.0, 2.0, 3.0, 0.5, -1.0, -0.5, 1.5]))}"


def _inplace(rng, s):
    """An in-place op on a fresh clone (legal in PyTorch: clone saves nothing for backward), or
    on a detached copy that then joins the graph as a constant factor."""
    op = str(rng.choice(["mul_", "add_", "sub_", "div_", "clamp_", "pow_", "neg_", "abs_",
                         "exp_", "sqrt_"]))
    arg = {"mul_": "-1.5", "add_": "0.5", "sub_": "2.0", "div_": "4.0", "clamp_": "-0.5, 0.5",
           "pow_": "2.0"}.get(op, "")
    if rng.integers(2):
        return f"{{0}}.clone().{op}({arg})"
    return f"{{0}} * {{0}}.detach().clone().{op}({arg})"


def _inplace_unary(rng, s):
    """The in-place forms with no tensor operand that op_table's ``_inplace`` leaves out."""
    (shape,) = s
    ops = ["relu_()", "sigmoid_()", "tanh_()", "zero_()", f"fill_({_scalar(rng)})",
           f"masked_fill_({{0}} > {_scalar(rng)}, {_scalar(rng)})"]
    if len(shape) >= 2:
        ops += [f"tril_({int(rng.integers(-2, 3))})", f"triu_({int(rng.integers(-2, 3))})"]
    return f"{{0}}.clone().{ops[int(rng.integers(len(ops)))]}"


def _inplace_binary(rng, s):
    """``{0}``'s clone (or a detached copy outside the graph) updated in place by ``{1}``: the
    methods, the augmented assignments (``x += y`` is ``x.__iadd__(y)``) and ``copy_``."""
    a, b = s
    if not _broadcasts_to(b, a):
        return None
    op = str(rng.choice(["add_({1})", "sub_({1}, alpha=2.0)", "mul_({1})", "div_({1})",
                         "__iadd__({1})", "__isub__({1})", "__imul__({1})", "__itruediv__({1})",
                         "copy_({1})", "clamp_(min={1})", "clamp_(max={1})", "pow_({1})"]))
    target = "{0}.detach().clone()" if rng.integers(4) == 0 else "{0}.clone()"
    return f"{target}.{op}"


def _setitem(rng, s):
    """``t[index] = value`` on a clone (CopySlices in PyTorch), written as one expression; the
    index is basic, advanced or a boolean mask, the value a scalar or a 0-d node of the graph."""
    a, b = s
    index = _index(rng, (a,)) if rng.integers(3) else None
    index = index[len("{0}["):-1] if index else f"t > {_scalar(rng)}"
    value = str(rng.choice(["{1}.sum()", "{1}.mean()", str(_scalar(rng))]))
    return f"(lambda t: (t.__setitem__(({index}), {value}), t)[1])({{0}}.clone())"


def _broadcasts_to(b, a):
    try:
        return np.broadcast_shapes(a, b) == tuple(a)
    except ValueError:
        return False


def _triangle(method):
    def make(rng, s):
        (shape,) = s
        if len(shape) < 2:
            return None
        return f"{{0}}.{method}({int(rng.integers(-2, 3))})"
    return make


def _interpolate(rng, s):
    (shape,) = s
    if len(shape) not in (3, 4, 5) or 0 in shape:
        return None
    dims = len(shape) - 2
    modes = ["nearest", "nearest-exact", "area"] + [
        {1: "linear", 2: "bilinear", 3: "trilinear"}[dims]] + (["bicubic"] if dims == 2 else [])
    mode = str(rng.choice(modes))
    how = (f"scale_factor={float(rng.choice([0.5, 1.3, 2.0, 2.25, 3.0]))}" if rng.integers(2)
           else f"size={tuple(int(n) for n in rng.integers(1, 6, dims))}")
    corners = (f", align_corners={bool(rng.integers(2))}"
               if mode not in ("nearest", "nearest-exact", "area") else "")
    return f"F.interpolate({{0}}, {how}, mode={mode!r}{corners})"


def _clamp(rng, s):
    lo = _scalar(rng)
    kind = rng.integers(3)
    if kind == 0:
        return f"{{0}}.clamp(min={lo})"
    if kind == 1:
        return f"{{0}}.clamp(max={lo})"
    return f"{{0}}.clamp({lo}, {lo + float(rng.choice([0.0, 0.5, 2.0]))})"


def _binary(expr):
    return lambda rng, s: expr


def _cat(rng, s):
    a, b = s
    if len(a) != len(b) or not a:
        return None
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) > 1:
        return None
    d = diff[0] if diff else _dim(rng, a)
    return f"m.cat([{{0}}, {{1}}], dim={d})"


def _stack(rng, s):
    a, b = s
    if a != b:
        return None
    return f"m.stack([{{0}}, {{1}}], dim={int(rng.integers(-len(a) - 1, len(a) + 1))})"


def _loss(rng, s):
    a, b = s
    if a != b:
        return None
    red = rng.choice(["'mean'", "'sum'", "'none'"])
    kind = rng.integers(7)
    if kind == 0:
        return f"F.mse_loss({{0}}, {{1}}, reduction={red})"
    if kind == 1:
        return f"F.l1_loss({{0}}, {{1}}, reduction={red})"
    if kind == 2:
        return f"F.smooth_l1_loss({{0}}, {{1}}, reduction={red}, beta={float(rng.choice([0.5, 1.0]))})"
    if kind == 3:
        return f"F.huber_loss({{0}}, {{1}}, reduction={red}, delta={float(rng.choice([0.5, 2.0]))})"
    if kind == 4:
        return f"F.binary_cross_entropy_with_logits({{0}}, {{1}}.sigmoid(), reduction={red})"
    if kind == 5:
        return f"F.binary_cross_entropy({{0}}.sigmoid(), {{1}}.sigmoid(), reduction={red})"
    red = rng.choice(["'sum'", "'none'", "'batchmean'"]) if a else "'sum'"
    return f"F.kl_div({{0}}.log_softmax(-1), {{1}}.softmax(-1), reduction={red})" if a else None


def _cross_entropy(rng, s):
    (shape,) = s
    if len(shape) != 2 or 0 in shape:
        return None
    target = [int(t) for t in rng.integers(0, shape[1], shape[0])]
    extra = rng.choice(["", ", label_smoothing=0.2", ", reduction='sum'", ", reduction='none'"])
    return f"F.cross_entropy({{0}}, m.tensor({target}){extra})"


UNARY = [
    ("neg", _unary("-{0}")), ("add_scalar", lambda r, s: f"{{0}} + {_scalar(r)}"),
    ("rsub_scalar", lambda r, s: f"{_scalar(r)} - {{0}}"),
    ("mul_scalar", lambda r, s: f"{{0}} * {_scalar(r)}"),
    ("rdiv_scalar", lambda r, s: f"{_scalar(r) or 1.0} / {{0}}"),
    ("div_scalar", lambda r, s: f"{{0}} / {float(r.choice([-2.0, 0.5, 3.0]))}"),
    ("pow_scalar", _pow_scalar), ("rpow", lambda r, s: f"{float(r.choice([0.5, 2.0]))} ** {{0}}"),
    ("remainder", lambda r, s: f"{{0}} % {float(r.choice([0.7, 1.0, -1.5]))}"),
] + [(n, _unary(f"{{0}}.{n}()")) for n in (
    "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "abs", "sign", "sin", "cos", "tanh",
    "sigmoid", "relu", "reciprocal", "square", "log2", "log10", "floor", "ceil", "round",
    "trunc", "clone", "contiguous", "sinh", "cosh", "asinh", "acosh", "atanh")] + [
    ("clamp", _clamp),
    ("where_scalar", lambda r, s: f"m.where({{0}} > {_scalar(r)}, {{0}}, {_scalar(r)})"),
    ("masked_fill", lambda r, s: f"{{0}}.masked_fill({{0}} < {_scalar(r)}, {_scalar(r)})"),
    ("sum", _reduce("sum")), ("mean", _reduce("mean")), ("prod_dim", _with_dim(
        "{a}.prod(dim={d}, keepdim={kd})")), ("prod", _unary("{0}.prod()")),
    ("amax", _reduce("amax", False)), ("amin", _reduce("amin", False)),
    ("max", _unary("{0}.max()")), ("min", _unary("{0}.min()")),
    ("max_dim", _with_dim("{a}.max(dim={d}, keepdim={kd}).values", 1, False)),
    ("min_dim", _with_dim("{a}.min(dim={d}, keepdim={kd})[0]", 1, False)),
    ("var", _var("var")), ("std", _var("std")), ("norm", _norm),
    ("logsumexp", _with_dim("{a}.logsumexp(dim={d}, keepdim={kd})", 0)),
    ("cumsum", _with_dim("{a}.cumsum({d})", 0)),
    ("softmax", _with_dim("{a}.softmax(dim={d})", 0)),
    ("log_softmax", _with_dim("{a}.log_softmax(dim={d})", 0)),
    ("softmin", _with_dim("F.softmin({a}, dim={d})", 0)),
    ("sort", _with_dim("{a}.sort(dim={d}, descending={kd}).values", 0)),
    ("topk", _topk),
    ("reshape", _reshape), ("flatten", _unary("{0}.flatten()")), ("permute", _permute),
    ("transpose", _transpose), ("t", lambda r, s: "{0}.t()" if len(s[0]) <= 2 else None),
    ("mT", lambda r, s: "{0}.mT" if len(s[0]) >= 2 else None),
    ("squeeze", _squeeze), ("unsqueeze", lambda r, s: f"{{0}}.unsqueeze({int(r.integers(-len(s[0]) - 1, len(s[0]) + 1))})"),
    ("expand", _expand), ("repeat", _repeat), ("flip", _flip), ("roll", _roll),
    ("split", _split), ("chunk", _chunk), ("unbind", _unbind), ("index", _index),
    ("gather", _gather), ("index_select", _index_select), ("pad", _pad),
    ("inplace", _inplace), ("inplace_unary", _inplace_unary),
    ("interpolate", _interpolate), ("tril", _triangle("tril")), ("triu", _triangle("triu")),
    ("elu", lambda r, s: f"F.elu({{0}}, alpha={float(r.choice([0.5, 1.0, 2.0]))})"),
    ("gelu", lambda r, s: f"F.gelu({{0}}, approximate={r.choice(['none', 'tanh'])!r})"),
    ("hardtanh", lambda r, s: f"F.hardtanh({{0}}, -0.5, {float(r.choice([0.5, 1.0]))})"),
    ("leaky_relu", lambda r, s: f"F.leaky_relu({{0}}, {float(r.choice([0.01, 0.2, -0.5]))})"),
    ("softplus", lambda r, s: f"F.softplus({{0}}, beta={float(r.choice([1.0, 2.0, 0.5]))}, threshold={float(r.choice([20.0, 1.0]))})"),
] + [(n, _unary(f"F.{n}({{0}})")) for n in (
    "hardsigmoid", "hardswish", "mish", "relu6", "selu", "silu", "softsign", "tanh",
    "sigmoid")] + [
    ("layer_norm", _layer_norm), ("normalize", _normalize), ("cross_entropy", _cross_entropy),
    ("dropout_eval", _unary("F.dropout({0}, p=0.5, training=False)")),
]

BINARY = [
    ("add", _binary("{0} + {1}")), ("sub", _binary("{0} - {1}")), ("mul", _binary("{0} * {1}")),
    ("div", _binary("{0} / {1}")), ("pow", _binary("{0} ** {1}")),
    ("add_alpha", _binary("{0}.add({1}, alpha=-0.5)")),
    ("maximum", _binary("m.maximum({0}, {1})")), ("minimum", _binary("m.minimum({0}, {1})")),
    ("where", _binary("m.where({0} > {1}, {0}, {1})")),
    ("clamp_tensor", _binary("{0}.clamp(min={1})")), ("loss", _loss),
    ("cat", _cat), ("stack", _stack),
    ("inplace_binary", _inplace_binary), ("setitem", _setitem),
]

MATMUL = ["{0} @ {1}", "m.matmul({0}, {1})"]

OP_NAMES = sorted({n for n, _ in UNARY} | {n for n, _ in BINARY} | {"matmul"})
