"""``DistributedDataParallel``: the same model on every rank, each rank on its own share of the
batch, gradients averaged over the ranks before every optimiser step (``torch.nn.parallel``).

Why averaging gives the one-process result: with the loss a mean over the batch, the gradient of
a batch of B samples is the mean of the per-sample gradients. Split into W equal shares, each
rank's gradient is the mean over its B/W samples, and the mean of the W rank means is the mean of
all B: the same step as one process with batch B, so the learning rate stays as it is.

How: the parameters are cut into buckets (in reverse order of ``parameters()``, the order in which
backward produces their gradients; the first 1 MiB, then ``bucket_cap_mb`` each). Every parameter
has a post-accumulate-grad hook; when the last gradient of a bucket arrived, the bucket's
gradients are copied into one flat buffer (a gradient of 1 MiB or more is a bucket of its own
and stays where it is) and a non-blocking all-reduce (MPI_Iallreduce) starts on it while
backward goes on with the earlier layers. When the last bucket started, backward
waits for all of them and writes each average back into ``.grad``: by the time
``loss.backward()`` returns, every rank holds the same averaged gradients.
"""
import contextlib
import zlib

import numpy as np

from ... import distributed as dist
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.tensor_base import make_tensor
from ...distributed.collectives import wait_requests
from ..module import Module

FIRST_BUCKET_BYTES = 1024 * 1024   # PyTorch's: the first bucket small, so the first
                                   # all-reduce starts early in backward
ALONE_BYTES = 1024 * 1024          # a gradient this large is all-reduced on its own, in place:
                                   # copying it into a shared buffer would cost more than the
                                   # extra collective's latency saves


class _Bucket:
    """The gradients of some parameters of one dtype, all-reduced at once.

    Several small ones are copied into one flat buffer (one collective instead of many); a bucket
    of one parameter reduces its ``.grad`` in place, with no copy in or out (W3's two weight
    matrices are 96 % of its gradients)."""

    def __init__(self, params):
        self.params = params
        self.sizes = [p.array.size for p in params]
        self.offsets = np.cumsum([0] + self.sizes)[:-1].tolist()
        self.dtype = params[0].array.dtype
        self.alone = len(params) == 1
        self.buffer = None if self.alone else np.zeros(sum(self.sizes), self.dtype)
        self.pending = len(params)
        self.target = None   # the array all-reduced this step

    def pack(self):
        """The array to all-reduce: the lone parameter's own ``.grad`` where it may be reduced in
        place, else the flat buffer filled with the gradients (zeros for a missing one)."""
        if self.alone:
            p = self.params[0]
            g = None if p.grad is None else p.grad.array
            if (isinstance(g, np.ndarray) and g.base is None and g.flags.c_contiguous and
                    g.flags.writeable and len(getattr(p, "_post_accumulate_hooks", ())) == 1):
                # an array of its own, and only DDP's hook: nothing else reads or writes it while
                # MPI does
                self.target = g.reshape(-1)
                return self.target
            if self.buffer is None:   # no .grad here, or one not ours to write into
                self.buffer = np.empty(self.sizes[0], self.dtype)
        for p, o, n in zip(self.params, self.offsets, self.sizes):
            view = self.buffer[o:o + n]
            if p.grad is None:
                view[...] = 0
            else:
                view[...] = p.grad.array.reshape(-1)
        self.target = self.buffer
        return self.target

    def unpack(self, world_size, used=None):
        """The sums divided by ``world_size`` into each ``.grad`` (one pass over the memory)."""
        target, self.target = self.target, None
        if target is not self.buffer:
            np.divide(target, world_size, out=target)   # the lone .grad, reduced in place
            return
        for i, (p, o, n) in enumerate(zip(self.params, self.offsets, self.sizes)):
            total = target[o:o + n].reshape(p.array.shape)
            if p.grad is None:
                if used is not None and not used[i]:
                    continue   # unused on every rank: the gradient stays None, as PyTorch's
                p.grad = make_tensor(total / world_size)
            else:
                np.divide(total, world_size, out=p.grad.array)


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over ``process_group`` (default: every rank).

    Rank 0's parameters and buffers are copied to every rank here, and its buffers again before
    each forward (``broadcast_buffers``). ``no_sync()``: a context in which backward only
    accumulates locally (gradient accumulation); the next backward outside it averages the sum.
    ``find_unused_parameters``: walk the graph after each forward and count the parameters it
    does not reach as done, so a model with branches unused in a step can still be reduced.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got "
                            f"{type(module).__name__}")
        self.module = module
        group = dist.process_group.group_or_world(process_group, "DistributedDataParallel")
        self.process_group = group
        # DDP's own communicator: its all-reduces, started as backward goes, never interleave
        # with the user's collectives on the group's
        self._comm = group.comm.Dup()
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = bool(find_unused_parameters)
        self.require_backward_grad_sync = True
        self._params = [p for p in module.parameters() if p.requires_grad]
        if not self._params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have "
                               "any parameter that requires a gradient.")
        for p in self._params:
            if not p.array.flags.c_contiguous:
                raise ValueError("DistributedDataParallel: parameters must be contiguous")
        self._check_same_model()
        self._broadcast([p.array for p in module.parameters()] +
                        [b.array for b in module.buffers()])
        cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._buckets = self._make_buckets(cap)
        self._where, self._hook_handles = {}, []
        for b, bucket in enumerate(self._buckets):
            for i, p in enumerate(bucket.params):
                self._where[id(p)] = (b, i)
                self._hook_handles.append(p.register_post_accumulate_grad_hook(self._grad_ready))
        self._expecting = False     # a forward under grad asked for a reduction in backward
        self._next_bucket = 0
        self._requests = []
        self._used = None

    # -- construction -----------------------------------------------------------------------
    def _check_same_model(self):
        """Every rank wraps a model with the same parameter shapes (a checksum of them)."""
        shapes = repr([(tuple(p.array.shape), p.array.dtype.str) for p in self._params])
        mine = np.array([len(self._params), zlib.crc32(shapes.encode())], np.int64)
        every = np.empty((self.process_group.size(), 2), np.int64)
        self._wait([self._comm.Iallgather(mine, every)], "DistributedDataParallel")
        for r, row in enumerate(every):
            if not np.array_equal(row, mine):
                raise RuntimeError(
                    f"DistributedDataParallel: rank {r}'s module has different parameters than "
                    f"rank {self.process_group.rank()}'s ({row[0]} vs {mine[0]} parameters, or "
                    f"different shapes or dtypes): every rank must build the same model")

    def _broadcast(self, arrays):
        requests = [self._comm.Ibcast(a, root=0) for a in arrays if a.size]
        self._wait(requests, "DistributedDataParallel (broadcast from rank 0)")

    def _make_buckets(self, cap):
        buckets, current, size, limit = [], [], 0, min(FIRST_BUCKET_BYTES, cap)
        for p in reversed(self._params):
            if p.array.nbytes >= ALONE_BYTES:   # reduced alone, in its own .grad
                if current:
                    buckets.append(_Bucket(current))
                buckets.append(_Bucket([p]))
                current, size, limit = [], 0, cap
                continue
            if current and (size + p.array.nbytes > limit or
                            p.array.dtype != current[0].array.dtype):
                buckets.append(_Bucket(current))
                current, size, limit = [], 0, cap
            current.append(p)
            size += p.array.nbytes
        if current:
            buckets.append(_Bucket(current))
        return buckets

    def _wait(self, requests, name):
        wait_requests(requests, self.process_group, name)

    # -- forward ----------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._expecting:
            unreduced = [n for n, p in self.module.named_parameters()
                         if id(p) in self._where and self._buckets[self._where[id(p)][0]].pending]
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new "
                "one. This error indicates that your module has parameters that were not used in "
                "producing loss. You can enable unused parameter detection by passing the keyword "
                "argument `find_unused_parameters=True` to `DistributedDataParallel`, and by "
                "making sure all `forward` function outputs participate in calculating loss. "
                f"Parameters that were not reduced: {', '.join(unreduced[:10])}")
        if self.broadcast_buffers and self.training:
            buffers = [b.array for b in self.module.buffers()]
            if buffers:
                self._broadcast(buffers)
        output = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self._prepare_for_backward(output)
        return output

    def _prepare_for_backward(self, output):
        for bucket in self._buckets:
            bucket.pending = len(bucket.params)
        self._next_bucket, self._requests, self._expecting = 0, [], True
        if not self.find_unused_parameters:
            self._used = None
            return
        reached = _leaves_reached(output)
        self._used = np.array([id(p) in reached for p in self._flat_params()], np.int32)
        for p in self._params:
            if id(p) not in reached:
                self._mark_ready(p)

    def _flat_params(self):
        return [p for bucket in self._buckets for p in bucket.params]

    # -- backward ---------------------------------------------------------------------------
    def _grad_ready(self, param):
        if self._expecting:
            self._mark_ready(param)

    def _mark_ready(self, param):
        b, _ = self._where[id(param)]
        self._buckets[b].pending -= 1
        MPI = dist.process_group.mpi()
        # buckets start in index order on every rank: MPI needs the same order of collectives
        while self._next_bucket < len(self._buckets) and not self._buckets[self._next_bucket].pending:
            bucket = self._buckets[self._next_bucket]
            self._requests.append(self._comm.Iallreduce(MPI.IN_PLACE, bucket.pack(), op=MPI.SUM))
            self._next_bucket += 1
        if self._requests:
            MPI.Request.Testall(self._requests)   # lets MPI progress the transfers under way
        if self._next_bucket == len(self._buckets):
            self._finish_reduction()

    def _finish_reduction(self):
        MPI = dist.process_group.mpi()
        requests = self._requests
        if self._used is not None:
            requests = requests + [self._comm.Iallreduce(MPI.IN_PLACE, self._used, op=MPI.MAX)]
        self._wait(requests, "DistributedDataParallel (gradient all-reduce)")
        world, start = self.process_group.size(), 0
        for bucket in self._buckets:
            n = len(bucket.params)
            used = None if self._used is None else self._used[start:start + n]
            bucket.unpack(world, used)
            start += n
        self._expecting, self._requests = False, []

    def remove_hooks(self):
        """Stop averaging: remove the gradient hooks from the module's parameters (before
        wrapping the same module in another DistributedDataParallel)."""
        for handle in self._hook_handles:
            handle.remove()
        self._hook_handles = []

    @contextlib.contextmanager
    def no_sync(self):
        """Backward inside only accumulates ``.grad`` locally; the first backward after it
        averages the accumulated gradients."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old


def _leaves_reached(output):
    """The ids of the leaf tensors that backward from ``output`` (tensors, nested in tuples,
    lists and dicts) would reach."""
    stack, seen, leaves = [output], set(), set()
    while stack:
        x = stack.pop()
        if isinstance(x, (tuple, list)):
            stack.extend(x)
            continue
        if isinstance(x, dict):
            stack.extend(x.values())
            continue
        fn = getattr(x, "grad_fn", None)
        if fn is None:
            if getattr(x, "requires_grad", False):
                leaves.add(id(x))
            continue
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        stack.extend(t for t in (fn.inputs or ()) if t is not None)
    return leaves
