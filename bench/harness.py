"""Timing, loss agreement, memory and the hardware floor for the benchmark suite."""
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

from .workloads import DEVICE, NUMPY_REFERENCE, WORKLOADS, compiling

FRAMEWORKS = ("chainrule", "torch")


def contenders(name):
    """The two frameworks, chainrule's reference path, and the hand-written NumPy step where
    the workload has one."""
    on_cpu = DEVICE["name"] == "cpu"      # the NumPy reference has no GPU version
    return FRAMEWORKS + ("reference",) + (("numpy",) if name in NUMPY_REFERENCE and on_cpu else ())


def build_step(name, framework):
    """The workload's step for one contender; "reference" is chainrule's step with every op on
    its reference twin (``cr.backends.reference()``, which also turns the compiled kernels off)."""
    build = WORKLOADS[name][1]
    if framework != "reference":
        return build(framework)
    import chainrule as cr
    step = build("chainrule")
    fast_run = step.run

    def run(want_loss=False):
        with cr.backends.reference():
            return fast_run(want_loss)
    step.run = run
    return step


def percentiles(samples):
    a = np.asarray(samples) * 1e3
    return {"p10": float(np.percentile(a, 10)), "p50": float(np.percentile(a, 50)),
            "p90": float(np.percentile(a, 90))}


def settle(quiet_ms=2.0, slice_s=0.02, limit_s=0.5):
    """Sleep until this process's thread pools stop spinning.

    After a matrix product, OpenBLAS's worker threads (NumPy's, so chainrule's) busy-wait for
    about 0.1 s and PyTorch's OpenMP threads for about 0.01 s. A pool still spinning on a 2-core
    machine takes a core from whichever framework is timed next, so each turn starts only once
    a slice of sleep costs the process (nearly) no CPU time."""
    deadline = time.perf_counter() + limit_s
    while time.perf_counter() < deadline:
        cpu = time.process_time()
        time.sleep(slice_s)
        if (time.process_time() - cpu) * 1e3 < quiet_ms:
            return


WARM_PER_ROUND = 2


def time_steps(steps, rounds, per_round):
    """Alternate the frameworks (A B A B ...), timing every step on its own."""
    samples = {fw: [] for fw in steps}
    clock = time.perf_counter
    for _ in range(rounds):
        for fw, step in steps.items():
            run = step.run
            settle()
            for _ in range(WARM_PER_ROUND):  # wake the pool, refill the caches: as in a loop
                run()
            for _ in range(per_round):
                t0 = clock()
                run()
                samples[fw].append(clock() - t0)
    return samples


def losses_after(name, steps=5):
    """Each framework's loss after ``steps`` steps from the same start (fresh models)."""
    out = {}
    for fw in contenders(name):
        step = build_step(name, fw)
        for _ in range(steps - 1):
            step.run()
        out[fw] = step.run(want_loss=True)
    return out


_MEMORY_PROBE = """
import sys
from bench.workloads import WORKLOADS

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])  # kB

# One-time costs (imports, kernel libraries, thread pools) are not part of the workload: pay
# them on the tiny W1 first.
warm = WORKLOADS["W1"][1](sys.argv[2])
warm.run()
del warm
if sys.argv[2] == "chainrule":   # Numba's compiler and kernel cache load once per process
    from chainrule import kernels
    kernels.warm_up()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current resident size
base = status("VmRSS:")
step = WORKLOADS[sys.argv[1]][1](sys.argv[2])
for _ in range(int(sys.argv[3])):
    step.run()
print((status("VmHWM:") - base) / 1024)
"""


def peak_memory_mb(name, framework, steps):
    """Peak resident memory of building the workload and running ``steps`` training steps
    (weights, gradients, optimiser state, activations), in a fresh process per framework: the
    peak (VmHWM, reset through clear_refs once the framework has run a tiny step, so that its
    one-time initialisation is not counted) minus the resident size then."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    res = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, name, framework, str(steps)],
                         cwd=root, capture_output=True, text=True)
    if res.returncode != 0:
        return None
    return float(res.stdout.strip().splitlines()[-1])


def matmul_gflops(n=2048, repeats=5):
    """The machine's float32 matrix-product rate through NumPy (the floor for MLP steps)."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.copy()
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def machine_info():
    import torch
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "numpy": np.__version__, "torch": torch.__version__,
            "torch_threads": torch.get_num_threads()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def run_workload(name, quick=False):
    steps = {fw: build_step(name, fw) for fw in contenders(name)}
    warm = 3 if quick else 20
    for step in steps.values():
        for _ in range(warm):
            step.run()
    heavy = name in ("W3", "W4", "W5")
    rounds = 3 if quick else (20 if heavy else 40)
    per_round = 2 if quick else (3 if heavy else 25)
    samples = time_steps(steps, rounds, per_round)
    stats = {fw: percentiles(samples[fw]) for fw in steps}
    losses = losses_after(name)
    cr_loss, torch_loss = losses["chainrule"], losses["torch"]
    match = bool(np.isclose(cr_loss, torch_loss, rtol=2e-3, atol=1e-4))
    result = {"description": WORKLOADS[name][0], "kernels": _kernels_in_use()}
    for q in ("p10", "p50", "p90"):
        result[f"reference_ms_{q}"] = stats["reference"][q]
    result["reference_ratio"] = stats["reference"]["p50"] / stats["torch"]["p50"]
    result["reference_loss_match"] = bool(np.isclose(losses["reference"], torch_loss, rtol=2e-3,
                                                     atol=1e-4))
    if "numpy" in steps:
        for q in ("p10", "p50", "p90"):
            result[f"numpy_ms_{q}"] = stats["numpy"][q]
        result["numpy_ratio"] = stats["numpy"]["p50"] / stats["torch"]["p50"]
        result["numpy_loss_match"] = bool(np.isclose(losses["numpy"], torch_loss, rtol=2e-3,
                                                     atol=1e-4))
    for fw in FRAMEWORKS:
        result[f"{fw}_ms_p10"] = stats[fw]["p10"]
        result[f"{fw}_ms_p50"] = stats[fw]["p50"]
        result[f"{fw}_ms_p90"] = stats[fw]["p90"]
        result[f"{fw}_samples_per_s"] = steps[fw].samples / (stats[fw]["p50"] / 1e3)
    result["ratio"] = stats["chainrule"]["p50"] / stats["torch"]["p50"]
    # the same over the 10th percentiles: each framework in the machine's quiet moments, so a
    # slow phase of a shared host that hit one framework's turns more than the other's shows up
    # as a gap between the two ratios
    result["ratio_p10"] = stats["chainrule"]["p10"] / stats["torch"]["p10"]
    result["chainrule_loss_5"] = cr_loss
    result["torch_loss_5"] = torch_loss
    result["loss_match"] = match
    mem_steps = 2 if quick else 5
    result["chainrule_peak_mb"] = peak_memory_mb(name, "chainrule", mem_steps)
    result["torch_peak_mb"] = peak_memory_mb(name, "torch", mem_steps)
    result["flops"] = steps["chainrule"].flops
    return result


def _kernels_in_use():
    from chainrule import kernels
    return kernels.available()


def format_table(results, gflops):
    head = (f"{'workload':<22}{'chainrule p50':>14}{'torch p50':>11}{'ratio':>7}{'p10 ratio':>10}"
            f"{'cr p10-p90':>16}{'samples/s':>11}{'cr MB':>8}{'torch MB':>9}{'loss ok':>8}{'floor':>8}"
            f"{'ref p50':>11}{'ref/torch':>10}{'numpy p50':>11}{'np/torch':>9}")
    lines = [head, "-" * len(head)]
    for name, r in results.items():
        floor = f"{r['flops'] / (gflops * 1e9) * 1e3:.2f}" if r.get("flops") else "-"
        mem = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
        lines.append(
            f"{name + ' ' + r['description']:<22.22}{r['chainrule_ms_p50']:>12.3f}ms"
            f"{r['torch_ms_p50']:>9.3f}ms{r['ratio']:>7.2f}{r['ratio_p10']:>10.2f}"
            f"{r['chainrule_ms_p10']:>8.3f}-{r['chainrule_ms_p90']:<7.3f}"
            f"{r['chainrule_samples_per_s']:>11.0f}{mem(r['chainrule_peak_mb']):>8}"
            f"{mem(r['torch_peak_mb']):>9}{str(r['loss_match']):>8}{floor:>8}"
            f"{r['reference_ms_p50']:>9.3f}ms{r['reference_ratio']:>10.2f}"
            + (f"{r['numpy_ms_p50']:>9.3f}ms{r['numpy_ratio']:>9.2f}" if "numpy_ratio" in r
               else f"{'-':>11}{'-':>9}"))
    lines.append(f"floor: NumPy float32 matmul {gflops:.1f} GFLOP/s; 'floor' = the step's matmul "
                 f"FLOPs at that rate, in ms (W2, W3)")
    lines.append("numpy: the same step hand-written in NumPy (bench/numpy_reference.py), no "
                 "autograd; np/torch = its median over PyTorch's")
    kernels_on = any(r.get("kernels") for r in results.values())
    lines.append("chainrule: the fast path, compiled kernels "
                 + ("on (Numba)" if kernels_on else "off (no Numba, or CHAINRULE_KERNELS=0)")
                 + ("; models through cr.compile (trace and replay)" if compiling() else "")
                 + "; ref: every op on its reference twin, no kernels (cr.backends.reference())")
    return "\n".join(lines)


def format_markdown(results, gflops):
    """The table as Markdown (for the README's Performance section)."""
    lines = ["| workload | chainrule p50 | PyTorch p50 | ratio | p10 ratio | chainrule p10-p90 | samples/s "
             "(chainrule) | peak MB chainrule / PyTorch | loss after 5 steps agrees | "
             "reference path p50 (ratio) | hand-written NumPy p50 (ratio) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        mem = " / ".join("-" if v is None else f"{v:.1f}" if v >= 0.1 else "<0.1"
                         for v in (r["chainrule_peak_mb"], r["torch_peak_mb"]))
        lines.append(f"| {name} {r['description']} | {r['chainrule_ms_p50']:.3f} ms | "
                     f"{r['torch_ms_p50']:.3f} ms | **{r['ratio']:.2f}** | {r['ratio_p10']:.2f} | "
                     f"{r['chainrule_ms_p10']:.3f}-{r['chainrule_ms_p90']:.3f} ms | "
                     f"{r['chainrule_samples_per_s']:,.0f} | {mem} | "
                     f"{'yes' if r['loss_match'] else 'NO'} | "
                     f"{r['reference_ms_p50']:.3f} ms ({r['reference_ratio']:.2f}) | "
                     + (f"{r['numpy_ms_p50']:.3f} ms ({r['numpy_ratio']:.2f}) |"
                        if "numpy_ratio" in r else "- |"))
    floors = [f"{n}: {r['flops'] / (gflops * 1e9) * 1e3:.2f} ms" for n, r in results.items()
              if r.get("flops")]
    lines.append("")
    lines.append(f"Matrix-product floor: NumPy float32 matmul runs at {gflops:.0f} GFLOP/s here; the "
                 f"step's matmul FLOPs at that rate take " + ", ".join(floors) + ".")
    return "\n".join(lines)


def write_json(path, machine, results, gflops):
    data = {"machine": dict(machine, matmul_gflops=gflops), "workloads": results}
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
