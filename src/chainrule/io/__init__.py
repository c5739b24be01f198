"""Saving and loading with atomic writes (``cr.save``, ``cr.load``): safetensors files, and
PyTorch's .pt/.pth files read by a restricted unpickler that never runs code."""
from .checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from .safetensors_format import SafetensorsError
from .torch_format import TorchFormatError
from .serialization import (CheckpointError, atomic_write_bytes, atomic_write_text, load,
                            load_with_metadata, save)

__all__ = ["save", "load", "load_with_metadata", "save_checkpoint", "load_checkpoint",
           "read_checkpoint", "CheckpointError", "SafetensorsError", "atomic_write_bytes",
           "atomic_write_text", "TorchFormatError"]
