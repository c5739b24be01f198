"""``chainrule bench``: run the benchmark suite (``bench/`` in the repository) against PyTorch.

The suite lives beside the package, not inside it (it needs PyTorch, a dev-only dependency), so
this command looks for it in the source checkout chainrule was installed from, or the current
directory, and runs ``python -m bench`` there with the same arguments (its usage line naming
``chainrule bench``, the way it was invoked).
"""
import os
import subprocess
import sys

import click


def _suite_root():
    here = os.path.dirname(os.path.abspath(__file__))
    for root in (os.path.dirname(os.path.dirname(here)), os.getcwd()):
        if os.path.isfile(os.path.join(root, "bench", "__main__.py")):
            return root
    return None


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                 "help_option_names": []},
               help="Benchmark chainrule against PyTorch (python -m bench; --help for options).")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args):
    root = _suite_root()
    if root is None:
        raise click.ClickException("the benchmark suite (bench/) is not here: run this from a "
                                   "source checkout of chainrule (git clone, pip install -e .)")
    run_suite = ("import sys; from bench.__main__ import main; "
                 "sys.exit(main(sys.argv[1:], prog='chainrule bench'))")
    code = subprocess.call([sys.executable, "-c", run_suite, *args], cwd=root)
    sys.exit(code)
