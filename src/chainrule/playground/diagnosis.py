"""Why a run stopped learning: the words the page shows when every layer's gradient is zero while
the training loss is still high (a "silent collapse").

The gradient of a weight is a product of chain-rule factors (``backprop.py``); it is zero on every
training point when one factor is zero on every point. Two factors do that in the Playground:

    ReLU'(z) = 0 for z <= 0        a unit with z <= 0 on every point is *dead*
    tanh'(u) = 1 - tanh(u)^2       exactly 0 in float32 once |u| > ~9 (the output *saturated*)

Adam makes both likely late in a run: when the loss is near 0 its second-moment estimate decays
with the tiny gradients, so one larger gradient gives a step of about ``lr`` in every weight at
once, which can push the output deep into saturation on the wrong side. PyTorch does the same from
the same weights (docs/playground.md, "When training stalls").
"""
import numpy as np

from .network import per_example_loss

STALL_GRADIENT = 1e-7    # every layer's weight-gradient norm below this: no learning
STALL_LOSS = 0.05        # ... while the mean training loss is above this
SATURATED = 1 - 1e-6     # |tanh| (or a softmax probability) this close to 1: slope ~0


def stalled(trainer):
    norms = trainer.grad_norms
    return bool(norms) and all(g is not None and g < STALL_GRADIENT for g in norms)


def stall_message(session):
    """The notice text for a stalled session, or None when its training loss is low (done, not
    stuck) or there are no training points."""
    net, features = session.net, session.train_features
    if len(features) == 0:
        return None
    with np.errstate(all="ignore"):
        acts, out = net.capture(features)
        loss = float(per_example_loss(net.mode, out, session.train_targets()).mean())
    if not loss > STALL_LOSS:
        return None
    causes = []
    dead = [(i + 1, int(np.all(a <= 0, axis=0).sum()), a.shape[1])
            for i, (layer, a) in enumerate(zip(net.hidden, acts[1:]))
            if layer.activation_name == "relu"]
    dead = [d for d in dead if d[1]]
    if dead:
        units = sum(d[1] for d in dead)
        total = sum(a.shape[1] for layer, a in zip(net.hidden, acts[1:])
                    if layer.activation_name == "relu")
        share = "most" if units * 2 > total else "some"
        causes.append(f"{share} ReLU units are dead: their gradient is zero on every point ("
                      + ", ".join(f"layer {i}: {k} of {n}" for i, k, n in dead) + ")")
    if net.mode in ("tanh_mse", "softmax_mse"):
        level = np.abs(out[:, 0]) if net.mode == "tanh_mse" else out.max(axis=1)
        share = float(np.mean(level >= SATURATED))
        if share > 0.5:
            kind = "tanh" if net.mode == "tanh_mse" else "softmax"
            exact = "±1" if kind == "tanh" else "0 or 1"
            causes.append(f"the {kind} output is saturated on {share:.0%} of the training points "
                          f"(it is exactly {exact} there in float32, so its slope is 0 and no "
                          f"gradient flows back)")
    why = "; ".join(causes) if causes else "no ReLU unit is dead and the output is not saturated"
    return (f"training stalled: the gradient is zero in every layer while the training loss is "
            f"still {loss:.3f}. Why: {why}. Reset, or lower the learning rate.")
