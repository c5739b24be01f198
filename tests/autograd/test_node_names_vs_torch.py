"""grad_fn prints as PyTorch's (``MulBackward0``, ``AddmmBackward0``...), and ``next_functions``
reaches the same nodes: ``AccumulateGrad`` for leaves, ``(None, 0)`` for tensors without grad."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

# Each case runs in both libraries: m is the module (chainrule or torch), F its functional,
# t its tensor dict.
CASES = {
    "add": lambda m, F, t: t["x"] + t["y"], "add_scalar": lambda m, F, t: t["x"] + 1,
    "sub": lambda m, F, t: t["x"] - t["y"], "rsub": lambda m, F, t: 1 - t["x"],
    "mul": lambda m, F, t: t["x"] * t["y"], "mul_const": lambda m, F, t: t["x"] * t["c"],
    "div": lambda m, F, t: t["x"] / t["y"],
    "pow": lambda m, F, t: t["x"] ** 2, "pow_tensor": lambda m, F, t: t["x"] ** t["y"],
    "rpow": lambda m, F, t: 2 ** t["x"], "neg": lambda m, F, t: -t["x"],
    "exp": lambda m, F, t: t["x"].exp(), "log1p": lambda m, F, t: t["x"].log1p(),
    "square": lambda m, F, t: t["x"].square(), "clamp": lambda m, F, t: t["x"].clamp(0, 1),
    "where": lambda m, F, t: m.where(t["c"] > 0, t["x"], t["c"]),
    "tanh": lambda m, F, t: t["x"].tanh(), "sigmoid": lambda m, F, t: t["x"].sigmoid(),
    "relu": lambda m, F, t: F.relu(t["x"]), "leaky_relu": lambda m, F, t: F.leaky_relu(t["x"]),
    "gelu": lambda m, F, t: F.gelu(t["x"]), "selu": lambda m, F, t: F.selu(t["x"]),
    "softmax": lambda m, F, t: F.softmax(t["x"], 1),
    "log_softmax": lambda m, F, t: F.log_softmax(t["x"], 1),
    "linear": lambda m, F, t: F.linear(t["x"], t["w"], t["b"]),
    "linear_no_bias": lambda m, F, t: F.linear(t["x"], t["w"]),
    "linear_frozen_input": lambda m, F, t: F.linear(t["c"], t["w"], t["b"]),
    "mm": lambda m, F, t: t["x"] @ t["c"].T, "mv": lambda m, F, t: t["x"] @ t["v"],
    "dot": lambda m, F, t: t["v"] @ t["v"],
    "sum": lambda m, F, t: t["x"].sum(), "sum_dim": lambda m, F, t: t["x"].sum(1),
    "mean": lambda m, F, t: t["x"].mean(), "mean_dim": lambda m, F, t: t["x"].mean(1),
    "max": lambda m, F, t: t["x"].max(), "max_dim": lambda m, F, t: t["x"].max(1)[0],
    "reshape": lambda m, F, t: t["x"].reshape(12), "view": lambda m, F, t: t["x"].view(12),
    "flatten": lambda m, F, t: t["x3"].flatten(1), "unsqueeze": lambda m, F, t: t["x"].unsqueeze(0),
    "permute": lambda m, F, t: t["x3"].permute(2, 0, 1), "cat": lambda m, F, t: m.cat([t["x"], t["c"]]),
    "stack": lambda m, F, t: m.stack([t["x"], t["y"]]), "select": lambda m, F, t: t["x"][0],
    "slice": lambda m, F, t: t["x"][:2], "index": lambda m, F, t: t["x"][[0, 1]],
    "select_column": lambda m, F, t: t["x"][:, 1],
    "mse_loss": lambda m, F, t: F.mse_loss(t["x"], t["c"]),
    "cross_entropy_name": lambda m, F, t: F.nll_loss(t["x"], m.tensor([0, 1, 2])),
    "bce_with_logits": lambda m, F, t: F.binary_cross_entropy_with_logits(t["x"], t["c"]),
    "embedding": lambda m, F, t: F.embedding(m.tensor([0, 1]), t["w"]),
    "layer_norm": lambda m, F, t: F.layer_norm(t["x"], (4,)),
    "conv2d": lambda m, F, t: F.conv2d(t["img"], t["k"]),
    "max_pool2d": lambda m, F, t: F.max_pool2d(t["img"], 2),
    "clone": lambda m, F, t: t["x"].clone(), "to_double": lambda m, F, t: t["x"].double(),
}


# Where PyTorch composes what chainrule computes as one node, the node prints PyTorch's last step
NAME_ONLY = {
    "rdiv": lambda m, F, t: 2 / t["x"],          # PyTorch: 2 * x.reciprocal()
    "linear_3d": lambda m, F, t: F.linear(t["x3"], t["w"], t["b"]),   # view(addmm(view(x)))
    "linear_3d_no_bias": lambda m, F, t: F.linear(t["x3"], t["w"]),
    "matmul_batched": lambda m, F, t: t["x3"] @ t["w"].T,
    "cross_entropy": lambda m, F, t: F.cross_entropy(t["x"], m.tensor([0, 1, 2])),
    "l1_loss": lambda m, F, t: F.l1_loss(t["x"], t["c"]),
    "softsign": lambda m, F, t: F.softsign(t["x"]),
    "reshape_transposed": lambda m, F, t: t["x"].T.reshape(12),
}


def _tensors(m):
    rng = np.random.default_rng(0)
    def leaf(*shape, grad=True):
        return m.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=grad)
    return {"x": leaf(3, 4), "y": leaf(3, 4), "c": leaf(3, 4, grad=False), "w": leaf(5, 4),
            "b": leaf(5), "x3": leaf(2, 3, 4), "v": leaf(4), "img": leaf(1, 1, 4, 4),
            "k": leaf(2, 1, 3, 3, grad=False)}


def _structure(fn, leaves, depth=3):
    """The node's name and, recursively, its next_functions (leaves named by their dict key)."""
    if fn is None:
        return None
    name = fn.name()
    if name.endswith("AccumulateGrad"):
        return ("AccumulateGrad", next(k for k, v in leaves.items() if v is fn.variable))
    if depth == 0:
        return name
    return (name, tuple((_structure(f, leaves, depth - 1), nr) for f, nr in fn.next_functions))


@pytest.mark.parametrize("case", sorted(CASES))
def test_grad_fn_and_next_functions_match_torch(case):
    ours, theirs = _tensors(cr), _tensors(torch)
    out = CASES[case](cr, cr.nn.functional, ours)
    ref = CASES[case](torch, torch.nn.functional, theirs)
    assert _structure(out.grad_fn, ours) == _structure(ref.grad_fn, theirs)


@pytest.mark.parametrize("case", sorted(NAME_ONLY))
def test_fused_ops_print_the_name_of_torchs_last_step(case):
    out = NAME_ONLY[case](cr, cr.nn.functional, _tensors(cr))
    ref = NAME_ONLY[case](torch, torch.nn.functional, _tensors(torch))
    assert out.grad_fn.name() == ref.grad_fn.name()


def test_tensor_repr_shows_the_node_name():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert repr(x.sum()) == repr(torch.tensor([1.0, 2.0], requires_grad=True).sum())


def test_accumulate_grad_names_its_leaf_and_survives_backward():
    lin = cr.nn.Linear(4, 2)
    loss = cr.nn.functional.mse_loss(lin(cr.ones(3, 4)), cr.zeros(3, 2))
    loss.backward()
    addmm = loss.grad_fn.next_functions[0][0]
    assert addmm.name() == "AddmmBackward0"   # names and structure are kept after backward
    bias_acc, (x_entry, _), (t_node, _) = addmm.next_functions
    assert bias_acc[0].variable is lin.bias and x_entry is None
    assert t_node.name() == "TBackward0" and t_node.next_functions[0][0].variable is lin.weight


def test_a_user_function_prints_without_the_suffix_as_in_torch():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            return g

    y = Cube.apply(cr.tensor([1.0], requires_grad=True))
    assert y.grad_fn.name() == "CubeBackward"
