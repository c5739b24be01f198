"""The fuzzer in CI: a fixed seed's few hundred cases (programs, optimisers, layers) must show no
mismatch, and the command line prints what docs/reliability.md says it prints."""
import os

import pytest

import chainrule as cr
from chainrule.testing.fuzz.cli import KINDS, main, run_case

torch = pytest.importorskip("torch")

SEED = 11
CASES = 200 if os.environ.get("CI") == "true" else 300


def test_fixed_seed_has_no_mismatch():
    found = []
    for case in range(CASES):
        kind, mismatches, script, _ = run_case(SEED, case, list(KINDS), None, cr, torch)
        if mismatches:
            found.append(f"case {case} ({kind}): {'; '.join(mismatches)}\n{script}")
    assert not found, "\n\n".join(found)


def test_command_line_summary(capsys):
    assert main(["--cases", "12", "--seed", "3", "--kinds", "optimizers", "layers"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("12 cases, 0 mismatches")


def test_a_mismatch_prints_a_line_and_a_runnable_reproducer(capsys, monkeypatch):
    """Break one op on purpose: the fuzzer must catch it, and its reproducer must run."""
    from chainrule.ops import elementwise
    monkeypatch.setattr(elementwise.Sin, "backward", staticmethod(lambda ctx, g: g))
    assert main(["--cases", "200", "--seed", "1", "--ops", "sin", "add", "mul"]) > 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("MISMATCH"))
    assert "seed=1" in line and "gradient" in line
    script = out.split(line, 1)[1].split("\nMISMATCH", 1)[0]
    code = "\n".join(l[4:] for l in script.splitlines() if l.startswith("    "))
    assert "def program(m" in code and ".sin()" in code
    exec(compile(code, "<reproducer>", "exec"), {})


def test_missing_torch_is_said_clearly(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "torch", None)       # import torch now raises ImportError
    with pytest.raises(SystemExit, match="PyTorch, which is not installed"):
        main(["--cases", "1"])


def test_a_float32_only_error_is_not_taken_for_rounding(capsys, monkeypatch):
    """float32 differences the libraries' float64 results explain are counted apart; an op
    wrong only in float32 must still count as a mismatch, not as rounding."""
    import numpy as np
    from chainrule.ops import elementwise
    forward = elementwise.Sin.forward

    def off_in_float32(ctx, a):
        out = forward(ctx, a)
        return out * np.float32(1.01) if out.dtype == np.float32 else out
    monkeypatch.setattr(elementwise.Sin, "forward", staticmethod(off_in_float32))
    assert main(["--cases", "60", "--seed", "1", "--ops", "sin", "add", "mul", "--quiet"]) > 0
    assert "ROUNDING" not in capsys.readouterr().out
