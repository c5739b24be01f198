"""One table of differentiable operations, shared by the gradcheck and the PyTorch tests.

Each case is written once as ``fn(m, *xs)``: ``m`` is a namespace (chainrule, or PyTorch with
``pad`` and friends filled in) and ``xs`` are that library's tensors, so the very same expression
runs in both libraries. Inputs are float64 arrays drawn from a per-case seeded generator, away
from points where the operation is not differentiable.
"""
import zlib

import numpy as np

import chainrule as cr

SCALAR_SHAPES = [((),), ((4,),), ((2, 3),), ((2, 1, 3),)]
BINARY_SHAPES = [((), ()), ((3,), ()), ((), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)),
                 ((2, 3), (2, 3))]
MATRIX_SHAPES = [((3, 4),), ((2, 3, 4),)]


def draw(rng, shape, domain):
    """Values for ``shape`` from ``domain``: 'any' (normal, |x| >= 0.1), 'pos' (0.5..2),
    'unit' (-0.9..0.9, |x| >= 0.1), 'distinct' (well-separated, for max/sort ties)."""
    n = int(np.prod(shape, dtype=np.int64))
    if domain == "pos":
        v = rng.uniform(0.5, 2.0, n)
    elif domain == "unit":
        v = rng.uniform(0.1, 0.9, n) * rng.choice([-1.0, 1.0], n)
    elif domain == "distinct":
        v = rng.permutation(n) * 0.37 - 0.3 * n + rng.uniform(0.01, 0.05, n)
    elif domain == "zeros1":
        v = rng.uniform(0.5, 2.0, n) * rng.choice([-1.0, 1.0], n)
        v[rng.integers(n)] = 0.0
    elif domain == "zeros2":
        v = rng.uniform(0.5, 2.0, n) * rng.choice([-1.0, 1.0], n)
        v[rng.choice(n, 2, replace=False)] = 0.0
    else:
        v = rng.standard_normal(n)
        v = np.where(np.abs(v) < 0.1, np.sign(v) * 0.1 + v, v)
    return v.reshape(shape)


def inputs_for(case, shapes):
    rng = np.random.default_rng(zlib.crc32(f"{case.name}{shapes}".encode()))
    doms = case.domain if isinstance(case.domain, tuple) else (case.domain,) * len(shapes)
    return [draw(rng, s, d) for s, d in zip(shapes, doms)]


class Case:
    def __init__(self, name, fn, shapes, domain="any", torch=True):
        self.name, self.fn, self.shapes, self.domain, self.torch = name, fn, shapes, domain, torch


def _cases():
    c = []

    def add(name, fn, shapes=SCALAR_SHAPES, domain="any", torch=True):
        c.append(Case(name, fn, shapes, domain, torch))

    # -- arithmetic, including reversed operators with Python numbers -----------------------
    add("add", lambda m, a, b: a + b, BINARY_SHAPES)
    add("sub", lambda m, a, b: a - b, BINARY_SHAPES)
    add("mul", lambda m, a, b: a * b, BINARY_SHAPES)
    add("div", lambda m, a, b: a / b, BINARY_SHAPES)
    add("add_method_alpha", lambda m, a, b: a.add(b, alpha=2.5), BINARY_SHAPES)
    add("sub_method_alpha", lambda m, a, b: a.sub(b, alpha=0.5), BINARY_SHAPES)
    add("mul_method", lambda m, a, b: m.mul(a, b), BINARY_SHAPES)
    add("div_method", lambda m, a, b: m.div(a, b), BINARY_SHAPES)
    add("neg", lambda m, x: -x)
    add("add_scalar", lambda m, x: x + 2.5)
    add("radd_scalar", lambda m, x: 2.5 + x)
    add("radd_int", lambda m, x: 3 + x)
    add("sub_scalar", lambda m, x: x - 1.5)
    add("rsub_scalar", lambda m, x: 1.5 - x)
    add("mul_scalar", lambda m, x: x * -3.0)
    add("rmul_scalar", lambda m, x: -3.0 * x)
    add("rmul_int", lambda m, x: 2 * x)
    add("div_scalar", lambda m, x: x / 4.0)
    add("rdiv_scalar", lambda m, x: 4.0 / x)
    add("pow_tensor_scalar", lambda m, x: x ** 3)
    add("pow_tensor_half", lambda m, x: x ** 0.5, domain="pos")
    add("pow_tensor_negative", lambda m, x: x ** -1.5, domain="pos")
    add("pow_tensor_zero", lambda m, x: x ** 0)
    add("pow_tensor_two", lambda m, x: x ** 2)
    add("pow_scalar_tensor", lambda m, x: 2.0 ** x)
    add("pow_tensor_tensor", lambda m, a, b: a ** b, BINARY_SHAPES, ("pos", "any"))
    add("pow_method", lambda m, a, b: m.pow(a, b), BINARY_SHAPES, ("pos", "any"))
    add("remainder_scalar", lambda m, x: x % 0.7, domain="distinct")

    # -- unary functions ---------------------------------------------------------------------
    for name, dom in [("exp", "any"), ("log", "pos"), ("log1p", "pos"), ("expm1", "any"),
                      ("sqrt", "pos"), ("rsqrt", "pos"), ("abs", "any"), ("sign", "any"),
                      ("sin", "any"), ("cos", "any"), ("tanh", "any"), ("sigmoid", "any"),
                      ("relu", "any"), ("reciprocal", "any"), ("square", "any"),
                      ("log2", "pos"), ("log10", "pos")]:
        add(name, (lambda n: lambda m, x: getattr(x, n)())(name), domain=dom)
        add(f"cr.{name}", (lambda n: lambda m, x: getattr(m, n)(x))(name), [((3,),)], dom)
    add("abs_builtin", lambda m, x: abs(x))
    add("clamp", lambda m, x: x.clamp(-0.5, 0.5))
    add("clamp_min", lambda m, x: x.clamp(min=0.2))
    add("clamp_max", lambda m, x: m.clamp(x, max=0.2))
    add("clip", lambda m, x: m.clip(x, -0.5, 0.5))
    add("clamp_tensor_bounds", lambda m, x, lo: x.clamp(min=lo), BINARY_SHAPES)
    add("maximum", lambda m, a, b: m.maximum(a, b), BINARY_SHAPES)
    add("minimum", lambda m, a, b: m.minimum(a, b), BINARY_SHAPES)
    add("where", lambda m, a, b: m.where(a > b, a, b * 2), BINARY_SHAPES)
    add("where_scalar_other", lambda m, x: m.where(x > 0, x, 0.5))
    add("clone", lambda m, x: x.clone() * 2)

    # -- matrix products ---------------------------------------------------------------------
    mm_shapes = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                 ((2, 2, 3), (2, 3, 4)), ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 4)),
                 ((2, 1, 2, 3), (3, 3, 2)), ((3,), (2, 3, 4)), ((2, 4, 3), (3,))]
    add("matmul", lambda m, a, b: a @ b, mm_shapes)
    add("matmul_fn", lambda m, a, b: m.matmul(a, b), [((2, 3), (3, 4))])
    add("mm", lambda m, a, b: a.mm(b), [((2, 3), (3, 4))])
    add("bmm", lambda m, a, b: m.bmm(a, b), [((2, 2, 3), (2, 3, 4))])
    add("dot", lambda m, a, b: m.dot(a, b), [((4,), (4,))])
    add("mv", lambda m, a, b: a.mv(b), [((2, 3), (3,))])
    add("outer", lambda m, a, b: m.outer(a, b), [((2,), (3,))])
    add("T", lambda m, x: x.T, [((2, 3),)])
    add("T_not_2d", lambda m, x: x.T, [((3,),), ((2, 3, 4),)], torch=False)  # deprecated there
    add("mT", lambda m, x: x.mT, [((2, 3),), ((2, 3, 4),)])
    add("einsum_matmul", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [((2, 3), (3, 4))])
    add("einsum_batched", lambda m, a, b: m.einsum("bij,bjk->bik", a, b), [((2, 2, 3), (2, 3, 4))])
    add("einsum_sum", lambda m, x: m.einsum("ij->j", x), [((2, 3),)])
    add("einsum_inner", lambda m, a, b: m.einsum("i,i->", a, b), [((4,), (4,))])
    add("einsum_hadamard", lambda m, a, b: m.einsum("ij,ij->ij", a, b), [((2, 3), (2, 3))])
    add("einsum_transpose", lambda m, x: m.einsum("ij->ji", x), [((2, 3),)])
    add("einsum_three", lambda m, a, b, c: m.einsum("ij,jk,k->i", a, b, c),
        [((2, 3), (3, 4), (4,))])
    add("einsum_outer_sum", lambda m, a, b: m.einsum("ij,k->k", a, b), [((2, 3), (4,))])

    # -- reductions --------------------------------------------------------------------------
    red_shapes = [((),), ((4,),), ((2, 3),), ((2, 3, 4),)]
    for name in ("sum", "mean"):
        add(name, (lambda n: lambda m, x: getattr(x, n)())(name), red_shapes)
        add(f"{name}_dim", (lambda n: lambda m, x: getattr(x, n)(dim=-1))(name), red_shapes)
        add(f"{name}_dim0_keepdim",
            (lambda n: lambda m, x: getattr(x, n)(0, keepdim=True))(name), red_shapes[1:])
        add(f"{name}_dims", (lambda n: lambda m, x: getattr(x, n)(dim=(0, 2)))(name),
            [((2, 3, 4),)])
    for name in ("var", "std"):
        add(name, (lambda n: lambda m, x: getattr(x, n)())(name), red_shapes[1:])
        add(f"{name}_dim", (lambda n: lambda m, x: getattr(x, n)(dim=1))(name), red_shapes[2:])
        add(f"{name}_correction0",
            (lambda n: lambda m, x: getattr(x, n)(dim=(0, -1), correction=0, keepdim=True))(name),
            red_shapes[2:])
        add(f"{name}_unbiased_false",
            (lambda n: lambda m, x: getattr(x, n)(0, unbiased=False))(name), red_shapes[1:])
        add(f"{name}_correction2", (lambda n: lambda m, x: getattr(x, n)(correction=2))(name),
            [((5,),), ((2, 3),)])
    for name in ("max", "min"):
        add(name, (lambda n: lambda m, x: getattr(x, n)())(name), red_shapes, "distinct")
        add(f"{name}_dim", (lambda n: lambda m, x: getattr(x, n)(dim=1).values)(name),
            red_shapes[2:], "distinct")
        add(f"{name}_dim_keepdim", (lambda n: lambda m, x: getattr(x, n)(-1, True)[0])(name),
            red_shapes[1:], "distinct")
        add(f"{name}_binary", (lambda n: lambda m, a, b: getattr(a, n)(b))(name), BINARY_SHAPES)
    for name in ("amax", "amin"):
        add(name, (lambda n: lambda m, x: getattr(x, n)())(name), red_shapes, "distinct")
        add(f"{name}_dims", (lambda n: lambda m, x: getattr(m, n)(x, dim=(0, 2)))(name),
            [((2, 3, 4),)], "distinct")
        add(f"{name}_dim_keepdim", (lambda n: lambda m, x: getattr(x, n)(1, keepdim=True))(name),
            red_shapes[2:], "distinct")
    add("logsumexp", lambda m, x: x.logsumexp(dim=-1), red_shapes)
    add("logsumexp_dims", lambda m, x: m.logsumexp(x, dim=(0, 1), keepdim=True), red_shapes[2:])
    add("logsumexp_large", lambda m, x: (x * 500).logsumexp(0), [((4,),)])
    add("prod", lambda m, x: x.prod(), red_shapes, "pos")
    add("prod_dim", lambda m, x: x.prod(dim=1), red_shapes[2:])
    add("prod_dim_keepdim", lambda m, x: x.prod(-1, keepdim=True), red_shapes[1:])
    add("prod_one_zero", lambda m, x: x.prod(), [((4,),), ((2, 3),)], "zeros1")
    add("prod_two_zeros", lambda m, x: x.prod(), [((4,),), ((2, 3),)], "zeros2")
    add("prod_dim_zeros", lambda m, x: x.prod(0), [((3, 2),)], "zeros2")
    for p in (1, 2, float("inf"), 3):
        add(f"norm_p{p}", (lambda p: lambda m, x: x.norm(p=p))(p), red_shapes[1:], "distinct")
        add(f"norm_p{p}_dim", (lambda p: lambda m, x: x.norm(p=p, dim=1))(p), red_shapes[2:],
            "distinct")
    add("norm_default", lambda m, x: m.norm(x), red_shapes[1:])
    add("norm_keepdim", lambda m, x: x.norm(dim=-1, keepdim=True), red_shapes[2:])
    add("cumsum", lambda m, x: x.cumsum(0), red_shapes)
    add("cumsum_last", lambda m, x: m.cumsum(x, dim=-1), red_shapes[2:])
    add("softmax", lambda m, x: x.softmax(dim=-1), red_shapes[1:])
    add("softmax_dim0", lambda m, x: m.softmax(x, 0), red_shapes[2:])
    add("log_softmax", lambda m, x: x.log_softmax(dim=-1), red_shapes[1:])
    add("log_softmax_dim1", lambda m, x: m.log_softmax(x, dim=1), red_shapes[2:])
    add("softmax_large", lambda m, x: (x * 300).softmax(0), [((4,),)])
    add("topk_values", lambda m, x: x.topk(2).values, [((4,),), ((3, 5),)], "distinct")
    add("topk_smallest_dim0", lambda m, x: x.topk(2, dim=0, largest=False)[0], [((3, 5),)],
        "distinct")
    add("sort_values", lambda m, x: x.sort().values, [((4,),), ((3, 5),)], "distinct")
    add("sort_descending_dim0", lambda m, x: x.sort(dim=0, descending=True)[0], [((3, 5),)],
        "distinct")

    # -- shape -------------------------------------------------------------------------------
    s234 = [((2, 3, 4),)]
    add("reshape", lambda m, x: x.reshape(4, -1), s234)
    add("reshape_tuple", lambda m, x: m.reshape(x, (6, 4)), s234)
    add("reshape_scalar", lambda m, x: x.reshape(1, 1), [((),)])
    add("reshape_to_scalar", lambda m, x: x.reshape(()), [((1, 1),)])
    add("view", lambda m, x: x.view(-1), s234)
    add("view_as", lambda m, a, b: a.view_as(b), [((2, 3), (3, 2))])
    add("reshape_as", lambda m, a, b: a.reshape_as(b) * b, [((2, 3), (6,))])
    add("flatten", lambda m, x: x.flatten(), s234 + [((),)])
    add("flatten_range", lambda m, x: m.flatten(x, 1, 2), s234)
    add("unflatten", lambda m, x: x.unflatten(2, (2, 2)), s234)
    add("unflatten_infer", lambda m, x: x.unflatten(-1, (2, -1)), s234)
    add("permute", lambda m, x: x.permute(2, 0, 1), s234)
    add("permute_tuple", lambda m, x: m.permute(x, (1, 2, 0)), s234)
    add("transpose", lambda m, x: x.transpose(0, 2), s234)
    add("transpose_fn", lambda m, x: m.transpose(x, -1, 0), [((3, 2),)])
    add("t", lambda m, x: x.t(), [((2, 3),), ((3,),)])
    add("squeeze", lambda m, x: x.squeeze(), [((2, 1, 3, 1),), ((1,),)])
    add("squeeze_dim", lambda m, x: x.squeeze(1), [((2, 1, 3),)])
    add("squeeze_dims_noop", lambda m, x: x.squeeze(0), [((2, 1, 3),)])
    add("unsqueeze", lambda m, x: x.unsqueeze(1), [((2, 3),)])
    add("unsqueeze_0d", lambda m, x: x.unsqueeze(0).unsqueeze(-1), [((),)])
    add("unsqueeze_last", lambda m, x: m.unsqueeze(x, -1), [((2, 3),)])
    add("expand", lambda m, x: x.expand(2, 3, 4), [((3, 1),), ((1, 3, 4),), ((),)])
    add("expand_keep", lambda m, x: x.expand(-1, 4), [((3, 1),)])
    add("expand_as", lambda m, a, b: a.expand_as(b) * b, [((3, 1), (2, 3, 4))])
    add("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), [((3, 1),), ((4,),)])
    add("repeat", lambda m, x: x.repeat(2, 3), [((2, 3),), ((3,),)])
    add("repeat_more_dims", lambda m, x: x.repeat(2, 1, 2), [((2, 3),)])
    add("flip", lambda m, x: x.flip(0), s234)
    add("flip_dims", lambda m, x: m.flip(x, (0, 2)), s234)
    add("roll", lambda m, x: x.roll(1, 0), s234)
    add("roll_flat", lambda m, x: m.roll(x, 5), s234)
    add("roll_multi", lambda m, x: x.roll((1, -2), (0, 2)), s234)
    add("cat", lambda m, a, b: m.cat([a, b]), [((2, 3), (4, 3)), ((3,), (2,))])
    add("cat_dim1", lambda m, a, b, c: m.cat((a, b, c), dim=1), [((2, 1), (2, 3), (2, 2))])
    add("stack", lambda m, a, b: m.stack([a, b]), [((2, 3), (2, 3)), ((), ())])
    add("stack_last", lambda m, a, b: m.stack([a, b], dim=-1), [((2, 3), (2, 3))])
    add("split", lambda m, x: x.split(2), [((5, 2),)])
    add("split_sections", lambda m, x: m.split(x, [1, 3], dim=1), [((2, 4),)])
    add("split_one_used", lambda m, x: x.split(2)[1], [((5, 2),)])
    add("chunk", lambda m, x: x.chunk(3, dim=1), [((2, 7),)])
    add("unbind", lambda m, x: x.unbind(1), [((2, 3),)])
    add("unbind_some_used", lambda m, x: x.unbind()[0] * x.unbind()[2], [((3, 2),)])
    add("iterate", lambda m, x: m.stack([r * i for i, r in enumerate(x)]), [((3, 2),)])

    # -- indexing ----------------------------------------------------------------------------
    for name, fn in [
        ("int", lambda m, x: x[1]),
        ("negative_int", lambda m, x: x[-1, 2]),
        ("slice", lambda m, x: x[1:3]),
        ("slice_step", lambda m, x: x[::2, 1::2]),
        ("none", lambda m, x: x[None, :, None]),
        ("ellipsis", lambda m, x: x[..., 1]),
        ("ellipsis_none", lambda m, x: x[1, ..., None]),
        ("int_array", lambda m, x: x[m.tensor([0, 2])]),
        ("int_array_repeated", lambda m, x: x[m.tensor([0, 2, 0, 0])]),
        ("int_list_repeated", lambda m, x: x[[1, 1, 3]]),
        ("int_array_2d", lambda m, x: x[m.tensor([[0, 1], [1, 1]])]),
        ("int_arrays_pair", lambda m, x: x[m.tensor([0, 2, 2]), m.tensor([1, 1, 4])]),
        ("int_array_then_slice", lambda m, x: x[m.tensor([3, 0, 3]), 1:]),
        ("slice_then_int_array", lambda m, x: x[:, m.tensor([4, 4, 0])]),
        ("int_and_array", lambda m, x: x[1, m.tensor([0, 0, 2])]),
        ("bool_mask", lambda m, x: x[x > 0]),
        ("bool_mask_rows", lambda m, x: x[m.tensor([True, False, True, True])]),
        ("negative_index_array", lambda m, x: x[m.tensor([-1, -1, 0])]),
    ]:
        add(f"index_{name}", fn, [((4, 5),)])
    add("index_scalar_of_vector", lambda m, x: x[2], [((4,),)])
    add("index_0d_ellipsis", lambda m, x: x[...], [((),)])
    add("index_0d_none", lambda m, x: x[None], [((),)])
    add("index_3d_mixed", lambda m, x: x[:, m.tensor([0, 2, 0]), 1:3], [((2, 3, 4),)])
    add("index_negative_step", lambda m, x: x[::-1], [((4, 2),)], torch=False)
    add("masked_fill", lambda m, x: x.masked_fill(x < 0, 0.5), [((4,),), ((2, 3),)])
    add("masked_fill_broadcast", lambda m, x: m.masked_fill(x, m.tensor([True, False, True]), -1.0),
        [((2, 3),)])
    add("gather", lambda m, x: x.gather(1, m.tensor([[0, 0, 2], [1, 2, 1]])), [((2, 3),)])
    add("gather_index_smaller", lambda m, x: x.gather(1, m.tensor([[2, 0], [3, 3]])), [((3, 4),)])
    add("gather_dim0", lambda m, x: m.gather(x, 0, m.tensor([[1, 0, 1, 1]])), [((2, 4),)])
    add("gather_cross_entropy", lambda m, x: -x.log_softmax(1).gather(1, m.tensor([[2], [0]])).mean(),
        [((2, 3),)])
    add("scatter_add", lambda m, a, s: a.scatter_add(1, m.tensor([[0, 0, 2], [1, 1, 1]]), s),
        [((2, 3), (2, 3)), ((2, 4), (2, 3))])
    # src larger than index (allowed; PyTorch's own backward rejects this shape)
    add("scatter_add_src_larger", lambda m, a, s: a.scatter_add(1, m.tensor([[0, 0, 2]]), s),
        [((2, 4), (3, 5))], torch=False)
    add("scatter_add_dim0", lambda m, a, s: m.scatter_add(a, 0, m.tensor([[1, 0], [1, 1]]), s),
        [((2, 2), (2, 2))])
    add("index_select", lambda m, x: x.index_select(0, m.tensor([2, 0, 2])), [((3, 4),)])
    add("index_select_dim1", lambda m, x: m.index_select(x, -1, m.tensor([1, 1])), [((2, 3, 4),)])
    add("pad_constant", lambda m, x: m.pad(x, (1, 2)), [((2, 3),)])
    add("pad_constant_value", lambda m, x: m.pad(x, (1, 0, 0, 2), value=0.5), [((2, 3),)])
    add("pad_constant_negative", lambda m, x: m.pad(x, (-1, 2, 1, -1)), [((3, 4),)])
    add("pad_reflect", lambda m, x: m.pad(x, (2, 1), mode="reflect"), [((2, 4),), ((1, 2, 4),)])
    add("pad_reflect_2d", lambda m, x: m.pad(x, (1, 2, 2, 1), mode="reflect"), [((1, 3, 4),)])
    add("pad_replicate", lambda m, x: m.pad(x, (3, 1), mode="replicate"), [((2, 3),)])
    add("pad_replicate_2d", lambda m, x: m.pad(x, (1, 1, 2, 0), mode="replicate"),
        [((1, 2, 3),)])
    add("pad_circular", lambda m, x: m.pad(x, (2, 3), mode="circular"), [((1, 2, 3),)])
    add("pad_circular_2d", lambda m, x: m.pad(x, (1, 1, 1, 0), mode="circular"),
        [((1, 1, 3, 4),)])

    # -- convolution, pooling, fold/unfold, upsampling: every layout of Conv, MaxPool's ------
    # tournament and general paths, each with its reference twin (tests/conv holds the rest)
    def nnf(m):
        return m.nn.functional

    conv2d = [  # (name, x, w, keywords): the comment says which layout of Conv runs
        ("flat_per_image", (2, 1, 7, 7), (2, 1, 3, 3), dict(padding=1)),      # 63 >= 18 positions
        ("flat_per_image_dilated", (1, 1, 9, 9), (1, 1, 2, 2), dict(dilation=2)),
        ("flat_per_image_groups", (2, 4, 5, 5), (4, 2, 3, 3), dict(groups=2)),
        ("batch_last", (2, 2, 6, 6), (3, 2, 3, 3), {}),      # LeNet's second layer: 24 < 54
        ("batch_last_dilated", (1, 2, 7, 7), (2, 2, 3, 3), dict(dilation=2)),
        ("same_even_kernel", (2, 1, 5, 6), (2, 1, 2, 4), dict(padding="same")),  # pads (0, 1)
        ("im2col_stride2", (2, 2, 5, 5), (3, 2, 3, 3), dict(stride=2, padding=1)),
        ("im2col_groups", (2, 4, 5, 5), (6, 2, 3, 3), dict(stride=2, groups=2)),
        ("im2col_mixed", (1, 2, 7, 6), (2, 2, 3, 2),
         dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    ]
    for name, xs, ws, kw in conv2d:
        add(f"conv2d_{name}", lambda m, x, w, b, kw=kw: nnf(m).conv2d(x, w, b, **kw),
            [(xs, ws, ws[:1])])
    add("conv2d_no_bias", lambda m, x, w: nnf(m).conv2d(x, w, stride=2),
        [((1, 2, 5, 5), (2, 2, 3, 3))])
    add("conv1d", lambda m, x, w, b: nnf(m).conv1d(x, w, b, padding=1),
        [((2, 2, 16), (3, 2, 3), (3,)), ((2, 2, 8), (3, 2, 3), (3,))])
    add("conv1d_stride2", lambda m, x, w: nnf(m).conv1d(x, w, stride=2, dilation=2),
        [((2, 2, 9), (3, 2, 2))])
    add("conv_transpose2d", lambda m, x, w, b: nnf(m).conv_transpose2d(
        x, w, b, stride=2, padding=1, output_padding=1), [((2, 2, 3, 3), (2, 3, 3, 3), (3,))])
    add("conv_transpose2d_groups", lambda m, x, w: nnf(m).conv_transpose2d(
        x, w, groups=2, dilation=2), [((1, 4, 3, 3), (4, 1, 2, 2))])
    add("conv_transpose1d", lambda m, x, w: nnf(m).conv_transpose1d(x, w, stride=2),
        [((2, 2, 4), (2, 3, 3))])

    pools = [  # MaxPool: 2x2 is the tournament (disjoint or not), other kernels the general path
        ("2x2", (2, 2, 4, 4), dict(kernel_size=2)),
        ("2x2_overlapping", (1, 2, 4, 4), dict(kernel_size=2, stride=1)),
        ("2x2_dilated", (1, 1, 7, 7), dict(kernel_size=2, stride=2, dilation=2)),
        ("3x3_stride2_ceil", (1, 2, 6, 6), dict(kernel_size=3, stride=2, padding=1,
                                                 ceil_mode=True)),
        ("3x2_disjoint", (1, 2, 6, 4), dict(kernel_size=(3, 2))),
    ]
    for name, xs, kw in pools:
        add(f"max_pool2d_{name}", lambda m, x, kw=kw: nnf(m).max_pool2d(x, **kw), [(xs,)],
            domain="distinct")
    add("max_pool1d", lambda m, x: nnf(m).max_pool1d(x, 3, 2, padding=1), [((2, 2, 9),)],
        domain="distinct")
    add("avg_pool2d", lambda m, x: nnf(m).avg_pool2d(x, 2), [((1, 2, 4, 5),)])
    add("avg_pool2d_ceil_no_pad_count", lambda m, x: nnf(m).avg_pool2d(
        x, 3, 2, padding=1, ceil_mode=True, count_include_pad=False), [((1, 2, 6, 6),)])
    add("avg_pool2d_divisor", lambda m, x: nnf(m).avg_pool2d(x, 2, 1, divisor_override=3),
        [((1, 1, 3, 4),)])
    add("avg_pool1d", lambda m, x: nnf(m).avg_pool1d(x, 3, 2, padding=1), [((2, 2, 7),)])
    add("adaptive_avg_pool2d", lambda m, x: nnf(m).adaptive_avg_pool2d(x, (2, 3)),
        [((1, 2, 5, 7),)])
    add("adaptive_avg_pool1d", lambda m, x: nnf(m).adaptive_avg_pool1d(x, 3), [((2, 3, 7),)])
    add("unfold", lambda m, x: nnf(m).unfold(x, (2, 3), dilation=(2, 1), padding=1,
                                             stride=(1, 2)), [((1, 2, 4, 5),)])
    add("fold", lambda m, x: nnf(m).fold(x, (4, 5), 2), [((1, 8, 12),)])
    add("fold_disjoint", lambda m, x: nnf(m).fold(x, (4, 4), 2, stride=2), [((2, 4, 4),)])
    add("interpolate_nearest_int", lambda m, x: nnf(m).interpolate(x, scale_factor=(2, 3)),
        [((1, 2, 2, 3),)])
    add("interpolate_nearest_int_1d", lambda m, x: nnf(m).interpolate(x, scale_factor=3),
        [((2, 2, 3),)])
    add("interpolate_nearest_size", lambda m, x: nnf(m).interpolate(x, size=(3, 5)),
        [((1, 2, 2, 3),)])
    add("adaptive_max_pool2d", lambda m, x: nnf(m).adaptive_max_pool2d(x, (3, 2)),
        [((1, 2, 5, 5),)], domain="distinct")
    add("adaptive_max_pool1d", lambda m, x: nnf(m).adaptive_max_pool1d(x, 4), [((2, 2, 7),)],
        domain="distinct")
    for mode, shape in (("linear", (1, 2, 4)), ("bilinear", (1, 2, 3, 4)),
                        ("bicubic", (1, 1, 3, 4)), ("trilinear", (1, 1, 2, 3, 2))):
        for corners in (False, True):
            add(f"interpolate_{mode}_{'aligned' if corners else 'area'}",
                lambda m, x, mode=mode, corners=corners: nnf(m).interpolate(
                    x, scale_factor=1.5, mode=mode, align_corners=corners), [(shape,)])
    add("interpolate_nearest_exact", lambda m, x: nnf(m).interpolate(
        x, size=(5, 2), mode="nearest-exact"), [((1, 2, 3, 4),)])
    add("interpolate_area", lambda m, x: nnf(m).interpolate(x, size=(2, 3), mode="area"),
        [((1, 2, 5, 7),)])
    # -- fast paths beside their reference twins: ReLU, Linear, normalisation, embedding,
    #    attention, sum / mean past expand_to's view threshold ---------------------------------
    add("relu_large_contiguous", lambda m, x: x.repeat(100, 1).relu().sum(0),
        [((90,),), ((700,),)])              # 9000 elements (one zeros block), 70000 (two)
    add("relu_large_strided", lambda m, x: x.expand(3000, 3).relu().sum(0), [((3,),)])
    add("sum_large", lambda m, x: x.expand(70, 60).sum(), [((60,),)])        # 4200 > 4096
    add("mean_large_dim", lambda m, x: x.expand(70, 60).mean(0), [((60,),)])
    add("linear", lambda m, x, w, b: m.nn.functional.linear(x, w, b),
        [((4,), (3, 4), (3,)), ((2, 4), (3, 4), (3,)), ((2, 3, 4), (3, 4), (3,))])
    add("linear_no_bias", lambda m, x, w: m.nn.functional.linear(x, w),
        [((4,), (3, 4)), ((2, 4), (3, 4)), ((2, 2, 3, 4), (3, 4))])
    add("layer_norm", lambda m, x, w, b: m.nn.functional.layer_norm(x, (4,), w, b),
        [((3, 4), (4,), (4,)), ((2, 3, 4), (4,), (4,))])
    add("layer_norm_two_dims", lambda m, x, w, b: m.nn.functional.layer_norm(x, (3, 4), w, b),
        [((2, 3, 4), (3, 4), (3, 4))])
    add("layer_norm_weight_only", lambda m, x, w: m.nn.functional.layer_norm(x, (4,), w),
        [((3, 4), (4,))])
    add("layer_norm_no_affine", lambda m, x: m.nn.functional.layer_norm(x, (4,), eps=1e-3),
        [((3, 4),), ((4,),)])
    add("group_norm", lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b),
        [((2, 4, 3), (4,), (4,)), ((2, 6, 2, 2), (6,), (6,))])
    add("group_norm_no_affine", lambda m, x: m.nn.functional.group_norm(x, 3, eps=1e-3),
        [((2, 6, 2),)])
    add("instance_norm", lambda m, x, w, b: m.nn.functional.instance_norm(x, weight=w, bias=b),
        [((2, 3, 4), (3,), (3,)), ((2, 2, 3, 2), (2,), (2,))])
    add("batch_norm_train", lambda m, x, w, b: m.nn.functional.batch_norm(
        x, None, None, w, b, training=True), [((4, 3), (3,), (3,)), ((2, 3, 4), (3,), (3,))])
    add("batch_norm_train_running_stats", lambda m, x, w, b: m.nn.functional.batch_norm(
        x, m.zeros(3, dtype=x.dtype), m.ones(3, dtype=x.dtype), w, b, training=True),
        [((2, 3, 2, 2), (3,), (3,))])
    add("batch_norm_train_no_affine", lambda m, x: m.nn.functional.batch_norm(
        x, None, None, training=True), [((5, 2),)])
    add("batch_norm_eval", lambda m, x, w, b: m.nn.functional.batch_norm(
        x, m.tensor([0.5, -1.0, 0.0], dtype=x.dtype), m.tensor([1.0, 2.0, 0.5], dtype=x.dtype),
        w, b), [((4, 3), (3,), (3,)), ((2, 3, 4), (3,), (3,))])
    add("embedding_repeated", lambda m, w: m.nn.functional.embedding(
        m.tensor([[0, 2, 0], [1, 2, 2]]), w), [((4, 3),)])
    # The padding row's gradient is 0 by decree, not by calculus: its uses are masked out of
    # the output, so that finite differences agree (tests/nn checks the 0 against PyTorch).
    add("embedding_padding_idx", lambda m, w: m.nn.functional.embedding(
        m.tensor([0, 3, 1, 3, 0]), w, padding_idx=3)
        * m.tensor([[1.0], [0.0], [1.0], [0.0], [1.0]], dtype=m.float64), [((4, 3),)])
    add("embedding_negative_padding_idx", lambda m, w: m.nn.functional.embedding(
        m.tensor([[2, 3], [3, 1]]), w, padding_idx=-1)
        * m.tensor([[[1.0], [0.0]], [[0.0], [1.0]]], dtype=m.float64), [((4, 2),)])
    add("embedding_no_indices", lambda m, w: m.nn.functional.embedding(   # gradcheck needs
        m.tensor([], dtype=m.int64), w).sum(0) + w[0], [((4, 3),)])       # a non-empty output
    attn_shapes = [((2, 3, 4), (2, 5, 4), (2, 5, 2)), ((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3))]
    add("sdpa", lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(q, k, v),
        attn_shapes)
    add("sdpa_scale", lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(
        q, k, v, scale=0.3), attn_shapes[:1])
    add("sdpa_bool_mask", lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=m.tensor([[True, False, True, True, False],
                                     [False, False, True, False, False],
                                     [True, True, True, True, True]])), attn_shapes)
    add("sdpa_float_mask", lambda m, q, k, v, b: m.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=b), [((2, 3, 4), (2, 5, 4), (2, 5, 2), (3, 5)),
                                ((2, 3, 4), (2, 5, 4), (2, 5, 2), (2, 3, 5))])
    add("sdpa_causal", lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(
        q, k, v, is_causal=True), [((2, 4, 3), (2, 4, 3), (2, 4, 2))])
    # A query whose keys are all masked attends to nothing: 0, as PyTorch 2.13's SDPA gives.
    add("sdpa_fully_masked_row", lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=m.tensor([[True, False, True], [False, False, False]])),
        [((2, 2, 4), (2, 3, 4), (2, 3, 2))])
    # -- recurrent layers and cells, cross-entropy, MSE (twins in ops/recurrent.py,
    # ops/lstm_layer.py, ops/loss.py) --
    # No functional API runs an LSTM layer in both libraries, so these helpers apply chainrule's
    # op directly and PyTorch's own kernel (torch._VF, which its nn.LSTM runs) for the same maths;
    # a reverse direction is the forward one on the time-flipped sequence.
    from chainrule.ops.lstm_layer import LSTMLayer
    from chainrule.ops.recurrent import GRUCellStep, LSTMCellStep, RecurrentSequence, RNNCellStep

    def lstm_layer(m, reverse, x, w_ih, w_hh, b_ih=None, b_hh=None, h0=None, c0=None):
        if m is cr:
            return LSTMLayer.apply(x, w_ih, b_ih, b_hh, h0, c0, w_hh, reverse)
        params = [w_ih, w_hh] + ([b_ih, b_hh] if b_ih is not None else [])
        out, h, c = m._VF.lstm(x.flip(0) if reverse else x, (h0[None], c0[None]), params,
                               b_ih is not None, 1, 0.0, False, False, False)
        return (out.flip(0) if reverse else out), h[0], c[0]

    def sequence(m, mode, reverse, fold_bias, x, w_ih, w_hh, h0, b_ih=None, b_hh=None):
        """RecurrentSequence from gx = x W_ih^T (+ b_ih); ``fold_bias`` adds b_hh there too and
        passes no b_hh to the op, as nn.RNN does."""
        if m is cr:
            gx = x @ w_ih.T
            if fold_bias:
                gx, b_hh = gx + (b_ih + b_hh), None
            elif b_ih is not None:
                gx = gx + b_ih
            return RecurrentSequence.apply(gx, h0, w_hh, b_hh, mode, reverse)
        run = {"GRU": m._VF.gru, "RNN_TANH": m._VF.rnn_tanh, "RNN_RELU": m._VF.rnn_relu}[mode]
        has_bias = b_ih is not None or b_hh is not None
        zeros = m.zeros(w_hh.shape[0], dtype=w_hh.dtype)
        params = [w_ih, w_hh] + ([zeros if b is None else b for b in (b_ih, b_hh)] if has_bias
                                 else [])
        out, h = run(x.flip(0) if reverse else x, h0[None], params, has_bias, 1, 0.0, False,
                     False, False)
        return (out.flip(0) if reverse else out), h[0]

    def cell(m, kind, x, h, w_ih, w_hh, b_ih=None, b_hh=None, c=None):
        if m is cr:
            gx = x @ w_ih.T if b_ih is None else x @ w_ih.T + b_ih
            if kind == "LSTM":
                return LSTMCellStep.apply(gx, h, c, w_hh, b_hh)
            if kind == "GRU":
                return GRUCellStep.apply(gx, h, w_hh, b_hh)
            return RNNCellStep.apply(gx, h, w_hh, b_hh, kind)
        if kind == "LSTM":
            return m._VF.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
        run = {"GRU": m._VF.gru_cell, "tanh": m._VF.rnn_tanh_cell, "relu": m._VF.rnn_relu_cell}
        return run[kind](x, h, w_ih, w_hh, b_ih, b_hh)

    T, N, E, H = 3, 2, 3, 2
    for reverse in (False, True):
        tag = "_reverse" if reverse else ""
        add(f"lstm_layer{tag}", (lambda r: lambda m, x, wi, wh, bi, bh, h0, c0: lstm_layer(
            m, r, x, wi, wh, bi, bh, h0, c0))(reverse),
            [((T, N, E), (4 * H, E), (4 * H, H), (4 * H,), (4 * H,), (N, H), (N, H))])
        add(f"lstm_layer_no_bias{tag}", (lambda r: lambda m, x, wi, wh, h0, c0: lstm_layer(
            m, r, x, wi, wh, h0=h0, c0=c0))(reverse),
            [((T, N, E), (4 * H, E), (4 * H, H), (N, H), (N, H))])
        for mode, G, fold in [("GRU", 3, False), ("RNN_TANH", 1, False), ("RNN_RELU", 1, True)]:
            add(f"sequence_{mode.lower()}{tag}",
                (lambda mo, r, f: lambda m, x, wi, wh, h0, bi, bh: sequence(
                    m, mo, r, f, x, wi, wh, h0, bi, bh))(mode, reverse, fold),
                [((T, N, E), (G * H, E), (G * H, H), (N, H), (G * H,), (G * H,))])
            add(f"sequence_{mode.lower()}_no_bias{tag}",
                (lambda mo, r: lambda m, x, wi, wh, h0: sequence(m, mo, r, False, x, wi, wh, h0))(
                    mode, reverse),
                [((T, N, E), (G * H, E), (G * H, H), (N, H))])
    add("lstm_cell", lambda m, x, h, c, wi, wh, bi, bh: cell(m, "LSTM", x, h, wi, wh, bi, bh, c),
        [((N, E), (N, H), (N, H), (4 * H, E), (4 * H, H), (4 * H,), (4 * H,))])
    add("lstm_cell_no_bias", lambda m, x, h, c, wi, wh: cell(m, "LSTM", x, h, wi, wh, c=c),
        [((N, E), (N, H), (N, H), (4 * H, E), (4 * H, H))])
    # LSTM's proj_size: h narrower (N, P) than c (N, H); PyTorch's cell kernel has no such form
    add("lstm_cell_projected_state", lambda m, x, h, c, wi, wh: cell(m, "LSTM", x, h, wi, wh, c=c),
        [((N, E), (N, 1), (N, H), (4 * H, E), (4 * H, 1))], torch=False)
    for kind, G in [("GRU", 3), ("tanh", 1), ("relu", 1)]:
        add(f"{kind.lower()}_cell", (lambda k: lambda m, x, h, wi, wh, bi, bh: cell(
            m, k, x, h, wi, wh, bi, bh))(kind),
            [((N, E), (N, H), (G * H, E), (G * H, H), (G * H,), (G * H,))])
        add(f"{kind.lower()}_cell_no_bias", (lambda k: lambda m, x, h, wi, wh: cell(
            m, k, x, h, wi, wh))(kind), [((N, E), (N, H), (G * H, E), (G * H, H))])

    def ce(**kw):
        """cross_entropy(x, class indices) with ``weight`` given as a list."""
        def fn(m, x, target):
            w = kw.get("weight")
            opts = dict(kw, weight=None if w is None else m.tensor(w, dtype=x.dtype))
            return m.nn.functional.cross_entropy(x, m.tensor(target), **opts)
        return fn

    w4 = [0.5, 2.0, 1.0, 1.5]
    index_cases = [
        ("", {}), ("_weight", {"weight": w4}), ("_smoothing", {"label_smoothing": 0.2}),
        ("_weight_smoothing", {"weight": w4, "label_smoothing": 0.2}),
    ]
    for reduction in ("mean", "sum", "none"):
        for name, kw in index_cases:
            fn = ce(reduction=reduction, **kw)
            add(f"cross_entropy{name}_{reduction}",
                (lambda f: lambda m, x: f(m, x, [2, 0, 3]))(fn), [((3, 4),)])
            add(f"cross_entropy{name}_ignore_{reduction}",
                (lambda f: lambda m, x: f(m, x, [2, -100, 3]))(fn), [((3, 4),)])
            add(f"cross_entropy{name}_kdim_{reduction}",
                (lambda f: lambda m, x: f(m, x, [[0, 3, -100], [1, 1, 2]]))(fn), [((2, 4, 3),)])
        add(f"cross_entropy_one_sample_{reduction}",
            (lambda r: lambda m, x: m.nn.functional.cross_entropy(x, m.tensor(1), reduction=r))(
                reduction), [((4,),)])
        add(f"cross_entropy_probabilities_{reduction}",
            (lambda r: lambda m, x, q: m.nn.functional.cross_entropy(x, q, reduction=r))(
                reduction), [((3, 4), (3, 4)), ((2, 4, 3), (2, 4, 3)), ((4,), (4,))],
            ("any", "pos"))
        add(f"cross_entropy_probabilities_weight_smoothing_{reduction}",
            (lambda r: lambda m, x, q: m.nn.functional.cross_entropy(
                x, q, weight=m.tensor(w4, dtype=x.dtype), label_smoothing=0.1,
                reduction=r))(reduction), [((3, 4), (3, 4)), ((2, 4, 3), (2, 4, 3))],
            ("any", "pos"))
        add(f"mse_loss_{reduction}",
            (lambda r: lambda m, a, b: m.nn.functional.mse_loss(a, b, reduction=r))(reduction),
            [((2, 3), (2, 3)), ((), ())])
    # ignore_index inside the targets' range though no target equals it; and one that does
    add("cross_entropy_ignore_index_unused",
        lambda m, x: m.nn.functional.cross_entropy(x, m.tensor([0, 2, 0]), ignore_index=1),
        [((3, 4),)])
    add("cross_entropy_ignore_index_weight_smoothing",
        lambda m, x: m.nn.functional.cross_entropy(
            x, m.tensor([1, 2, 0]), weight=m.tensor(w4, dtype=x.dtype), ignore_index=1,
            label_smoothing=0.3), [((3, 4),)])
    # -- what PyTorch's tutorials and examples also call (the compat work of issue 14) -------
    add("diag_vector", lambda m, x: m.diag(x, 1), [((3,),)])
    add("diag_matrix", lambda m, x: m.diag(x, -1), [((3, 4),), ((4, 2),)])
    add("narrow", lambda m, x: x.narrow(-1, 1, 2), [((3, 4),), ((2, 3, 4),)])
    add("pixel_shuffle", lambda m, x: m.nn.functional.pixel_shuffle(x, 2), [((1, 8, 2, 3),)])
    add("pixel_unshuffle", lambda m, x: m.nn.functional.pixel_unshuffle(x, 2), [((2, 1, 4, 2),)])
    return c


CASES = _cases()


def params(torch_only=False):
    """(case, shapes) pairs with readable ids, for ``pytest.mark.parametrize``."""
    import pytest
    out = []
    for case in CASES:
        if torch_only and not case.torch:
            continue
        for shapes in case.shapes:
            sid = "-".join("x".join(map(str, s)) or "0d" for s in shapes)
            out.append(pytest.param(case, shapes, id=f"{case.name}[{sid}]"))
    return out


class TorchNamespace:
    """PyTorch with the few functions chainrule keeps at top level (``cr.pad``) filled in."""

    def __init__(self, torch):
        self._torch = torch
        self.pad = torch.nn.functional.pad

    def __getattr__(self, name):
        return getattr(self._torch, name)


def as_cr(arrays, requires_grad=True):
    return [cr.tensor(a, dtype=cr.float64, requires_grad=requires_grad) for a in arrays]
