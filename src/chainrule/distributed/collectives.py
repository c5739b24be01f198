"""The collectives: ``all_reduce``, ``broadcast``, ``all_gather``... with PyTorch's signatures.

Each passes the tensor's own NumPy buffer to MPI (mpi4py's buffer interface: no Python-level
copy), in place where PyTorch's are, as a non-blocking MPI call whose request is waited for by
``Work.wait``: ``async_op=True`` returns the ``Work``, otherwise it is waited for at once. The
wait polls in Python rather than blocking in C, so that it can give up after the group's timeout
with an error naming the collective, and so that a rank stopped by mpirun can say why.

Before each collective the ranks exchange their tensors' shapes and dtypes (one small allgather,
~tens of microseconds on one machine), so a rank that passes a mismatched tensor gets an error
naming both shapes instead of corrupt results or a hang. ``CHAINRULE_DISTRIBUTED_CHECKS=0`` skips
it (DistributedDataParallel checks its shapes once, at construction).
"""
import os
import time

import numpy as np

from ..autograd.tensor_base import increment_version
from .process_group import group_or_world, mpi


class ReduceOp:
    """How ``all_reduce`` and ``reduce_scatter_tensor`` combine the ranks' values."""
    SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR = ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND",
                                                    "BOR", "BXOR")


_MPI_OPS = {"SUM": "SUM", "AVG": "SUM", "PRODUCT": "PROD", "MIN": "MIN", "MAX": "MAX",
            "BAND": "BAND", "BOR": "BOR", "BXOR": "BXOR"}

SPIN_SECONDS = 0.002   # poll flat out this long, then sleep between polls (ranks share cores)


def checks_enabled():
    return os.environ.get("CHAINRULE_DISTRIBUTED_CHECKS", "1") != "0"


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` blocks until it completed."""

    def __init__(self, requests, group, name, finish=None):
        self._requests, self._group, self._name, self._finish = requests, group, name, finish
        self._done = not requests

    def is_completed(self):
        if not self._done and mpi().Request.Testall(self._requests):
            self._complete()
        return self._done

    def wait(self, timeout=None):
        if not self._done:
            wait_requests(self._requests, self._group, self._name, timeout)
            self._complete()
        return True

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._finish()
            self._finish = None


def wait_requests(requests, group, name, timeout=None):
    """Wait for MPI ``requests``; after ``timeout`` (default: the group's) raise naming ``name``."""
    MPI = mpi()
    limit = (timeout or group.timeout).total_seconds()
    started = time.monotonic()
    while not MPI.Request.Testall(requests):
        waited = time.monotonic() - started
        if waited > limit:
            raise RuntimeError(f"{name}: timed out after {limit:g} s waiting for the other ranks "
                               f"of {group} (has one stopped, or skipped this collective?)")
        if waited > SPIN_SECONDS:
            time.sleep(0.0001)


def _array(tensor, name, what="tensor"):
    arr = getattr(tensor, "array", None)
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name}: expected a chainrule Tensor for {what}, got "
                        f"{type(tensor).__name__}")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name}: Tensors must be contiguous ({what} of shape {arr.shape} is a "
                         f"strided view: pass .contiguous())")
    return arr


def _describe(meta):
    shape = tuple(int(s) for s in meta[3:3 + min(int(meta[1]), 8)])
    return f"shape {shape} ({np.dtype(chr(int(meta[0]))).name})"


def check_same_shapes(group, name, arr):
    """Every rank of ``group`` passes an array of ``arr``'s shape and dtype, or all raise naming
    the shapes."""
    if not checks_enabled() or group.size() == 1:
        return
    meta = np.zeros(11, np.int64)
    meta[0], meta[1], meta[2] = ord(arr.dtype.char), arr.ndim, arr.size
    meta[3:3 + min(arr.ndim, 8)] = arr.shape[:8]
    metas = np.empty((group.size(), 11), np.int64)
    wait_requests([group.comm.Iallgather(meta, metas)], group, name + " (shape check)")
    mine = group.rank()
    for r in range(group.size()):
        if not np.array_equal(metas[r], meta):
            first, other = (mine, r) if mine < r else (r, mine)
            raise RuntimeError(
                f"{name}: the ranks passed tensors of different shapes: rank {first} has "
                f"{_describe(metas[first])} but rank {other} has {_describe(metas[other])}")


def _run(requests, group, name, finish, async_op):
    work = Work(requests, group, name, finish)
    if async_op:
        return work
    work.wait()
    return None


def _mpi_op(op, arr, name):
    key = getattr(op, "name", op)
    if key not in _MPI_OPS:
        raise ValueError(f"{name}: unknown op {op!r}; expected a ReduceOp ({', '.join(_MPI_OPS)})")
    if key == "AVG" and arr.dtype.kind not in "fc":
        raise TypeError(f"{name}: ReduceOp.AVG needs a floating-point tensor, got {arr.dtype}")
    return key, getattr(mpi(), _MPI_OPS[key])


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` over the ranks with ``op``, in place on every rank."""
    name = "all_reduce"
    g = group_or_world(group, name)
    arr = _array(tensor, name)
    key, mpi_op = _mpi_op(op, arr, name)
    check_same_shapes(g, name, arr)
    request = g.comm.Iallreduce(mpi().IN_PLACE, arr, op=mpi_op)

    def finish():
        if key == "AVG":
            np.divide(arr, g.size(), out=arr)
        increment_version(tensor)
    return _run([request], g, name, finish, async_op)


def broadcast(tensor, src, group=None, async_op=False):
    """Copy ``tensor`` from global rank ``src`` into every rank's ``tensor`` (in place)."""
    name = "broadcast"
    g = group_or_world(group, name)
    arr = _array(tensor, name)
    root = g.group_rank(src, "broadcast: src")
    check_same_shapes(g, name, arr)
    return _run([g.comm.Ibcast(arr, root=root)], g, name, lambda: increment_version(tensor),
                async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's ``input_tensor``, concatenated along dim 0 in rank order, into
    ``output_tensor`` (world_size times the input's first dimension, or stacked)."""
    name = "all_gather_into_tensor"
    g = group_or_world(group, name)
    src, out = _array(input_tensor, name, "input_tensor"), _array(output_tensor, name, "output_tensor")
    if out.size != src.size * g.size() or out.dtype != src.dtype:
        raise ValueError(f"{name}: output_tensor must hold world_size ({g.size()}) x the input "
                         f"({tuple(src.shape)} {src.dtype}), got {tuple(out.shape)} {out.dtype}")
    check_same_shapes(g, name, src)
    return _run([g.comm.Iallgather(src, out)], g, name, lambda: increment_version(output_tensor),
                async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[r]`` with rank r's ``tensor`` (one list entry per rank)."""
    name = "all_gather"
    g = group_or_world(group, name)
    src = _array(tensor, name)
    outs = _list_arrays(tensor_list, g, src, name, "tensor_list")
    check_same_shapes(g, name, src)
    gathered = np.empty((g.size(),) + src.shape, src.dtype)

    def finish():
        for t, a, part in zip(tensor_list, outs, gathered):
            a[...] = part
            increment_version(t)
    return _run([g.comm.Iallgather(src, gathered)], g, name, finish, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``input`` over the ranks with ``op`` and give rank r the r-th of its world_size
    equal chunks (along dim 0) in ``output``."""
    name = "reduce_scatter_tensor"
    g = group_or_world(group, name)
    src, out = _array(input, name, "input"), _array(output, name, "output")
    key, mpi_op = _mpi_op(op, src, name)
    if src.size != out.size * g.size() or out.dtype != src.dtype:
        raise ValueError(f"{name}: input must hold world_size ({g.size()}) x the output "
                         f"({tuple(out.shape)} {out.dtype}), got {tuple(src.shape)} {src.dtype}")
    check_same_shapes(g, name, src)
    request = g.comm.Ireduce_scatter_block(src, out, op=mpi_op)

    def finish():
        if key == "AVG":
            np.divide(out, g.size(), out=out)
        increment_version(output)
    return _run([request], g, name, finish, async_op)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """Send every rank's ``tensor`` to global rank ``dst``, into its ``gather_list``."""
    name = "gather"
    g = group_or_world(group, name)
    src = _array(tensor, name)
    root = g.group_rank(dst, "gather: dst")
    is_root = g.rank() == root
    if is_root:
        outs = _list_arrays(gather_list, g, src, name, "gather_list")
    elif gather_list:
        raise ValueError(f"{name}: Argument ``gather_list`` must NOT be specified on non-destination "
                         f"ranks.")
    check_same_shapes(g, name, src)
    gathered = np.empty((g.size(),) + src.shape, src.dtype) if is_root else None

    def finish():
        if is_root:
            for t, a, part in zip(gather_list, outs, gathered):
                a[...] = part
                increment_version(t)
    return _run([g.comm.Igather(src, gathered, root=root)], g, name, finish, async_op)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """Give rank r the tensor ``scatter_list[r]`` of global rank ``src``, into its ``tensor``."""
    name = "scatter"
    g = group_or_world(group, name)
    out = _array(tensor, name)
    root = g.group_rank(src, "scatter: src")
    is_root = g.rank() == root
    sendbuf = None
    if is_root:
        arrays = _list_arrays(scatter_list, g, out, name, "scatter_list")
        sendbuf = np.stack(arrays)   # MPI sends one buffer: the list's tensors are separate arrays
    elif scatter_list:
        raise ValueError(f"{name}: Argument ``scatter_list`` must NOT be specified on non-source "
                         f"ranks.")
    check_same_shapes(g, name, out)
    return _run([g.comm.Iscatter(sendbuf, out, root=root)], g, name,
                lambda: increment_version(tensor), async_op)


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank of ``group`` reached this call."""
    g = group_or_world(group, "barrier")
    return _run([g.comm.Ibarrier()], g, "barrier", None, async_op)


def _list_arrays(tensors, g, like, name, what):
    if tensors is None or len(tensors) != g.size():
        got = "None" if tensors is None else f"{len(tensors)} tensors"
        raise ValueError(f"{name}: {what} must hold one tensor per rank ({g.size()}), got {got}")
    arrays = [_array(t, name, what) for t in tensors]
    for a in arrays:
        if a.shape != like.shape or a.dtype != like.dtype:
            raise ValueError(f"{name}: every tensor of {what} must have the input's shape "
                             f"{tuple(like.shape)} and dtype {like.dtype}, got {tuple(a.shape)} "
                             f"{a.dtype}")
    return arrays
