"""Layer fuzzing: a random configuration of each nn module, PyTorch's weights copied in through
``load_state_dict``, forward and backward in train or eval mode, in float64.

Each config is ``(constructor source, inputs)``; an input is ``("float", shape)``, ``("prob",
shape)`` (values in (0, 1)) or ``("int", shape, high)``. Outputs, input gradients, parameter
gradients and, after a training-mode forward, the buffers (running statistics) must agree.
"""
import numpy as np

from .compare import difference


def _p(rng, *options):
    return options[int(rng.integers(len(options)))]


def _n(rng, lo=1, hi=4):
    return int(rng.integers(lo, hi + 1))


def _conv(rng, dims, transpose):
    groups = _p(rng, 1, 1, 2)
    cin, cout = groups * _n(rng, 1, 2), groups * _n(rng, 1, 2)
    k, stride, dil = _n(rng, 1, 3), _n(rng, 1, 2), _n(rng, 1, 2)
    pad = int(rng.integers(0, k))
    extra = f", output_padding={int(rng.integers(0, max(stride, dil)))}" if transpose else ""
    name = f"Conv{'Transpose' if transpose else ''}{dims}d"
    size = [_n(rng, dil * (k - 1) + 1, dil * (k - 1) + 5) for _ in range(dims)]
    return (f"{name}({cin}, {cout}, {k}, stride={stride}, padding={pad}, dilation={dil}, "
            f"groups={groups}, bias={bool(rng.integers(2))}{extra})",
            [("float", (_n(rng, 1, 2), cin, *size))])


def _pool(rng, kind, dims):
    k = _n(rng, 1, 3)
    stride, pad = _n(rng, 1, 3), int(rng.integers(0, k // 2 + 1))
    ceil = bool(rng.integers(2))
    size = [_n(rng, k, k + 4) for _ in range(dims)]
    if kind == "Max":
        dil = _n(rng, 1, 2)
        size = [s + (dil - 1) * (k - 1) for s in size]
        args = f"dilation={dil}, ceil_mode={ceil}"
    else:
        args = f"ceil_mode={ceil}, count_include_pad={bool(rng.integers(2))}"
    return (f"{kind}Pool{dims}d({k}, stride={stride}, padding={pad}, {args})",
            [("float", (_n(rng, 1, 2), _n(rng, 1, 2), *size))])


def _norm(rng, dims):
    c = _n(rng)
    shape = (_n(rng, 2, 3), c) + tuple(_n(rng, 1, 3) for _ in range(dims - 1 if dims > 1 else
                                                                       int(rng.integers(2))))
    if dims == 3:
        shape = shape[:2] + (_n(rng, 1, 2), _n(rng, 1, 2), _n(rng, 1, 2))
    return (f"BatchNorm{dims}d({c}, eps={_p(rng, 1e-5, 1e-3)}, momentum={_p(rng, 0.1, 0.5, None)}, "
            f"affine={bool(rng.integers(2))}, track_running_stats={bool(rng.integers(2))})",
            [("float", shape)])


def _rnn(rng, kind):
    e, h, layers = _n(rng, 1, 3), _n(rng, 1, 3), _n(rng, 1, 2)
    batch_first = bool(rng.integers(2))
    extra = f", nonlinearity={_p(rng, 'tanh', 'relu')!r}" if kind == "RNN" else ""
    t, n = _n(rng, 1, 3), _n(rng, 1, 2)
    shape = (n, t, e) if batch_first else (t, n, e)
    return (f"{kind}({e}, {h}, num_layers={layers}, bias={bool(rng.integers(2))}, "
            f"batch_first={batch_first}, bidirectional={bool(rng.integers(2))}{extra})",
            [("float", shape)])


def _cell(rng, kind):
    e, h, n = _n(rng, 1, 3), _n(rng, 1, 3), _n(rng, 1, 3)
    extra = f", nonlinearity={_p(rng, 'tanh', 'relu')!r}" if kind == "RNNCell" else ""
    return f"{kind}({e}, {h}, bias={bool(rng.integers(2))}{extra})", [("float", (n, e))]


def _loss(rng, name, extra="", target="float", input_kind="float"):
    shape = (_n(rng, 1, 3), _n(rng, 1, 4))
    red = _p(rng, "mean", "sum", "none")
    tgt = ("int", shape[:1], shape[1]) if target == "int" else (target, shape)
    return f"{name}(reduction={red!r}{extra})", [(input_kind, shape), tgt]


def _mha(rng):
    heads = _n(rng, 1, 2)
    e = heads * _n(rng, 1, 3)
    batch_first = bool(rng.integers(2))
    n, lq, lk = _n(rng, 1, 2), _n(rng, 1, 3), _n(rng, 1, 3)
    q = (n, lq, e) if batch_first else (lq, n, e)
    k = (n, lk, e) if batch_first else (lk, n, e)
    return (f"MultiheadAttention({e}, {heads}, bias={bool(rng.integers(2))}, "
            f"batch_first={batch_first})", [("float", q), ("float", k), ("float", k)])


def _encoder_layer(rng):
    heads = _n(rng, 1, 2)
    d = heads * _n(rng, 1, 3)
    return (f"TransformerEncoderLayer({d}, {heads}, dim_feedforward={_n(rng, 1, 6)}, dropout=0.0, "
            f"activation={_p(rng, 'relu', 'gelu')!r}, batch_first=True, "
            f"norm_first={bool(rng.integers(2))})", [("float", (_n(rng, 1, 2), _n(rng, 1, 3), d))])


def _group_norm(rng):
    groups = _n(rng, 1, 3)
    c = groups * _n(rng, 1, 2)
    return (f"GroupNorm({groups}, {c}, eps={_p(rng, 1e-5, 1e-3)}, affine={bool(rng.integers(2))})",
            [("float", (_n(rng, 1, 3), c) + tuple(_n(rng, 1, 3) for _ in range(_n(rng, 0, 2))))])


def _instance_norm(rng, dims):
    c = _n(rng, 1, 3)
    return (f"InstanceNorm{dims}d({c}, eps={_p(rng, 1e-5, 1e-3)}, momentum={_p(rng, 0.1, 0.5)}, "
            f"affine={bool(rng.integers(2))}, track_running_stats={bool(rng.integers(2))})",
            [("float", (_n(rng, 1, 2), c) + tuple(_n(rng, 2, 4) for _ in range(dims)))])


def _adaptive_max(rng, dims):
    out = _n(rng, 1, 3) if dims == 1 else (_n(rng, 1, 3), _p(rng, None, _n(rng, 1, 3)))
    return (f"AdaptiveMaxPool{dims}d({out!r})",
            [("float", (_n(rng, 1, 2), _n(rng, 1, 2)) + tuple(_n(rng, 1, 6) for _ in range(dims)))])


def _upsample(rng):
    """Every mode of F.interpolate, by scale factor or size, with and without align_corners."""
    mode = _p(rng, "nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
    dims = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode, _n(rng, 1, 3))
    spatial = tuple(_n(rng, 1, 4) for _ in range(dims))
    if rng.integers(2) and mode != "bicubic" and not (mode == "nearest" and dims != 2):
        # (PyTorch's backward of these by a scale factor can disagree with its forward; see
        # known_differences._interpolate_backward_disagrees)
        how = f"scale_factor={_p(rng, 2, 3, 0.5, 1.5, 2.25)}"
    else:
        how = f"size={tuple(_n(rng, 1, 5) for _ in range(dims))!r}"
    corners = (f", align_corners={bool(rng.integers(2))}"
               if mode in ("linear", "bilinear", "bicubic", "trilinear") and rng.integers(2) else "")
    return (f"Upsample({how}, mode={mode!r}{corners})",
            [("float", (_n(rng, 1, 2), _n(rng, 1, 2)) + spatial)])


def _act(name, args=""):
    return lambda rng: (f"{name}({args(rng) if callable(args) else args})",
                        [("float", tuple(_n(rng, 0, 3) for _ in range(_n(rng, 1, 3))))])


CONFIGS = {
    "Linear": lambda r: (lambda i, o: (f"Linear({i}, {o}, bias={bool(r.integers(2))})",
                                       [("float", (_n(r, 0, 2), i))]))(_n(r, 1, 4), _n(r, 1, 4)),
    "Conv1d": lambda r: _conv(r, 1, False), "Conv2d": lambda r: _conv(r, 2, False),
    "ConvTranspose1d": lambda r: _conv(r, 1, True), "ConvTranspose2d": lambda r: _conv(r, 2, True),
    "MaxPool1d": lambda r: _pool(r, "Max", 1), "MaxPool2d": lambda r: _pool(r, "Max", 2),
    "AvgPool1d": lambda r: _pool(r, "Avg", 1), "AvgPool2d": lambda r: _pool(r, "Avg", 2),
    "AdaptiveAvgPool1d": lambda r: (f"AdaptiveAvgPool1d({_n(r, 1, 4)})",
                                    [("float", (1, _n(r), _n(r, 1, 7)))]),
    "AdaptiveAvgPool2d": lambda r: (f"AdaptiveAvgPool2d(({_n(r, 1, 3)}, {_n(r, 1, 3)}))",
                                    [("float", (1, _n(r, 1, 2), _n(r, 1, 6), _n(r, 1, 6)))]),
    "BatchNorm1d": lambda r: _norm(r, 1), "BatchNorm2d": lambda r: _norm(r, 2),
    "BatchNorm3d": lambda r: _norm(r, 3),
    "LayerNorm": lambda r: (lambda s: (f"LayerNorm({s[-int(r.integers(1, 3)):]}, "
                                       f"eps={_p(r, 1e-5, 1e-2)}, "
                                       f"elementwise_affine={bool(r.integers(2))})",
                                       [("float", s)]))((_n(r, 1, 3), _n(r, 1, 3), _n(r, 1, 3))),
    "Embedding": lambda r: (lambda n: (f"Embedding({n}, {_n(r)}, padding_idx={_p(r, None, 0)})",
                                       [("int", (_n(r), _n(r)), n)]))(_n(r, 1, 5)),
    "Dropout": _act("Dropout", "0.0"), "Identity": _act("Identity"),
    "ELU": _act("ELU", lambda r: f"alpha={_p(r, 1.0, 0.5)}"),
    "GELU": _act("GELU", lambda r: f"approximate={_p(r, 'none', 'tanh')!r}"),
    "Hardsigmoid": _act("Hardsigmoid"), "Hardswish": _act("Hardswish"),
    "Hardtanh": _act("Hardtanh", lambda r: f"{_p(r, -1.0, -0.5)}, {_p(r, 1.0, 2.0)}"),
    "LeakyReLU": _act("LeakyReLU", lambda r: f"{_p(r, 0.01, 0.3)}"), "Mish": _act("Mish"),
    "ReLU": _act("ReLU"), "ReLU6": _act("ReLU6"), "SELU": _act("SELU"), "SiLU": _act("SiLU"),
    "Sigmoid": _act("Sigmoid"), "Softsign": _act("Softsign"), "Tanh": _act("Tanh"),
    "Softplus": _act("Softplus", lambda r: f"beta={_p(r, 1.0, 2.0)}, threshold={_p(r, 20.0, 1.0)}"),
    "Softmax": _act("Softmax", "dim=-1"), "Softmin": _act("Softmin", "dim=0"),
    "LogSoftmax": _act("LogSoftmax", "dim=-1"),
    "PReLU": lambda r: (lambda c: (f"PReLU({c}, init={_p(r, 0.25, -0.1)})",
                                   [("float", (_n(r, 1, 2), c, _n(r, 1, 3)))]))(_p(r, 1, 3)),
    "Flatten": lambda r: ("Flatten()", [("float", (_n(r), _n(r), _n(r)))]),
    "Unflatten": lambda r: ("Unflatten(1, (2, 3))", [("float", (_n(r), 6))]),
    "Upsample": _upsample,
    "GroupNorm": _group_norm, "InstanceNorm1d": lambda r: _instance_norm(r, 1),
    "InstanceNorm2d": lambda r: _instance_norm(r, 2),
    "AdaptiveMaxPool1d": lambda r: _adaptive_max(r, 1),
    "AdaptiveMaxPool2d": lambda r: _adaptive_max(r, 2),
    "UpsamplingNearest2d": lambda r: (f"UpsamplingNearest2d(scale_factor={_n(r, 1, 2)})",
                                      [("float", (1, 1, _n(r, 1, 3), _n(r, 1, 3)))]),
    "Unfold": lambda r: (f"Unfold(kernel_size={_n(r, 1, 2)}, stride={_n(r, 1, 2)})",
                         [("float", (1, _n(r, 1, 2), _n(r, 2, 4), _n(r, 2, 4)))]),
    "Fold": lambda r: ("Fold(output_size=(3, 3), kernel_size=2)", [("float", (1, 4 * _n(r, 1, 2), 4))]),
    "MSELoss": lambda r: _loss(r, "MSELoss"), "L1Loss": lambda r: _loss(r, "L1Loss"),
    "SmoothL1Loss": lambda r: _loss(r, "SmoothL1Loss", f", beta={_p(r, 1.0, 0.5)}"),
    "HuberLoss": lambda r: _loss(r, "HuberLoss", f", delta={_p(r, 1.0, 2.0)}"),
    "BCELoss": lambda r: _loss(r, "BCELoss", "", "prob", "prob"),
    "BCEWithLogitsLoss": lambda r: _loss(r, "BCEWithLogitsLoss", "", "prob"),
    "CrossEntropyLoss": lambda r: _loss(r, "CrossEntropyLoss",
                                        f", label_smoothing={_p(r, 0.0, 0.1)}", "int"),
    "NLLLoss": lambda r: _loss(r, "NLLLoss", "", "int"),
    "KLDivLoss": lambda r: _loss(r, "KLDivLoss", f", log_target={bool(r.integers(2))}", "float"),
    "RNN": lambda r: _rnn(r, "RNN"), "LSTM": lambda r: _rnn(r, "LSTM"),
    "GRU": lambda r: _rnn(r, "GRU"), "RNNCell": lambda r: _cell(r, "RNNCell"),
    "LSTMCell": lambda r: _cell(r, "LSTMCell"), "GRUCell": lambda r: _cell(r, "GRUCell"),
    "MultiheadAttention": _mha, "TransformerEncoderLayer": _encoder_layer,
}


def make_inputs(rng, specs):
    out = []
    for spec in specs:
        if spec[0] == "int":
            out.append(rng.integers(0, spec[2], spec[1]))
        elif spec[0] == "prob":
            out.append(np.round(rng.uniform(0.05, 0.95, spec[1]), 3))
        else:
            out.append(np.round(rng.standard_normal(spec[1]), 3))
    return out


def run_layer(lib, ctor, state, inputs, weights, train):
    layer = eval(f"lib.nn.{ctor}", {"lib": lib}).double()
    if state is not None:
        layer.load_state_dict({k: lib.tensor(v.copy()) for k, v in state.items()})
    layer.train(train)
    xs = [lib.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in inputs]
    outs = _flat(layer(*xs))
    loss = None
    for o, w in zip(outs, weights):
        if o.requires_grad:
            term = (o * lib.tensor(w)).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    grads = {f"input {i}": x.grad for i, x in enumerate(xs)}
    grads.update({f"gradient of {n}": p.grad for n, p in layer.named_parameters()})
    as_np = (lambda t: None if t is None else t.detach().numpy().copy())
    return ([as_np(o) for o in outs], {k: as_np(v) for k, v in grads.items()},
            {k: as_np(v) for k, v in layer.state_dict().items()})


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [] if out is None else [out]


def fuzz_one(rng, allowed, cr, torch):
    """``(mismatch descriptions or None when skipped, reproducer script)``."""
    names = [n for n in CONFIGS if allowed is None or n in allowed]
    if not names:
        return None, ""
    name = names[int(rng.integers(len(names)))]
    ctor, specs = CONFIGS[name](rng)
    inputs = make_inputs(rng, specs)
    train = bool(rng.integers(2))
    torch.manual_seed(int(rng.integers(2 ** 31)))
    try:
        reference = eval(f"torch.nn.{ctor}", {"torch": torch}).double()
        state = {k: v.detach().numpy().copy() for k, v in reference.state_dict().items()}
        with torch.no_grad():
            shapes = [tuple(o.shape) for o in _flat(reference.train(train)(
                *[torch.tensor(a) for a in inputs]))]
    except Exception:
        return None, ""          # PyTorch rejects this configuration: nothing to compare
    weights = [np.round(rng.standard_normal(s), 2) for s in shapes]
    script = _script(ctor, state, inputs, weights, train)
    want = run_layer(torch, ctor, state, inputs, weights, train)
    try:
        got = run_layer(cr, ctor, state, inputs, weights, train)
    except Exception as e:
        return [f"nn.{ctor}: chainrule raised {type(e).__name__}: {str(e)[:200]}"], script
    where = f"nn.{ctor} {'train' if train else 'eval'}"
    found = []
    if len(got[0]) != len(want[0]):
        return [f"{where}: {len(got[0])} outputs, PyTorch {len(want[0])}"], script
    for i, (g, w) in enumerate(zip(got[0], want[0])):
        d = difference(g, w, "float64")
        if d:
            found.append(f"{where} output {i}: {d}")
    for table, label in ((got[1], want[1]), (got[2], want[2])):
        for key, w in label.items():
            if key not in table:
                found.append(f"{where}: chainrule lacks {key}")
                continue
            d = difference(table[key], w, "float64") if w is None or w.dtype.kind == "f" else (
                None if np.array_equal(table[key], w) else "differs")
            if d:
                found.append(f"{where} {key}: {d}")
    return found, script


def _script(ctor, state, inputs, weights, train):
    lit = (lambda a: f"np.array({np.asarray(a).tolist()!r})")
    return "\n".join([
        f"# layer fuzz: nn.{ctor}, {'train' if train else 'eval'} mode", "import numpy as np",
        "import torch", "import chainrule as cr",
        "from chainrule.testing.fuzz.layers import run_layer",
        "state = {" + ", ".join(f"{k!r}: {lit(v)}" for k, v in state.items()) + "}",
        "inputs = [" + ", ".join(lit(a) for a in inputs) + "]",
        "weights = [" + ", ".join(lit(w) for w in weights) + "]",
        "for lib in (cr, torch):",
        f"    print(lib.__name__, run_layer(lib, {ctor!r}, state, inputs, weights, {train!r}))"])
