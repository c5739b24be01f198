"""``cr.backends.cuda``: CUDA's switches (``torch.backends.cuda``).

Scripts set ``cr.backends.cuda.matmul.allow_tf32 = True`` before training; the flags are kept
(and read back) so those lines run, and mean nothing until a CUDA backend exists.
"""
from .flags import Flags

matmul = Flags("cuda.matmul", allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
               allow_bf16_reduced_precision_reduction=True)


def is_built():
    """Whether chainrule was built with CUDA support (no)."""
    return False


_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def flash_sdp_enabled():
    return _sdp["flash"]


def enable_flash_sdp(enabled):
    _sdp["flash"] = bool(enabled)


def mem_efficient_sdp_enabled():
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled):
    _sdp["mem_efficient"] = bool(enabled)


def math_sdp_enabled():
    return _sdp["math"]


def enable_math_sdp(enabled):
    _sdp["math"] = bool(enabled)
