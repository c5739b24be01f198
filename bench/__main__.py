"""``python -m bench``: chainrule against PyTorch, side by side in one process.

    python -m bench                      # every workload
    python -m bench --workload W2 -w W3  # some of them
    python -m bench --quick --json out.json
    python -m bench --distributed        # W3 data-parallel on 2 ranks (bench/distributed.py)
    python -m bench --profile -w W3      # where chainrule's step spends its time
    python -m bench --device cuda        # W2-W5 on the GPU, both frameworks (needs CuPy)
    python -m bench --compile -w W1      # chainrule's model through cr.compile (replayed)
"""
import argparse
import importlib.util
import sys

from .harness import (format_markdown, format_table, machine_info, matmul_gflops, run_workload,
                      write_json)
from .workloads import DEVICE, GPU_WORKLOADS, WORKLOADS, set_compiling


def main(argv=None, prog="python -m bench"):
    p = argparse.ArgumentParser(prog=prog, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-w", "--workload", action="append", choices=list(WORKLOADS),
                   help="run this workload (repeatable; default: all)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--quick", action="store_true", help="few repetitions (a smoke test)")
    p.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    p.add_argument("--distributed", action="store_true",
                   help="W3 data-parallel: chainrule DDP on 2 ranks vs 1, beside PyTorch DDP")
    p.add_argument("--profile", action="store_true",
                   help="instead: chainrule's step under cProfile, time in products vs the rest")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                   help="run W2-W5 on this device in both frameworks (default cpu)")
    p.add_argument("--compile", action="store_true",
                   help="run chainrule's models through cr.compile (trace and replay); "
                        "PyTorch stays eager")
    args = p.parse_args(argv)
    previous = set_compiling(args.compile)
    try:
        return _run(args)
    finally:
        set_compiling(previous)


def _run(args):
    if args.distributed:
        from .distributed import main as distributed_main
        distributed_main(quick=args.quick)
        return 0
    if args.profile:
        from .profile import format_profile, profile_workload
        names = args.workload or list(WORKLOADS)
        print(format_profile({n: profile_workload(n, steps=3 if args.quick else None)
                              for n in names}))
        if importlib.util.find_spec("torch") is None:
            return 0
        from .products import format_products, products_comparison
        print()
        print(format_products({n: products_comparison(n, reps=2 if args.quick else None)
                               for n in names}))
        return 0
    try:
        import torch  # noqa: F401
    except ImportError:
        print("bench: PyTorch is the reference; install it with pip install torch==2.13.0",
              file=sys.stderr)
        return 2
    names = args.workload or list(WORKLOADS)
    if args.device == "cuda":
        import chainrule as cr
        if not (cr.cuda.is_available() and torch.cuda.is_available()):
            print("bench: --device cuda needs a GPU, CuPy (pip install 'chainrule[cuda]') and a "
                  "CUDA build of PyTorch", file=sys.stderr)
            return 2
        names = [n for n in names if n in GPU_WORKLOADS]
        DEVICE["name"] = "cuda"
        print(f"device: {torch.cuda.get_device_name()} (W2-W5 on the GPU)")
    machine = machine_info()
    gflops = matmul_gflops(1024 if args.quick else 2048)
    print(f"machine: {machine.get('cpu', machine['processor'])}, {machine['cpus']} cores, "
          f"numpy {machine['numpy']}, torch {machine['torch']} ({machine['torch_threads']} threads)")
    results = {}
    for name in names:
        print(f"running {name} ({WORKLOADS[name][0]}) ...", file=sys.stderr, flush=True)
        results[name] = run_workload(name, quick=args.quick)
    print(format_table(results, gflops))
    if args.markdown:
        print()
        print(format_markdown(results, gflops))
    if args.json:
        write_json(args.json, machine, results, gflops)
        print(f"wrote {args.json}")
    bad = [n for n, r in results.items()
           if not r["loss_match"] or not r.get("numpy_loss_match", True)
           or not r.get("reference_loss_match", True)]
    if bad:
        print(f"loss mismatch after five steps: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
