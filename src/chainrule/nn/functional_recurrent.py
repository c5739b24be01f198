"""Recurrent functions: one step (``rnn_cell``, ``lstm_cell``, ``gru_cell``), one layer and
direction over a whole sequence (``rnn_layer``, ``lstm_layer``, ``gru_layer``) and a stack of
layers (``recurrent_layers``; ``packed_recurrent_layers`` for packed sequences and LSTM's
projections).

PyTorch has no public equivalent: its recurrent modules call internal functions
(``_VF.lstm``, ``_VF.gru``, ``_VF.rnn_tanh``, ``_VF.lstm_cell``, ...). These are chainrule's
named stand-ins, so that ``nn.RNN``, ``nn.LSTM``, ``nn.GRU`` and the cells reach their ops
through ``nn.functional`` as every other module does.

Layout as PyTorch: sequences (L, N, H_in), states (N, H); weights W_ih (G*H, H_in),
W_hh (G*H, H), biases (G*H,), gates stacked LSTM (i, f, g, o), GRU (r, z, n). The input's
contribution x W_ih^T + b_ih is one matrix product for the whole sequence (for LSTM fused into
the layer op); the steps run inside one op per layer and direction (``chainrule.ops.recurrent``,
``chainrule.ops.lstm_layer``).
The layer functions trust their shapes: ``recurrent_layers``' callers, the modules, check them
against their sizes first, as PyTorch's modules do.
"""
from ..functions import cat, stack
from ..ops.linear import Linear
from ..ops.lstm_layer import LSTMLayer
from ..ops.recurrent import GRUCellStep, LSTMCellStep, RecurrentSequence, RNNCellStep
from ..random import rng
from ..autograd.tensor_base import make_tensor

__all__ = ["gru_cell", "gru_layer", "lstm_cell", "lstm_layer", "packed_recurrent_layers",
           "recurrent_layers", "rnn_cell", "rnn_layer"]

_RNN_MODES = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}


# -- one step -----------------------------------------------------------------------------------

def _check_step(name, input, states, w_ih, w_hh):
    """input (N, H_in) against W_ih, each state against (N, H) with H from W_hh."""
    if input.shape[-1] != w_ih.shape[1]:
        raise RuntimeError(f"{name}: input has inconsistent input_size: got {input.shape[-1]} "
                           f"expected {w_ih.shape[1]}")
    expected = (input.shape[0], w_hh.shape[1])
    for h in states:
        if tuple(h.shape) != expected:
            raise RuntimeError(f"{name}: hidden state has shape {tuple(h.shape)}, expected "
                               f"{expected}")


def rnn_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu) for x (N, H_in), h (N, H)."""
    _check_step("RNNCell", input, (hx,), w_ih, w_hh)
    return RNNCellStep.apply(Linear.apply(input, w_ih, b_ih), hx, w_hh, b_hh, nonlinearity)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: (h', c') from x (N, H_in) and hx = (h, c), each (N, H):
    [i, f, g, o] = [sigma, sigma, tanh, sigma](x W_ih^T + b_ih + h W_hh^T + b_hh),
    c' = f c + i g, h' = o tanh(c')."""
    h, c = hx
    _check_step("LSTMCell", input, (h, c), w_ih, w_hh)
    return LSTMCellStep.apply(Linear.apply(input, w_ih, b_ih), h, c, w_hh, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: r, z = sigma(x W_i{r,z}^T + b_i + h W_h{r,z}^T + b_h),
    n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)), h' = (1 - z) n + z h."""
    _check_step("GRUCell", input, (hx,), w_ih, w_hh)
    return GRUCellStep.apply(Linear.apply(input, w_ih, b_ih), hx, w_hh, b_hh)


# -- one layer and direction over a sequence ----------------------------------------------------

def lstm_layer(input, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """``lstm_cell`` over input (L, N, H_in) from (h0, c0), from the last step back with
    ``reverse``. Returns (outputs (L, N, H), h_n, c_n); input product, biases and steps fused
    in one op."""
    return LSTMLayer.apply(input, w_ih, b_ih, b_hh, h0, c0, w_hh, bool(reverse))


def gru_layer(input, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """``gru_cell`` over input (L, N, H_in) from h0. Returns (outputs (L, N, H), h_n)."""
    return RecurrentSequence.apply(Linear.apply(input, w_ih, b_ih), h0, w_hh, b_hh, "GRU",
                                   bool(reverse))


def rnn_layer(input, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", reverse=False):
    """``rnn_cell`` over input (L, N, H_in) from h0. Returns (outputs (L, N, H), h_n)."""
    if b_ih is None:
        gx, b_step = Linear.apply(input, w_ih, None), b_hh
    else:  # both biases only ever appear summed: fold b_hh into the input product
        gx, b_step = Linear.apply(input, w_ih, b_ih + b_hh), None
    return RecurrentSequence.apply(gx, h0, w_hh, b_step, _RNN_MODES[nonlinearity],
                                   bool(reverse))


# -- a stack of layers --------------------------------------------------------------------------

def _layer_dropout(x, p):
    """Inverted dropout between layers: x m / (1 - p), m ~ Bernoulli(1 - p) drawn in float64."""
    keep = (rng(like=x.array).random(x.array.shape) >= p).astype(x.array.dtype) / \
        x.array.dtype.type(1 - p)
    return x * make_tensor(keep)


def recurrent_layers(input, h0, c0, weights, mode, dropout=0.0, training=True,
                     bidirectional=False):
    """``num_layers`` layers of ``mode`` ('RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'), each reading
    the previous one's outputs (both directions concatenated when ``bidirectional``), with
    dropout ``dropout`` between layers in training.

    input (L, N, H_in); h0 (and c0 for LSTM, else None) (num_layers * D, N, H); weights one
    (w_ih, w_hh, b_ih, b_hh) per layer and direction, in that order (layer 0 forward,
    layer 0 reverse, layer 1 forward, ...). Returns (outputs (L, N, D*H), h_n, c_n), c_n None
    unless LSTM.
    """
    if input.shape[0] == 0:   # PyTorch's message (an empty sequence has no last state)
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    D = 2 if bidirectional else 1
    num_layers = len(weights) // D
    lstm = mode == "LSTM"
    states = h0.unbind(0)
    # the modules' default zero state serves as h0 and c0 alike: unbind it once
    cells = (states if c0 is h0 else c0.unbind(0)) if lstm else None
    x = input
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for direction in range(D):
            k = layer * D + direction
            w_ih, w_hh, b_ih, b_hh = weights[k]
            if lstm:
                out, h, c = lstm_layer(x, states[k], cells[k], w_ih, w_hh, b_ih, b_hh, direction)
                c_n.append(c)
            elif mode == "GRU":
                out, h = gru_layer(x, states[k], w_ih, w_hh, b_ih, b_hh, direction)
            else:
                out, h = rnn_layer(x, states[k], w_ih, w_hh, b_ih, b_hh,
                                   "relu" if mode == "RNN_RELU" else "tanh", direction)
            outs.append(out)
            h_n.append(h)
        x = outs[0] if D == 1 else cat(outs, 2)
        if dropout and training and layer < num_layers - 1:
            x = _layer_dropout(x, dropout)
    return x, stack(h_n, 0), stack(c_n, 0) if lstm else None


# -- a stack of layers over packed (variable-length) sequences ---------------------------------

def _packed_direction(gx, batch_sizes, h0, c0, w_hh, b_hh, w_hr, mode, reverse):
    """One layer and direction over packed steps: gx (sum of lengths, G*H) the input product,
    h0/c0 (B, H) in sorted order. Step t updates the first batch_sizes[t] states (the sequences
    still running); a finished sequence's state stays its last step's, and in reverse a
    sequence starts from h0 at its own last step. Returns (outputs in packed order, h_n, c_n)."""
    starts = [0]
    for b in batch_sizes[:-1]:
        starts.append(starts[-1] + b)
    h, c = h0, c0
    outs = [None] * len(batch_sizes)
    for t in (reversed(range(len(batch_sizes))) if reverse else range(len(batch_sizes))):
        b = batch_sizes[t]
        g = gx[starts[t]:starts[t] + b]
        if mode == "LSTM":
            h_t, c_t = LSTMCellStep.apply(g, h[:b], c[:b], w_hh, b_hh)
            if w_hr is not None:
                h_t = Linear.apply(h_t, w_hr, None)
            c = c_t if b == c.shape[0] else cat([c_t, c[b:]], 0)
        elif mode == "GRU":
            h_t = GRUCellStep.apply(g, h[:b], w_hh, b_hh)
        else:
            h_t = RNNCellStep.apply(g, h[:b], w_hh, b_hh, _NONLINEARITY[mode])
        h = h_t if b == h.shape[0] else cat([h_t, h[b:]], 0)
        outs[t] = h_t
    return cat(outs, 0), h, c


_NONLINEARITY = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}


def packed_recurrent_layers(data, batch_sizes, h0, c0, weights, mode, dropout=0.0,
                            training=True, bidirectional=False, proj_weights=None):
    """``recurrent_layers`` over a packed batch: data (sum of lengths, H_in) with the sequences
    sorted by decreasing length and interleaved by step, ``batch_sizes`` the sequences running
    at each step (a list of ints); h0 (and c0) (num_layers * D, B, H) in sorted order.
    ``proj_weights`` (LSTM's proj_size): one W_hr (P, H) per layer and direction, h = h W_hr^T
    after each step. Each step is one cell op. Returns (outputs (sum of lengths, D*H), h_n,
    c_n), c_n None unless LSTM."""
    D = 2 if bidirectional else 1
    num_layers = len(weights) // D
    lstm = mode == "LSTM"
    states = h0.unbind(0)
    cells = c0.unbind(0) if lstm else [None] * len(states)
    x = data
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for direction in range(D):
            k = layer * D + direction
            w_ih, w_hh, b_ih, b_hh = weights[k]
            w_hr = proj_weights[k] if proj_weights is not None else None
            out, h, c = _packed_direction(Linear.apply(x, w_ih, b_ih), batch_sizes, states[k],
                                          cells[k], w_hh, b_hh, w_hr, mode, direction)
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        x = outs[0] if D == 1 else cat(outs, 1)
        if dropout and training and layer < num_layers - 1:
            x = _layer_dropout(x, dropout)
    return x, stack(h_n, 0), stack(c_n, 0) if lstm else None
