"""Normalisation layers: ``BatchNorm1d/2d/3d`` (per channel, over the batch), ``LayerNorm`` (per
sample, over the trailing dims), ``GroupNorm`` (per sample and group of channels) and
``InstanceNorm1d/2d/3d`` (per sample and channel)."""
import numbers
import warnings

import numpy as np

from .. import _dtype
from . import functional as F
from .module import Module
from .parameter import Parameter
from ..autograd.tensor_base import make_tensor


class _BatchNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias per channel.

    Training: mean and (biased) var of the batch; running_mean/running_var move towards them by
    ``momentum`` (running_var with the unbiased variance), or to their cumulative average when
    momentum is None; num_batches_tracked counts the updates. Evaluation: the running
    statistics. Without ``track_running_stats`` the batch statistics are always used.
    """

    _expected_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        nd = _dtype.to_numpy_dtype(dtype) or _dtype.default_float_np()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=nd))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype=nd))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", make_tensor(np.zeros(num_features, dtype=nd)))
            self.register_buffer("running_var", make_tensor(np.ones(num_features, dtype=nd)))
            self.register_buffer("num_batches_tracked", make_tensor(np.zeros((), np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight.array[...] = 1
            if self.bias is not None:
                self.bias.array[...] = 0

    def forward(self, input):
        ndim = input.ndim
        if ndim not in self._expected_dims:
            want = " or ".join(f"{d}D" for d in self._expected_dims)
            raise ValueError(f"{type(self).__name__}: expected {want} input, got {ndim}D input "
                             f"of shape {tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"{type(self).__name__}({self.num_features}) expected input with "
                               f"{self.num_features} channels (dim 1), got shape "
                               f"{tuple(input.shape)}")
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        # the update of num_batches_tracked (and momentum None's 1 / count) happens in the
        # running-statistics op, so that a cr.compile replay repeats it
        counted = self.num_batches_tracked if self.training and track else None
        return F._batch_norm_tracked(input, self.running_mean if track else None,
                                    self.running_var if track else None, self.weight, self.bias,
                                    use_batch, self.momentum, self.eps, counted)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs."""

    _expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs."""

    _expected_dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) inputs."""

    _expected_dims = (5,)


class LayerNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over the trailing
    ``normalized_shape`` of each sample (no running statistics; same in train and eval)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        nd = _dtype.to_numpy_dtype(dtype) or _dtype.default_float_np()
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=nd))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=nd))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics per sample over each group
    of num_channels / num_groups channels (and the spatial dims); weight and bias per channel.
    No running statistics: the same in train and eval."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None,
                 *, bias=True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        nd = _dtype.to_numpy_dtype(dtype) or _dtype.default_float_np()
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=nd))
            if bias:
                self.bias = Parameter(np.zeros(num_channels, dtype=nd))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.affine:
            self.weight.array[...] = 1
            if self.bias is not None:
                self.bias.array[...] = 0

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics per sample and channel over
    the spatial dims. With ``track_running_stats`` the running statistics (the batch average of
    the instance statistics) are kept in training and used in eval. Unbatched (C, *) inputs
    are accepted."""

    _spatial_dims = 1

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input):
        no_batch = self._spatial_dims + 1
        if input.ndim not in (no_batch, no_batch + 1):
            raise ValueError(f"expected {no_batch}D or {no_batch + 1}D input (got {input.ndim}D "
                             f"input)")
        feature_dim = input.ndim - no_batch
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You "
                          f"can silence this warning by not passing in num_features, which is "
                          f"not used because affine=False", stacklevel=2)
        if input.ndim == no_batch:
            return self._instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._instance_norm(input)

    def _instance_norm(self, input):
        use_input_stats = self.training or not self.track_running_stats
        return F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                               self.bias, use_input_stats,
                               self.momentum if self.momentum is not None else 0.0, self.eps)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or unbatched (C, L) inputs."""

    _spatial_dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or unbatched (C, H, W) inputs."""

    _spatial_dims = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or unbatched (C, D, H, W) inputs."""

    _spatial_dims = 3
