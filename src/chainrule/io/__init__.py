"""Saving and loading: safetensors files with atomic writes, never pickle (``cr.save``, ``cr.load``)."""
from .checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from .safetensors_format import SafetensorsError
from .serialization import (CheckpointError, atomic_write_bytes, atomic_write_text, load,
                            load_with_metadata, save)

__all__ = ["save", "load", "load_with_metadata", "save_checkpoint", "load_checkpoint",
           "read_checkpoint", "CheckpointError", "SafetensorsError", "atomic_write_bytes",
           "atomic_write_text"]
