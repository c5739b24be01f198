"""``chainrule data download ...``: fetch a dataset's files so the examples and full tests can run.

    chainrule data download mnist --root data           # data/MNIST/raw/*.gz (60,000 + 10,000)
    chainrule data download fashion-mnist --root data   # data/FashionMNIST/raw/*.gz
    chainrule data download cifar10 --root data         # data/cifar-10-batches-py/*
    chainrule data download shakespeare --root data    # data/tinyshakespeare.txt

Files already there are kept; each new one is checked against its published checksum.
"""
import click

from .cifar import CIFAR10
from .download import DownloadError
from .mnist import MNIST, FashionMNIST
from .text import TextCorpus

FETCHERS = {"mnist": MNIST.download, "fashion-mnist": FashionMNIST.download,
            "cifar10": CIFAR10.download, "shakespeare": TextCorpus.download}


@click.group()
def data():
    """Get the datasets chainrule reads (MNIST, Fashion-MNIST, CIFAR-10, tiny Shakespeare)."""


@data.command(help="Download a dataset's files into --root (skipping those already there).")
@click.argument("name", type=click.Choice(sorted(FETCHERS)))
@click.option("--root", default="data", show_default=True, type=click.Path(file_okay=False),
              help="Folder to put the files in (the root you then pass to the dataset).")
def download(name, root):
    try:
        where = FETCHERS[name](root)
    except DownloadError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{name}: ready in {where}")
