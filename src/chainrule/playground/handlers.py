"""The page's messages, one handler each: ``HANDLERS[type](session, message)`` applies a validated
message (``protocol.validate_message``'s output) and returns the replies (PROTOCOL.md, "Page ->
server"). ``handle`` dispatches, turns a ``ProtocolError`` from a semantic check into an
``error`` reply, and gives the replies that answer the message its ``id``.
"""
import base64
import copy

from ..autograd.tensor_base import increment_version
from . import data
from .backprop import backprop_factors
from .export import export_script, model_bytes
from .presets import PRESETS
from .protocol import ProtocolError, error, notice
from .settings import RESET_MESSAGE, apply_settings, output_changed

# Replies that answer the message (and so carry its id); settings and data go out as they are.
ANSWERS = ("error", "notice", "script", "data_csv", "model", "backprop")


def handle(session, message):
    """Apply one validated message to ``session``; returns the messages to send. A handler
    raises ``ProtocolError`` before changing anything, so an error leaves the session as it was."""
    kind, mid = message["type"], message.get("id")
    try:
        replies = HANDLERS[kind](session, message) or []
    except ProtocolError as e:
        return [error(f"{kind}: {e.message}", e.field, mid)]
    for reply in replies:
        if reply.get("type") in ANSWERS:
            reply["id"] = mid
    return replies


# -- running ---------------------------------------------------------------------------------------
def on_ack(session, message):
    return []       # the connection's flow control reads acks; the session has nothing to do


def on_play(session, message):
    if session.diverged:
        raise ProtocolError("the session diverged; reset it first (or lower the learning rate)")
    session.playing = True
    session.dirty = True


def on_pause(session, message):
    session.playing = False
    session.dirty = True


def on_step(session, message):
    session.playing = False
    return session.advance(1)


def on_reset(session, message):
    session.reset_network()
    session.playing = False
    return [notice("reset", "network reset")]


def on_regenerate(session, message):
    if session.settings["dataset"] == "user":
        raise ProtocolError("your own points cannot be regenerated; pick a generated data set")
    session.regenerations += 1
    session.generate_data()
    session.dirty = True
    return [session.points.message(), notice("data_regenerated", "new data generated")]


# -- settings --------------------------------------------------------------------------------------
def on_preset(session, message):
    preset = PRESETS[message["name"]]
    session.settings = copy.deepcopy(preset["settings"])
    session.regenerations = 0
    session.points = None
    session.generate_data()
    session.reset_network()
    session.playing = False
    return [session.settings_message(), session.points.message(),
            notice("preset", f"preset: {preset['title']}")]


def on_set(session, message):
    return apply_settings(session, message["settings"])


# -- weights ---------------------------------------------------------------------------------------
def _linear(session, layer):
    """The Linear of weight layer ``layer`` (1: inputs -> first hidden layer)."""
    linears = session.net.linears()
    if not 1 <= layer <= len(linears):
        raise ProtocolError(f"layer must be in 1..{len(linears)} for this network, got {layer}",
                            "layer")
    return linears[layer - 1]


def on_edit_weight(session, message):
    lin = _linear(session, message["layer"])
    j, i = message["to"], message["from"]
    if j >= lin.out_features:
        raise ProtocolError(f"to must be < {lin.out_features} in layer {message['layer']}, "
                            f"got {j}", "to")
    if i >= lin.in_features:
        raise ProtocolError(f"from must be < {lin.in_features} in layer {message['layer']}, "
                            f"got {i}", "from")
    lin.weight.array[j, i] = message["value"]
    increment_version(lin.weight)
    session.dirty = True


def on_edit_bias(session, message):
    lin = _linear(session, message["layer"])
    j = message["unit"]
    if j >= lin.out_features:
        raise ProtocolError(f"unit must be < {lin.out_features} in layer {message['layer']}, "
                            f"got {j}", "unit")
    lin.bias.array[j] = message["value"]
    increment_version(lin.bias)
    session.dirty = True


def on_backprop(session, message):
    lin = _linear(session, message["layer"])
    j, i = message["to"], message["from"]
    if j >= lin.out_features or i >= lin.in_features:
        raise ProtocolError(f"layer {message['layer']} has weights [{lin.out_features}]"
                            f"[{lin.in_features}], got to={j}, from={i}", "to")
    if len(session.train_features) == 0:
        raise ProtocolError("there are no training points to take the gradient over")
    if session.diverged:
        raise ProtocolError("the session diverged; reset it first")
    return [backprop_factors(session, message["layer"], j, i)]


# -- points ----------------------------------------------------------------------------------------
def _become_user_data(session, notes):
    if session.settings["dataset"] != "user":
        session.settings["dataset"] = "user"
        notes.append(notice("dataset_switched", "your own points: the data set is now 'user'"))


def _use_points(session, points, notes):
    """Install edited points (the problem follows them); reset the network when its output
    layer no longer fits."""
    old = session.points
    session.points = points
    session.prepare_data()
    if points.problem != session.settings["problem"]:
        session.settings["problem"] = points.problem
        if points.problem == "regression":
            session.settings["loss"] = "mse"
    if output_changed(old, points):
        session.reset_network()
        notes.append(notice("reset", RESET_MESSAGE))
    session.dirty = True
    return [session.settings_message(), points.message()] + notes


def on_add_point(session, message):
    points, label = session.points, message["label"]
    if points.problem == "classification":
        if type(label) is float and label.is_integer():
            label = int(label)
        limit = min(points.classes, 7)
        if type(label) is not int or not 0 <= label <= limit:
            raise ProtocolError(f"label must be a class 0..{limit} (an int), got {label!r}",
                                "label")
    elif not -1 <= label <= 1:
        raise ProtocolError(f"label must be a number in -1..1 for regression, got {label!r}",
                            "label")
    notes = []
    _become_user_data(session, notes)
    new = points.copy()
    new.add(message["x1"], message["x2"], label, message.get("split", "train"))
    return _use_points(session, new, notes)


def on_delete_point(session, message):
    new = session.points.copy()
    radius = message.get("radius", 0.5)
    if not new.delete_nearest(message["x1"], message["x2"], radius):
        raise ProtocolError(f"no point within {radius:g} of ({message['x1']:g}, "
                            f"{message['x2']:g})")
    notes = []
    _become_user_data(session, notes)
    return _use_points(session, new, notes)


def on_clear_points(session, message):
    notes = []
    _become_user_data(session, notes)
    new = data.empty(session.points.problem)
    new.classes = session.points.classes
    return _use_points(session, new, notes)


def on_upload_csv(session, message):
    settings = session.settings
    new = data.parse_csv(message["text"], settings["problem"], settings["train_ratio"],
                         settings["seed"])
    notes = []
    _become_user_data(session, notes)
    notes.append(notice("points_changed", f"loaded {new.size} points "
                                          f"({len(new.train)} train, {len(new.test)} test)"))
    return _use_points(session, new, notes)


# -- exports ---------------------------------------------------------------------------------------
def on_get_data_csv(session, message):
    return [{"type": "data_csv", "filename": "playground_data.csv",
             "text": session.points.to_csv()}]


def on_export_script(session, message):
    return [{"type": "script", "filename": "playground_experiment.py",
             "text": export_script(session)}]


def on_save_model(session, message):
    return [{"type": "model", "filename": "playground_model.safetensors",
             "base64": base64.b64encode(model_bytes(session)).decode("ascii")}]


HANDLERS = {
    "ack": on_ack, "play": on_play, "pause": on_pause, "step": on_step, "reset": on_reset,
    "regenerate": on_regenerate, "set": on_set, "preset": on_preset,
    "edit_weight": on_edit_weight, "edit_bias": on_edit_bias, "add_point": on_add_point,
    "delete_point": on_delete_point, "clear_points": on_clear_points,
    "upload_csv": on_upload_csv, "get_data_csv": on_get_data_csv, "backprop": on_backprop,
    "export_script": on_export_script, "save_model": on_save_model,
}
