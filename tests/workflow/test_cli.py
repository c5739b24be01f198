import json
import os

import pytest

click = pytest.importorskip("click")
from click.testing import CliRunner  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.cli import build_cli  # noqa: E402
from chainrule.train.config import ConfigError, build_all, check_config  # noqa: E402

BASE = """
seed = 0
epochs = {epochs}
batch_size = 16
metrics = ["accuracy"]

[data]
source = "playground"
name = "circle"
n = 120
seed = 1
val_fraction = 0.25

[model]
layers = [{{type = "Linear", in = 2, out = 6}}, {{type = "Tanh"}}, {{type = "Linear", in = 6, out = 2}}]

[loss]
type = "CrossEntropyLoss"

[optimizer]
type = "Adam"
lr = 0.05
"""


def _run(*args):
    result = CliRunner().invoke(build_cli(), list(map(str, args)), catch_exceptions=False)
    return result.exit_code, result.output


def _config(tmp_path, text=None, epochs=3):
    path = tmp_path / "cfg.toml"
    path.write_text(text if text is not None else BASE.format(epochs=epochs))
    return path


def test_train_eval_predict_info_round_trip(tmp_path):
    out = tmp_path / "run"
    code, text = _run("train", _config(tmp_path, epochs=4), "--output", out, "--quiet")
    assert code == 0, text
    assert "finished 4 epochs" in text and "val_accuracy" in text
    for name in ("checkpoint.safetensors", "history.csv", "history.json", "config.toml", "log.csv"):
        assert (out / name).exists(), name
    hist = json.loads((out / "history.json").read_text())
    assert len(hist["history"]["loss"]) == 4

    code, text = _run("eval", out / "checkpoint.safetensors", "--json")
    assert code == 0, text
    res = json.loads(text)
    assert res["samples"] == 30 and res["accuracy"] == pytest.approx(hist["history"]["val_accuracy"][-1])

    points = tmp_path / "points.csv"
    points.write_text("x2,x1\n0,0\n0,4.5\n")
    code, text = _run("predict", out / "checkpoint.safetensors", points, "-o", tmp_path / "pred.csv")
    assert code == 0, text
    rows = (tmp_path / "pred.csv").read_text().splitlines()
    assert rows[0] == "prediction,p_0,p_1" and len(rows) == 3

    code, text = _run("info", out / "checkpoint.safetensors")
    assert code == 0 and "total" in text and "32" in text and "epoch: 4" in text  # 2*6+6+6*2+2 = 32


def test_train_resume_continues(tmp_path):
    out = tmp_path / "run"
    _run("train", _config(tmp_path, epochs=2), "-o", out, "-q")
    code, text = _run("train", _config(tmp_path, epochs=3), "-o", out, "-q", "--resume")
    assert code == 0, text
    assert len(json.loads((out / "history.json").read_text())["history"]["loss"]) == 3


def test_train_refuses_to_replace_a_run_unless_told_to(tmp_path):
    out = tmp_path / "run"
    assert _run("train", _config(tmp_path, epochs=2), "-o", out, "-q")[0] == 0
    before = (out / "checkpoint.safetensors").read_bytes()
    code, text = _run("train", _config(tmp_path, epochs=3), "-o", out, "-q")
    assert code != 0 and "already holds a run" in text and "--overwrite" in text, text
    assert (out / "checkpoint.safetensors").read_bytes() == before
    code, text = _run("train", _config(tmp_path, epochs=3), "-o", out, "-q", "--overwrite")
    assert code == 0 and "finished 3 epochs" in text, text
    assert len(json.loads((out / "history.json").read_text())["history"]["loss"]) == 3


def test_train_writes_into_an_existing_folder_without_a_run(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert _run("train", _config(tmp_path, epochs=1), "-o", out, "-q")[0] == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "checkpoint.safetensors").exists()


def test_bench_usage_names_the_command_it_was_run_as():
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "chainrule.cli", "bench", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: chainrule bench"), proc.stdout


def test_command_help_lines_start_with_a_capital():
    code, text = _run("--help")
    assert code == 0
    listed = text.split("Commands:", 1)[1].strip().splitlines()
    assert len(listed) >= 7
    for line in listed:
        name, summary = line.split(None, 1)
        assert summary[0].isupper(), line


def test_info_on_a_plain_state_dict(tmp_path):
    cr.save(cr.nn.Linear(3, 4).state_dict(), tmp_path / "w.safetensors")
    code, text = _run("info", tmp_path / "w.safetensors")
    assert code == 0 and "weight" in text and "16" in text


@pytest.mark.parametrize("edit, key, words", [
    (("epochs = {epochs}", "epoch = 3"), "epoch", "did you mean 'epochs'"),
    (('type = "Tanh"', 'type = "Tanhh"'), "model.layers[1].type", "accepted: ["),
    (("in = 6, out = 2", "in = 7, out = 2"), "model.layers[2]", "shape (2, 6)"),
    (('type = "CrossEntropyLoss"', 'type = "CELoss"'), "loss.type", "CrossEntropyLoss"),
    (('type = "Adam"', 'type = "Adamm"'), "optimizer.type", "did you mean 'Adam'"),
    (("lr = 0.05", "lr = 0.05\nmomentum = 0.9"), "optimizer.momentum", "Adam has no argument"),
    (('name = "circle"', 'name = "circles"'), "data.name", "accepted:"),
    (('source = "playground"', 'source = "sql"'), "data.source", "accepted: ['csv', 'mnist'"),
    (("[loss]", "[lost]"), "lost", "unknown key"),
    (("in = 2, out = 6", "in = 2"), "model.layers[0]", "needs ['out_features']"),
    (('type = "Adam"', 'type = "Adma"'), "optimizer.type", "did you mean 'Adam'?"),
    (('source = "playground"', 'source = "playgound"'), "data.source",
     "did you mean 'playground'?"),
    (("lr = 0.05", 'lr = "fast"'), "optimizer.lr", "must be a number, got 'fast' (a string)"),
    (("lr = 0.05", "lr = 0.05\nbetas = [0.9]"), "optimizer.betas", "a list of 2 numbers"),
    (("lr = 0.05", "lr = 0.05\namsgrad = 1"), "optimizer.amsgrad", "must be true or false"),
    (("lr = 0.05", 'lr = 0.05\n[scheduler]\ntype = "StepLR"\nstep_size = 2\ngamma = "half"'),
     "scheduler.gamma", "must be a number, got 'half'"),
    (("lr = 0.05", 'lr = 0.05\n[scheduler]\ntype = "StepLR"\nstep_size = "two"'),
     "scheduler.step_size", "must be an integer, got 'two'"),
    (("lr = 0.05", 'lr = 0.05\n[scheduler]\ntype = "ReduceLROnPlateau"\nmode = "mx"'),
     "scheduler.mode", "did you mean 'max'?"),
    (("lr = 0.05", 'lr = 0.05\n[early_stopping]\nmonitor = "val_los"'),
     "early_stopping.monitor", "did you mean 'val_loss'?"),
    (("lr = 0.05", 'lr = 0.05\n[early_stopping]\nmonitor = "val_acuracy"'),
     "early_stopping.monitor", "it logs: ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'lr']"),
    (("lr = 0.05", 'lr = 0.05\n[early_stopping]\npatience = "ten"'),
     "early_stopping.patience", "must be an integer, got 'ten' (a string)"),
    (("lr = 0.05", 'lr = 0.05\n[early_stopping]\nmode = "minn"'),
     "early_stopping.mode", "did you mean 'min'?"),
    (("lr = 0.05", 'lr = 0.05\n[early_stopping]\npatient = 3'),
     "early_stopping.patient", "did you mean 'patience'?"),
    (("val_fraction = 0.25", 'val_fraction = "a quarter"'), "data.val_fraction",
     "must be a number"),
    (("val_fraction = 0.25", 'val_fraction = 0.25\nval_split = "lats"'), "data.val_split",
     "did you mean 'last'?"),
    (("n = 120", 'n = "many"'), "data.n", "must be an integer"),
    (("seed = 0", "seed = 0.5"), "seed", "must be an integer"),
    (("batch_size = 16", "batch_size = 16\nclip_grad_norm = \"1\""), "clip_grad_norm",
     "must be a number"),
    (('type = "CrossEntropyLoss"', 'type = "CrossEntropyLoss"\nreduction = "meen"'),
     "loss.reduction", "did you mean 'mean'?"),
])
def test_config_errors_name_the_key_before_training(tmp_path, edit, key, words):
    text = BASE.replace(*edit) if "{epochs}" in edit[0] else BASE.format(epochs=3).replace(*edit)
    if "{epochs}" in edit[0]:
        text = text.format(epochs=3)
    out = tmp_path / "run"
    code, output = _run("train", _config(tmp_path, text), "-o", out, "-q")
    assert code != 0
    assert f"'{key}'" in output and words in output, output
    assert not (out / "checkpoint.safetensors").exists()


def test_missing_required_section_and_bad_toml(tmp_path):
    code, output = _run("train", _config(tmp_path, "epochs = 1\n[data]\nsource='playground'\nname='xor'\n"))
    assert code != 0 and "'model'" in output and "required" in output
    code, output = _run("train", _config(tmp_path, "epochs = = 1"))
    assert code != 0 and "not valid TOML" in output


def test_loss_shape_mismatch_is_caught_by_the_dry_run():
    cfg = check_config({
        "data": {"source": "playground", "name": "plane", "n": 20},
        "model": {"layers": [{"type": "Linear", "in": 2, "out": 3}]},
        "loss": "MSELoss", "optimizer": {"type": "SGD", "lr": 0.1}})
    with pytest.raises(ConfigError, match="'loss'.*shape \\(2, 3\\)"):
        build_all(cfg)


def test_data_placeholders_and_csv_source(tmp_path):
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("a,b,c,label\n" + "".join(f"{i},{i % 3},{-i},{i % 2}\n" for i in range(40)))
    cfg = check_config({
        "data": {"source": "csv", "path": str(csv_path), "target": "label", "scale": "standard"},
        "model": {"layers": [{"type": "Linear", "in": "@n_features", "out": "@n_classes"}]},
        "loss": "CrossEntropyLoss", "optimizer": {"type": "SGD", "lr": 0.1}})
    parts = build_all(cfg)
    assert parts["output_shape"] == (2, 2) and len(parts["train"]) == 32
    assert parts["info"]["features"] == ["a", "b", "c"]


def test_missing_click_gives_a_clear_message(monkeypatch, capsys):
    import builtins

    from chainrule import cli
    real_import = builtins.__import__

    def no_click(name, *args, **kwargs):
        if name == "click":
            raise ImportError("No module named 'click'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_click)
    assert cli.main(["--help"]) == 1
    assert "pip install 'chainrule[cli]'" in capsys.readouterr().err


def test_workflow_commands_are_registered_and_load():
    from chainrule.cli import COMMANDS, _load
    for name in ("train", "eval", "predict", "info"):
        target = COMMANDS[name]
        assert isinstance(_load(target), click.Command), name


def test_a_val_monitor_without_validation_data_says_so(tmp_path):
    text = BASE.format(epochs=3).replace("val_fraction = 0.25", "val_fraction = 0.0") + \
        '[early_stopping]\nmonitor = "val_loss"\n'
    code, output = _run("train", _config(tmp_path, text), "-o", tmp_path / "run", "-q")
    assert code != 0 and "'early_stopping.monitor'" in output
    assert "no validation part" in output and "it logs: ['loss', 'accuracy', 'lr']" in output


def test_a_valid_early_stopping_table_trains(tmp_path):
    text = BASE.format(epochs=3) + '[early_stopping]\nmonitor = "val_accuracy"\npatience = 1\n'
    code, output = _run("train", _config(tmp_path, text), "-o", tmp_path / "run", "-q")
    assert code == 0, output
