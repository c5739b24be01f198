"""chainrule: a deep-learning framework on NumPy, with PyTorch's API.

    import chainrule as cr
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad   # tensor([2., 4.])
"""
from . import _dtype
from ._dtype import (bool, double, dtype, float, float16, float32, float64, get_default_dtype,
                     half, int, int8, int16, int32, int64, long, set_default_dtype, short, uint8)
from .tensor import Size, Tensor, device
from .autograd import (enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled)
from . import autograd
from .random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,
                     set_rng_state)
from .creation import (arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy, full,
                       full_like, linspace, logspace, multinomial, normal, ones, ones_like, rand,
                       rand_like, randint, randint_like, randn, randn_like, randperm, tensor,
                       zeros, zeros_like)
from .functions import *  # noqa: F401,F403  (cr.exp, cr.cat, cr.where, ...)
from .functions import (_METHODS, broadcast_shapes, broadcast_tensors, cat, concat, concatenate,
                        einsum, hstack, is_floating_point, is_tensor, nonzero, stack, vstack,
                        where)
from . import backends
from . import nn
from . import optim
from . import datasets, io, train, utils
from . import distributed   # cheap: mpi4py loads on init_process_group
from .io import load, save
from .legacy_tensors import (BoolTensor, ByteTensor, DoubleTensor, FloatTensor, IntTensor,
                             LongTensor)
from ._dtype import bfloat16
from .creation import layout, strided
from .device import get_default_device, set_default_device
from . import accelerator, amp, cpu, cuda
from .amp import autocast, get_autocast_dtype, is_autocast_enabled, set_autocast_dtype
from . import compiler
from .threads import get_num_interop_threads, get_num_threads, set_num_interop_threads, set_num_threads
from .compiler import compile

__version__ = "0.1.0"

float_ = float


def __getattr__(name):
    # cr.viz (matplotlib: the viz extra) and cr.vision (torchvision's counterpart) load on first
    # use; the core never imports them (nor cr.onnx: the onnx extra)
    if name in ("viz", "vision", "onnx"):
        import importlib
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
