"""vision.models.resnet18/34: torchvision's architecture and state_dict keys; the forward pass is
checked against the same network written with PyTorch's functional ops on the copied weights."""
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.vision import models

torch = pytest.importorskip("torch")


def torch_resnet_forward(state, x, blocks):
    """ResNet in eval mode from a state_dict of torch tensors, with torch.nn.functional only."""
    F = torch.nn.functional

    def bn(prefix, y):
        return F.batch_norm(y, state[prefix + ".running_mean"], state[prefix + ".running_var"],
                            state[prefix + ".weight"], state[prefix + ".bias"], False, 0.0, 1e-5)

    y = F.relu(bn("bn1", F.conv2d(x, state["conv1.weight"], stride=2, padding=3)))
    y = F.max_pool2d(y, 3, 2, 1)
    for stage, count in enumerate(blocks, start=1):
        for b in range(count):
            p = f"layer{stage}.{b}"
            stride = 2 if stage > 1 and b == 0 else 1
            out = F.relu(bn(p + ".bn1", F.conv2d(y, state[p + ".conv1.weight"], stride=stride, padding=1)))
            out = bn(p + ".bn2", F.conv2d(out, state[p + ".conv2.weight"], padding=1))
            shortcut = y
            if p + ".downsample.0.weight" in state:
                shortcut = bn(p + ".downsample.1", F.conv2d(y, state[p + ".downsample.0.weight"], stride=stride))
            y = F.relu(out + shortcut)
    y = F.adaptive_avg_pool2d(y, 1).flatten(1)
    return F.linear(y, state["fc.weight"], state["fc.bias"])


IN_CI = os.environ.get("CI") == "true"


@pytest.mark.parametrize("build,blocks", [
    (models.resnet18, [2, 2, 2, 2]),
    pytest.param(models.resnet34, [3, 4, 6, 3], marks=pytest.mark.skipif(IN_CI, reason="reduced under CI"))])
def test_resnet_matches_the_functional_pytorch_network(build, blocks):
    cr.manual_seed(0)
    model = build(num_classes=5).double()
    for name, buf in model.named_buffers():           # non-trivial running statistics
        if name.endswith("running_mean"):
            buf.copy_(cr.randn(*buf.shape, dtype=cr.float64) * 0.1)
        elif name.endswith("running_var"):
            buf.copy_(cr.rand(*buf.shape, dtype=cr.float64) + 0.5)
    model.eval()
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32))
    state = {k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()}
    expected = torch_resnet_forward(state, torch.tensor(x), blocks)
    np.testing.assert_allclose(model(cr.tensor(x)).detach().numpy(), expected.numpy(), rtol=1e-7, atol=1e-9)


def test_resnet18_shape_keys_and_init():
    model = models.resnet18()
    assert sum(p.numel() for p in model.parameters()) == 11_689_512
    keys = list(model.state_dict())
    assert keys[:3] == ["conv1.weight", "bn1.weight", "bn1.bias"] and keys[-2:] == ["fc.weight", "fc.bias"]
    assert "layer2.0.downsample.0.weight" in keys and "layer1.0.downsample.0.weight" not in keys
    assert model.fc.in_features == 512
    w = model.conv1.weight.detach().numpy()
    assert abs(w.std() - (2 / (64 * 49)) ** 0.5) < 0.003      # kaiming normal, fan_out
    assert (model.bn1.weight.detach().numpy() == 1).all() and (model.bn1.bias.detach().numpy() == 0).all()


def test_siamese_style_surgery_trains():
    model = models.resnet18(weights=None)
    model.conv1 = cr.nn.Conv2d(1, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)
    trunk = cr.nn.Sequential(*(list(model.children())[:-1]))
    features = trunk(cr.randn(2, 1, 28, 28))
    assert tuple(features.shape) == (2, 512, 1, 1)
    features.sum().backward()
    assert model.conv1.weight.grad is not None


def test_pretrained_weights_are_refused_clearly():
    with pytest.raises(ValueError, match="resnet18: chainrule has no pretrained weights"):
        models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(ValueError, match="resnet34"):
        models.resnet34(pretrained=True)
