"""Worker processes for ``DataLoader(num_workers=N)``, as PyTorch runs them.

The main process draws the batches' indices (the sampler runs there, so the order is the one
``num_workers=0`` gives) and hands them round-robin to N processes, at most
``prefetch_factor * N`` batches ahead. Each worker fetches and collates its batches and sends
them back on one result queue; the main process yields them in order. Worker ``i`` seeds
chainrule's default generator and Python's ``random`` with ``base_seed + i``, ``base_seed``
drawn from the loader's generator once per iterator (PyTorch's seeding). An exception in a
worker comes back and is raised in the main process, naming the worker.
"""
import multiprocessing
import os
import queue
import random
import traceback
from dataclasses import dataclass

import numpy as np

from ... import random as cr_random
from ... import threads

# How often a waiting worker checks that its parent still lives, and the main process that
# its workers do (seconds).
STATUS_CHECK_INTERVAL = 5.0


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker (PyTorch's fields)."""

    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info = None


def get_worker_info():
    """This worker's ``WorkerInfo`` (``id``, ``num_workers``, ``seed``, ``dataset``) in a
    DataLoader worker process; None in the main process."""
    return _worker_info


class _WorkerError:
    """An exception raised in a worker, carried to the main process (as text: the exception
    itself may not pickle)."""

    def __init__(self, worker_id, exc):
        self.worker_id = worker_id
        self.exc_type = type(exc)
        self.text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))

    def reraise(self):
        msg = (f"Caught {self.exc_type.__name__} in DataLoader worker process "
               f"{self.worker_id}.\nOriginal {self.text}")
        try:
            err = self.exc_type(msg)
        except Exception:
            err = RuntimeError(msg)
        raise err


def _worker_loop(fetch, index_queue, result_queue, worker_id, num_workers, seed, dataset,
                 worker_init_fn, parent_pid):
    global _worker_info
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    # one thread per worker, as PyTorch's workers: the workers already share the cores
    threads.set_num_threads(1)
    cr_random.manual_seed(seed)
    random.seed(seed)
    init_error = None
    if worker_init_fn is not None:
        try:
            worker_init_fn(worker_id)
        except Exception as e:
            init_error = _WorkerError(worker_id, e)
    while True:
        try:
            task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
        except queue.Empty:
            if os.getppid() != parent_pid:   # the main process died: stop
                return
            continue
        except (KeyboardInterrupt, EOFError, OSError):
            return
        if task is None:
            return
        idx, indices = task
        if init_error is not None:
            result_queue.put((idx, init_error))
            continue
        try:
            data = fetch(indices)
        except Exception as e:
            data = _WorkerError(worker_id, e)
        result_queue.put((idx, data))


class MultiProcessIterator:
    """One epoch's batches from ``loader.num_workers`` processes; with ``persistent_workers``
    the loader keeps this object and ``reset`` starts the next epoch on the same workers."""

    def __init__(self, loader, fetch):
        self.loader = loader
        n = loader.num_workers
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing.get_context()
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self.timeout = loader.timeout
        self.base_seed = None
        self.result_queue = ctx.Queue()
        self.index_queues, self.workers = [], []
        # the order first, then the seed: the sampler draws what it draws with num_workers=0
        batches = list(loader._index_batches())
        base_seed = _draw_base_seed(loader.generator)
        for i in range(n):
            q = ctx.Queue()
            w = ctx.Process(target=_worker_loop, daemon=True, args=(
                fetch, q, self.result_queue, i, n, base_seed + i, loader.dataset,
                loader.worker_init_fn, os.getpid()))
            w.start()
            self.index_queues.append(q)
            self.workers.append(w)
        self.base_seed = base_seed
        self.shut_down = False
        self._start_epoch(batches)

    def reset(self):
        """The next epoch, on the same workers (``persistent_workers``)."""
        self._start_epoch(list(self.loader._index_batches()))

    def _start_epoch(self, batches):
        self.batches = iter(batches)
        self.send_idx = self.rcvd_idx = 0
        self.reorder = {}
        self.exhausted = False
        for _ in range(self.loader.prefetch_factor * len(self.workers)):
            self._send_next()

    def _send_next(self):
        if self.exhausted:
            return
        try:
            indices = next(self.batches)
        except StopIteration:
            self.exhausted = True
            return
        self.index_queues[self.send_idx % len(self.workers)].put((self.send_idx, indices))
        self.send_idx += 1

    def __iter__(self):
        return self

    def __next__(self):
        if self.rcvd_idx >= self.send_idx:
            if not self.loader.persistent_workers:
                self.shutdown()
            raise StopIteration
        while self.rcvd_idx not in self.reorder:
            idx, data = self._get()
            self.reorder[idx] = data
        data = self.reorder.pop(self.rcvd_idx)
        self.rcvd_idx += 1
        self._send_next()
        if isinstance(data, _WorkerError):
            self.shutdown()
            data.reraise()
        return data

    def _get(self):
        waited = 0.0
        while True:
            step = STATUS_CHECK_INTERVAL
            if self.timeout > 0:
                step = min(step, self.timeout - waited)
            try:
                return self.result_queue.get(timeout=step)
            except queue.Empty:
                waited += step
                dead = [w for w in self.workers if not w.is_alive()]
                if dead:
                    self.shutdown()
                    raise RuntimeError(f"DataLoader worker (pid(s) "
                                       f"{', '.join(str(w.pid) for w in dead)}) exited "
                                       f"unexpectedly") from None
                if self.timeout > 0 and waited >= self.timeout:
                    self.shutdown()
                    raise RuntimeError(f"DataLoader timed out after {self.timeout} "
                                       f"seconds") from None

    def shutdown(self):
        """Stop the workers: ask each to finish, then end any that does not."""
        if self.shut_down:
            return
        self.shut_down = True
        for q in self.index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for w in self.workers:
            w.join(timeout=STATUS_CHECK_INTERVAL)
            if w.is_alive():
                w.terminate()
                w.join()
        for q in self.index_queues + [self.result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self.shutdown()
        except Exception:
            pass


def _draw_base_seed(generator):
    """PyTorch's shared seed: one int64 drawn from the loader's generator per iterator."""
    return int(cr_random.rng(generator).integers(0, 2 ** 62, dtype=np.int64))
