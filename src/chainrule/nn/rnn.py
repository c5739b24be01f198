"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU``; cells ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Parameter names, shapes, gate order and initialisation are PyTorch's, so its weights load
unchanged: ``weight_ih_l{k}`` (G*H, in), ``weight_hh_l{k}`` (G*H, H), ``bias_ih_l{k}``,
``bias_hh_l{k}`` (G*H,), with a ``_reverse`` suffix for the backward direction; gates stacked as
LSTM (i, f, g, o), GRU (r, z, n).

The modules check their input and state shapes against their sizes, then call
``nn.functional`` (``recurrent_layers``, ``rnn_cell``, ``lstm_cell``, ``gru_cell``, in
``functional_recurrent``): per layer and direction the input's contribution x W_ih^T + b for the
whole sequence is one matrix product; the loop over time then runs one fused step per time step,
forward and backward, inside one sequence op whose weight gradient is a single matrix product
over all steps (``chainrule.ops.recurrent``; for LSTM the input product is fused into that op
too); the cells use the same step as one op each. Truncated backpropagation through time: carry
the returned state into the next chunk with ``h.detach()``.
"""
import math

import numpy as np

from .. import _dtype
from ..tensor import Tensor
from . import functional as F, init
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence
from ..autograd.tensor_base import make_tensor
from ..backend import array_module

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """The shared multi-layer, optionally bidirectional recurrent layer."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive int, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        nd = _dtype.to_numpy_dtype(dtype) or _dtype.default_float_np()
        gates = _GATES[mode] * hidden_size
        D = 2 if bidirectional else 1
        out_size = proj_size or hidden_size     # the width of h (and of each layer's output)
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(D):
                n_in = input_size if layer == 0 else out_size * D
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gates, n_in)), ("weight_hh", (gates, out_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for pname, shape in shapes:
                    setattr(self, pname + suffix, Parameter(np.empty(shape, nd)))
                    self._flat_weights_names.append(pname + suffix)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -bound, bound)

    @property
    def all_weights(self):
        per = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def _params(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        p = self._parameters
        return (p["weight_ih" + suffix], p["weight_hh" + suffix],
                p.get("bias_ih" + suffix), p.get("bias_hh" + suffix))

    def _projection(self, layer, direction):
        return self._parameters.get(f"weight_hr_l{layer}" + ("_reverse" if direction else ""))

    def _check_input(self, input, hx):
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            input = input.data
            if input.ndim != 2:
                raise ValueError(f"{name}: a PackedSequence's data must be 2-D (sum of lengths, "
                                 f"input_size), got shape {tuple(input.shape)}")
        if not isinstance(input, Tensor) or input.ndim not in (2, 3):
            raise ValueError(f"{name}: expected a 2-D (unbatched) or 3-D (batched) input, got "
                             f"{getattr(input, 'shape', type(input).__name__)}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")

    def forward(self, input, hx=None):
        """input (L, N, H_in) ((N, L, H_in) with batch_first, or unbatched (L, H_in)); hx the
        initial state(s) (num_layers * D, N, H), zeros when omitted. Returns the last layer's
        outputs (L, N, D*H) and the final state(s) of every layer and direction."""
        self._check_input(input, hx)
        name = type(self).__name__
        lstm = self.mode == "LSTM"
        packed = input if isinstance(input, PackedSequence) else None
        unbatched = packed is None and input.ndim == 2
        if packed is not None:
            input = packed.data
            if hx is not None and packed.sorted_indices is not None:   # to the sorted order
                order = packed.sorted_indices
                hx = tuple(h[:, order.array] for h in hx) if lstm else hx[:, order.array]
        elif unbatched:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if lstm else hx.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if packed is not None:
            batch_sizes = [int(b) for b in packed.batch_sizes.array]
            N = batch_sizes[0]
        else:
            L, N = input.shape[:2]
        D = 2 if self.bidirectional else 1
        H = self.hidden_size
        expected = (self.num_layers * D, N, self.proj_size or H)
        expected_c = (self.num_layers * D, N, H)
        if hx is None:
            h0 = make_tensor(array_module(input.array).zeros(expected, input.array.dtype))
            c0 = (h0 if not self.proj_size else
                  make_tensor(array_module(input.array).zeros(expected_c, input.array.dtype))) \
                if lstm else None
        else:
            parts = hx if lstm else (hx,)
            if lstm and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise RuntimeError(f"{name}: hx must be a tuple (h_0, c_0) for LSTM")
            for what, t, want in zip(("h_0", "c_0"), parts, (expected, expected_c)):
                if tuple(t.shape) != want:
                    raise RuntimeError(f"{name}: Expected hidden size {want} for {what}, got "
                                       f"{tuple(t.shape)}")
            h0 = parts[0]
            c0 = parts[1] if lstm else None
        weights = [self._params(layer, direction) for layer in range(self.num_layers)
                   for direction in range(D)]
        if packed is not None or self.proj_size:
            # variable lengths (or projections): one cell op per step over the packed layout
            proj = [self._projection(layer, direction) for layer in range(self.num_layers)
                    for direction in range(D)] if self.proj_size else None
            data = input if packed is not None else input.reshape(L * N, input.shape[2])
            if packed is None:
                batch_sizes = [N] * L
            output, h_n, c_n = F.packed_recurrent_layers(
                data, batch_sizes, h0, c0, weights, self.mode, self.dropout, self.training,
                self.bidirectional, proj)
            if packed is None:
                output = output.reshape(L, N, output.shape[-1])
        else:
            output, h_n, c_n = F.recurrent_layers(input, h0, c0, weights, self.mode,
                                                  self.dropout, self.training,
                                                  self.bidirectional)
        state = (h_n, c_n) if lstm else h_n
        if packed is not None:
            if packed.unsorted_indices is not None:     # back to the caller's batch order
                back = packed.unsorted_indices.array
                state = tuple(s[:, back] for s in state) if lstm else state[:, back]
            return packed._with_data(output), state
        if unbatched:
            output = output.squeeze(1)
            state = tuple(s.squeeze(1) for s in state) if lstm else state.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, state

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu with
    ``nonlinearity='relu'``)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; select from 'tanh' "
                             f"or 'relu'")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTM(RNNBase):
    """Long short-term memory: i, f, g, o = sigma, sigma, tanh, sigma(x W_ih^T + b_ih +
    h W_hh^T + b_hh); c_t = f c_{t-1} + i g; h_t = o tanh(c_t). Returns output, (h_n, c_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit: r, z = sigma(x W_i{r,z}^T + b_i + h W_h{r,z}^T + b_h);
    n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)); h_t = (1 - z) n + z h_{t-1}."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype)


class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        nd = _dtype.to_numpy_dtype(dtype) or _dtype.default_float_np()
        g = num_chunks * hidden_size
        self.weight_ih = Parameter(np.empty((g, input_size), nd))
        self.weight_hh = Parameter(np.empty((g, hidden_size), nd))
        if bias:
            self.bias_ih = Parameter(np.empty(g, nd))
            self.bias_hh = Parameter(np.empty(g, nd))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -bound, bound)

    def _prepare(self, input, hx, n_states):
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got "
                             f"{getattr(input, 'ndim', type(input).__name__)}D instead")
        unbatched = input.ndim == 1
        if unbatched:
            input = input.unsqueeze(0)
        if hx is None:
            z = make_tensor(array_module(input.array).zeros((input.shape[0], self.hidden_size),
                                                            input.array.dtype))
            hx = (z,) * n_states
        else:
            hx = tuple(hx) if n_states == 2 else (hx,)
            if unbatched:
                hx = tuple(h.unsqueeze(0) for h in hx)
        return input, hx, unbatched

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, 1, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (h,), unbatched = self._prepare(input, hx, 1)
        h = F.rnn_cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                       self.nonlinearity)
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    """One LSTM step: (h', c') from x and (h, c), gates i, f, g, o as LSTM."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, dtype)

    def forward(self, input, hx=None):
        input, hx, unbatched = self._prepare(input, hx, 2)
        h, c = F.lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step: h' from x and h, gates r, z, n as GRU."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, dtype)

    def forward(self, input, hx=None):
        input, (h,), unbatched = self._prepare(input, hx, 1)
        h = F.gru_cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h.squeeze(0) if unbatched else h
