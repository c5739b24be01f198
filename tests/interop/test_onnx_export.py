"""cr.onnx.export checked by ONNX Runtime: every exported model gives chainrule's outputs on
random inputs, at a batch size other than the one traced (dynamic batch)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from interop_models import MODELS, example_input

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def export_and_run(model, x, tmp_path, batch=5, **kwargs):
    """Export ``model`` traced on ``x`` with a dynamic batch axis, run ONNX Runtime on a fresh
    input of ``batch`` rows and return (onnx runtime's output, chainrule's output)."""
    path = tmp_path / "model.onnx"
    model.eval()
    cr.onnx.export(model, (x,), path, input_names=["input"], output_names=["output"],
                   dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, **kwargs)
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    assert proto.ir_version <= 10
    rng = np.random.default_rng(7)
    shape = (batch,) + tuple(x.shape[1:])
    fresh = (rng.integers(0, 20, size=shape) if x.dtype == cr.int64
             else rng.standard_normal(shape)).astype(x.numpy().dtype)
    got = ort.InferenceSession(str(path)).run(None, {"input": fresh})[0]
    with cr.no_grad():
        expected = model(cr.from_numpy(fresh)).numpy()
    return got, expected


def assert_matches(got, expected):
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(MODELS))
def test_course_models(name, tmp_path):
    cr.manual_seed(0)
    model = MODELS[name][0](nn)
    x = cr.from_numpy(example_input(name, np.random.default_rng(0)))
    assert_matches(*export_and_run(model, x, tmp_path))


ACTIVATIONS = [nn.ReLU(), nn.ReLU6(), nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU(0.2), nn.ELU(0.7),
               nn.SELU(), nn.Softplus(), nn.Softplus(beta=2.0, threshold=3.0), nn.GELU(),
               nn.GELU(approximate="tanh"), nn.SiLU(), nn.Mish(), nn.Hardtanh(-0.5, 0.8),
               nn.Hardsigmoid(), nn.Hardswish(), nn.Softsign(), nn.PReLU(16),
               nn.Softmax(dim=1), nn.LogSoftmax(dim=1)]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: repr(a))
def test_mlp_with_each_activation(act, tmp_path):
    cr.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 16), act, nn.Linear(16, 3))
    assert_matches(*export_and_run(model, cr.randn(4, 6) * 3, tmp_path))


def test_cnn_layers(tmp_path):
    cr.manual_seed(2)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2), nn.Dropout(0.3),
        nn.AvgPool2d(2, ceil_mode=True), nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1,
                                                            output_padding=1),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(4, 4, 3, padding="same"),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    model.train()
    model(cr.randn(4, 3, 16, 16))       # running statistics that are not the defaults
    assert_matches(*export_and_run(model, cr.randn(2, 3, 16, 16), tmp_path))


@pytest.mark.parametrize("opset", [17, 18])     # 18 moves ReduceMean's axes into an input
def test_conv1d_pool1d_and_sized_upsampling(opset, tmp_path):
    cr.manual_seed(3)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(2, 4, 3, dilation=2)
            self.pool = nn.MaxPool1d(2)
            self.bn = nn.BatchNorm1d(4)
            self.up = nn.Upsample(size=(3, 14))

        def forward(self, x):
            y = self.bn(self.pool(self.conv(x)))          # (N, 4, 7)
            pooled = y.sum(dim=2, keepdim=True)[:, :1, None].squeeze(2)    # (N, 1, 1)
            return self.up(y.unsqueeze(1)).mean(dim=1) + pooled
    model = Net()
    assert_matches(*export_and_run(model, cr.randn(3, 2, 18), tmp_path, opset_version=opset))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_layers(kind, bidirectional, tmp_path):
    cr.manual_seed(4)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, kind)(5, 7, num_layers=2, batch_first=True,
                                         bidirectional=bidirectional)
            self.head = nn.Linear(7 * (2 if bidirectional else 1), 2)

        def forward(self, x):
            out, state = self.rnn(x)
            h = state[0] if kind == "LSTM" else state
            return self.head(out).sum(dim=1) + h.sum(dim=0).sum(dim=1, keepdim=True)
    assert_matches(*export_and_run(Net(), cr.randn(3, 6, 5), tmp_path))


def test_lstm_with_initial_state_sequence_first(tmp_path):
    cr.manual_seed(5)
    lstm = nn.LSTM(4, 3).eval()
    x, h0, c0 = cr.randn(5, 2, 4), cr.randn(1, 2, 3), cr.randn(1, 2, 3)
    path = tmp_path / "lstm.onnx"
    cr.onnx.export(lstm, (x, (h0, c0)), path, input_names=["x", "h0", "c0"],
                   output_names=["y", "h", "c"])
    got = ort.InferenceSession(str(path)).run(None, {"x": x.numpy(), "h0": h0.numpy(),
                                                     "c0": c0.numpy()})
    with cr.no_grad():
        y, (h, c) = lstm(x, (h0, c0))
    for a, b in zip(got, (y, h, c)):
        assert_matches(a, b.numpy())


def test_attention_and_transformer_layers(tmp_path):
    cr.manual_seed(6)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = nn.LayerNorm(8)
            self.attn = nn.MultiheadAttention(8, 2)           # sequence-first
            self.layer = nn.TransformerEncoderLayer(8, 4, 16, dropout=0.1, activation="gelu",
                                                    batch_first=True, norm_first=True)

        def forward(self, x):
            seq_first = self.norm(x).transpose(0, 1)
            attended, _ = self.attn(seq_first, seq_first, seq_first, need_weights=False)
            return self.layer(attended.transpose(0, 1))
    assert_matches(*export_and_run(Net(), cr.randn(2, 5, 8), tmp_path))


def test_embedding_indexing_and_slices(tmp_path):
    cr.manual_seed(7)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 6)

        def forward(self, tokens):
            e = self.embed(tokens)                            # (N, 9, 6)
            return cr.cat([e[:, 0], e[:, -1], e[..., 1:5:2].reshape(e.shape[0], -1)], dim=1)
    x = cr.from_numpy(np.random.default_rng(0).integers(0, 20, size=(3, 9)))
    assert_matches(*export_and_run(Net(), x, tmp_path))


def test_an_op_without_export_is_named(tmp_path):
    class Net(nn.Module):
        def forward(self, x):
            return x.cumsum(dim=1)
    with pytest.raises(cr.onnx.UnsupportedOperatorError, match="Cumsum"):
        cr.onnx.export(Net(), cr.randn(2, 3), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_module_options_without_export_are_named(tmp_path):
    attn = nn.MultiheadAttention(4, 2)
    x = cr.randn(3, 2, 4)
    with pytest.raises(cr.onnx.UnsupportedOperatorError, match="MultiheadAttention with "
                                                               "attn_mask"):
        cr.onnx.export(_Call(attn, attn_mask=cr.zeros(3, 3)), x, tmp_path / "m.onnx")
    with pytest.raises(cr.onnx.UnsupportedOperatorError, match="attention weights"):
        cr.onnx.export(_Call(attn, pick=1), x, tmp_path / "m.onnx")


class _Call(nn.Module):
    def __init__(self, attn, pick=0, **options):
        super().__init__()
        self.attn, self.pick, self.options = attn, pick, options

    def forward(self, x):
        return self.attn(x, x, x, **self.options)[self.pick]


def test_torch_options_and_unknown_ones(tmp_path):
    model = nn.Linear(2, 2)
    proto = cr.onnx.export(model, (cr.randn(1, 2),), None, dynamo=False,
                           do_constant_folding=True)
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Identity"]
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        cr.onnx.export(model, (cr.randn(1, 2),), tmp_path / "m.onnx", inpt_names=["x"])


def test_export_restores_training_mode(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model.train()
    cr.onnx.export(model, cr.randn(1, 2), tmp_path / "m.onnx")
    assert model.training and model[1].training


def test_transformer_encoder_with_dynamic_batch_and_length(tmp_path):
    cr.manual_seed(8)
    model = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                                  num_layers=2).eval()
    axes = {0: "batch", 1: "length"}
    cr.onnx.export(model, cr.randn(2, 5, 8), tmp_path / "m.onnx",
                   dynamic_axes={"input": axes, "output": axes})
    x = cr.randn(3, 7, 8)
    (got,) = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"input": x.numpy()})
    with cr.no_grad():
        assert_matches(got, model(x).numpy())


def test_export_under_the_reference_switch_leaves_the_ops_as_they_were(tmp_path):
    cr.manual_seed(9)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    x = cr.randn(1, 1, 4, 4)
    with cr.backends.reference():
        before = model(x).detach().numpy()
        got, expected = export_and_run(model, x, tmp_path, batch=2)
        nn.functional.conv2d(x, model[0].weight)    # no tracer is left watching the ops
        assert np.array_equal(model(x).detach().numpy(), before)
    assert_matches(got, expected)
