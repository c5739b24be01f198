"""What a ``set`` message does mid-run (PROTOCOL.md, "What a set does mid-run" and
"Consistency rules"): new points only when the data's settings changed, a network reset only when
its shape, features, initialisation or seed changed; otherwise the network keeps its weights and
trains on with the new activations, dropout, loss and optimiser settings.
"""
import copy

from .protocol import CLASSIFICATION_DATASETS, REGRESSION_DATASETS, ProtocolError, notice
from .training import make_optimizer, update_hyperparameters

RESET_MESSAGE = "architecture changed: network reset"
DATASETS_FOR = {"classification": CLASSIFICATION_DATASETS, "regression": REGRESSION_DATASETS}


def apply_settings(session, patch):
    """Apply a validated partial settings object to ``session``; returns the messages to send.
    A ``ProtocolError`` from the consistency rules leaves the session as it was."""
    old = session.settings
    new = copy.deepcopy(old)
    new.update(copy.deepcopy(patch))
    notes = []
    reconcile(old, new, patch, notes)
    new_data = data_changed(old, new)
    old_points = session.points
    session.settings = new
    if new_data:
        if new["seed"] != old["seed"]:
            session.regenerations = 0
        session.generate_data()
    elif new["features"] != old["features"]:
        session.prepare_data()

    net = session.net
    layers_old, layers_new = old["layers"], new["layers"]
    shape_changed = (len(layers_old) != len(layers_new) or any(
        a["units"] != b["units"] or a["batchnorm"] != b["batchnorm"]
        for a, b in zip(layers_old, layers_new)))
    reset = (shape_changed or output_changed(old_points, session.points)
             or new["features"] != old["features"] or new["problem"] != old["problem"]
             or new["init"] != old["init"] or new["seed"] != old["seed"]
             or new["residual"] != old["residual"])
    if reset:
        session.reset_network()
        notes.append(notice("reset", RESET_MESSAGE))
    else:
        changed = False
        for i, layer in enumerate(layers_new):      # as many layers as before: no reset
            changed |= net.set_activation(i, layer["activation"])
            changed |= net.set_dropout(i, layer["dropout"])
        if new["loss"] != old["loss"] or new_data:
            net.classes = session.points.classes
            net.set_loss(new["loss"], session.points.problem)
        if changed:
            net.compose()
        if new["optimizer"] != old["optimizer"]:
            session.trainer.optimizer = make_optimizer(new, net.model.parameters())
        else:
            update_hyperparameters(session.trainer.optimizer, new)
    session.dirty = True
    replies = [session.settings_message()]
    if new_data:
        replies.append(session.points.message())
        if not reset:
            notes.append(notice("data_regenerated", "data changed; the network keeps training"))
    return replies + notes


def reconcile(old, new, patch, notes):
    """Make problem, dataset and loss of ``new`` agree, appending a notice for each switch."""
    if "dataset" in patch and "problem" in patch:
        if new["dataset"] not in DATASETS_FOR[new["problem"]]:
            raise ProtocolError(f"dataset {new['dataset']!r} is not a {new['problem']} data "
                                f"set", "settings.dataset")
    elif "problem" in patch and new["problem"] != old["problem"]:
        if new["dataset"] not in DATASETS_FOR[new["problem"]] or new["dataset"] == "user":
            new["dataset"] = "circle" if new["problem"] == "classification" else "plane"
            notes.append(notice("dataset_switched", f"data set switched to {new['dataset']} "
                                                    f"for {new['problem']}"))
    elif "dataset" in patch and new["dataset"] not in DATASETS_FOR[new["problem"]]:
        new["problem"] = "regression" if new["problem"] == "classification" else \
            "classification"
        notes.append(notice("dataset_switched", f"problem switched to {new['problem']} for "
                                                f"the {new['dataset']} data set"))
    if new["problem"] == "regression" and new["loss"] == "cross_entropy":
        if patch.get("loss") == "cross_entropy":
            raise ProtocolError("cross_entropy needs a classification problem; use mse for "
                                "regression", "settings.loss")
        new["loss"] = "mse"
        notes.append(notice("loss_switched", "loss switched to mse for regression"))


def output_changed(old_points, new_points):
    """Whether the network's output layer must change size (or kind) for the new points."""
    return (new_points.problem != old_points.problem
            or _output_units(new_points) != _output_units(old_points))


def _output_units(points):
    return points.classes if points.problem == "classification" and points.classes > 2 else 1


def data_changed(old, new):
    """Whether a settings change needs new points (switching to "user" keeps the current ones)."""
    if new["dataset"] == "user":
        return False
    keys = ["dataset", "samples", "noise", "train_ratio", "seed"]
    if new["dataset"] in ("blobs", "spirals"):
        keys.append("classes")
    return any(new[k] != old[k] for k in keys)
