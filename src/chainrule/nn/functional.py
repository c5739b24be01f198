"""``cr.nn.functional`` (``F``): the stateless forms of the layers, activations and losses.

Thin wrappers: each checks its arguments and calls one op from ``chainrule.ops`` (the maths,
forward and backward side by side, lives there).
"""
import warnings

import numpy as np

from ..autograd.tensor_base import increment_version
from ..backend import array_module, as_array, is_array
from ..functions import pad  # noqa: F401  (F.pad, as in PyTorch)
from ..ops import activation, loss, normalization
from ..ops.dropout import Dropout
from ..ops.embedding import Embedding
from ..ops.linear import Linear
from ..ops.base import normalize_dim
from ..random import rng
from ..tensor import Tensor
from ..autograd.tensor_base import make_tensor
from .functional_checks import check_tensors, dtype_mismatch, not_a_tensor


def _raw(x):
    return x.array if isinstance(x, Tensor) else x


def _input_array(input, op):
    """``input.array``, or PyTorch's TypeError when ``input`` is not a Tensor (a NumPy array)."""
    try:
        return input.array
    except AttributeError:
        raise not_a_tensor(op, input) from None


# -- linear -------------------------------------------------------------------------------------

def linear(input, weight, bias=None):
    """y = x W^T + b  (x: (..., in), W: (out, in), b: (out,)); one fused op."""
    try:
        x, w = input.array, weight.array
    except AttributeError:
        check_tensors("linear", ("input", input), ("weight", weight))
        raise
    if not x.shape or x.shape[-1] != w.shape[-1]:
        raise RuntimeError(_linear_mismatch(w.shape, x.shape))
    # NumPy would promote (float64 input, float32 weight -> float64 output); PyTorch refuses
    if x.dtype is not w.dtype and x.dtype != w.dtype:
        raise dtype_mismatch("linear", "input", "weight", x.dtype, w.dtype,
                             f"convert the input with x.to(cr.{w.dtype.name})")
    if bias is not None:
        if not isinstance(bias, Tensor):
            raise not_a_tensor("linear", bias, "bias", 3)
        if bias.array.dtype is not w.dtype and bias.array.dtype != w.dtype:
            raise dtype_mismatch("linear", "bias", "weight", bias.array.dtype, w.dtype,
                                 f"convert the bias with b.to(cr.{w.dtype.name})")
    return Linear.apply(input, weight, bias)


def _linear_mismatch(weight_shape, input_shape):
    """The error naming the layer a (out, in) weight makes: Linear(in -> out)."""
    n_in = weight_shape[-1]
    if len(weight_shape) == 2:
        return (f"Linear({n_in} -> {weight_shape[0]}) expected input (..., {n_in}), got "
                f"{tuple(input_shape)}")
    return (f"linear: input (..., {n_in}) expected for a weight of shape {weight_shape}, got "
            f"{tuple(input_shape)}")


# -- activations --------------------------------------------------------------------------------

def sigmoid(input):
    """1 / (1 + e^-x), stable for any x."""
    return activation.Sigmoid.apply(input)


def tanh(input):
    return activation.Tanh.apply(input)


def _in_place(input, op, fn, node_name=None):
    """``fn(input)`` written into ``input``, which is returned (PyTorch's ``inplace=True``):
    recorded in the graph as an in-place op when the graph needs it (``Tensor._record_inplace``;
    ``node_name`` where PyTorch's in-place variant prints another name, ``LeakyReluBackward1``)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    return input._inplace_or_record(op, fn, lambda: fn(input).array, node_name=node_name)


def relu(input, inplace=False):
    """max(0, x); ``inplace=True`` writes the result into ``input`` and returns it."""
    if inplace:
        return _in_place(input, "relu_", relu)
    return activation.ReLU.apply(input)


def relu6(input, inplace=False):
    """min(max(0, x), 6)."""
    if inplace:
        return _in_place(input, "relu6_", relu6)
    return activation.Hardtanh.apply(input, 0.0, 6.0)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val) with zero gradient at and beyond the edges."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    if inplace:
        return _in_place(input, "hardtanh_", lambda x: hardtanh(x, min_val, max_val))
    return activation.Hardtanh.apply(input, min_val, max_val)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    if inplace:
        return _in_place(input, "leaky_relu_", lambda x: leaky_relu(x, negative_slope),
                         "LeakyReluBackward1")
    return activation.LeakyReLU.apply(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha (e^x - 1)."""
    if inplace:
        return _in_place(input, "elu_", lambda x: elu(x, alpha), "EluBackward1")
    return activation.ELU.apply(input, alpha)


def selu(input, inplace=False):
    if inplace:
        return _in_place(input, "selu_", selu, "EluBackward1")
    return activation.SELU.apply(input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, linear where beta x > threshold."""
    return activation.Softplus.apply(input, beta, threshold)


def gelu(input, approximate="none"):
    """x Phi(x) (exact, with erf), or the tanh approximation with ``approximate='tanh'``."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return activation.GELU.apply(input, approximate)


def silu(input, inplace=False):
    """x sigmoid(x) (swish)."""
    if inplace:
        return _in_place(input, "silu_", silu)
    return activation.SiLU.apply(input)


def mish(input, inplace=False):
    if inplace:
        return _in_place(input, "mish_", mish)
    return activation.Mish.apply(input)


def hardsigmoid(input, inplace=False):
    if inplace:
        return _in_place(input, "hardsigmoid_", hardsigmoid)
    return activation.Hardsigmoid.apply(input)


def hardswish(input, inplace=False):
    if inplace:
        return _in_place(input, "hardswish_", hardswish)
    return activation.Hardswish.apply(input)


def softsign(input):
    return activation.Softsign.apply(input)


def prelu(input, weight):
    """x if x > 0 else w x, with w one value or one per channel (dim 1)."""
    if weight.numel() != 1:
        channels = input.shape[1] if input.ndim >= 2 else input.shape[0]
        if weight.numel() != channels:
            raise RuntimeError(f"prelu: {weight.numel()} weights for an input with {channels} "
                               f"channels (shape {tuple(input.shape)}); expected 1 or {channels}")
    return activation.PReLU.apply(input, weight)


def _softmax_dim(name, ndim):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  f"to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, dtype=None):
    """e^x_i / sum_j e^x_j along ``dim``."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    return activation.Softmax.apply(input, normalize_dim(dim, input.ndim, "softmax"))


def log_softmax(input, dim=None, dtype=None):
    """x_i - logsumexp(x) along ``dim``."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return activation.LogSoftmax.apply(input, normalize_dim(dim, input.ndim, "log_softmax"))


def softmin(input, dim=None, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    return softmax(-input, dim, dtype)


# -- losses -------------------------------------------------------------------------------------

_REDUCTIONS = ("mean", "sum", "none")


def _reduction(reduction, op, extra=()):
    if reduction not in _REDUCTIONS + extra:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; expected one of "
                         f"{_REDUCTIONS + extra}")
    return reduction


def _check_same_size(input, target, op):
    if input.shape != target.shape:
        warnings.warn(f"{op}: using a target size ({tuple(target.shape)}) that is different to "
                      f"the input size ({tuple(input.shape)}). This will likely lead to incorrect "
                      f"results due to broadcasting. Please ensure they have the same size.",
                      stacklevel=3)


def mse_loss(input, target, reduction="mean"):
    """mean((x - y)^2)."""
    _check_same_size(input, target, "mse_loss")
    return loss.MSELoss.apply(input, target, _reduction(reduction, "mse_loss"), None)


def l1_loss(input, target, reduction="mean"):
    """mean(|x - y|)."""
    _check_same_size(input, target, "l1_loss")
    return loss.L1Loss.apply(input, target, _reduction(reduction, "l1_loss"), None)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """(x - y)^2 / (2 beta) where |x - y| < beta, else |x - y| - beta / 2."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    _check_same_size(input, target, "smooth_l1_loss")
    return loss.SmoothL1Loss.apply(input, target, _reduction(reduction, "smooth_l1_loss"), beta)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """(x - y)^2 / 2 where |x - y| < delta, else delta (|x - y| - delta / 2)."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    _check_same_size(input, target, "huber_loss")
    return loss.HuberLoss.apply(input, target, _reduction(reduction, "huber_loss"), delta)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w [y log x + (1 - y) log(1 - x)] for probabilities x (logs clamped at -100)."""
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"binary_cross_entropy: using a target size ({tuple(target.shape)}) that "
                         f"is different to the input size ({tuple(input.shape)}) is not allowed")
    return loss.BCELoss.apply(input, target, weight, _reduction(reduction, "binary_cross_entropy"))


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """BCE on sigmoid(x) computed from the logit x directly (stable for any x)."""
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"binary_cross_entropy_with_logits: target size ({tuple(target.shape)}) "
                         f"must be the same as input size ({tuple(input.shape)})")
    return loss.BCEWithLogitsLoss.apply(input, target, _raw(weight), _raw(pos_weight),
                                 _reduction(reduction, "binary_cross_entropy_with_logits"))


def _class_shape(input_shape):
    """The shape of class-index targets for logits of ``input_shape``: (N, C, d...) -> (N, d...)."""
    shape = tuple(input_shape)
    return () if len(shape) == 1 else shape[:1] + shape[2:]


def _class_target_shape(input, target, op):
    shape = tuple(input.shape)
    expected = _class_shape(shape)
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: expected target of shape {expected} (class indices) for input of "
                         f"shape {shape}, got {tuple(target.shape)}")


def _target_array(target, op, what="class-index targets"):
    """The integer array of ``target``; ``what`` names it in the error for any other dtype."""
    t = as_array(_raw(target))
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: {what} must be integer (long) tensors, got dtype {t.dtype}; "
                        f"convert them with .long()")
    return t


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy from logits (N, C) or (N, C, d1, ...) (or (C,)), against class
    indices (N, d1, ...) or class probabilities of the input's shape. One fused op: log-sum-exp
    forward, softmax minus one-hot backward."""
    _reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have at least one dimension (the classes)")
    t = _raw(target)
    if is_array(t) and t.dtype.kind == "f":
        if tuple(t.shape) != tuple(input.shape):
            raise ValueError(f"cross_entropy: got a float target of shape {tuple(t.shape)} for "
                             f"input of shape {tuple(input.shape)}; class-index targets must be "
                             f"integers (target.long()) of shape {_class_shape(input.shape)}, "
                             f"class-probability targets floats of the input's shape")
        if input.array.dtype.kind != "f":
            raise TypeError("cross_entropy: expected floating-point logits")
        return loss.CrossEntropyLoss.apply(input, target, _raw(weight), ignore_index,
                                           label_smoothing, reduction)
    t = _target_array(target, "cross_entropy")
    _class_target_shape(input, t, "cross_entropy")
    _check_weight(weight, input, "cross_entropy")
    return loss.CrossEntropyLoss.apply(input, t, _raw(weight), ignore_index, label_smoothing,
                                       reduction)


def _check_weight(weight, input, op):
    if weight is not None:
        c = input.shape[1] if input.ndim > 1 else input.shape[0]
        if tuple(weight.shape) != (c,):
            raise RuntimeError(f"{op}: weight must have shape ({c},) (one per class), got "
                               f"{tuple(weight.shape)}")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-w_t input[t] for log-probabilities ``input`` (N, C, ...) and class indices ``target``."""
    _reduction(reduction, "nll_loss")
    t = _target_array(target, "nll_loss")
    _class_target_shape(input, t, "nll_loss")
    _check_weight(weight, input, "nll_loss")
    return loss.NLLLoss.apply(input, t, _raw(weight), ignore_index, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """sum y (log y - x) for log-probabilities x and probabilities y (log-probabilities with
    ``log_target``). Use reduction='batchmean' for the mathematical KL divergence."""
    _reduction(reduction, "kl_div", ("batchmean",))
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size. 'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.", stacklevel=2)
    return loss.KLDivLoss.apply(input, target, reduction, log_target)


# -- normalisation ------------------------------------------------------------------------------

def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) over the batch (and spatial dims).

    training: batch statistics; running_mean/var (if given) move towards them by ``momentum``
    (the variance unbiased, as PyTorch). Otherwise: the running statistics.
    """
    return _batch_norm_tracked(input, running_mean, running_var, weight, bias, training,
                              momentum, eps)


def _batch_norm_tracked(input, running_mean, running_var, weight=None, bias=None, training=False,
                       momentum=0.1, eps=1e-5, num_batches_tracked=None):
    """``batch_norm`` that also counts the update in ``num_batches_tracked`` (a 0-d int64
    tensor, as ``nn.BatchNorm*`` keep) when training with running statistics; ``momentum``
    None then takes the cumulative average (m = 1 / count)."""
    x = _input_array(input, "batch_norm")
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2D input (N, C, ...), got shape "
                         f"{tuple(x.shape)}")
    param_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    axes = (0,) + tuple(range(2, x.ndim))
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var are needed when not "
                               "training")
        return normalization.BatchNormEval.apply(input, running_mean.array, running_var.array, weight, bias,
                                     param_shape, eps)
    count = x.size // x.shape[1]
    if count <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{tuple(x.shape)}")
    stats = {} if running_mean is not None else None
    out = normalization.Normalize.apply(input, weight, bias, axes, param_shape, axes, eps, stats)
    if stats is not None:
        normalization.RunningStats.apply(running_mean, running_var, num_batches_tracked, stats,
                                         momentum, count)
        increment_version(running_mean)
        increment_version(running_var)
        if num_batches_tracked is not None:
            increment_version(num_batches_tracked)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims of each sample, then w x + b."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    shape = tuple(input.shape)
    if shape[len(shape) - k:] != normalized_shape or len(shape) < k:
        raise RuntimeError(f"layer_norm: expected input with shape (*, {', '.join(map(str, normalized_shape))}), "
                           f"got {shape}")
    n = len(shape)
    axes = tuple(range(n - k, n))
    return normalization.Normalize.apply(input, weight, bias, axes, normalized_shape, tuple(range(n - k)),
                             eps, None)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each sample over groups of C / num_groups channels (and the spatial dims), then
    w x + b per channel; input (N, C, *)."""
    x = _input_array(input, "group_norm")
    if x.ndim < 2:
        raise RuntimeError(f"group_norm: expected at least 2D input (N, C, *), got shape "
                           f"{tuple(x.shape)}")
    n, c = x.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(x.shape)} and num_groups={num_groups}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != (c,):
            raise RuntimeError(f"group_norm: expected {name} of shape ({c},), got "
                               f"{tuple(p.shape)}")
    # (N, G, C/G, rest): statistics over axes 2 and 3, one weight per (group, channel-in-group)
    grouped = input.reshape(n, num_groups, c // num_groups, -1)
    param_shape = (1, num_groups, c // num_groups, 1)
    out = normalization.Normalize.apply(grouped, weight, bias, (2, 3), param_shape, (0, 3),
                                        eps, None)
    return out.reshape(*x.shape)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its spatial dims, then w x + b per channel;
    input (N, C, *). With ``use_input_stats`` the running statistics (if given) move towards the
    batch average of the per-instance mean and unbiased variance by ``momentum``; without it, the
    running statistics normalise."""
    x = _input_array(input, "instance_norm")
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected at least 3D input (N, C, *), got shape "
                         f"{tuple(x.shape)}")
    c = x.shape[1]
    param_shape = (1, c) + (1,) * (x.ndim - 2)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("instance_norm: running_mean and running_var are needed when "
                               "use_input_stats=False")
        return normalization.BatchNormEval.apply(input, running_mean.array, running_var.array,
                                                 weight, bias, param_shape, eps)
    count = x[0, 0].size
    if count <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{_torch_size(x.shape)}")
    axes = tuple(range(2, x.ndim))
    stats = {} if running_mean is not None else None
    out = normalization.Normalize.apply(input, weight, bias, axes, param_shape, (0,) + axes,
                                        eps, stats)
    if stats is not None:
        rm, rv = running_mean.array, running_var.array
        rm *= 1 - momentum
        rm += momentum * stats["mean"].reshape(x.shape[:2]).mean(axis=0)
        rv *= 1 - momentum
        rv += (momentum * count / (count - 1)) * stats["var"].reshape(x.shape[:2]).mean(axis=0)
        increment_version(running_mean)
        increment_version(running_var)
    return out


def _torch_size(shape):
    return f"torch.Size([{', '.join(map(str, shape))}])"


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """x / max(||x||_p, eps) along ``dim``."""
    norm = input.norm(p, dim, keepdim=True).clamp_min(eps)
    return input / norm


# -- dropout ------------------------------------------------------------------------------------

def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1 - p) (training only)."""
    _check_p(p)
    if not training or p == 0:
        return input
    if inplace:
        return _in_place(input, "dropout_", lambda x: dropout(x, p, training))
    return Dropout.apply(input, p, _input_array(input, "dropout").shape, rng(like=input.array))


def _feature_mask_shape(shape, name):
    """PyTorch's feature dropout: one draw per (sample, channel), the first two dims."""
    if len(shape) < 2:
        raise RuntimeError(f"{name}: Feature dropout requires at least 2 dimensions in the "
                           f"input, got shape {tuple(shape)}")
    return tuple(shape[:2]) + (1,) * (len(shape) - 2)


def _wrong_rank_warning(name, ndim, spatial):
    warnings.warn(f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will "
                  f"result in an error in a future release. To retain the behavior and silence "
                  f"this warning, please use dropout instead. Note that {name} exists to "
                  f"provide channel-wise dropout on inputs with {spatial} spatial dimensions, a "
                  f"channel dimension, and an optional batch dimension (i.e. {spatial + 1}D or "
                  f"{spatial + 2}D inputs).", stacklevel=3)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or unbatched (C, L) inputs, as ``dropout2d``."""
    _check_p(p)
    shape = _input_array(input, "dropout1d").shape
    if len(shape) not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {len(shape)}D "
                           f"input. Note that dropout1d exists to provide channel-wise dropout "
                           f"on inputs with 1 spatial dimension, a channel dimension, and an "
                           f"optional batch dimension (i.e. 2D or 3D inputs).")
    if not training or p == 0:
        return input
    mask_shape = _feature_mask_shape((1,) * (len(shape) == 2) + shape, "dropout1d")
    return Dropout.apply(input, p, mask_shape[len(shape) == 2:], rng(like=input.array))


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (dim 1) of (N, C, H, W) inputs with probability p, scaling the rest
    by 1/(1 - p). Other ranks warn, as PyTorch: a 3-D input is read as (N, C, L), a 2-D one as
    (N, C) (each element dropped on its own)."""
    _check_p(p)
    shape = _input_array(input, "dropout2d").shape
    if len(shape) not in (3, 4):
        _wrong_rank_warning("dropout2d", len(shape), 2)
    if len(shape) == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change in "
                      "a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout "
                      "behavior, please switch to using dropout1d instead.", stacklevel=2)
    if not training or p == 0:
        return input
    return Dropout.apply(input, p, _feature_mask_shape(shape, "dropout2d"), rng(like=input.array))


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or unbatched (C, D, H, W) inputs; other ranks
    warn and are read as unbatched, as PyTorch."""
    _check_p(p)
    shape = _input_array(input, "dropout3d").shape
    if len(shape) not in (4, 5):
        _wrong_rank_warning("dropout3d", len(shape), 3)
    if not training or p == 0:
        return input
    batched = len(shape) == 5
    mask_shape = _feature_mask_shape(shape if batched else (1,) + shape, "dropout3d")
    return Dropout.apply(input, p, mask_shape if batched else mask_shape[1:], rng(like=input.array))


# -- embedding ----------------------------------------------------------------------------------

def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer tensor ``input``: output shape input.shape + (D,)."""
    idx = _target_array(input, "embedding", "indices")
    n = weight.shape[0]      # the op checks the indices' range
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        _renorm_rows(weight, np.unique(idx), max_norm, norm_type)
    return Embedding.apply(idx, weight, padding_idx)


def _renorm_rows(weight, rows, max_norm, norm_type):
    w = weight.array
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    too_big = norms > max_norm
    if too_big.any():
        r = rows[too_big]
        w[r] *= (max_norm / (norms[too_big] + 1e-7))[:, None].astype(w.dtype)
        increment_version(weight)


def one_hot(tensor, num_classes=-1):
    """(…) int64 -> (…, num_classes) int64 with a 1 at each index."""
    idx = _target_array(tensor, "one_hot", "class indices")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise RuntimeError(f"one_hot: class values must be in [0, {num_classes}), got values in "
                           f"[{idx.min()}, {idx.max()}]")
    return make_tensor(array_module(idx).eye(num_classes, dtype=np.int64)[idx])


def maxout(input, pieces):
    """Max over groups of ``pieces`` consecutive features of the last dim: (..., n*k) -> (..., n)."""
    shape = _input_array(input, "maxout").shape
    if shape[-1] % pieces:
        raise RuntimeError(f"maxout: last dimension {shape[-1]} is not divisible by pieces={pieces}")
    return activation.Maxout.apply(input.reshape(*shape[:-1], shape[-1] // pieces, pieces))


from .functional_conv import *  # noqa: E402,F401,F403  (conv, pooling, fold)
from .functional_interpolate import *  # noqa: E402,F401,F403  (interpolate, upsample)
from .functional_attention import *  # noqa: E402,F401,F403  (scaled_dot_product_attention)
from .functional_recurrent import *  # noqa: E402,F401,F403  (recurrent layers and cells)


from .functional_pixelshuffle import pixel_shuffle, pixel_unshuffle  # noqa: E402,F401
