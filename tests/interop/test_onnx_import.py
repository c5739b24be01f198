"""cr.onnx.load: graphs exported by PyTorch and by chainrule run in chainrule, match ONNX
Runtime, and train."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from interop_models import MODELS, example_input

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def torch_export(model, x, path):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # the TorchScript exporter's deprecation notice
        torch.onnx.export(model.eval(), (torch.from_numpy(x),), str(path), dynamo=False,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def torch_models():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tnn = torch.nn
    mlp = tnn.Sequential(tnn.Linear(10, 32), tnn.ReLU(), tnn.Linear(32, 32), tnn.Tanh(),
                         tnn.Linear(32, 4))
    cnn = tnn.Sequential(tnn.Conv2d(1, 6, 3, padding=1), tnn.BatchNorm2d(6), tnn.ReLU(),
                         tnn.MaxPool2d(2), tnn.Conv2d(6, 8, 3), tnn.ReLU(),
                         tnn.AvgPool2d(2), tnn.Flatten(), tnn.Linear(8 * 2 * 2, 5))
    return {"mlp": (mlp, (10,)), "cnn": (cnn, (1, 12, 12))}


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_pytorch_exported_models_run_and_train(name, tmp_path):
    model, feature_shape = torch_models()[name]
    rng = np.random.default_rng(0)
    path = tmp_path / f"{name}.onnx"
    torch_export(model, rng.standard_normal((2,) + feature_shape).astype("float32"), path)
    loaded = cr.onnx.load(path)
    x = rng.standard_normal((6,) + feature_shape).astype("float32")
    expected = ort.InferenceSession(str(path)).run(None, {"input": x})[0]
    with cr.no_grad():
        got = loaded(cr.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

    # fine-tuning: the graph's weights are parameters and a few steps fit a target
    target = cr.from_numpy(rng.standard_normal(expected.shape).astype("float32"))
    opt = cr.optim.SGD(loaded.parameters(), lr=0.05)
    assert len(list(loaded.parameters())) >= 4
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = nn.functional.mse_loss(loaded(cr.from_numpy(x)), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("name", list(MODELS))
def test_chainrule_exports_load_back(name, tmp_path):
    cr.manual_seed(0)
    model = MODELS[name][0](nn).eval()
    x = cr.from_numpy(example_input(name, np.random.default_rng(0)))
    cr.onnx.export(model, x, tmp_path / "m.onnx", dynamic_axes={"input": {0: "batch"}})
    loaded = cr.onnx.load(tmp_path / "m.onnx")
    fresh = cr.from_numpy(example_input(name, np.random.default_rng(1), batch=4))
    with cr.no_grad():
        np.testing.assert_allclose(loaded(fresh).numpy(), model(fresh).numpy(),
                                   rtol=1e-5, atol=1e-6)
    out = loaded(fresh)
    out.sum().backward()
    grads = [p.grad for p in loaded.parameters()]
    assert grads and all(g is not None for g in grads)


def test_an_operator_without_import_is_named(tmp_path):
    from onnx import TensorProto, helper
    graph = helper.make_graph([helper.make_node("Det", ["x"], ["y"], name="det")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(cr.onnx.UnsupportedOperatorError, match="Det"):
        cr.onnx.load(model)
    with pytest.raises(FileNotFoundError, match="no such file"):
        cr.onnx.load(tmp_path / "missing.onnx")


@pytest.mark.parametrize("name", ["lstm", "transformer"])
def test_pytorch_exported_sequence_models_run(name, tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = MODELS[name][0](torch.nn)
    path = tmp_path / f"{name}.onnx"
    torch_export(model, example_input(name, np.random.default_rng(0)), path)
    loaded = cr.onnx.load(path)
    x = example_input(name, np.random.default_rng(1), batch=4)
    expected = ort.InferenceSession(str(path)).run(None, {"input": x})[0]
    out = loaded(cr.from_numpy(x))
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    out.square().mean().backward()
    assert all(p.grad is not None for p in loaded.parameters())
