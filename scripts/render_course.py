"""Render each course notebook, executed, to Markdown with its figures: docs/course/NN_*.md and
docs/course/NN_*_files/ (nbconvert), linked from docs/course.md.

Runs every notebook at full size unless --quick (CHAINRULE_COURSE_QUICK=1); a few minutes in all.
Run:  python scripts/render_course.py [--quick] [NN ...]
"""
import argparse
import os
import pathlib
import shutil
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
OUT = ROOT / "docs" / "course"


def render(path, quick):
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import MarkdownExporter

    os.environ["CHAINRULE_COURSE_QUICK"] = "1" if quick else "0"
    os.environ.setdefault("PYTHONPATH", str(ROOT / "src"))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(COURSE)}}).execute()
    stem = path.stem
    body, resources = MarkdownExporter().from_notebook_node(
        nb, resources={"output_files_dir": f"{stem}_files"})
    # write into a temporary folder, then swap it in, so a failed render leaves the old copy
    staging = pathlib.Path(tempfile.mkdtemp(dir=OUT, prefix=f".{stem}."))
    (staging / f"{stem}.md").write_text(
        f"<!-- rendered from course/{path.name} by scripts/render_course.py; do not edit -->\n\n"
        + body, encoding="utf-8")
    for name, data in resources.get("outputs", {}).items():
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    figures = OUT / f"{stem}_files"
    if figures.exists():
        shutil.rmtree(figures)
    if (staging / f"{stem}_files").exists():
        os.replace(staging / f"{stem}_files", figures)
    os.replace(staging / f"{stem}.md", OUT / f"{stem}.md")
    shutil.rmtree(staging)
    print(f"wrote docs/course/{stem}.md ({len(resources.get('outputs', {}))} figures)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes (seconds per notebook)")
    parser.add_argument("only", nargs="*", help="notebook numbers to render (default: all)")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    for path in sorted(COURSE.glob("[0-9][0-9]_*.ipynb")):
        if not args.only or path.stem[:2] in args.only:
            render(path, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
