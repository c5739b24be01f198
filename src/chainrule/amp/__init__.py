"""Mixed precision (``torch.amp``): ``autocast`` runs matrix-bound ops in bfloat16 or float16,
``GradScaler`` scales the loss so low-precision gradients do not underflow."""
from .autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled, set_autocast_dtype
from .grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "is_autocast_enabled", "get_autocast_dtype",
           "set_autocast_dtype"]
