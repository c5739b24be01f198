"""Testing tools: ``python -m chainrule.testing.fuzz`` compares chainrule with PyTorch on random
programs, optimiser runs and layer configurations (PyTorch is needed only for this)."""
