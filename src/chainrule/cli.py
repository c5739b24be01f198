"""The ``chainrule`` command line: one entry point, one subcommand per module.

Adding a subcommand (``chainrule playground``, ``chainrule plot``, ``chainrule bench`` ...):

1. Write a click command in your own module, e.g. ``src/chainrule/viz/cli.py``::

       import click

       @click.command(help="Plot a training history.")
       @click.argument("history")
       def plot(history): ...

2. Register it with ONE line in ``COMMANDS`` below: ``"plot": "chainrule.viz.cli:plot",``.

Commands are imported only when run (or when ``--help`` lists them), so a command whose optional
dependencies are missing cannot break the others; it should import them inside its function and
exit with a message naming the extra to install (``pip install 'chainrule[viz]'``).
"""
import importlib
import sys

COMMANDS = {
    "train": "chainrule.train.commands:train",
    "eval": "chainrule.train.commands:evaluate",
    "predict": "chainrule.train.commands:predict",
    "info": "chainrule.train.commands:info",
    "playground": "chainrule.playground.cli:playground",
    "plot": "chainrule.viz.cli:plot",
    "bench": "chainrule.bench_cli:bench",
    "data": "chainrule.datasets.cli:data",
    "course": "chainrule.course_cli:course",
    "run": "chainrule.distributed.launch:run",
}

MISSING_CLICK = ("chainrule's command line needs the 'click' package, which is not installed.\n"
                 "Install it with:  pip install 'chainrule[cli]'")


def _load(target):
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def build_cli():
    """The click group holding every registered command (imported lazily)."""
    import click

    from . import __version__

    class LazyGroup(click.Group):
        def list_commands(self, ctx):
            return sorted(COMMANDS)

        def get_command(self, ctx, name):
            if name not in COMMANDS:
                return None
            try:
                return _load(COMMANDS[name])
            except ImportError as e:
                # bind the message now: Python unbinds ``e`` when the except block ends
                return click.Command(name, help=f"(unavailable: {e})",
                                     callback=lambda error=str(e): _unavailable(name, error))

    @click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="chainrule")
    def cli():
        """chainrule: train, evaluate and inspect models from the command line."""

    return cli


def _unavailable(name, error):
    import click
    raise click.ClickException(f"'chainrule {name}' cannot run: {error}")


def main(argv=None):
    try:
        import click  # noqa: F401
    except ImportError:
        print(MISSING_CLICK, file=sys.stderr)
        return 1
    return build_cli().main(args=argv, prog_name="chainrule")


if __name__ == "__main__":
    sys.exit(main())
