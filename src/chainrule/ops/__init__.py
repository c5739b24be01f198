"""The differentiable operations: each a ``Function`` subclass (``base.Op``) with its forward and
backward side by side, working on NumPy arrays. Grouped by topic, as ``chainrule.nn`` is:

base           Op, dtype promotion, dim normalisation
elementwise    arithmetic (Add, Mul, Pow...) and math functions (Exp, Log, Sqrt, Sin...)
reduction      Sum, Mean, Var, Amax, LogSumExp, Norm, Cumsum, TopK...
shape          Reshape, Permute, Expand, Cat, Split, Pad...
indexing       GetItem, MaskedFill, Gather, ScatterAdd, IndexSelect
linalg         MatMul, Einsum
activation     Sigmoid, Tanh, ReLU and every other activation; Softmax, LogSoftmax; Maxout
linear         Linear (y = x W^T + b)
loss           MSELoss, L1Loss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss,
               BCEWithLogitsLoss, KLDivLoss
normalization  Normalize (layer, group, instance, batch norm), RunningStats, BatchNormEval
dropout        Dropout
embedding      Embedding
conv           Conv, ConvTranspose, and the sliding-window geometry (padding, im2col, col2im)
conv_columns   Conv's compiled-kernel layouts (exact columns, per image or batch-last)
pooling        MaxPool, AvgPool, adaptive average pooling (Separable)
upsampling     UpsampleNearestInt, nearest selection matrices
fold           Unfold, Fold
recurrent      LSTM, GRU and RNN cell steps, and whole-sequence GRU and RNN ops
lstm_layer     LSTMLayer: one LSTM layer and direction over a whole sequence
attention      ScaledDotProductAttention
inplace        Fill, CopyFrom, SetItem: what fill_/zero_, copy_ and x[i] = v record in a graph

Nothing is imported here: import the module you need (``from chainrule.ops import activation``).
"""
