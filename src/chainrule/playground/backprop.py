"""The "backprop" panel: one weight's gradient and the chain-rule factors that made it.

For the weight w from unit i of layer l-1 to unit j of layer l (u = W a + b, z = BN(u) or u,
a = f(z)):

    dL/dw   = mean_n  delta_j[n] * a_i[n]            delta = dL/du, per example
    delta_j = dL/da_j * f'(z_j) * bn_scale_j          (bn_scale = gamma / sqrt(var + eps), eval mode)
    dL/da_j = sum_k W(l+1)[k, j] * delta_k(l+1)       (the downstream path)

The per-example deltas come from one autograd pass over the training set in eval mode (rows are
then independent, so the gradient of the mean loss at row n is delta[n] / N).
"""
import numpy as np

from ..autograd import enable_grad
from ..nn import functional as F
from .network import activation_derivative
from ..autograd.tensor_base import make_tensor


def _floats(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def backprop_factors(session, layer, j, i):
    net = session.net
    features = session.train_features
    n = len(features)
    train_targets, _ = session.targets()
    model = net.model
    was_training = model.training
    model.eval()
    try:
        with enable_grad():
            for p in model.parameters():
                p.grad = None
            a = make_tensor(features)
            acts, post, deltas_t = [features], [], []
            outputs_t, fz = [], []
            for hidden in net.hidden:
                u = hidden.linear(a)
                u.retain_grad()
                z = hidden.batchnorm(u) if hidden.batchnorm is not None else u
                out_a = hidden.activation(z)
                fz.append(out_a.array)      # f(z), before any skip connection adds the input
                a = out_a + a if hidden.skip else out_a
                a.retain_grad()
                outputs_t.append(a)
                deltas_t.append(u)
                post.append(z.array)
                acts.append(a.array)
            u = net.output(a)
            u.retain_grad()
            deltas_t.append(u)
            out = u
            if net.mode == "tanh_mse":
                out = u.tanh()
            elif net.mode == "softmax_mse":
                out = F.softmax(u, dim=1)
            loss = net.loss(out, make_tensor(train_targets))
            loss.backward()
    finally:
        model.train(was_training)

    linears = net.linears()
    lin = linears[layer - 1]
    deltas = [t.grad.array.astype(np.float64) * n for t in deltas_t]   # per-example dL_n/du
    inputs = acts[layer - 1][:, i].astype(np.float64)
    delta_j = deltas[layer - 1][:, j]
    contributions = delta_j * inputs
    best = int(np.argmax(np.abs(contributions)))
    w = float(lin.weight.array[j, i])
    s = session.settings
    rate = s["regularization_rate"] if s["regularization"] != "none" else 0.0
    reg = rate * (np.sign(w) if s["regularization"] == "L1" else w) if rate else 0.0

    outputs = out.array[best]
    label = session.points.train_labels[best]
    example = {
        "index": best,
        "point": _floats(session.points.train[best]),
        "target": int(label) if session.points.problem == "classification" else float(label),
        "output": _floats(outputs),
        "dL_dout": _floats(deltas[-1][best]),
        "downstream": [],
        "dL_da": None, "activation": None, "z": None, "activation_derivative": None,
        "batchnorm_scale": None,
        "dL_dz": float(delta_j[best]),
        "input_activation": float(inputs[best]),
        "contribution": float(contributions[best]),
    }
    if layer <= len(net.hidden):
        hidden = net.hidden[layer - 1]
        upper = linears[layer].weight.array.astype(np.float64)
        for m in range(layer + 1, len(linears) + 1):
            example["downstream"].append({
                "layer": m, "delta": _floats(deltas[m - 1][best]),
                "weights_from_unit": _floats(upper[:, j]) if m == layer + 1 else None})
        z = post[layer - 1][best, j]
        act = fz[layer - 1][best, j]
        scale = None
        if hidden.batchnorm is not None:
            bn = hidden.batchnorm
            scale = float(bn.weight.array[j] / np.sqrt(bn.running_var.array[j] + bn.eps))
        # dL/da_j: through the next layer's weights (sum W delta), plus, where the next layer
        # has a skip connection, straight through it; autograd's value includes both.
        dL_da = float(outputs_t[layer - 1].grad.array[best, j]) * n if any(
            h.skip for h in net.hidden) else float(upper[:, j] @ deltas[layer][best])
        example.update(
            dL_da=dL_da,
            activation=hidden.activation_name, z=float(z),
            activation_derivative=float(activation_derivative(
                hidden.activation_name, np.float64(z), np.float64(act))),
            batchnorm_scale=scale)
    return {"type": "backprop", "layer": layer, "to": j, "from": i, "weight": w,
            "gradient": float(lin.weight.grad.array[j, i]),
            "regularization_gradient": float(reg), "examples": n, "example": example}
