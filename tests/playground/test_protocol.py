"""The Playground's message schema: every bad message is named precisely and nothing is applied."""
import json

import pytest

from chainrule.playground import protocol
from chainrule.playground.presets import PRESETS
from chainrule.playground.session import Session


def parse(message):
    return protocol.parse_message(json.dumps(message))


def rejected(message):
    with pytest.raises(protocol.ProtocolError) as info:
        parse(message) if not isinstance(message, str) else protocol.parse_message(message)
    return info.value


def test_defaults_and_presets_are_complete_valid_settings():
    assert protocol.full_settings(protocol.DEFAULT_SETTINGS) == protocol.DEFAULT_SETTINGS
    for name, preset in PRESETS.items():
        assert protocol.full_settings(preset["settings"]) == preset["settings"], name


def test_every_command_parses():
    for message in [{"type": "play"}, {"type": "pause", "id": 3}, {"type": "step"},
                    {"type": "reset"}, {"type": "regenerate"}, {"type": "ack", "seq": 4},
                    {"type": "set", "settings": {"noise": 20}},
                    {"type": "preset", "name": "deep_relu"},
                    {"type": "edit_weight", "layer": 1, "to": 0, "from": 1, "value": 0.5},
                    {"type": "edit_bias", "layer": 2, "unit": 1, "value": -1},
                    {"type": "add_point", "x1": 1, "x2": -2.5, "label": 1, "split": "test"},
                    {"type": "delete_point", "x1": 1, "x2": 2, "radius": 0.2},
                    {"type": "clear_points"}, {"type": "upload_csv", "text": "1,2,0\n"},
                    {"type": "get_data_csv"}, {"type": "backprop", "layer": 1, "to": 0, "from": 0},
                    {"type": "export_script"}, {"type": "save_model"}]:
        parsed = parse(message)
        assert parsed["type"] == message["type"] and parsed["id"] == message.get("id")


def test_settings_are_normalised():
    out = parse({"type": "set", "settings": {"features": ["sinx2", "x1"], "learning_rate": 3.0,
                                             "noise": 10.0}})["settings"]
    assert out == {"features": ["x1", "sinx2"], "learning_rate": 3, "noise": 10}


@pytest.mark.parametrize("message, field, fragment", [
    ({"type": "fly"}, "type", "unknown message type 'fly'"),
    ({"type": "play", "speed": 2}, "speed", "unknown field 'speed'"),
    ({"type": "ack"}, "seq", "missing the required field 'seq'"),
    ({"type": "ack", "seq": "4"}, "seq", "an int"),
    ({"type": "play", "id": -1}, "id", "an int in 0"),
    ({"type": "set", "settings": {"noise": 51}}, "settings.noise", "an int in 0..50"),
    ({"type": "set", "settings": {"noise": 1.5}}, "settings.noise", "an int"),
    ({"type": "set", "settings": {"batch_size": 0}}, "settings.batch_size", "1..30"),
    ({"type": "set", "settings": {"train_ratio": 95}}, "settings.train_ratio", "10..90"),
    ({"type": "set", "settings": {"learning_rate": 0.02}}, "settings.learning_rate", "one of"),
    ({"type": "set", "settings": {"regularization_rate": 5}}, "settings.regularization_rate",
     "one of"),
    ({"type": "set", "settings": {"dataset": "moons"}}, "settings.dataset", "one of"),
    ({"type": "set", "settings": {"features": []}}, "settings.features", "non-empty"),
    ({"type": "set", "settings": {"features": ["x1", "x3"]}}, "settings.features[1]", "one of"),
    ({"type": "set", "settings": {"features": ["x1", "x1"]}}, "settings.features[1]", "twice"),
    ({"type": "set", "settings": {"layers": [{"units": 4}]}}, "settings.layers[0].activation",
     "missing"),
    ({"type": "set", "settings": {"layers": [{"units": 33, "activation": "relu", "dropout": 0,
                                              "batchnorm": False}]}},
     "settings.layers[0].units", "1..32"),
    ({"type": "set", "settings": {"layers": [{"units": 3, "activation": "swish", "dropout": 0,
                                              "batchnorm": False}]}},
     "settings.layers[0].activation", "one of"),
    ({"type": "set", "settings": {"layers": [{"units": 3, "activation": "relu", "dropout": 1,
                                              "batchnorm": False}]}},
     "settings.layers[0].dropout", "0..0.9"),
    ({"type": "set", "settings": {"layers": [{"units": 3, "activation": "relu", "dropout": 0,
                                              "batchnorm": 1}]}},
     "settings.layers[0].batchnorm", "true or false"),
    ({"type": "set", "settings": {"layers": [{"units": 3, "activation": "relu", "dropout": 0,
                                              "batchnorm": False, "bias": True}]}},
     "settings.layers[0].bias", "unknown field"),
    ({"type": "set", "settings": {"layers": [dict(protocol.DEFAULT_LAYER)] * 11}}, "settings.layers",
     "at most 10"),
    ({"type": "set", "settings": {"discretize": "yes"}}, "settings.discretize", "true or false"),
    ({"type": "set", "settings": {"seed": 2 ** 31}}, "settings.seed", "an int"),
    ({"type": "set", "settings": {"eps": 0}}, "settings.eps", "a number"),
    ({"type": "set", "settings": {"colour": "red"}}, "settings.colour", "unknown field"),
    ({"type": "set", "settings": [1]}, "settings", "an object"),
    ({"type": "set", "settings": {"epochs_per_frame": True}}, "settings.epochs_per_frame",
     "an int"),
    ({"type": "preset", "name": "mnist"}, "name", "one of"),
    ({"type": "edit_weight", "layer": 0, "to": 0, "from": 0, "value": 1}, "layer", "1..11"),
    ({"type": "edit_weight", "layer": 1, "to": 0, "from": 0, "value": 1e9}, "value", "-100..100"),
    ({"type": "edit_bias", "layer": 1, "unit": 32, "value": 1}, "unit", "0..31"),
    ({"type": "add_point", "x1": 7, "x2": 0, "label": 1}, "x1", "-6..6"),
    ({"type": "add_point", "x1": 0, "x2": 0, "label": "a"}, "label", "a class"),
    ({"type": "add_point", "x1": 0, "x2": 0, "label": 1, "split": "val"}, "split", "one of"),
    ({"type": "upload_csv", "text": 5}, "text", "a string"),
    ({"type": "upload_csv", "text": "1" * 200_001}, "text", "the limit is 200000"),
])
def test_bad_messages_name_the_field(message, field, fragment):
    e = rejected(message)
    assert e.field == field
    assert fragment in e.message


@pytest.mark.parametrize("raw, fragment", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"type": "play", "id": NaN}', "an int"),
    ("x" * (protocol.MAX_MESSAGE_BYTES + 1), "the limit is 262144"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
])
def test_malformed_text(raw, fragment):
    assert fragment in rejected(raw).message


def test_nan_numbers_are_rejected():
    e = rejected('{"type": "set", "settings": {"momentum": NaN}}')
    assert e.field == "settings.momentum"


def test_binary_frames_are_rejected():
    with pytest.raises(protocol.ProtocolError, match="binary frames"):
        protocol.parse_message(b"\x00\x01")


def test_message_id_is_recovered_for_errors():
    assert protocol.message_id('{"type": "fly", "id": 12}') == 12
    assert protocol.message_id("{oops") is None


def test_a_bad_set_changes_nothing_and_the_session_goes_on():
    s = Session()
    before = s.settings_copy()
    with pytest.raises(protocol.ProtocolError):
        parse({"type": "set", "settings": {"noise": 10, "batch_size": 99}})
    # semantic errors (checked by the session) are replies, and also leave the settings alone
    replies = s.handle(parse({"type": "set", "id": 5, "settings": {
        "noise": 10, "problem": "regression", "dataset": "circle"}}))
    assert [r["type"] for r in replies] == ["error"] and replies[0]["id"] == 5
    assert s.settings == before
    s.advance(1)
    assert s.epoch == 1


def test_choices_match_the_schema():
    c = protocol.choices()
    assert c["learning_rate"][0] == 0.00001 and c["learning_rate"][-1] == 10
    assert set(c["datasets"]["classification"]) | set(c["datasets"]["regression"]) == \
        set(protocol.DATASETS)
    assert c["optimizers"] == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def random_value(rng):
    kinds = [lambda: int(rng.integers(-5, 40)), lambda: float(rng.normal() * 5), lambda: True,
             lambda: "relu", lambda: None, lambda: [], lambda: {}, lambda: "x1",
             lambda: [protocol.DEFAULT_LAYER], lambda: ["x1", "x2", "x1x2"], lambda: 0.03]
    return kinds[int(rng.integers(len(kinds)))]()


def pick(rng, options):
    return options[int(rng.integers(len(options)))]


def valid_setting(rng, name):
    """A legal value for one settings field (the fuzz mixes these with random junk)."""
    layer = lambda: {"units": int(rng.integers(1, 6)),  # noqa: E731
                     "activation": pick(rng, protocol.ACTIVATIONS),
                     "dropout": pick(rng, [0, 0, 0.2]), "batchnorm": bool(rng.random() < 0.3)}
    options = {
        "dataset": list(protocol.DATASETS), "classes": [2, 3, 5], "samples": [50, 120],
        "noise": [0, 25, 50], "train_ratio": [10, 50, 90], "batch_size": [1, 10, 30],
        "features": [["x1"], ["x1", "x2", "x1x2"], list(protocol.FEATURES)],
        "layers": [[], [layer()], [layer(), layer()]],
        "problem": ["classification", "regression"], "loss": ["mse", "cross_entropy"],
        "optimizer": list(protocol.OPTIMIZERS), "learning_rate": list(protocol.LEARNING_RATES),
        "momentum": [0, 0.9], "beta1": [0.5, 0.9], "beta2": [0.9, 0.999], "alpha": [0.9],
        "eps": [1e-8, 1e-4], "regularization": ["none", "L1", "L2"],
        "regularization_rate": list(protocol.REGULARIZATION_RATES), "init": list(protocol.INITS),
        "seed": [0, 7], "epochs_per_frame": [1, 3], "discretize": [True, False],
        "show_test_data": [True, False], "residual": [True, False]}
    return pick(rng, options[name])


def valid_field(rng, kind, name):
    if name in ("layer",):
        return int(rng.integers(1, 4))
    if name in ("to", "from", "unit"):
        return int(rng.integers(0, 4))
    if name in ("x1", "x2"):
        return float(rng.uniform(-6, 6))
    if name == "label":
        return int(rng.integers(0, 3)) if rng.random() < 0.7 else float(rng.uniform(-1, 1))
    if name == "value":
        return float(rng.normal() * 3)
    if name == "radius":
        return 3.0
    if name == "split":
        return pick(rng, ["train", "test"])
    if name == "seq":
        return int(rng.integers(0, 3))
    return random_value(rng)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_messages_never_break_the_session(seed):
    """Fuzz: legal and broken messages in any order; every one is either applied or answered with
    an error, and the session keeps valid settings, trains and draws valid frames."""
    import numpy as np
    rng = np.random.default_rng(seed)
    s = Session({"samples": 100})
    kinds = [t for t in protocol.MESSAGES if t != "upload_csv"]
    applied = 0
    for i in range(300):
        kind = pick(rng, kinds)
        fields, _ = protocol.MESSAGES[kind]
        legal = rng.random() < 0.8
        message = {"type": kind}
        for name in fields:
            if rng.random() < 0.95:
                message[name] = valid_field(rng, kind, name) if legal else random_value(rng)
        if kind == "set":
            keys = rng.choice(list(protocol.SETTINGS_FIELDS), size=int(rng.integers(1, 4)),
                              replace=False)
            message["settings"] = {str(k): valid_setting(rng, str(k)) if legal else
                                   random_value(rng) for k in keys}
        if kind == "preset":
            message["name"] = pick(rng, list(PRESETS))
        try:
            parsed = protocol.validate_message(message)
        except protocol.ProtocolError as e:
            assert e.message
            continue
        replies = s.handle(parsed)
        applied += not any(r["type"] == "error" for r in replies)
        for reply in replies:
            json.dumps(reply, allow_nan=False)
        protocol.full_settings(s.settings)       # the settings stay complete and legal
        if i % 10 == 0:
            s.advance(1)
            json.dumps(s.frame(), allow_nan=False)
    assert applied > 100
    s.handle(protocol.validate_message({"type": "reset"}))
    s.advance(1)
    json.dumps(s.frame(), allow_nan=False)


# -- issue 19, bug 6: messages that say each thing once and list what is allowed ---------------------
def test_upload_errors_name_the_message_once():
    from chainrule.playground.session import Session
    replies = Session().handle(protocol.validate_message({"type": "upload_csv", "text": "1,2\n"}))
    assert replies[0]["type"] == "error"
    assert replies[0]["message"].startswith("upload_csv: ")
    assert "upload_csv: upload_csv" not in replies[0]["message"]


def test_unknown_field_of_a_message_without_fields_says_it_takes_none():
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.parse_message(json.dumps({"type": "play", "turbo": True}))
    assert not info.value.message.rstrip().endswith(":")
    assert "takes no fields" in info.value.message
