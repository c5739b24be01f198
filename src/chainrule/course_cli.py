"""``chainrule course [--lab]``: where the course companion's notebooks are and how to open them."""
import pathlib
import shutil
import subprocess
import sys

import click

INSTALL = 'pip install "chainrule[course]"'


def course_folder():
    """The ``course/`` folder of a source checkout (the notebooks are not part of the wheel)."""
    folder = pathlib.Path(__file__).resolve().parents[2] / "course"
    return folder if (folder / "01_neuron_and_xor.ipynb").exists() else None


@click.command(help="Say how to open the course notebooks (one per lecture topic); "
                    "--lab starts JupyterLab on them.")
@click.option("--lab", is_flag=True, help="Start JupyterLab on the course folder.")
def course(lab):
    folder = course_folder()
    if folder is None:
        raise click.ClickException(
            "the course notebooks live in the source repository's course/ folder, which this "
            "installation does not include: clone the repository, then run "
            f"{INSTALL!r} and 'jupyter lab course/' in it")
    notebooks = sorted(p.name for p in folder.glob("[0-9][0-9]_*.ipynb"))
    jupyter = shutil.which("jupyter")
    if lab:
        if jupyter is None:
            raise click.ClickException(f"JupyterLab is not installed: {INSTALL}")
        sys.exit(subprocess.call([jupyter, "lab", str(folder)]))
    click.echo(f"The course: {len(notebooks)} notebooks in {folder}")
    for name in notebooks:
        click.echo(f"  {name}")
    click.echo("To start:")
    if jupyter is None:
        click.echo(f"  {INSTALL}")
    click.echo(f"  jupyter lab {folder}        (or: chainrule course --lab)")
    click.echo("Set CHAINRULE_COURSE_QUICK=1 for reduced sizes (seconds per notebook).")
