"""The Playground's message schema: what the page may send, checked field by field.

``parse_message(text)`` turns one WebSocket text frame into a validated dict or raises
``ProtocolError`` naming the offending field (a dotted path such as ``settings.layers[1].units``).
The rules mirror PROTOCOL.md, which is the contract with the page; nothing is applied until the
whole message has passed.
"""
import json
import math

PROTOCOL_VERSION = 1

LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
REGULARIZATION_RATES = (0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
FEATURES = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "leakyrelu", "elu")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
INITS = ("uniform", "xavier", "he", "zeros")
CLASSIFICATION_DATASETS = ("circle", "xor", "gauss", "spiral", "blobs", "spirals", "user")
REGRESSION_DATASETS = ("plane", "multigauss", "user")
DATASETS = ("circle", "xor", "gauss", "spiral", "blobs", "spirals", "plane", "multigauss", "user")

MAX_LAYERS = 10
MAX_UNITS = 32
MAX_CLASSES = 8
MAX_MESSAGE_BYTES = 262_144
MAX_CSV_CHARS = 200_000
MAX_POINTS = 5000
MAX_FPS = 60

LIMITS = {"max_layers": MAX_LAYERS, "max_units": MAX_UNITS, "max_csv_chars": MAX_CSV_CHARS,
          "max_points": MAX_POINTS, "max_message_bytes": MAX_MESSAGE_BYTES, "max_fps": MAX_FPS}

DEFAULT_LAYER = {"units": 4, "activation": "tanh", "dropout": 0, "batchnorm": False}

DEFAULT_SETTINGS = {
    "dataset": "circle", "classes": 3, "samples": 500, "noise": 0, "train_ratio": 50,
    "batch_size": 10, "features": ["x1", "x2"],
    "layers": [dict(DEFAULT_LAYER), dict(DEFAULT_LAYER, units=2)],
    "problem": "classification", "loss": "mse", "optimizer": "sgd", "learning_rate": 0.03,
    "momentum": 0.9, "beta1": 0.9, "beta2": 0.999, "alpha": 0.99, "eps": 1e-8,
    "regularization": "none", "regularization_rate": 0, "init": "uniform", "seed": 1,
    "epochs_per_frame": 5, "discretize": False, "show_test_data": False, "residual": False,
}


class ProtocolError(ValueError):
    """A message the page sent that breaks the schema; ``field`` is the dotted path at fault."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


# -- field checkers: each takes (value, path) and returns the normalised value ------------------
def _describe(value):
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(path, expected, value):
    raise ProtocolError(f"{path} must be {expected}, got {_describe(value)}", path)


def integer(lo, hi):
    def check(value, path):
        if type(value) is float and value.is_integer():
            value = int(value)
        if type(value) is not int or not lo <= value <= hi:
            _fail(path, f"an int in {lo}..{hi}", value)
        return value
    return check


def number(lo, hi):
    def check(value, path):
        if type(value) not in (int, float) or not math.isfinite(value) or not lo <= value <= hi:
            _fail(path, f"a number in {lo}..{hi}", value)
        return float(value)
    return check


def one_of_numbers(values):
    def check(value, path):
        if type(value) in (int, float) and math.isfinite(value):
            for v in values:
                if math.isclose(value, v, rel_tol=1e-9, abs_tol=1e-12):
                    return v
        _fail(path, f"one of {', '.join(map(str, values))}", value)
    return check


def choice(values):
    def check(value, path):
        if type(value) is not str or value not in values:
            _fail(path, f"one of {', '.join(map(repr, values))}", value)
        return value
    return check


def boolean(value, path):
    if type(value) is not bool:
        _fail(path, "true or false", value)
    return value


def text(max_chars):
    def check(value, path):
        if type(value) is not str:
            _fail(path, "a string", value)
        if len(value) > max_chars:
            raise ProtocolError(f"{path} is {len(value)} characters long; the limit is "
                                f"{max_chars}", path)
        return value
    return check


def feature_list(value, path):
    if type(value) is not list or not value:
        _fail(path, f"a non-empty list of features from {', '.join(FEATURES)}", value)
    seen = set()
    for i, f in enumerate(value):
        if f not in FEATURES:
            _fail(f"{path}[{i}]", f"one of {', '.join(FEATURES)}", f)
        if f in seen:
            raise ProtocolError(f"{path} lists {f!r} twice", f"{path}[{i}]")
        seen.add(f)
    return [f for f in FEATURES if f in seen]


LAYER_FIELDS = {"units": integer(1, MAX_UNITS), "activation": choice(ACTIVATIONS),
                "dropout": number(0, 0.9), "batchnorm": boolean}


def _object(value, path, fields, required):
    if type(value) is not dict:
        _fail(path, "an object", value)
    out = {}
    for key, v in value.items():
        check = fields.get(key)
        where = f"{path}.{key}" if path else key
        if check is None:
            allowed = (f"allowed: {', '.join(sorted(fields))}" if fields else
                       "this message takes no fields")
            raise ProtocolError(f"{path or 'message'} has an unknown field {key!r}; {allowed}",
                                where)
        out[key] = check(v, where)
    for key in required:
        if key not in value:
            where = f"{path}.{key}" if path else key
            raise ProtocolError(f"{path or 'message'} is missing the required field {key!r}",
                                where)
    return out


def layer_list(value, path):
    if type(value) is not list or len(value) > MAX_LAYERS:
        _fail(path, f"a list of at most {MAX_LAYERS} layer objects", value)
    return [_object(layer, f"{path}[{i}]", LAYER_FIELDS, LAYER_FIELDS)
            for i, layer in enumerate(value)]


SETTINGS_FIELDS = {
    "dataset": choice(DATASETS),
    "classes": integer(2, MAX_CLASSES),
    "samples": integer(50, 2000),
    "noise": integer(0, 50),
    "train_ratio": integer(10, 90),
    "batch_size": integer(1, 30),
    "features": feature_list,
    "layers": layer_list,
    "problem": choice(("classification", "regression")),
    "loss": choice(("mse", "cross_entropy")),
    "optimizer": choice(OPTIMIZERS),
    "learning_rate": one_of_numbers(LEARNING_RATES),
    "momentum": number(0, 0.999),
    "beta1": number(0, 0.999),
    "beta2": number(0, 0.9999),
    "alpha": number(0, 0.9999),
    "eps": number(1e-10, 1e-3),
    "regularization": choice(("none", "L1", "L2")),
    "regularization_rate": one_of_numbers(REGULARIZATION_RATES),
    "init": choice(INITS),
    "seed": integer(0, 2 ** 31 - 1),
    "epochs_per_frame": integer(1, 50),
    "discretize": boolean,
    "show_test_data": boolean,
    "residual": boolean,
}


def settings_patch(value, path="settings"):
    """Validate a (partial) settings object; returns it normalised (features in canonical order)."""
    return _object(value, path, SETTINGS_FIELDS, ())


def full_settings(value, path="settings"):
    """Validate a complete settings object (a preset, the defaults)."""
    return _object(value, path, SETTINGS_FIELDS, SETTINGS_FIELDS)


def _point_label(value, path):
    if type(value) not in (int, float) or not math.isfinite(value):
        _fail(path, "a class (int) or a regression value (number)", value)
    return value


def _preset_name(value, path):
    from .presets import PRESETS
    return choice(tuple(PRESETS))(value, path)


_ID = integer(0, 2 ** 31 - 1)
_LAYER_INDEX = integer(1, MAX_LAYERS + 1)
_UNIT_INDEX = integer(0, MAX_UNITS - 1)
_COORD = number(-6, 6)

# type -> (fields, required fields)
MESSAGES = {
    "ack": ({"seq": integer(0, 2 ** 53)}, ("seq",)),
    "play": ({}, ()),
    "pause": ({}, ()),
    "step": ({}, ()),
    "reset": ({}, ()),
    "regenerate": ({}, ()),
    "set": ({"settings": settings_patch}, ("settings",)),
    "preset": ({"name": _preset_name}, ("name",)),
    "edit_weight": ({"layer": _LAYER_INDEX, "to": _UNIT_INDEX, "from": _UNIT_INDEX,
                     "value": number(-100, 100)}, ("layer", "to", "from", "value")),
    "edit_bias": ({"layer": _LAYER_INDEX, "unit": _UNIT_INDEX, "value": number(-100, 100)},
                  ("layer", "unit", "value")),
    "add_point": ({"x1": _COORD, "x2": _COORD, "label": _point_label,
                   "split": choice(("train", "test"))}, ("x1", "x2", "label")),
    "delete_point": ({"x1": number(-1e6, 1e6), "x2": number(-1e6, 1e6),
                      "radius": number(0.01, 3)}, ("x1", "x2")),
    "clear_points": ({}, ()),
    "upload_csv": ({"text": text(MAX_CSV_CHARS)}, ("text",)),
    "get_data_csv": ({}, ()),
    "backprop": ({"layer": _LAYER_INDEX, "to": _UNIT_INDEX, "from": _UNIT_INDEX},
                 ("layer", "to", "from")),
    "export_script": ({}, ()),
    "save_model": ({}, ()),
}


def parse_message(raw):
    """One text frame from the page -> ``{"type": ..., "id": ..., **fields}``, validated.

    Raises ``ProtocolError`` (with ``.field``) for invalid JSON, an unknown type, unknown or
    missing fields, wrong types and out-of-range values.
    """
    if isinstance(raw, (bytes, bytearray)):
        raise ProtocolError("binary frames are not part of the protocol; send JSON text")
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message is {len(raw)} characters long; the limit is "
                            f"{MAX_MESSAGE_BYTES}")
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise ProtocolError(f"message is not valid JSON: {e}") from None
    return validate_message(message)


def validate_message(message):
    if type(message) is not dict:
        raise ProtocolError(f"a message must be a JSON object, got {_describe(message)}")
    kind = message.get("type")
    if kind not in MESSAGES:
        raise ProtocolError(f"unknown message type {_describe(kind)}; expected one of "
                            f"{', '.join(sorted(MESSAGES))}", "type")
    fields, required = MESSAGES[kind]
    body = {k: v for k, v in message.items() if k not in ("type", "id")}
    out = _object(body, "", fields, required)
    out["type"] = kind
    out["id"] = _ID(message["id"], "id") if "id" in message else None
    return out


def message_id(raw):
    """Best effort: the ``id`` of a message that failed validation, so the error can echo it."""
    try:
        message = json.loads(raw)
        mid = message.get("id")
        return mid if type(mid) is int else None
    except Exception:
        return None


def _sanitise(obj):
    """Replace non-finite floats by None (JSON has no NaN) in nested lists and dicts."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _sanitise(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_sanitise(v) for v in obj]
    return obj


def dumps(message):
    """A server -> page message as compact JSON text (a non-finite number becomes null)."""
    try:
        return json.dumps(message, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(_sanitise(message), allow_nan=False, separators=(",", ":"))


def error(message, field=None, id=None):
    return {"type": "error", "id": id, "message": message, "field": field}


def notice(code, message, id=None):
    return {"type": "notice", "id": id, "code": code, "message": message}


def choices():
    return {"learning_rate": list(LEARNING_RATES),
            "regularization_rate": list(REGULARIZATION_RATES),
            "datasets": {"classification": list(CLASSIFICATION_DATASETS),
                         "regression": list(REGRESSION_DATASETS)},
            "features": list(FEATURES), "activations": list(ACTIVATIONS),
            "optimizers": list(OPTIMIZERS), "inits": list(INITS)}
