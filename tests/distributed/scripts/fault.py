"""Rank 1 fails (``raise``: an exception; ``exit``: the process dies) while rank 0 waits for it
in an all-reduce; the job must end with an error on every rank instead of hanging."""
import os
import sys

import chainrule as cr
import chainrule.distributed as dist

dist.init_process_group("mpi")
t = cr.ones(4)
dist.all_reduce(t)
if dist.get_rank() == 1:
    if sys.argv[1] == "raise":
        raise ValueError("rank 1 cannot go on")
    os._exit(3)
dist.all_reduce(t)   # rank 0 waits here for a rank that is gone
print("rank 0 finished: the fault went unnoticed")
