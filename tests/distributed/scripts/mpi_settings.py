"""Prints the Open MPI settings chainrule.distributed defaults (OPEN_MPI_DEFAULTS) as MPI_Init
saw them on rank 0; under mpirun."""
import os

import chainrule.distributed as dist
from chainrule.distributed.process_group import OPEN_MPI_DEFAULTS

dist.init_process_group("mpi")
if dist.get_rank() == 0:
    for name in OPEN_MPI_DEFAULTS:
        print(f"{name}={os.environ.get(name)}")
    print("OK")
dist.destroy_process_group()
