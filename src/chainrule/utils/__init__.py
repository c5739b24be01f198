"""Utilities: ``chainrule.utils.data`` holds Dataset and DataLoader."""
from . import data

__all__ = ["data"]
