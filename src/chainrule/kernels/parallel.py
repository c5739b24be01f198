"""When the kernels' parallel builds run: one switch, ``on``, read by ``kernels.get``.

On the bench's 2-core machine SGD's momentum update over 1.86 M floats took 734 us on one thread
and 393 us on two, through Numba's OpenMP threading layer, also right after an MKL product; the
``workqueue`` layer, Numba's fallback where no OpenMP or TBB runtime loads, took 858 us. So:

- Numba is asked for its ``omp`` layer first (then ``tbb``); where neither loads, the parallel
  builds stay unused. A user's ``NUMBA_THREADING_LAYER`` is kept.
- The threads follow ``OMP_NUM_THREADS`` where it is set (the distributed launcher sets 1 per
  rank), and ``cr.set_num_threads``; with one thread the serial builds serve.
- A process forked after the threads started (a DataLoader worker) runs the serial builds: GNU
  OpenMP's threads do not survive a fork, and Numba ends a child that launches them.

A parallel build splits only loops whose iterations write disjoint elements, each computed as
in the serial build, so its results are bit-equal to it (``tests/kernels`` compares the two).
"""
import os

import numpy as np

on = False
_numba = None
_kernels = None
_forked = False   # this process is a fork of one whose threads had started


def start(numba, kernels):
    """Called once the kernels are compiled: choose the threading layer, check that it loads
    (a one-element launch), and size the pool."""
    global on, _numba, _kernels
    _numba, _kernels = numba, kernels
    if not kernels:
        return
    if numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER_PRIORITY = ["omp", "tbb", "workqueue"]
    try:
        a = np.zeros(1, np.float64)
        kernels["relu_forward"](a, a.copy())
        layer = numba.threading_layer()
    except Exception:   # noqa: BLE001 -- no threading layer loads: the serial builds serve
        return
    if layer == "workqueue":
        return
    requested = os.environ.get("OMP_NUM_THREADS", "").strip()
    if requested.isdigit() and int(requested) > 0:
        numba.set_num_threads(min(int(requested), numba.config.NUMBA_NUM_THREADS))
    on = numba.get_num_threads() > 1
    os.register_at_fork(after_in_child=_serial_in_child)


def set_num_threads(n):
    """Run the parallel builds on ``n`` threads (at most Numba's pool size); 1: serial builds."""
    global on
    if _numba is None or not _kernels:
        return
    _numba.set_num_threads(max(1, min(n, _numba.config.NUMBA_NUM_THREADS)))
    on = not _forked and _numba.get_num_threads() > 1


def _serial_in_child():
    global on, _forked
    on, _forked = False, True
