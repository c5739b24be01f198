"""Export a session as a standalone chainrule script that rebuilds and retrains the experiment,
or its trained network as a safetensors file.

The script's data, initialisation and training loop are the session's own (same seeds, same
generators, same mini-batch order), so without dropout it retraces the session's run from a reset.
"""
import json
import os
import pprint
import tempfile

import numpy as np

from ..io import save
from . import data
from .network import activation_source, dropout_seed
from .protocol import ProtocolError, full_settings

_INIT = {
    "uniform": ["nn.init.uniform_(layer.weight, -0.5, 0.5, generator=init_generator)",
                "nn.init.constant_(layer.bias, 0.1)"],
    "xavier": ["nn.init.xavier_uniform_(layer.weight, generator=init_generator)",
               "nn.init.zeros_(layer.bias)"],
    "he": ["nn.init.kaiming_normal_(layer.weight, nonlinearity='relu', generator=init_generator)",
           "nn.init.zeros_(layer.bias)"],
    "zeros": ["nn.init.zeros_(layer.weight)", "nn.init.zeros_(layer.bias)"],
}

_TARGETS = {
    "tanh_mse": "np.where(labels > 0, 1.0, -1.0).astype(np.float32)[:, None]   # -1 / +1",
    "sigmoid_bce": "labels.astype(np.float32)[:, None]",
    "softmax_ce": "labels.astype(np.int64)",
    "softmax_mse": "np.eye(CLASSES, dtype=np.float32)[labels.astype(np.int64)]   # one-hot",
    "regression": "labels.astype(np.float32)[:, None]",
}
_LOSS = {"tanh_mse": "F.mse_loss", "sigmoid_bce": "F.binary_cross_entropy_with_logits",
         "softmax_ce": "F.cross_entropy", "softmax_mse": "F.mse_loss", "regression": "F.mse_loss"}


def _optimizer_source(s):
    lr = s["learning_rate"]
    name = s["optimizer"]
    if name == "sgd" or (name == "nesterov" and s["momentum"] == 0):
        return f"optim.SGD(model.parameters(), lr={lr!r})"
    if name == "momentum":
        return f"optim.SGD(model.parameters(), lr={lr!r}, momentum={s['momentum']!r})"
    if name == "nesterov":
        return (f"optim.SGD(model.parameters(), lr={lr!r}, momentum={s['momentum']!r}, "
                f"nesterov=True)")
    if name == "adagrad":
        return f"optim.Adagrad(model.parameters(), lr={lr!r}, eps={s['eps']!r})"
    if name == "rmsprop":
        return (f"optim.RMSprop(model.parameters(), lr={lr!r}, alpha={s['alpha']!r}, "
                f"eps={s['eps']!r})")
    return (f"optim.Adam(model.parameters(), lr={lr!r}, betas=({s['beta1']!r}, {s['beta2']!r}), "
            f"eps={s['eps']!r})")


def _model_source(session):
    net, s = session.net, session.settings
    lines = []
    width = len(s["features"])
    for spec, layer in zip(s["layers"], net.hidden):
        block = [f"nn.Linear({width}, {spec['units']}),"]
        if spec["batchnorm"]:
            block.append(f"nn.BatchNorm1d({spec['units']}),")
        block.append(activation_source(spec["activation"]) + ",")
        if spec["dropout"] > 0:
            block.append(f"nn.Dropout({spec['dropout']!r}),")
        if layer.skip:
            block[-1] = block[-1].rstrip(",")
            lines.append("Residual(   # a skip connection: x + block(x)")
            lines.extend("    " + line for line in block)
            lines.append("),")
        else:
            lines.extend(block)
        width = spec["units"]
    lines.append(f"nn.Linear({width}, {net.output.out_features}),")
    if net.mode == "tanh_mse":
        lines.append("nn.Tanh(),")
    elif net.mode == "softmax_mse":
        lines.append("nn.Softmax(dim=1),")
    return "\n".join("    " + line for line in lines)


def _data_source(session):
    s = session.settings
    if s["dataset"] != "user":
        name, kwargs = data.generator_call(s, data.data_seed(s["seed"], session.regenerations))
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        return (f"X, y = playground.{name}({args})\n"
                f"X_train, X_test, y_train, y_test = playground.train_test_split(\n"
                f"    X, y, ratio={s['train_ratio'] / 100!r}, seed={kwargs['seed']!r})\n"
                f"train_points, test_points = X_train.array.astype(np.float64), "
                f"X_test.array.astype(np.float64)\n"
                f"train_labels, test_labels = y_train.array, y_test.array\n")
    pts = session.points
    label_type = "np.int64" if pts.problem == "classification" else "np.float32"
    fmt = lambda a: pprint.pformat(a.tolist(), width=99, compact=True)  # noqa: E731
    return (f"# Your own points (x1, x2) and labels.\n"
            f"train_points = np.array({fmt(pts.train)}, dtype=np.float64).reshape(-1, 2)\n"
            f"train_labels = np.array({fmt(pts.train_labels)}, dtype={label_type})\n"
            f"test_points = np.array({fmt(pts.test)}, dtype=np.float64).reshape(-1, 2)\n"
            f"test_labels = np.array({fmt(pts.test_labels)}, dtype={label_type})\n")


def model_bytes(session):
    """The network's state dict as the bytes of a safetensors file (via ``cr.save``), with the
    settings and the epoch in its metadata."""
    fd, path = tempfile.mkstemp(suffix=".safetensors")
    os.close(fd)
    try:
        save(session.net.model.state_dict(), path,
             metadata={"settings": json.dumps(session.settings), "epoch": str(session.epoch)})
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def checked_for_export(session):
    """Raise ``ProtocolError`` unless everything the script embeds passed validation.

    The script is Python source: a string that reached the settings without passing the
    protocol's checks (a feature name holding a quote and code, a seed that is not an int) would
    become code. So the settings are validated again, as a whole, right here, and the points
    must be finite numbers with integer or numeric labels."""
    try:
        checked = full_settings(session.settings)
    except ProtocolError as e:
        raise ProtocolError(f"nothing exported: {e.message}", e.field) from None
    if checked != session.settings:
        raise ProtocolError("nothing exported: the settings are not in their validated form")
    pts = session.points
    for name in ("train", "test", "train_labels", "test_labels"):
        array = getattr(pts, name)
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "iuf" \
                or not np.all(np.isfinite(array)):
            raise ProtocolError(f"nothing exported: the points' {name} are not finite numbers")
    if type(pts.classes) is not int or type(session.regenerations) is not int:
        raise ProtocolError("nothing exported: the class count and regenerations must be ints")


def export_script(session):
    """The Python source of a runnable script reproducing ``session``'s experiment; raises
    ``ProtocolError`` when anything it would embed did not pass validation."""
    checked_for_export(session)
    s, net, pts = session.settings, session.net, session.points
    mode = net.mode
    skips = any(layer.skip for layer in net.hidden)
    walk = "model.modules()" if skips else "model"   # Residual blocks nest their Linears
    residual_class = (
        "\nclass Residual(nn.Module):\n"
        "    \"\"\"A skip connection: the block's input added to its output (same width).\"\"\"\n\n"
        "    def __init__(self, *modules):\n"
        "        super().__init__()\n"
        "        self.block = nn.Sequential(*modules)\n\n"
        "    def forward(self, x):\n"
        "        return x + self.block(x)\n\n\n") if skips else ""
    bn = net.has_batchnorm
    feature_cols = ", ".join(data.FEATURE_SOURCE[f] for f in s["features"])
    init = "\n".join("            " + line for line in _INIT[s["init"]])
    reg = s["regularization"] if s["regularization_rate"] else "none"
    reg_line = {"none": "",
                "L1": "            w.grad.array += REGULARIZATION_RATE * np.sign(w.array)\n",
                "L2": "            w.grad.array += REGULARIZATION_RATE * w.array\n"}[reg]
    reg_block = ("        for w in weights:   # " + reg + " regularisation of the weights\n"
                 + reg_line) if reg != "none" else ""
    fold = ("    if len(starts) > 1 and n - starts[-1] < 2:   # batch norm: no batch of one\n"
            "        starts.pop()\n") if bn else ""
    epochs = session.epoch if session.epoch > 0 else 100
    if mode in ("tanh_mse", "sigmoid_bce"):
        predict = "(output[:, 0] >= 0).astype(np.int64)"
    else:
        predict = "output.argmax(axis=1)"
    if pts.problem == "classification":
        metric = (f"def metric(points, labels):\n"
                  f"    output = evaluate(points)\n"
                  f"    return 'accuracy', float(np.mean({predict} == labels))\n")
    else:
        metric = ("def metric(points, labels):\n"
                  "    output = evaluate(points)[:, 0]\n"
                  "    total = float(np.sum((labels - labels.mean()) ** 2)) or 1.0\n"
                  "    return 'R2', 1 - float(np.sum((output - labels) ** 2)) / total\n")
    dropout_line = (f"cr.manual_seed({dropout_seed(s['seed'])!r})   # the dropout masks' stream, "
                    f"as in the Playground\n") if any(l["dropout"] > 0 for l in s["layers"]) else ""
    settings_text = pprint.pformat(json.loads(json.dumps(s)), width=99, sort_dicts=False)
    return f'''"""A chainrule Playground experiment, exported as a script.

Run it with `python {'playground_experiment.py'} [EPOCHS]` (default {epochs}, the epochs trained in
the Playground). It rebuilds the data, the network and the optimiser from these settings and
trains with the Playground's loop, printing the losses.
"""
import sys

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.datasets import playground
from chainrule.nn import functional as F

SETTINGS = {settings_text}

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else {epochs}
BATCH_SIZE = {max(s["batch_size"], 2) if bn else s["batch_size"]}{"   # batch norm needs 2 or more" if bn and s["batch_size"] < 2 else ""}
CLASSES = {pts.classes}
REGULARIZATION_RATE = {s["regularization_rate"]!r}

# -- data ------------------------------------------------------------------------------------------
{_data_source(session)}

def features(points):
    """The input features of (x1, x2) points: {", ".join(s["features"])}."""
    x1, x2 = points[:, 0], points[:, 1]
    return np.stack([{feature_cols}], axis=1).astype(np.float32)


def targets(labels):
    return {_TARGETS[mode]}


train_x, test_x = features(train_points), features(test_points)
train_t, test_t = targets(train_labels), targets(test_labels)

{residual_class}# -- model -----------------------------------------------------------------------------------------
model = nn.Sequential(
{_model_source(session)}
)
init_generator = cr.Generator().manual_seed({s["seed"]!r})
with cr.no_grad():
    for layer in {walk}:
        if isinstance(layer, nn.Linear):
{init}
weights = [layer.weight for layer in {walk} if isinstance(layer, nn.Linear)]
optimizer = {_optimizer_source(s)}
loss_fn = {_LOSS[mode]}
shuffle_generator = cr.Generator().manual_seed({s["seed"] + 1!r})


def evaluate(points):
    model.eval()
    with cr.no_grad():
        output = model(cr.from_numpy(features(points))).array
    model.train()
    return output


def loss_of(x, t):
    if len(x) == 0:
        return float("nan")
    model.eval()
    with cr.no_grad():
        value = loss_fn(model(cr.from_numpy(x)), cr.from_numpy(t)).item()
    model.train()
    return value


{metric}

# -- training --------------------------------------------------------------------------------------
def train_epoch():
    n = len(train_x)
    order = cr.randperm(n, generator=shuffle_generator).array
    starts = list(range(0, n, BATCH_SIZE))
{fold}    for i, start in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else n
        idx = order[start:stop]
        loss = loss_fn(model(cr.from_numpy(train_x[idx])), cr.from_numpy(train_t[idx]))
        optimizer.zero_grad()
        loss.backward()
{reg_block}        optimizer.step()


model.train()
{dropout_line}for epoch in range(1, EPOCHS + 1):
    train_epoch()
    if epoch % max(1, EPOCHS // 10) == 0 or epoch == EPOCHS:
        print(f"epoch {{epoch:5d}}  train loss {{loss_of(train_x, train_t):.4f}}  "
              f"test loss {{loss_of(test_x, test_t):.4f}}")
name, train_metric = metric(train_points, train_labels)
if len(test_points):
    _, test_metric = metric(test_points, test_labels)
    print(f"train {{name}} {{train_metric:.4f}}  test {{name}} {{test_metric:.4f}}")
else:
    print(f"train {{name}} {{train_metric:.4f}}")
'''
