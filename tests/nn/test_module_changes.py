"""The count of module changes that cr.compile's guards read first: every way of editing a
module through its methods and tables moves it, and a compiled module sees each such edit."""
import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.module_changes import WatchedDict, changes


def _edits():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(nn.Linear(2, 2))
    handle = []
    return [
        lambda: setattr(lin, "note", 1),
        lambda: setattr(lin, "weight", nn.Parameter(cr.zeros(2, 2))),
        lambda: lin.register_buffer("mask", cr.ones(2)),
        lambda: delattr(lin, "mask"),
        lambda: lin.add_module("child", nn.ReLU()),
        lambda: seq.append(nn.Tanh()),
        lambda: seq.__delitem__(0),
        lambda: handle.append(lin.register_forward_hook(lambda *a: None)),
        lambda: handle.pop().remove(),
        lambda: lin._parameters.__setitem__("bias", nn.Parameter(cr.zeros(2))),
        lambda: lin._parameters.pop("bias"),
        lambda: lin._modules.clear(),
        lambda: lin._buffers.update(extra=cr.zeros(1)),
        lambda: lin.eval(),
    ]


@pytest.mark.parametrize("k", range(len(_edits())))
def test_every_edit_through_modules_and_their_tables_is_counted(k):
    edits = _edits()
    for edit in edits[:k]:
        edit()
    before = changes()
    edits[k]()
    assert changes() > before


def test_reads_are_not_counted_and_the_tables_copy_and_pickle_as_dicts():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    before = changes()
    list(model.parameters()), model.state_dict(), model[0].weight, len(model), repr(model)
    assert changes() == before
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert type(twin[0]._parameters) is WatchedDict
        assert list(twin[0]._parameters) == ["weight", "bias"]
        np.testing.assert_array_equal(twin[0].weight.detach().numpy(),
                                      model[0].weight.detach().numpy())


def test_a_compiled_module_sees_edits_to_its_tables():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3))
    compiled = cr.compile(model)
    x = cr.randn(2, 3)
    for _ in range(3):
        compiled(x)
    replays = compiled._compiled_call.replays
    model.append(nn.ReLU())                           # a container's own table edit
    np.testing.assert_array_equal(compiled(x).detach().numpy(),
                                  model(x).detach().numpy())
    assert compiled(x).detach().numpy().min() >= 0
    new = nn.Parameter(cr.ones(3, 3))
    model[0]._parameters["weight"] = new              # the table edited directly
    expected = nn.functional.relu(nn.functional.linear(x, new, model[0].bias))
    for _ in range(4):
        np.testing.assert_array_equal(compiled(x).detach().numpy(),
                                      expected.detach().numpy())
    assert compiled._compiled_call.replays > replays
