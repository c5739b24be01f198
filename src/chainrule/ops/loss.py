"""The losses of ``nn``, each one op (one graph node) with its gradient written out."""
from .. import kernels
from ..backend import array_module, xp
from .base import Op, promote


def _reduce(loss, reduction):
    if reduction == "mean":
        return array_module(loss).asarray(loss.mean() if loss.size else xp.nan, dtype=loss.dtype)
    if reduction == "sum":
        return array_module(loss).asarray(loss.sum(), dtype=loss.dtype)
    return loss


def _upstream(g, reduction, n):
    """dL/d(elementwise loss) from the gradient of the reduced loss."""
    if reduction == "mean":
        return g / n if n else g
    return g


class _DifferenceLoss(Op):
    """Losses of the difference d = input - target, reduced by 'mean' | 'sum' | 'none'.
    Subclasses give the pointwise loss l(d) and its derivative l'(d); then dL/dinput = l'(d)
    and dL/dtarget = -l'(d), scaled by the reduction."""

    @classmethod
    def forward(cls, ctx, x, y, reduction, param):
        x, y = promote(x, y)
        d = x - y
        ctx.d, ctx.param, ctx.reduction = d, param, reduction
        return _reduce(cls.pointwise(d, param), reduction)

    @classmethod
    def backward(cls, ctx, g):
        d = ctx.d
        gd = cls.derivative(d, ctx.param) * _upstream(g, ctx.reduction, d.size)
        need = ctx.needs_input_grad
        return (gd if need[0] else None), (-gd if need[1] else None), None, None


class MSELossReference(_DifferenceLoss):
    """``MSELoss`` as written: l(d) = d^2 for every element, then the mean (or sum);
    l'(d) = 2 d."""

    function_name = "mse_loss"

    @staticmethod
    def pointwise(d, _):
        return d * d

    @staticmethod
    def derivative(d, _):
        return 2 * d


class MSELoss(_DifferenceLoss):
    """l(d) = d^2;  l'(d) = 2 d.

    Fast path: the reduced forms are one dot product d . d (no d^2 array);
    ``MSELossReference`` squares every element and reduces."""

    function_name = "mse_loss"

    reference = MSELossReference
    pointwise = staticmethod(MSELossReference.pointwise)
    derivative = staticmethod(MSELossReference.derivative)

    @classmethod
    def forward(cls, ctx, x, y, reduction, param):
        if reduction == "none":
            return _DifferenceLoss.forward.__func__(cls, ctx, x, y, reduction, param)
        x, y = promote(x, y)
        d = x - y
        ctx.d, ctx.param, ctx.reduction = d, param, reduction
        flat = d.reshape(-1)
        total = xp.dot(flat, flat)
        if reduction == "mean":
            total = total / d.size if d.size else xp.nan
        return array_module(d).asarray(total, dtype=d.dtype)


class L1Loss(_DifferenceLoss):
    """l(d) = |d|;  l'(d) = sign(d)."""

    function_name = "l1_loss"

    @staticmethod
    def pointwise(d, _):
        return xp.abs(d)

    @staticmethod
    def derivative(d, _):
        return xp.sign(d)


class SmoothL1Loss(_DifferenceLoss):
    """l(d) = d^2 / (2 beta) if |d| < beta else |d| - beta/2;  l'(d) = d / beta inside, sign(d)
    outside (beta = 0 is the L1 loss)."""

    function_name = "smooth_l1_loss"

    @staticmethod
    def pointwise(d, beta):
        a = xp.abs(d)
        if beta == 0:
            return a
        return xp.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)

    @staticmethod
    def derivative(d, beta):
        if beta == 0:
            return xp.sign(d)
        return xp.where(xp.abs(d) < beta, d / beta, xp.sign(d))


class HuberLoss(_DifferenceLoss):
    """l(d) = d^2 / 2 if |d| < delta else delta (|d| - delta/2);  l'(d) = clamp(d, -delta, delta)."""

    function_name = "huber_loss"

    @staticmethod
    def pointwise(d, delta):
        a = xp.abs(d)
        return xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))

    @staticmethod
    def derivative(d, delta):
        return xp.clip(d, -delta, delta)


def _classes_last(a):
    """(C,) -> (1, C); (N, C) as is; (N, C, d1, ...) -> (N d1 ..., C)."""
    if a.ndim == 1:
        return a[None]
    if a.ndim == 2:
        return a
    return xp.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _classes_back(g2, shape):
    """Inverse of ``_classes_last`` for a gradient."""
    if len(shape) == 1:
        return g2[0]
    if len(shape) == 2:
        return g2
    return xp.moveaxis(g2.reshape((shape[0],) + shape[2:] + (shape[1],)), -1, 1)


def _check_targets(t, valid, n_classes, op, ignore_index):
    tt = t if valid is None else xp.where(valid, t, 0)
    if tt.size and (tt.min() < 0 or tt.max() >= n_classes):
        bad = tt[(tt < 0) | (tt >= n_classes)][0]
        raise IndexError(f"{op}: target {int(bad)} is out of bounds for {n_classes} classes "
                         f"(expected 0 <= target < {n_classes}, or ignore_index={ignore_index})")
    return tt


class CrossEntropyLossReference(Op):
    """``CrossEntropyLoss`` as the lecture writes it: log p = log_softmax(x) over the classes,
    then the negative log-likelihood against a target distribution y (one row per sample):

        L_i = -sum_c y_ic log p_ic
        class index t:   y_i = (1 - eps) w_t onehot(t) + (eps / C) w    (0 if t = ignore_index)
        probabilities q: y_i = w ((1 - eps) q_i + eps / C)

    (w = 1 without class weights). 'mean' divides the sum by sum_i w_t over the counted samples
    (class indices) or by the number of samples (probabilities); 'sum' adds; 'none' keeps L_i.
    Backward: dL_i/dx_i = softmax(x_i) sum_c y_ic - y_i (softmax minus one-hot in the plain
    case), times dL/dL_i; for probabilities also dL_i/dq_i = -(1 - eps) w log p_i.
    """

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, label_smoothing, reduction):
        logp = _log_softmax_reference(_classes_last(x))
        M, C = logp.shape
        eps = label_smoothing
        w = weight if weight is not None else array_module(logp).ones(C, dtype=logp.dtype)
        if target.dtype.kind == "f":                       # class probabilities
            y = w * ((1 - eps) * _classes_last(target) + eps / C)
            mean_denominator = M
        else:                                              # class indices
            t = target.reshape(-1)
            counted = t != ignore_index
            t = _check_targets(t, counted, C, "cross_entropy", ignore_index)
            onehot = array_module(logp).zeros((M, C), dtype=logp.dtype)
            onehot[array_module(t).arange(M), t] = 1
            y = ((1 - eps) * w * onehot + (eps / C) * w) * counted[:, None]
            mean_denominator = (w[t] * counted).sum()
        loss = -(y * logp).sum(axis=1)
        ctx.logp, ctx.y, ctx.shape, ctx.weight, ctx.eps = logp, y, x.shape, weight, eps
        ctx.reduction, ctx.mean_denominator = reduction, mean_denominator
        if reduction == "none":
            return loss.reshape(x.shape[:1] + x.shape[2:] if x.ndim > 1 else ())
        total = loss.sum()
        if reduction == "mean":
            total = total / mean_denominator if mean_denominator else xp.nan
        return array_module(x).asarray(total, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        if ctx.reduction == "none":
            upstream = g.reshape(-1, 1)                    # dL/dL_i, one per sample
        elif ctx.reduction == "mean" and ctx.mean_denominator:
            upstream = g / ctx.mean_denominator
        else:
            upstream = g
        y, softmax = ctx.y, xp.exp(ctx.logp)
        gx = (softmax * y.sum(axis=1, keepdims=True) - y) * upstream
        gt = None
        if ctx.needs_input_grad[1]:                        # probability targets only
            w = ctx.weight if ctx.weight is not None else 1
            gt = _classes_back(-(1 - ctx.eps) * w * ctx.logp * upstream, ctx.shape)
        return _classes_back(gx, ctx.shape), gt, None, None, None, None


def _log_softmax_reference(x2):
    """log p = x - logsumexp(x) along the classes, logsumexp = m + log sum e^(x - m), m = max x."""
    m = x2.max(axis=1, keepdims=True)
    return x2 - (m + xp.log(xp.exp(x2 - m).sum(axis=1, keepdims=True)))


class CrossEntropyLoss(Op):
    """Softmax cross-entropy from logits in one step.

    Class indices t:  L_i = -w_t log p_{i,t} (with label smoothing eps:
    (1 - eps) w_t (-log p_{i,t}) + eps/C sum_c w_c (-log p_{i,c})), log p = x - logsumexp(x);
    dL_i/dx_i = p_i (the sum of the coefficients) - the coefficients themselves, i.e. softmax
    minus one-hot when eps = 0 and there are no weights. 'mean' divides by the sum of w_t over
    targets that are not ``ignore_index`` (PyTorch's convention).
    Probabilities q:  L_i = -sum_c w_c q_c log p_c;  dL_i/dx_i = p_i sum_c w_c q_c - w q;
    'mean' divides by the number of samples.

    Fast path: no one-hot or target matrix for class indices (the target's log p is picked by
    index, the smoothing term summed in closed form, the ignore mask built only when a target can
    equal ``ignore_index``), and the plain case's backward is softmax with 1 subtracted in place;
    ``CrossEntropyLossReference`` builds the target distribution y and uses one formula.

    ctx, both modes: e = exp(x - max x), s = sum e (softmax = e / s), shape, reduction, weight,
    eps, probability_targets, and ``denom``, what dL/dL_i divides the upstream gradient by.
    Probability targets add wq (the weighted, smoothed targets) and logp; class indices add tt
    (the targets, ignored ones as 0), w_t (each sample's weight, 0 when ignored; None when all
    are 1) and valid (the not-ignored mask; None when no target is ignored).
    """

    backward_name = "CrossEntropy"  # its error messages; grad_fn prints NllLossBackward0 (node_names)
    reference = CrossEntropyLossReference

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, label_smoothing, reduction):
        x2 = _classes_last(x)
        shifted = _minus_row_max(x2)
        e = xp.exp(shifted)
        # each row's sum as a product with ones: NumPy reduces a short last axis row by row
        # (W5's 2048 rows of 65 classes: 47 us, against 8)
        s = e @ array_module(e).ones((e.shape[1], 1), e.dtype)
        log_s = xp.log(s)
        ctx.e, ctx.s, ctx.shape, ctx.reduction, ctx.weight = e, s, x.shape, reduction, weight
        ctx.eps = label_smoothing
        ctx.probability_targets = target.dtype.kind == "f"
        if ctx.probability_targets:
            return _cross_entropy_probabilities(ctx, shifted, log_s, target)
        return _cross_entropy_class_indices(ctx, shifted, log_s, target, ignore_index, x.dtype)

    @staticmethod
    def backward(ctx, g):
        up = g / ctx.denom if type(g) is not xp.ndarray or ctx.denom else g   # device: no bool()
        if ctx.probability_targets:
            return _cross_entropy_probabilities_backward(ctx, g, up)
        if not ctx.eps and ctx.w_t is None:
            gx = _softmax_minus_one_hot(ctx, up)
        else:
            gx = _cross_entropy_class_indices_backward(ctx, up)
        return _classes_back(gx, ctx.shape), None, None, None, None, None


def _cross_entropy_probabilities(ctx, shifted, log_s, target):
    M, C = shifted.shape
    shape, eps, weight, reduction = ctx.shape, ctx.eps, ctx.weight, ctx.reduction
    q = _classes_last(target)
    if eps:
        q = q * (1 - eps) + eps / C
    wq = q * weight if weight is not None else q
    logp = shifted - log_s
    loss = -(logp * wq).sum(axis=1)
    ctx.wq, ctx.logp = wq, logp
    ctx.denom = M if reduction == "mean" else 1
    if reduction == "none":
        return loss.reshape(shape[:1] + shape[2:]) if len(shape) > 1 else loss[0]
    return _reduce(loss, "sum") / (M if reduction == "mean" else 1)


def _cross_entropy_probabilities_backward(ctx, g, up):
    p = ctx.e / ctx.s
    if ctx.reduction == "none":
        up = g.reshape(-1, 1)
    wq = ctx.wq
    gx = (p * wq.sum(axis=1, keepdims=True) - wq) * up
    gt = None
    if ctx.needs_input_grad[1]:
        w = ctx.weight if ctx.weight is not None else 1
        gt = _classes_back(-(ctx.logp * w) * (1 - ctx.eps) * up, ctx.shape)
    return _classes_back(gx, ctx.shape), gt, None, None, None, None


def _cross_entropy_class_indices(ctx, shifted, log_s, target, ignore_index, dtype):
    M, C = shifted.shape
    eps, weight, reduction = ctx.eps, ctx.weight, ctx.reduction
    t = target.reshape(-1)
    if type(t) is not xp.ndarray:
        # On a GPU, asking min/max/all here would wait for the device every step: mask always,
        # and leave out-of-range targets unchecked (PyTorch's CUDA kernels assert on the device).
        valid = t != ignore_index
        tt = xp.where(valid, t, 0)
    else:
        lo, hi = (t.min(), t.max()) if t.size else (0, -1)
        valid = None
        if lo <= ignore_index <= hi:  # only then can a target equal ignore_index
            valid = t != ignore_index
            if valid.all():
                valid = None
        tt = t if valid is None and 0 <= lo and hi < C else \
            _check_targets(t, valid, C, "cross_entropy", ignore_index)
    rows = array_module(t).arange(M)
    nll = (log_s[:, 0] - shifted[rows, tt])
    w_t = weight[tt] if weight is not None else None
    if valid is not None:
        w_t = valid.astype(dtype) if w_t is None else w_t * valid
    loss = nll if w_t is None else nll * w_t
    if eps:
        logp_sum = ((shifted - log_s) * weight).sum(axis=1) if weight is not None else \
            shifted.sum(axis=1) - C * log_s[:, 0]
        smooth = -logp_sum if valid is None else -logp_sum * valid
        loss = (1 - eps) * loss + (eps / C) * smooth
    ctx.tt, ctx.w_t, ctx.valid = tt, w_t, valid
    if reduction == "none":
        ctx.denom = 1
        return loss.reshape(target.shape)
    if reduction == "mean":
        denom = (w_t.sum() if w_t is not None else M)
        ctx.denom = denom
        if type(loss) is not xp.ndarray:       # 0 / 0 is NaN there without asking the host
            return (loss.sum() / denom).astype(dtype)
        return array_module(loss).asarray(loss.sum() / denom, dtype=dtype) if denom else \
            array_module(loss).asarray(xp.nan, dtype=dtype)
    ctx.denom = 1
    return array_module(loss).asarray(loss.sum(), dtype=dtype)


def _minus_row_max(x2):
    """x2 - x2.max(axis=1, keepdims=True), each row in one compiled pass where a kernel applies
    (bit-equal: ``kernels.loss_kernels``)."""
    kernel = (x2.size and x2.dtype in kernels.DTYPES and kernels.on_host(x2)
              and kernels.get_lazily("minus_row_max", x2.size))
    if not kernel:
        return x2 - x2.max(axis=1, keepdims=True)
    shifted = xp.empty(x2.shape, x2.dtype)
    kernel(x2, shifted)
    return shifted


def _softmax_minus_one_hot(ctx, up):
    """The common case (no weights, no smoothing), fused: e / s * up, then up off the target
    (one compiled pass where a kernel applies: bit-equal, ``kernels.loss_kernels``)."""
    e, M = ctx.e, ctx.e.shape[0]
    kernel = (e.size and up.dtype == e.dtype and e.dtype in kernels.DTYPES
              and kernels.on_host(e, ctx.tt) and isinstance(up, (xp.ndarray, xp.generic))
              and kernels.get_lazily("softmax_minus_one_hot", e.size))
    if kernel:   # (a mean's upstream gradient g / n is a NumPy scalar, not an array)
        gx = xp.empty(e.shape, e.dtype)
        kernel(e, ctx.s, xp.asarray(up).reshape(-1), up.ndim > 0, ctx.tt, gx)
        return gx
    u = up.reshape(-1, 1) if up.ndim else up
    gx = e * (u / ctx.s)
    gx[array_module(gx).arange(M), ctx.tt] -= u[:, 0] if up.ndim else u
    return gx


def _cross_entropy_class_indices_backward(ctx, up):
    """dL_i/dx_i = a_i p_i - b_i onehot_i - s_i w, one coefficient per sample."""
    M, C = ctx.e.shape
    eps, w_t, weight, valid = ctx.eps, ctx.w_t, ctx.weight, ctx.valid
    up = xp.broadcast_to(up.reshape(-1) if up.ndim else up, (M,))
    b = (1 - eps) * up if w_t is None else (1 - eps) * w_t * up
    b = xp.broadcast_to(b, (M,))
    p = ctx.e / ctx.s
    a = b
    if eps:
        smooth = (eps / C) * up if valid is None else (eps / C) * up * valid
        a = b + smooth * (weight.sum() if weight is not None else C)
    gx = p * a[:, None]
    gx[array_module(gx).arange(M), ctx.tt] -= b
    if eps:
        gx -= smooth[:, None] * (weight if weight is not None else 1)
    return gx


class NLLLoss(Op):
    """L_i = -w_t logp_{i,t} over targets t != ignore_index;  dL_i/dlogp_{i,t} = -w_t.
    'mean' divides by the sum of the w_t that count."""

    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        shape = logp.shape
        x2 = _classes_last(logp)
        M, C = x2.shape
        t = target.reshape(-1)
        valid = t != ignore_index
        if valid.all():
            valid = None
        tt = _check_targets(t, valid, C, "nll_loss", ignore_index)
        w_t = weight[tt] if weight is not None else array_module(logp).ones(M, dtype=logp.dtype)
        if valid is not None:
            w_t = w_t * valid
        loss = -x2[array_module(tt).arange(M), tt] * w_t
        ctx.shape, ctx.tt, ctx.w_t, ctx.reduction, ctx.dtype = shape, tt, w_t, reduction, logp.dtype
        if reduction == "none":
            return loss.reshape(target.shape)
        if reduction == "mean":
            ctx.denom = w_t.sum()
            return array_module(logp).asarray(loss.sum() / ctx.denom if ctx.denom else xp.nan,
                                              dtype=logp.dtype)
        ctx.denom = 1
        return array_module(logp).asarray(loss.sum(), dtype=logp.dtype)

    @staticmethod
    def backward(ctx, g):
        M = ctx.tt.shape[0]
        C = ctx.shape[1] if len(ctx.shape) > 1 else ctx.shape[0]
        up = g.reshape(-1) if ctx.reduction == "none" else (g / ctx.denom if ctx.denom else g)
        gx = array_module(up).zeros((M, C), dtype=ctx.dtype)
        gx[array_module(gx).arange(M), ctx.tt] = -ctx.w_t * up
        return _classes_back(gx, ctx.shape), None, None, None, None


class BCEWithLogitsLoss(Op):
    """L = w [(1 - y) x + (1 + (pw - 1) y) softplus(-x)], softplus(-x) = max(-x, 0) +
    log(1 + e^-|x|), stable for any logit;  dL/dx = w [(1 - y) - (1 + (pw - 1) y)(1 - sigmoid x)]
    (= w (sigmoid x - y) without pos_weight);  dL/dy = w (-x + (pw - 1) softplus(-x))."""

    backward_name = "BCEWithLogits"  # its error messages; grad_fn: node_names

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight, reduction):
        x, y = promote(x, y)
        e = xp.exp(-xp.abs(x))
        sp = xp.maximum(-x, 0) + xp.log1p(e)
        if pos_weight is None:
            loss = (1 - y) * x + sp
            lw = None
        else:
            lw = (pos_weight - 1) * y + 1
            loss = (1 - y) * x + lw * sp
        if weight is not None:
            loss = loss * weight
        ctx.x, ctx.y, ctx.e, ctx.sp, ctx.lw = x, y, e, sp, lw
        ctx.weight, ctx.pos_weight, ctx.reduction, ctx.n = weight, pos_weight, reduction, loss.size
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y, e = ctx.x, ctx.y, ctx.e
        up = _upstream(g, ctx.reduction, ctx.n)
        if ctx.weight is not None:
            up = up * ctx.weight
        need = ctx.needs_input_grad
        gx = gy = None
        if need[0]:
            s = xp.where(x >= 0, 1, e) / (1 + e)
            gx = (s - y) if ctx.lw is None else (1 - y) - ctx.lw * (1 - s)
            gx = gx * up
        if need[1]:
            gy = -x if ctx.pos_weight is None else -x + (ctx.pos_weight - 1) * ctx.sp
            gy = gy * up
        return gx, gy, None, None, None


class BCELoss(Op):
    """L = -w [y log x + (1 - y) log(1 - x)], each log clamped at -100 as PyTorch does;
    dL/dx = w (x - y) / max(x (1 - x), 1e-12);  dL/dy = w (log(1 - x) - log x)."""

    @staticmethod
    def forward(ctx, x, y, weight, reduction):
        x, y = promote(x, y)
        if x.size and not (x.min() >= 0 and x.max() <= 1):
            raise RuntimeError(f"binary_cross_entropy: all elements of input should be between 0 "
                               f"and 1 (probabilities; use binary_cross_entropy_with_logits for "
                               f"logits), got values in [{x.min():g}, {x.max():g}]")
        with xp.errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        loss = -(y * log_x + (1 - y) * log_1mx)
        if weight is not None:
            loss = loss * weight
        ctx.x, ctx.y, ctx.log_x, ctx.log_1mx = x, y, log_x, log_1mx
        ctx.weight, ctx.reduction, ctx.n = weight, reduction, loss.size
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.x, ctx.y
        up = _upstream(g, ctx.reduction, ctx.n)
        if ctx.weight is not None:
            up = up * ctx.weight
        need = ctx.needs_input_grad
        gx = (x - y) / xp.maximum(x * (1 - x), 1e-12) * up if need[0] else None
        gy = (ctx.log_1mx - ctx.log_x) * up if need[1] else None
        return gx, gy, None, None


class KLDivLoss(Op):
    """L = y (log y - x) (0 where y = 0), or e^y (y - x) with log_target;  dL/dx = -y (or -e^y),
    dL/dy = log y + 1 - x (or e^y (y - x + 1)). 'batchmean' divides the sum by the batch size.
    At y <= 0 the target's gradient follows PyTorch's xlogy rule (see backward)."""

    backward_name = "KLDiv"  # grad_fn prints KLDivBackward0
    function_name = "kl_div"

    @staticmethod
    def forward(ctx, x, y, reduction, log_target):
        x, y = promote(x, y)
        if log_target:
            ey = xp.exp(y)
            loss = ey * (y - x)
            ctx.ey = ey
        else:
            with xp.errstate(divide="ignore", invalid="ignore"):
                # xlogy(y, y): 0 at y = 0, NaN for y < 0 (PyTorch)
                ylogy = xp.where(y == 0, 0, y * xp.log(xp.where(y == 0, 1, y)))
            loss = ylogy - y * x
        ctx.x, ctx.y, ctx.log_target, ctx.reduction, ctx.n = x, y, log_target, reduction, loss.size
        if reduction == "batchmean":
            ctx.n = x.shape[0] if x.ndim else 1
            return array_module(loss).asarray(loss.sum() / ctx.n, dtype=loss.dtype)
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.x, ctx.y
        up = g / ctx.n if ctx.reduction in ("mean", "batchmean") else g
        need = ctx.needs_input_grad
        gx = gy = None
        if ctx.log_target:
            if need[0]:
                gx = -ctx.ey * up
            if need[1]:
                gy = ctx.ey * (y - x + 1) * up
        else:
            if need[0]:
                gx = -y * up
            if need[1]:
                # PyTorch differentiates xlogy(y, y) - y x with xlogy's rule: xlogy(g, y) for
                # the first y (0 where y = 0, or where g = 0 and y is not NaN), g y / y for the
                # second; so NaN at y = 0 and for y < 0, except 0 where g = 0 and y < 0
                up = xp.broadcast_to(up, y.shape)
                with xp.errstate(divide="ignore", invalid="ignore"):
                    zero = (y == 0) | ((up == 0) & ~xp.isnan(y))
                    first = xp.where(zero, 0, up * xp.log(xp.where(zero, 1, y)))
                    gy = first + up * y / y - up * x
        return gx, gy, None, None
