"""The pieces a Session is made of: the handler table, the frame builder and its metrics."""
import numpy as np

from chainrule.playground import protocol
from chainrule.playground.data import Points
from chainrule.playground.frames import build_frame, metrics, r2
from chainrule.playground.handlers import HANDLERS
from chainrule.playground.session import Session


def send(session, **message):
    return session.handle(protocol.validate_message(message))


def test_every_page_message_has_a_handler():
    assert set(HANDLERS) == set(protocol.MESSAGES)


def test_answers_carry_the_message_id_and_broadcasts_do_not():
    s = Session()
    replies = send(s, type="add_point", id=11, x1=1.0, x2=2.0, label=1)
    by_type = {r["type"]: r for r in replies}
    assert by_type["notice"]["id"] == 11
    assert "id" not in by_type["settings"] and "id" not in by_type["data"]
    err = send(s, type="edit_bias", id=12, layer=9, unit=0, value=1.0)
    assert err == [{"type": "error", "message": err[0]["message"], "field": "layer", "id": 12}]
    assert err[0]["message"].startswith("edit_bias: layer must be in 1..3")


def test_a_step_that_diverges_answers_with_the_notice():
    s = Session({"dataset": "plane", "problem": "regression", "learning_rate": 10,
                 "layers": [{"units": 8, "activation": "linear", "dropout": 0,
                             "batchnorm": False}] * 2})
    replies = []
    for i in range(100):
        replies = send(s, type="step", id=i)
        if s.diverged:
            break
    assert s.diverged and [(r["type"], r["code"], r["id"]) for r in replies] == \
        [("notice", "diverged", i)]
    assert send(s, type="step") == []       # a diverged session does not train or notify


def test_build_frame_leaves_the_dirty_flag_to_the_session():
    s = Session()
    assert s.dirty
    frame = build_frame(s)
    assert s.dirty and frame["epoch"] == 0 and "seq" not in frame
    assert s.frame() == frame and not s.dirty


def test_classification_metrics_from_train_metrics_match_a_count():
    labels = np.array([0, 1, 2, 2], np.int64)
    points = Points("classification", 3, np.zeros((4, 2)), labels, np.zeros((4, 2)), labels)
    probs = np.eye(3)[[0, 2, 2, 1]]          # predicts 0, 2, 2, 1
    m = metrics(points, "softmax_ce", probs, probs[[0, 1, 2, 3]])
    assert m["train_accuracy"] == m["test_accuracy"] == 0.5
    assert m["confusion"] == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    empty = Points("classification", 2, np.zeros((0, 2)), labels[:0], np.zeros((0, 2)),
                   labels[:0])
    assert metrics(empty, "tanh_mse", np.zeros(0), np.zeros(0)) == {
        "train_accuracy": None, "test_accuracy": None, "confusion": [[0, 0], [0, 0]]}


def test_r2_is_absent_for_no_or_constant_labels():
    y = np.array([0.5, -0.5, 0.25], np.float32)
    assert r2(y, y) == 1.0 and r2(np.zeros(3, np.float32), y) < 0
    assert r2(y, np.full(3, 0.2, np.float32)) is None and r2(y[:0], y[:0]) is None
