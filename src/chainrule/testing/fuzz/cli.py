"""``python -m chainrule.testing.fuzz --cases N --seed S [--ops ...]``

Each case is drawn from its own generator (seed, case number), so any case reruns alone with
``--case``. Most cases are random programs; every tenth is an optimiser run and every tenth a
layer configuration. One line per mismatch, then its reproducer, then ``N cases, M mismatches``.
"""
import argparse
import sys

import numpy as np

KINDS = ("programs", "optimizers", "layers")


def _torch():
    try:
        import torch
    except ImportError:
        sys.exit("chainrule.testing.fuzz compares chainrule with PyTorch, which is not installed: "
                 "pip install torch (a development dependency, not needed to use chainrule)")
    torch.set_num_threads(1)
    return torch


def kind_of(case, kinds):
    slot = {0: "optimizers", 5: "layers"}.get(case % 10, "programs")
    if slot in kinds:
        return slot
    return kinds[case % len(kinds)]


def run_case(seed, case, kinds, ops, cr, torch, allow_nan=False):
    """``(kind, mismatch descriptions or None when skipped, reproducer script, rounding)``:
    ``rounding`` lists a float32 program's differences decided by float32 rounding
    (compare.rounding_decided); they are printed but not counted as mismatches."""
    from . import layers, optimizers
    from .compare import compare_program, rounding_decided
    from .programs import generate
    from .reproducer import program_script
    from .shrink import shrink

    rng = np.random.default_rng([seed, case])
    kind = kind_of(case, kinds)
    if kind == "optimizers":
        return (kind,) + optimizers.fuzz_one(rng, ops, cr, torch) + ([],)
    if kind == "layers":
        return (kind,) + layers.fuzz_one(rng, ops, cr, torch) + ([],)
    prog = generate(rng, torch, allowed=ops, allow_nan=allow_nan)
    if prog is None:
        return kind, None, "", []
    found = compare_program(prog, cr, torch)
    if found and rounding_decided(prog, cr, torch, found):
        return kind, [], program_script(prog, f"fuzz --seed {seed} --case {case}"), found

    def unexplained(p):
        f = compare_program(p, cr, torch)
        return bool(f) and not rounding_decided(p, cr, torch, f)
    if found:
        prog = shrink(prog, unexplained)
        found = compare_program(prog, cr, torch)
    return kind, found, program_script(prog, f"fuzz --seed {seed} --case {case} (shrunk)"), []


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m chainrule.testing.fuzz",
                                description="Differential fuzzing of chainrule against PyTorch.")
    p.add_argument("--cases", type=int, default=1000, help="how many cases (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--case", type=int, default=None, help="run only this case number")
    p.add_argument("--ops", nargs="+", default=None,
                   help="restrict to these program ops, optimiser or module class names")
    p.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    p.add_argument("--nan", action="store_true",
                   help="let programs compute NaN values too (see docs/reliability.md)")
    p.add_argument("--quiet", action="store_true",
                   help="mismatch lines only: no reproducers, no progress lines")
    p.add_argument("--progress", type=int, default=1000, metavar="N",
                   help="print progress to stderr every N cases (default 1000)")
    args = p.parse_args(argv)
    torch = _torch()
    import warnings
    import chainrule as cr
    warnings.simplefilter("ignore")      # edge values make both libraries warn; results count
    np.seterr(all="ignore")

    ops = set(args.ops) if args.ops else None
    cases = [args.case] if args.case is not None else range(args.cases)
    mismatches = skipped = rounding = 0
    for done, case in enumerate(cases, 1):
        if not args.quiet and done % args.progress == 0:
            print(f"[{done}/{len(cases)} cases, {mismatches} mismatches so far]", file=sys.stderr,
                  flush=True)
        kind, found, script, rounded = run_case(args.seed, case, args.kinds, ops, cr, torch,
                                                args.nan)
        if found is None:
            skipped += 1
            continue
        if rounded:
            rounding += 1
            print(f"ROUNDING seed={args.seed} case={case} {kind} (float32 rounding decides, "
                  f"compare.rounding_decided): {'; '.join(rounded)}", flush=True)
        if found:
            mismatches += 1
            print(f"MISMATCH seed={args.seed} case={case} {kind}: {'; '.join(found)}", flush=True)
            if not args.quiet:
                print("    " + script.replace("\n", "\n    "), flush=True)
    notes = ([f"{rounding} decided by float32 rounding"] if rounding else []) + (
        [f"{skipped} skipped: nothing to compare"] if skipped else [])
    print(f"{len(cases)} cases, {mismatches} mismatches"
          + (f" ({'; '.join(notes)})" if notes else ""))
    return mismatches
