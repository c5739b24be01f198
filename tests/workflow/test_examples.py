"""Smoke tests: every workflow example runs at its reduced (--quick) size and shows its point."""
import importlib.util
import os
import subprocess
import sys

import pytest

from workflow_helpers import MNIST_DIR

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xor_needs_a_hidden_layer_or_the_product_feature(capsys):
    results = _load("xor").main(quick=True, device="cpu")
    assert results["perceptron"][0] <= 0.75          # a line cannot separate XOR
    assert results["hidden layer"][0] == 1.0
    assert results["perceptron + x1*x2"][0] == 1.0
    assert "hidden layer" in capsys.readouterr().out


def test_playground_datasets_quick():
    accuracy = _load("playground_datasets").main(quick=True, device="cpu")
    assert set(accuracy) == {"circle", "xor", "gaussian", "spiral"}
    assert min(accuracy[k] for k in ("circle", "xor", "gaussian")) > 0.85


def test_regression_quick():
    result = _load("regression").main(quick=True, device="cpu")
    assert abs(result["slope"] - 2) < 0.1 and abs(result["intercept"] + 1) < 0.1
    assert result["r2"] > 0.3


@pytest.mark.skipif(not os.path.isdir(MNIST_DIR), reason="shared MNIST files not present")
def test_mnist_mlp_quick():
    result = _load("mnist_mlp").main(quick=True, root=MNIST_DIR, device="cpu")
    assert result["accuracy"] > 0.3


def test_script_entry_point_honours_chainrule_ci():
    env = {**os.environ, "CHAINRULE_CI": "1"}
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, "xor.py"), "--device", "cpu"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "perceptron + x1*x2" in proc.stdout


@pytest.mark.parametrize("config", sorted(f for f in os.listdir(os.path.join(EXAMPLES, "configs"))
                                          if f.endswith(".toml")))
def test_example_configs_build_and_pass_the_dry_run(config):
    from chainrule.train.config import build_all, load_config
    path = os.path.join(EXAMPLES, "configs", config)
    cfg = load_config(path)
    if cfg["data"]["source"] in ("mnist", "text") and not os.path.isdir(MNIST_DIR):
        pytest.skip("shared data not present")
    parts = build_all(cfg, os.path.dirname(path))
    assert parts["output_shape"][0] == 2


def test_readme_training_workflow_snippet_runs(tmp_path, monkeypatch):
    readme = open(os.path.join(EXAMPLES, "..", "README.md")).read()
    code = readme.split("## Training workflow", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(code.replace("epochs=150", "epochs=3"), {"__name__": "readme"})
    assert (tmp_path / "spiral.safetensors").exists() and (tmp_path / "history.csv").exists()


@pytest.mark.parametrize("script,flag,what", [
    ("mnist_mlp", "--root", "t10k-images-idx3-ubyte"), ("mnist_cnn", "--root", "t10k-images-idx3-ubyte"),
    ("resnet_small", "--root", "t10k-images-idx3-ubyte"), ("char_lstm", "--text", "tiny Shakespeare"),
    ("char_transformer", "--text", "tiny Shakespeare")])
def test_data_examples_explain_missing_data_without_a_traceback(script, flag, what, tmp_path):
    missing = tmp_path / "absent"
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, f"{script}.py"), flag, str(missing),
                           "--quick", "--device", "cpu"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert str(missing) in proc.stderr and what in proc.stderr and flag in proc.stderr
    assert "https://" in proc.stderr


@pytest.mark.skipif(__import__("chainrule").cuda.is_available(), reason="CUDA is available here")
@pytest.mark.parametrize("script", ["xor", "regression", "playground_datasets", "mnist_mlp",
                                    "mnist_cnn", "resnet_small", "char_lstm", "char_transformer"])
def test_examples_without_cuda_refuse_device_cuda_with_the_reason(script):
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, f"{script}.py"), "--device", "cuda",
                           "--quick"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    assert "Traceback" not in proc.stderr
    assert ("--device cuda: CUDA is not available here (needs a GPU and CuPy: pip install "
            "'chainrule[cuda]')") in proc.stderr
