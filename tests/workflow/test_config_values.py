"""The value checks of training configs: close-match suggestions and option types."""
import pytest

from chainrule import optim
from chainrule.train.config_values import (ConfigError, check_argument_types, closest,
                                           edit_distance)


@pytest.mark.parametrize("a, b, distance", [
    ("Adma", "Adam", 1), ("Adma", "Adamax", 2), ("playgound", "playground", 1), ("", "abc", 3),
    ("same", "same", 0), ("kitten", "sitting", 3),
])
def test_edit_distance_counts_a_swapped_pair_as_one(a, b, distance):
    assert edit_distance(a, b) == distance


@pytest.mark.parametrize("word, expected", [
    ("Adma", "Adam"), ("adam", "Adam"), ("sdg", "SGD"), ("Adamx", "Adamax"), ("RMSProp", "RMSprop"),
    ("Zzzzzz", None),
])
def test_closest_optimizer_name(word, expected):
    assert closest(word, ["Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "RMSprop",
                          "SGD"]) == expected


def test_argument_types_accept_what_the_signature_allows():
    check_argument_types(optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True,
                                     "foreach": False}, "optimizer")
    check_argument_types(optim.lr_scheduler.MultiStepLR, {"milestones": [2, 4], "gamma": 0.5},
                         "scheduler")
    check_argument_types(optim.lr_scheduler.OneCycleLR, {"max_lr": [0.1, 0.2],
                                                         "anneal_strategy": "linear"}, "scheduler")


@pytest.mark.parametrize("cls, kwargs, key", [
    (optim.SGD, {"lr": True}, "optimizer.lr"),
    (optim.lr_scheduler.MultiStepLR, {"milestones": [2, 4.5]}, "optimizer.milestones[1]"),
    (optim.lr_scheduler.OneCycleLR, {"max_lr": 0.1, "anneal_strategy": "cosine"},
     "optimizer.anneal_strategy"),
    (optim.lr_scheduler.CosineAnnealingLR, {"T_max": "10"}, "optimizer.T_max"),
])
def test_argument_types_name_the_wrong_key(cls, kwargs, key):
    with pytest.raises(ConfigError) as info:
        check_argument_types(cls, kwargs, "optimizer")
    assert info.value.key == key
