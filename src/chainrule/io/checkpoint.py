"""Checkpoints: everything needed to pick training up exactly where it stopped.

``save_checkpoint(path, model, optimizer, scheduler, epoch=, history=, generators=)`` writes one
safetensors file (via ``cr.save``) holding the model's state dict, the optimizer's and the
scheduler's, the epoch, the training history, chainrule's default RNG state and the state of any
extra generators (a DataLoader's), plus a description of the model for ``chainrule info``.
``load_checkpoint(path, model, optimizer, scheduler)`` puts it all back and returns the dict.
"""
from .. import random as _random
from .serialization import CheckpointError, load_with_metadata, save

CHECKPOINT_KIND = "chainrule.checkpoint"


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch=None, history=None,
                    generators=None, extra=None):
    """Save model, optimizer, scheduler, epoch, history and RNG states to ``path`` (atomically)."""
    state = {
        "kind": CHECKPOINT_KIND,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "epoch": epoch,
        "history": history,
        "rng": _random.get_rng_state(),
        "generators": {name: g.get_state() for name, g in (generators or {}).items()},
        "extra": extra,
    }
    meta = {"model": repr(model), "model_class": type(model).__name__,
            "num_parameters": str(sum(p.numel() for p in model.parameters()))}
    # always safetensors: the header carries the description `chainrule info` prints, and the
    # RNG states are NumPy arrays, which PyTorch's format has no place for
    save(state, path, metadata=meta, format="safetensors")


def read_checkpoint(path):
    """The checkpoint dict of ``path`` (without applying it), plus its header metadata."""
    state, meta = load_with_metadata(path)
    if not isinstance(state, dict) or state.get("kind") != CHECKPOINT_KIND:
        raise CheckpointError(f"{path!r} is not a chainrule training checkpoint (it holds "
                              f"{'a state dict' if isinstance(state, dict) else type(state).__name__}"
                              f"); load it with cr.load and model.load_state_dict")
    return state, meta


def load_checkpoint(path, model=None, optimizer=None, scheduler=None, generators=None,
                    restore_rng=True):
    """Restore what ``save_checkpoint`` wrote into the given objects; returns the checkpoint dict.

    Everything is read and checked before anything is changed, so a damaged file leaves the
    model and optimizer untouched.
    """
    state, _ = read_checkpoint(path)
    if model is not None:
        model.load_state_dict(state["model"])
    if optimizer is not None:
        if state["optimizer"] is None:
            raise CheckpointError(f"{path!r} holds no optimizer state")
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state["scheduler"] is not None:
        scheduler.load_state_dict(state["scheduler"])
    if restore_rng:
        _random.set_rng_state(state["rng"])
    for name, g in (generators or {}).items():
        if name in state["generators"]:
            g.set_state(state["generators"][name])
    return state
