"""``load_state_dict`` returns and raises what PyTorch's does."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = lib.nn.Linear(3, 2)
            self.bn = lib.nn.BatchNorm1d(2)

        def forward(self, x):
            return self.bn(self.fc1(x))
    return Net()


def _state(lib, net):
    return {k: v.clone() for k, v in net.state_dict().items()}


def test_all_keys_matched_prints_as_in_torch():
    ours, theirs = _net(cr), _net(torch)
    a = ours.load_state_dict(_state(cr, ours))
    b = theirs.load_state_dict(_state(torch, theirs))
    assert repr(a) == repr(b) == str(a) == "<All keys matched successfully>"
    assert a.missing_keys == [] and a.unexpected_keys == [] and tuple(a) == ([], [])


def test_non_strict_lists_the_keys_as_torch_does():
    results = []
    for lib in (cr, torch):
        net = _net(lib)
        state = _state(lib, net)
        del state["fc1.bias"], state["bn.running_var"]
        state["extra.weight"] = lib.zeros(1)
        results.append(net.load_state_dict(state, strict=False))
    assert results[0] == tuple(results[1])
    assert repr(results[0]) == repr(results[1])


def test_strict_error_message_is_torchs():
    messages = []
    for lib in (cr, torch):
        net = _net(lib)
        state = _state(lib, net)
        del state["fc1.bias"]
        state["extra.weight"] = lib.zeros(1)
        with pytest.raises(RuntimeError) as info:
            net.load_state_dict(state)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith("Error(s) in loading state_dict for Net:\n\tMissing key(s) in "
                                  "state_dict: \"fc1.bias\".")


def test_assign_takes_the_checkpoints_arrays():
    net = _net(cr)
    state = {k: v.clone().double() for k, v in net.state_dict().items()}
    net.load_state_dict(state, assign=True)
    assert net.fc1.weight.dtype is cr.float64 and net.fc1.weight.requires_grad
    state["fc1.weight"].array[0, 0] = 5.0    # the module uses that very memory
    assert net.fc1.weight[0, 0].item() == 5.0
    copied = _net(cr)
    copied.load_state_dict(state)
    assert copied.fc1.weight.dtype is cr.float32
    np.testing.assert_allclose(copied.fc1.weight.detach().numpy(), net.fc1.weight.detach().numpy(),
                               rtol=1e-6)
