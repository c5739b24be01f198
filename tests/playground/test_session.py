"""The Playground's Session without a browser or a server: training, frames, commands, settings."""
import base64
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from chainrule.playground.protocol import DEFAULT_SETTINGS, validate_message
from chainrule.playground.frames import NODE_SIZE, OUTPUT_SIZE, grid_points, mean_loss
from chainrule.playground.session import Session


def send(session, **message):
    """Validate and apply one page message as the server would; returns the replies."""
    return session.handle(validate_message(message))


def types(replies):
    return [r["type"] for r in replies]


def decode(grid, n):
    q = np.frombuffer(base64.b64decode(grid["q"]), np.uint8)
    assert q.size == n * n
    return grid["lo"] + (grid["hi"] - grid["lo"]) * q.reshape(n, n) / 255


def layers(*units, activation="tanh", **extra):
    return [dict({"units": u, "activation": activation, "dropout": 0, "batchnorm": False}, **extra)
            for u in units]


def train_until(session, threshold, max_frames):
    for _ in range(max_frames):
        session.advance()
        frame = session.frame()
        if frame["test_loss"] is not None and frame["test_loss"] < threshold:
            return frame
    return frame


# -- training --------------------------------------------------------------------------------------
def test_default_session_learns_the_circle_within_bounded_steps():
    s = Session()
    frame = train_until(s, 0.1, max_frames=40)   # at most 200 epochs
    assert frame["test_loss"] < 0.1
    assert frame["metrics"]["test_accuracy"] > 0.95
    assert frame["epoch"] <= 200 and frame["iteration"] == frame["epoch"] * 25  # 250 / batch 10


def test_frame_layout_matches_the_protocol():
    s = Session()
    f = s.frame()
    assert f["type"] == "frame" and f["epoch"] == 0 and f["playing"] is False
    assert f["output_size"] == OUTPUT_SIZE and f["node_size"] == NODE_SIZE
    # features x1, x2; hidden 4, 2; one output unit
    assert [len(layer) for layer in f["nodes"]] == [2, 4, 2, 1]
    assert [np.array(w).shape for w in f["weights"]] == [(4, 2), (2, 4), (1, 2)]
    assert [len(b) for b in f["biases"]] == [4, 2, 1]
    assert len(f["grad_norms"]) == 3 and f["diverged"] is False
    assert f["output"]["kind"] == "score" and (f["output"]["lo"], f["output"]["hi"]) == (-1, 1)
    # the x1 feature map: row 0 is the top, columns run left to right over [-6, 6]
    x1 = decode(f["nodes"][0][0], NODE_SIZE)
    np.testing.assert_allclose(x1[0], grid_points(NODE_SIZE)[:NODE_SIZE, 0], atol=12 / 255)
    x2 = decode(f["nodes"][0][1], NODE_SIZE)
    assert x2[0, 0] > 5 and x2[-1, 0] < -5
    json.dumps(f, allow_nan=False)   # strictly valid JSON


def test_output_map_matches_the_network_on_the_grid():
    s = Session()
    s.advance(20)
    f = s.frame()
    out = decode(f["output"], OUTPUT_SIZE).ravel()
    acts, direct = s.net.capture(
        np.asarray(grid_points(OUTPUT_SIZE), np.float32))  # features x1, x2 are the coordinates
    np.testing.assert_allclose(out, direct[:, 0], atol=2 / 255 + 1e-6)
    # the output unit's thumbnail is the same function on the coarser grid
    node = decode(f["nodes"][-1][0], NODE_SIZE).ravel()
    _, coarse = s.net.capture(np.asarray(grid_points(NODE_SIZE), np.float32))
    rng = f["nodes"][-1][0]["hi"] - f["nodes"][-1][0]["lo"]
    np.testing.assert_allclose(node, coarse[:, 0], atol=rng / 255 + 1e-6)


def test_discretize_gives_only_the_two_signs():
    s = Session()
    s.advance(5)
    send(s, type="set", settings={"discretize": True})
    out = decode(s.frame()["output"], OUTPUT_SIZE)
    assert set(np.unique(out)) <= {-1.0, 1.0}


def test_step_trains_exactly_one_epoch_and_pauses():
    s = Session()
    send(s, type="play")
    assert s.playing
    send(s, type="step")
    assert not s.playing and s.epoch == 1


def test_time_budget_splits_epochs_without_changing_the_run():
    whole, pieces = Session(), Session()
    whole.advance(2)
    calls = 0
    while pieces.epoch < 2:
        pieces.advance(1, budget=0)      # one mini-batch per call, then the deadline has passed
        calls += 1
    assert calls == 50 and pieces.iteration == whole.iteration == 50
    for a, b in zip(whole.net.model.parameters(), pieces.net.model.parameters()):
        np.testing.assert_array_equal(a.array, b.array)
    # new data mid-epoch starts a fresh epoch
    pieces.advance(1, budget=0)
    assert pieces.trainer.order is not None
    send(pieces, type="regenerate")
    assert pieces.trainer.order is None


def test_training_is_reproducible_from_the_seed():
    a, b = Session(), Session()
    a.advance(3)
    b.advance(3)
    np.testing.assert_array_equal(a.net.output.weight.array, b.net.output.weight.array)
    c = Session({"seed": 2})
    assert not np.array_equal(a.points.train, c.points.train)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_every_optimizer_lowers_the_loss(optimizer):
    lr = {"sgd": 0.1, "momentum": 0.03, "nesterov": 0.03, "adagrad": 0.1, "rmsprop": 0.01,
          "adam": 0.03}[optimizer]
    s = Session({"optimizer": optimizer, "learning_rate": lr})
    start = s.frame()["train_loss"]
    s.advance(20)
    assert s.frame()["train_loss"] < 0.5 * start


# -- settings mid-run -----------------------------------------------------------------------------
def test_settings_change_mid_run_keeps_the_network():
    s = Session()
    s.advance(5)
    send(s, type="play")
    w = s.net.output.weight.array.copy()
    replies = send(s, type="set", settings={"learning_rate": 0.1, "batch_size": 20,
                                           "regularization": "L2", "regularization_rate": 0.001,
                                           "layers": layers(4, 2, activation="relu")})
    assert types(replies) == ["settings"]
    assert s.epoch == 5 and s.playing
    np.testing.assert_array_equal(s.net.output.weight.array, w)
    assert s.trainer.optimizer.param_groups[0]["lr"] == 0.1
    assert type(s.net.hidden[0].activation).__name__ == "ReLU"
    s.advance(1)
    assert s.epoch == 6 and s.iteration == 5 * 25 + 13   # 250 points in batches of 20


def test_optimizer_switch_keeps_weights_and_epoch():
    s = Session()
    s.advance(2)
    w = s.net.output.weight.array.copy()
    send(s, type="set", settings={"optimizer": "adam"})
    assert type(s.trainer.optimizer).__name__ == "Adam" and s.epoch == 2
    np.testing.assert_array_equal(s.net.output.weight.array, w)


def test_architecture_change_resets_and_says_so():
    s = Session()
    s.advance(3)
    replies = send(s, type="set", id=4, settings={"layers": layers(5, 2)})
    notes = [r for r in replies if r["type"] == "notice"]
    assert notes and notes[0]["code"] == "reset" and "architecture changed" in notes[0]["message"]
    assert notes[0]["id"] == 4
    assert s.epoch == 0 and s.net.hidden[0].linear.out_features == 5
    for change in ({"features": ["x1", "x2", "x1x2"]}, {"init": "he"}, {"seed": 5},
                   {"layers": layers(5, 2, batchnorm=True)}):
        s.advance(1)
        assert "reset" in [r.get("code") for r in send(s, type="set", settings=change)]
        assert s.epoch == 0


def test_dataset_change_regenerates_data_without_reset():
    s = Session()
    s.advance(2)
    replies = send(s, type="set", settings={"dataset": "xor", "noise": 10})
    assert types(replies)[:2] == ["settings", "data"]
    assert "data_regenerated" in [r.get("code") for r in replies]
    assert s.epoch == 2
    s.advance(1)
    assert s.epoch == 3


def test_switching_problem_switches_dataset_and_loss():
    s = Session({"loss": "cross_entropy"})
    replies = send(s, type="set", settings={"problem": "regression"})
    codes = [r.get("code") for r in replies]
    assert "dataset_switched" in codes and "loss_switched" in codes and "reset" in codes
    assert s.settings["dataset"] == "plane" and s.settings["loss"] == "mse"
    assert s.frame()["output"]["kind"] == "value"
    replies = send(s, type="set", settings={"dataset": "spiral"})
    assert s.settings["problem"] == "classification"
    err = send(s, type="set", settings={"dataset": "plane", "problem": "classification"})
    assert types(err) == ["error"] and err[0]["field"] == "settings.dataset"
    err = send(s, type="set", settings={"problem": "regression", "loss": "cross_entropy"})
    assert types(err) == ["error"] and err[0]["field"] == "settings.loss"
    assert s.settings["problem"] == "classification"   # nothing applied


def test_regression_trains_and_reports_r2():
    s = Session({"dataset": "plane", "problem": "regression", "layers": layers(4)})
    s.advance(20)
    m = s.frame()["metrics"]
    assert m["train_r2"] > 0.9 and m["test_r2"] > 0.9


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_k_class_blobs_with_softmax(loss):
    s = Session({"dataset": "blobs", "classes": 4, "loss": loss, "optimizer": "adam",
                 "learning_rate": 0.03, "layers": layers(8)})
    f = s.frame()
    assert len(f["nodes"][-1]) == 4 and f["output"]["kind"] == "class"
    s.advance(10)
    f = s.frame()
    assert f["metrics"]["test_accuracy"] > 0.9
    conf = np.array(f["metrics"]["confusion"])
    assert conf.shape == (4, 4) and conf.sum() == len(s.points.test)
    classes = np.frombuffer(base64.b64decode(f["output"]["q"]), np.uint8)
    assert set(np.unique(classes)) == {0, 1, 2, 3}
    # k changes the output size: reset
    assert "reset" in [r.get("code") for r in send(s, type="set", settings={"classes": 5})]


def test_binary_cross_entropy_output():
    s = Session({"loss": "cross_entropy", "learning_rate": 0.1})
    s.advance(40)
    f = s.frame()
    assert f["test_loss"] < 0.2 and f["metrics"]["test_accuracy"] > 0.95


def test_dropout_and_batchnorm_train():
    s = Session({"layers": layers(8, 8, activation="relu", dropout=0.1, batchnorm=True),
                 "batch_size": 10, "learning_rate": 0.03})
    s.advance(5)
    f = s.frame()
    assert f["metrics"]["test_accuracy"] > 0.9
    from chainrule import nn
    names = [type(m).__name__ for m in s.net.model]
    assert sum(isinstance(m, nn.Dropout) for m in s.net.model) == 2
    assert names.count("BatchNorm1d") == 2
    send(s, type="set", settings={"layers": layers(8, 8, activation="relu", dropout=0.0,
                                                   batchnorm=True)})
    assert not any(isinstance(m, nn.Dropout) for m in s.net.model) and s.epoch == 5


def test_batchnorm_with_batch_size_one_trains_in_pairs():
    s = Session({"layers": layers(4, batchnorm=True), "batch_size": 1})
    s.advance(1)
    assert s.iteration == 125 and s.frame()["train_loss"] is not None


# -- divergence -------------------------------------------------------------------------------------
def test_divergence_is_reported_and_frames_stay_valid():
    s = Session({"dataset": "plane", "problem": "regression", "learning_rate": 10,
                 "layers": layers(8, 8, activation="linear")})
    send(s, type="play")
    notes = []
    for _ in range(20):
        notes += s.advance()
        if s.diverged:
            break
    assert s.diverged and not s.playing
    assert [n["code"] for n in notes] == ["diverged"]
    f = s.frame()
    assert f["diverged"] is True and f["train_loss"] is None
    json.dumps(f, allow_nan=False)
    assert types(send(s, type="play")) == ["error"]
    send(s, type="reset")
    assert not s.diverged and s.frame()["train_loss"] is not None


# -- weights, points -------------------------------------------------------------------------------
def test_edit_weight_and_bias():
    s = Session()
    send(s, type="edit_weight", layer=2, to=1, **{"from": 3}, value=-2.5)
    send(s, type="edit_bias", layer=3, unit=0, value=0.75)
    f = s.frame()
    assert f["weights"][1][1][3] == -2.5 and f["biases"][2][0] == 0.75
    err = send(s, type="edit_weight", layer=3, to=0, **{"from": 2}, value=1.0)
    assert types(err) == ["error"] and err[0]["field"] == "from"
    err = send(s, type="edit_weight", layer=4, to=0, **{"from": 0}, value=1.0)
    assert err[0]["field"] == "layer"


def test_add_and_delete_points_make_user_data():
    s = Session()
    n = len(s.points.train)
    replies = send(s, type="add_point", x1=1.0, x2=2.0, label=1)
    assert s.settings["dataset"] == "user" and len(s.points.train) == n + 1
    assert "dataset_switched" in [r.get("code") for r in replies]
    assert types(replies)[:2] == ["settings", "data"]
    send(s, type="add_point", x1=-5.9, x2=5.9, label=0, split="test")
    replies = send(s, type="delete_point", x1=-5.8, x2=5.8)
    assert len(s.points.test) == 250 and "error" not in types(replies)
    err = send(s, type="delete_point", x1=6, x2=-6, radius=0.01)
    assert types(err) == ["error"]
    # a third class makes the output softmax: reset
    replies = send(s, type="add_point", x1=0.0, x2=0.0, label=2)
    assert "reset" in [r.get("code") for r in replies] and s.points.classes == 3
    assert s.net.output.out_features == 3
    assert types(send(s, type="add_point", x1=0, x2=0, label=5)) == ["error"]
    assert types(send(s, type="regenerate")) == ["error"]


def test_clear_points_then_training_is_a_no_op():
    s = Session()
    send(s, type="clear_points")
    assert s.points.size == 0
    s.advance()
    f = s.frame()
    assert f["train_loss"] is None and f["metrics"]["test_accuracy"] is None


def test_regenerate_draws_new_points_and_keeps_the_network():
    s = Session()
    s.advance(1)
    before = s.points.train.copy()
    replies = send(s, type="regenerate")
    assert types(replies) == ["data", "notice"]
    assert not np.array_equal(before, s.points.train) and s.epoch == 1


def test_presets_apply_and_reset():
    from chainrule.playground.presets import PRESETS
    s = Session()
    for name in PRESETS:
        replies = send(s, type="preset", name=name)
        assert types(replies)[:2] == ["settings", "data"] and s.epoch == 0
        assert s.settings == PRESETS[name]["settings"]
        s.advance(1)
        s.frame()


def test_xor_needs_the_product_feature_or_a_hidden_layer():
    linear = Session()
    send(linear, type="preset", name="xor_with_product")
    linear.advance(30)
    assert linear.frame()["metrics"]["test_accuracy"] > 0.95
    plain = Session()
    send(plain, type="preset", name="xor_with_product")
    send(plain, type="set", settings={"features": ["x1", "x2"]})
    plain.advance(30)
    assert plain.frame()["metrics"]["test_accuracy"] < 0.8


# -- CSV ------------------------------------------------------------------------------------------
def test_csv_round_trip():
    s = Session()
    text = send(s, type="get_data_csv")[0]["text"]
    assert text.startswith("x1,x2,label,split\n") and text.count("\n") == 501
    other = Session({"dataset": "xor"})
    replies = send(other, type="upload_csv", text=text)
    assert "error" not in types(replies)
    np.testing.assert_array_equal(other.points.train, s.points.train)
    np.testing.assert_array_equal(other.points.test_labels, s.points.test_labels)
    assert other.settings["dataset"] == "user"


def test_csv_upload_splits_by_ratio_and_accepts_a_header():
    s = Session({"train_ratio": 80})
    rows = "\n".join(f"{i % 5},{i % 3 - 1},{i % 2}" for i in range(10))
    send(s, type="upload_csv", text="X1, x2 ,Label\n" + rows + "\n\n")
    assert len(s.points.train) == 8 and len(s.points.test) == 2
    s.advance(2)
    assert s.frame()["train_loss"] is not None


def test_csv_regression_labels_switch_the_problem():
    s = Session()
    replies = send(s, type="upload_csv", text="1,2,0.5\n-1,0,-0.25\n3,3,0.1\n")
    assert s.settings["problem"] == "regression" and s.points.problem == "regression"
    assert "reset" in [r.get("code") for r in replies]


@pytest.mark.parametrize("text, fragment", [
    ("1,2\n", "line 1: expected 3 or 4"),
    ("1,2,0\n1,abc,1\n", "line 2: x2 must be a number"),
    ("1,2,0\n7,0,1\n", "line 2: the point (7, 0) is outside"),
    ("1,2,0\n1,nan,1\n", "line 2: x2 must be finite"),
    ("1,2,0\n1,1,9\n", "line 2: class labels must be integers 0..7"),
    ("1,2,0\n", "need at least 2 points"),
    ("1,2,0,train\n1,1,1\n", "every line has a split"),
    ("1,2,0,test\n1,1,1,test\n", "no training points"),
    ("1,2,0,val\n1,1,1,test\n", "split must be 'train' or 'test'"),
    ("1,2,0.5\n1,1,3.5\n", "regression labels must lie in [-1, 1]"),
])
def test_bad_csv_is_rejected_with_the_line_and_nothing_changes(text, fragment):
    s = Session()
    before = s.points
    replies = send(s, type="upload_csv", id=9, text=text)
    assert types(replies) == ["error"]
    assert fragment in replies[0]["message"] and replies[0]["field"] == "text"
    assert replies[0]["id"] == 9 and s.points is before and s.settings["dataset"] == "circle"


def test_csv_point_limit():
    s = Session()
    text = "\n".join("0.5,0.5,1" for _ in range(5001))
    replies = send(s, type="upload_csv", text=text)
    assert types(replies) == ["error"] and "too many points" in replies[0]["message"]


# -- backprop factors -------------------------------------------------------------------------------
@pytest.mark.parametrize("settings", [
    {},
    {"layers": layers(5, 3, activation="relu", batchnorm=True), "loss": "cross_entropy"},
    {"dataset": "spirals", "classes": 3, "loss": "cross_entropy", "layers": layers(4, 4, activation="sigmoid")},
    {"dataset": "blobs", "classes": 3, "loss": "mse", "layers": layers(3, activation="elu")},
    {"dataset": "plane", "problem": "regression", "layers": layers(3, activation="leakyrelu")},
])
def test_backprop_factors_multiply_to_the_gradient(settings):
    s = Session(settings)
    s.advance(2)
    hidden = len(s.net.hidden)
    for layer in range(1, hidden + 2):
        reply = send(s, type="backprop", id=2, layer=layer, to=0, **{"from": 1})[0]
        assert reply["type"] == "backprop" and reply["id"] == 2
        ex = reply["example"]
        assert ex["contribution"] == pytest.approx(ex["dL_dz"] * ex["input_activation"], rel=1e-9)
        # the gradient is the mean contribution, and autograd's own gradient
        assert reply["examples"] == len(s.points.train)
        if layer <= hidden:
            scale = ex["batchnorm_scale"] or 1.0
            assert ex["dL_dz"] == pytest.approx(
                ex["dL_da"] * ex["activation_derivative"] * scale, rel=1e-4, abs=1e-9)
            first = ex["downstream"][0]
            assert first["layer"] == layer + 1
            assert ex["dL_da"] == pytest.approx(
                np.dot(first["weights_from_unit"], first["delta"]), rel=1e-6, abs=1e-12)
            assert len(ex["downstream"]) == hidden + 1 - layer
            assert ex["downstream"][-1]["delta"] == pytest.approx(ex["dL_dout"])
        else:
            assert ex["downstream"] == [] and ex["dL_dz"] == pytest.approx(ex["dL_dout"][0])
    # the reported gradient equals a finite difference of the eval-mode training loss
    reply = send(s, type="backprop", layer=1, to=0, **{"from": 0})[0]
    w = s.net.linears()[0].weight
    s.net.model.double()
    s.train_features = s.train_features.astype(np.float64)
    h, losses = 1e-6, []
    for sign in (1, -1):
        w.array[0, 0] += sign * h
        out = s.net.capture(s.train_features)[1]
        losses.append(mean_loss(s.net.mode, out, s.targets()[0]))
        w.array[0, 0] -= sign * h
    assert reply["gradient"] == pytest.approx((losses[0] - losses[1]) / (2 * h), rel=1e-3,
                                              abs=1e-7)


def test_regularization_gradient():
    s = Session({"regularization": "L1", "regularization_rate": 0.01})
    reply = send(s, type="backprop", layer=1, to=0, **{"from": 0})[0]
    assert reply["regularization_gradient"] == pytest.approx(0.01 * np.sign(reply["weight"]))


# -- exports ----------------------------------------------------------------------------------------
def run_script(text, tmp_path, epochs):
    path = tmp_path / "experiment.py"
    path.write_text(text)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, str(path), str(epochs)], capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_exported_script_retraces_the_session(tmp_path):
    s = Session({"optimizer": "momentum", "regularization": "L2", "regularization_rate": 0.001})
    s.advance(15)
    f = s.frame()
    script = send(s, type="export_script", id=1)[0]
    assert script["type"] == "script" and script["filename"].endswith(".py")
    out = run_script(script["text"], tmp_path, 15)
    last = [line for line in out.splitlines() if line.startswith("epoch")][-1]
    train_loss = float(last.split("train loss")[1].split()[0])
    test_loss = float(last.split("test loss")[1].split()[0])
    assert train_loss == pytest.approx(f["train_loss"], abs=2e-4)
    assert test_loss == pytest.approx(f["test_loss"], abs=2e-4)
    accuracy = float(out.splitlines()[-1].split("test accuracy")[1])
    assert accuracy == pytest.approx(f["metrics"]["test_accuracy"], abs=1e-4)


def test_exported_script_with_user_points_bn_dropout_trains(tmp_path):
    s = Session({"layers": layers(6, activation="relu", dropout=0.1, batchnorm=True),
                 "optimizer": "adam", "learning_rate": 0.03, "loss": "cross_entropy"})
    send(s, type="add_point", x1=0.5, x2=0.5, label=1)
    send(s, type="add_point", x1=0.7, x2=0.1, label=2)
    text = send(s, type="export_script")[0]["text"]
    compile(text, "experiment.py", "exec")
    out = run_script(text, tmp_path, 20)
    accuracy = float(out.splitlines()[-1].split("test accuracy")[1])
    assert accuracy > 0.9


def test_saved_model_is_a_safetensors_state_dict(tmp_path):
    import chainrule as cr
    s = Session()
    s.advance(2)
    reply = send(s, type="save_model")[0]
    path = tmp_path / reply["filename"]
    path.write_bytes(base64.b64decode(reply["base64"]))
    state, meta = cr.io.load_with_metadata(path) if hasattr(cr.io, "load_with_metadata") else \
        (cr.load(path), None)
    assert set(state) == set(s.net.model.state_dict())
    np.testing.assert_array_equal(state["4.weight"].array, s.net.output.weight.array)
    if meta is not None:
        assert json.loads(meta["settings"]) == s.settings


def test_hello_lists_defaults_presets_and_limits():
    h = Session().hello()
    assert h["settings"] == DEFAULT_SETTINGS and h["protocol"] == 1
    assert {p["name"] for p in h["presets"]} >= {"xor_without_product", "deep_relu"}
    assert h["limits"]["max_units"] == 32 and 10 in h["choices"]["learning_rate"]


def test_quantise_columns_matches_quantise():
    from chainrule.playground.frames import quantise, quantise_columns
    values = np.random.default_rng(0).normal(size=(50, 4))
    values[:, 2] = 3.0                       # constant map
    values[5, 3] = np.nan                    # a non-finite cell
    for col, grid in enumerate(quantise_columns(values)):
        assert grid == quantise(values[:, col])
    assert quantise_columns(values)[2] == {"lo": 3.0, "hi": 3.0,
                                           "q": base64.b64encode(bytes(50)).decode()}


@pytest.mark.parametrize("settings", [
    {"dataset": "multigauss", "problem": "regression", "optimizer": "rmsprop",
     "learning_rate": 0.01, "regularization": "L1", "regularization_rate": 0.001},
    {"dataset": "spirals", "classes": 3, "loss": "mse", "optimizer": "adagrad", "init": "xavier",
     "layers": layers(6, activation="elu")},
])
def test_exported_script_retraces_regression_and_softmax_runs(settings, tmp_path):
    s = Session(dict(settings, samples=200))
    s.advance(4)
    f = s.frame()
    out = run_script(send(s, type="export_script")[0]["text"], tmp_path, 4)
    last = [line for line in out.splitlines() if line.startswith("epoch")][-1]
    assert float(last.split("train loss")[1].split()[0]) == pytest.approx(f["train_loss"],
                                                                          abs=2e-4)
    if s.points.problem == "regression":
        r2 = float(out.splitlines()[-1].split("test R2")[1])
        assert r2 == pytest.approx(f["metrics"]["test_r2"], abs=2e-4)


def test_every_preset_exports_a_script_that_compiles():
    from chainrule.playground.presets import PRESETS
    s = Session()
    for name in PRESETS:
        send(s, type="preset", name=name)
        compile(send(s, type="export_script")[0]["text"], name, "exec")


# -- issue 19, bug 3: a run whose gradient vanished says why -----------------------------------------
def relu_spiral():
    layers = [{"units": u, "activation": "relu", "dropout": 0, "batchnorm": False}
              for u in (8, 6, 2)]
    s = Session()
    send(s, type="set", settings={"dataset": "spiral", "layers": layers, "optimizer": "adam",
                                  "learning_rate": 0.01,
                                  "features": ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1",
                                               "sinx2"]})
    return s


def stall_notices(replies):
    return [r for r in replies if r["type"] == "notice" and r["code"] == "stalled"]


def test_a_saturated_tanh_output_is_reported_once():
    s = relu_spiral()
    assert not stall_notices(s.advance(2))          # a healthy start says nothing
    out = s.net.output
    out.weight.array[:] = 1e4                       # tanh(huge) is exactly +-1 in float32
    out.bias.array[:] = 1e4
    notes = stall_notices(s.advance(1))
    assert len(notes) == 1, notes
    text = notes[0]["message"]
    assert "gradient is zero" in text and "tanh" in text and "saturated" in text
    assert not stall_notices(s.advance(1))          # said once, not every frame
    send(s, type="reset")
    assert not stall_notices(s.advance(1))


def test_dead_relu_units_are_reported():
    s = relu_spiral()
    for layer in s.net.hidden:                      # every unit off on every point
        layer.linear.bias.array[:] = -1e3
    notes = stall_notices(s.advance(1))
    assert len(notes) == 1 and "dead" in notes[0]["message"]
    assert "most ReLU units" in notes[0]["message"]
    assert "layer 1: 8 of 8, layer 2: 6 of 6" in notes[0]["message"]


# -- issue 19, bug 4: dropout masks come from a seeded stream the script draws too -------------------
def test_exported_script_with_dropout_retraces_the_session(tmp_path):
    s = Session({"layers": layers(8, 4, dropout=0.3), "samples": 200})
    s.advance(6)
    f = s.frame()
    out = run_script(send(s, type="export_script")[0]["text"], tmp_path, 6)
    last = [line for line in out.splitlines() if line.startswith("epoch")][-1]
    assert float(last.split("test loss")[1].split()[0]) == pytest.approx(f["test_loss"], abs=2e-4)
    assert float(last.split("train loss")[1].split()[0]) == pytest.approx(f["train_loss"],
                                                                          abs=2e-4)


def test_dropout_masks_do_not_depend_on_other_sessions_or_the_global_generator():
    import chainrule as cr
    runs = []
    for noise in (0, 1):
        cr.manual_seed(noise)                 # another tab, or user code, drawing from the global
        s = Session({"layers": layers(8, dropout=0.5), "samples": 100})
        s.advance(3)
        runs.append(s.frame()["train_loss"])
    assert runs[0] == runs[1]


# -- issue 19: residual connections ------------------------------------------------------------------
def test_residual_connections_skip_equal_width_layers_and_export(tmp_path):
    from chainrule.playground.network import Residual
    s = Session({"layers": layers(6, 6, 6, 3), "residual": True, "samples": 200,
                 "dataset": "spiral", "optimizer": "adam", "learning_rate": 0.01})
    assert [layer.skip for layer in s.net.hidden] == [False, True, True, False]
    assert sum(isinstance(m, Residual) for m in s.net.model) == 2
    x = s.train_features[:5]
    acts, _ = s.net.capture(x)
    lin = s.net.hidden[1].linear
    expected = np.tanh(acts[1] @ lin.weight.array.T + lin.bias.array) + acts[1]
    np.testing.assert_allclose(acts[2], expected, rtol=1e-5, atol=1e-6)
    s.advance(4)
    f = s.frame()
    out = run_script(send(s, type="export_script")[0]["text"], tmp_path, 4)
    last = [line for line in out.splitlines() if line.startswith("epoch")][-1]
    assert float(last.split("test loss")[1].split()[0]) == pytest.approx(f["test_loss"], abs=2e-4)
    # The backprop factors still multiply to the gradient with a skip path in the chain.
    reply = send(s, type="backprop", layer=2, to=1, **{"from": 2})[0]
    ex = reply["example"]
    assert ex["dL_da"] * ex["activation_derivative"] * ex["input_activation"] == \
        pytest.approx(ex["contribution"], rel=1e-4, abs=1e-9)
    replies = send(s, type="set", settings={"residual": False})
    assert any(r.get("code") == "reset" for r in replies)
    assert not any(layer.skip for layer in s.net.hidden)
