"""Every course notebook runs top to bottom in a real Jupyter kernel (nbclient + ipykernel) under
CHAINRULE_COURSE_QUICK=1, and the committed notebooks are the built, output-free form of their
sources in course/sources/."""
import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
COURSE = REPO / "course"
NOTEBOOKS = sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))
SOURCES = sorted((COURSE / "sources").glob("[0-9][0-9]_*.py"))


def test_twelve_notebooks_one_per_source():
    assert len(NOTEBOOKS) == 12
    assert [p.stem for p in NOTEBOOKS] == [p.stem for p in SOURCES]


def test_committed_notebooks_carry_no_outputs():
    nbformat = pytest.importorskip("nbformat")
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, \
                    f"{path.name}: a code cell holds outputs (build it with scripts/build_course.py)"


def test_notebooks_match_their_sources():
    pytest.importorskip("nbformat")
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "build_course.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_notebook_has_a_try_this_list():
    for path in SOURCES:
        assert "## Try this" in path.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if importlib.util.find_spec("ipykernel") is None:
        pytest.skip("needs ipykernel")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("CHAINRULE_COURSE_QUICK", "1")
    # the kernel is a fresh process: it must import this checkout's chainrule
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(REPO / "src")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    monkeypatch.delenv("MPLBACKEND", raising=False)   # the kernel's inline backend draws the figures
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(COURSE)}})
    client.execute()   # raises CellExecutionError naming the cell on any error
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
               for o in outputs), f"{path.name} drew no picture"
