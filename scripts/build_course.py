"""Build course/NN_*.ipynb from the readable sources in course/sources/NN_*.py.

A source is Python in the "percent" format: a line ``# %%`` starts a code cell and ``# %% [markdown]``
a Markdown cell, whose lines are comments (``# `` stripped). The notebooks are written without
outputs; ``--check`` only reports (exit status 1) notebooks that differ from their sources.

Run:  python scripts/build_course.py [--check]
"""
import argparse
import os
import pathlib
import sys
import tempfile

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = ROOT / "course" / "sources"
COURSE = ROOT / "course"


def cells_of(text):
    """(kind, source) for each cell of a percent-format source."""
    cells, kind, lines = [], None, []

    def flush():
        if kind is not None:
            body = "\n".join(lines).strip("\n")
            if body:
                cells.append((kind, body))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def notebook_of(source_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"},
                   "language_info": {"name": "python"}}
    for i, (kind, body) in enumerate(cells_of(source_path.read_text(encoding="utf-8"))):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = make(body)
        cell["id"] = f"{source_path.stem[:2]}-{i:02d}"   # stable ids: rebuilding changes nothing
        nb.cells.append(cell)
    return nbformat.writes(nb) + "\n"


def write_atomic(path, text):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(check=False):
    stale = []
    for source in sorted(SOURCES.glob("[0-9][0-9]_*.py")):
        target = COURSE / (source.stem + ".ipynb")
        text = notebook_of(source)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(target.name)
        if not check:
            write_atomic(target, text)
            print(f"wrote {target.relative_to(ROOT)}")
    if check and stale:
        print("out of date (run python scripts/build_course.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale notebooks, write nothing")
    sys.exit(main(parser.parse_args().check))
