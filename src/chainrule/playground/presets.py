"""Presets for the lectures' experiments: each is a complete settings object plus a title.

They come in pairs that make one point each: XOR is linearly separable once x1·x2 is a feature;
a circle needs a hidden layer (or the squared features); a spiral needs depth; a deep stack of
sigmoids barely trains (vanishing gradients) while the same depth of ReLUs with He init does.
"""
from .protocol import DEFAULT_SETTINGS


def _layers(*units, activation="tanh"):
    return [{"units": u, "activation": activation, "dropout": 0, "batchnorm": False}
            for u in units]


def _preset(title, description, **changes):
    settings = {k: (list(v) if isinstance(v, list) else v) for k, v in DEFAULT_SETTINGS.items()}
    settings["layers"] = [dict(layer) for layer in DEFAULT_SETTINGS["layers"]]
    settings.update(changes)
    return {"title": title, "description": description, "settings": settings}


PRESETS = {
    "xor_without_product": _preset(
        "XOR without x1·x2",
        "Only x1 and x2: no line separates XOR, so the net needs its hidden layer to bend the "
        "boundary.",
        dataset="xor", features=["x1", "x2"], layers=_layers(4), learning_rate=0.03),
    "xor_with_product": _preset(
        "XOR with x1·x2",
        "With the product feature x1·x2 the classes are linearly separable: no hidden layer "
        "needed.",
        dataset="xor", features=["x1", "x2", "x1x2"], layers=[], learning_rate=0.03),
    "circle_no_hidden": _preset(
        "Circle, no hidden layer",
        "A linear model on x1, x2 can only draw a line: it cannot separate the disc from the ring.",
        dataset="circle", features=["x1", "x2"], layers=[], learning_rate=0.03),
    "circle_one_hidden": _preset(
        "Circle, one hidden layer",
        "Three tanh neurons are enough to close a boundary around the disc.",
        dataset="circle", features=["x1", "x2"], layers=_layers(3), learning_rate=0.03),
    "spiral_deep": _preset(
        "Spiral needs depth",
        "The two-arm spiral: several layers on all features wind a boundary between the arms.",
        dataset="spiral", noise=0, features=["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"],
        layers=_layers(8, 8, 6, 4), optimizer="adam", learning_rate=0.01, batch_size=10),
    "deep_sigmoid": _preset(
        "Deep sigmoid net (won't train)",
        "Eight sigmoid layers: the gradient shrinks by at least 4x per layer on the way down, so "
        "the first layers barely move (watch the gradient view).",
        dataset="circle", features=["x1", "x2"], layers=_layers(*[6] * 8, activation="sigmoid"),
        init="xavier", learning_rate=0.03),
    "deep_relu": _preset(
        "Deep ReLU net (trains)",
        "The same depth with ReLU and He initialisation keeps the gradient's size and trains.",
        dataset="circle", features=["x1", "x2"], layers=_layers(*[6] * 8, activation="relu"),
        init="he", learning_rate=0.03),
}


def preset_list():
    """The presets as sent in ``hello``: name, title, description."""
    return [{"name": name, "title": p["title"], "description": p["description"]}
            for name, p in PRESETS.items()]
