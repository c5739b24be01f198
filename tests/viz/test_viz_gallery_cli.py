"""The gallery script (quick mode) and the ``chainrule plot`` command produce real images."""
import os
import re
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")
click = pytest.importorskip("click")
from click.testing import CliRunner  # noqa: E402

from chainrule.viz.cli import plot  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_make_gallery_quick(tmp_path):
    res = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make_gallery.py"),
                          "--quick", "--out", str(tmp_path)], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    md = (tmp_path / "gallery.md").read_text()
    images = re.findall(r"^!\[.*\]\((.+)\)$", md, flags=re.M)
    assert len(images) >= 15
    for rel in images:
        path = tmp_path / rel
        data = path.read_bytes()
        assert len(data) > 1000, rel
        magic = {".png": b"\x89PNG", ".gif": b"GIF8", ".svg": b"<"}[path.suffix]
        assert data.startswith(magic) or data.lstrip().startswith(magic), rel
    # the committed page lists the same pictures as the script makes
    committed = open(os.path.join(ROOT, "docs", "gallery.md")).read()
    assert [r.split("/")[-1] for r in images] == [
        r.split("/")[-1] for r in re.findall(r"^!\[.*\]\((.+)\)$", committed, flags=re.M)]


def test_cli_plot_commands(tmp_path):
    runner = CliRunner()
    out = tmp_path / "a.png"
    res = runner.invoke(plot, ["activations", "--names", "sigmoid,relu", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    res = runner.invoke(plot, ["race", "--function", "bowl", "--steps", "5",
                               "--out", str(tmp_path / "r.png"), "--gif", str(tmp_path / "r.gif")])
    assert res.exit_code == 0, res.output
    assert "Adam" in res.output and (tmp_path / "r.gif").read_bytes()[:4] == b"GIF8"
    res = runner.invoke(plot, ["graph", "--engine", "python", "--out", str(tmp_path / "g.svg")])
    assert res.exit_code == 0, res.output
    assert "value -12" in (tmp_path / "g.svg").read_text()
    res = runner.invoke(plot, ["boundary", "--quick", "--out", str(tmp_path / "b.png")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(plot, ["race", "--function", "nowhere"])
    assert res.exit_code != 0 and "nowhere" in res.output


def test_registered_in_the_chainrule_command():
    from chainrule import cli
    assert cli.COMMANDS.get("plot") == "chainrule.viz.cli:plot"
