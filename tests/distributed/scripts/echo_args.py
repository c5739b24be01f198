"""Each rank prints its rank, the world size and its arguments (for ``chainrule run``)."""
import os
import sys

import chainrule.distributed as dist

dist.init_process_group()
print(f"rank {dist.get_rank()}/{dist.get_world_size()} args {sys.argv[1:]} "
      f"threads {os.environ.get('OMP_NUM_THREADS')}", flush=True)
dist.destroy_process_group()
