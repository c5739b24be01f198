"""CIFAR-10: a tiny fake cifar-10-python.tar.gz with the real structure, served on 127.0.0.1.

Never the internet; the published checksums are swapped for the fake files' ones, as the MNIST
download tests do.
"""
import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import datasets
from chainrule.vision import datasets as vision_datasets, transforms

FOLDER = "cifar-10-batches-py"
SIZES = {"data_batch_1": 5, "data_batch_2": 3, "test_batch": 4}


def _batch(name, n, rng):
    """A pickled batch as CIFAR's: uint8 data (n, 3072), labels, file names, batch label."""
    entry = {"batch_label": f"fake {name}", "labels": rng.integers(0, 10, n).tolist(),
             "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             "filenames": [f"image_{i}.png" for i in range(n)]}
    return entry, pickle.dumps(entry, protocol=2)


def _tar_gz(members):
    """A gzipped tar of ``(name, bytes)`` members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


class _RunsShell:
    """Pickles as a call to os.system: loading it with pickle.load would run the command."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def _serve(served, base, monkeypatch, batches=None, extra=()):
    """Serve a fake archive (``batches``: name -> pickled bytes) and make CIFAR10 expect it."""
    rng = np.random.default_rng(0)
    entries = {}
    if batches is None:
        batches = {}
        for name, n in SIZES.items():
            entries[name], batches[name] = _batch(name, n, rng)
    archive = _tar_gz([(f"{FOLDER}/{name}", content) for name, content in batches.items()]
                      + list(extra))
    (served / datasets.CIFAR10.filename).write_bytes(archive)
    md5 = {name: hashlib.md5(content).hexdigest() for name, content in batches.items()}
    monkeypatch.setattr(datasets.CIFAR10, "url", base + datasets.CIFAR10.filename)
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", hashlib.md5(archive).hexdigest())
    monkeypatch.setattr(datasets.CIFAR10, "train_list",
                        [[name, md5[name]] for name in batches if name != "test_batch"])
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", md5["test_batch"]]])
    return entries


def test_download_unpacks_checks_and_reads(server, tmp_path, monkeypatch):
    served, base, requested = server
    entries = _serve(served, base, monkeypatch)
    root = tmp_path / "data"
    train = vision_datasets.CIFAR10(root, train=True, download=True)
    assert requested == [datasets.CIFAR10.filename]
    assert sorted(os.listdir(root)) == [FOLDER, datasets.CIFAR10.filename]   # no temporary file
    assert len(train) == 8 and repr(train).startswith("CIFAR10(train split, 8 images")
    first = entries["data_batch_1"]["data"][0]
    assert train.data.shape == (8, 32, 32, 3) and train.data.dtype == np.uint8
    assert np.array_equal(train.data[0, :, :, 1], first[1024:2048].reshape(32, 32))   # green plane
    assert train.targets == entries["data_batch_1"]["labels"] + entries["data_batch_2"]["labels"]
    image, label = train[5]
    assert image.shape == (3, 32, 32) and image.dtype == cr.float32
    expected = entries["data_batch_2"]["data"][0].reshape(3, 32, 32).astype(np.float32) / 255
    assert np.allclose(image.array, expected) and label == entries["data_batch_2"]["labels"][0]
    images, labels = train.tensors()
    assert images.shape == (8, 3, 32, 32) and labels.dtype == cr.int64
    assert np.allclose(train.tensors(flatten=True)[0].array[0], first / 255)
    xb, yb = next(iter(cr.utils.data.DataLoader(train, batch_size=3)))
    assert np.allclose(xb.array, images.array[:3]) and yb.tolist() == train.targets[:3]
    test = datasets.CIFAR10(root, train=False, download=True)   # already there: no new request
    assert len(test) == 4 and requested == [datasets.CIFAR10.filename]
    assert test.targets == entries["test_batch"]["labels"]
    assert datasets.CIFAR10.classes[0] == "airplane" and len(datasets.CIFAR10.classes) == 10


def test_transform_and_target_transform(server, tmp_path, monkeypatch):
    served, base, _ = server
    entries = _serve(served, base, monkeypatch)
    pipeline = transforms.Compose([transforms.RandomHorizontalFlip(p=1),
                                   transforms.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))])
    test = vision_datasets.CIFAR10(tmp_path, train=False, transform=pipeline,
                                   target_transform=lambda y: y + 10, download=True)
    image, label = test[2]
    raw = entries["test_batch"]["data"][2].reshape(3, 32, 32).astype(np.float32) / 255
    assert np.allclose(image.array, (raw[:, :, ::-1] - 0.5) / 0.25, atol=1e-5)
    assert label == entries["test_batch"]["labels"][2] + 10
    xb, yb = next(iter(cr.utils.data.DataLoader(test, batch_size=4)))   # sample by sample
    assert xb.shape == (4, 3, 32, 32) and yb.tolist() == [y + 10 for y in test.targets]


def test_an_archive_already_in_root_is_unpacked_without_a_download(server, tmp_path, monkeypatch):
    served, base, requested = server
    _serve(served, base, monkeypatch)
    (tmp_path / datasets.CIFAR10.filename).write_bytes((served / datasets.CIFAR10.filename).read_bytes())
    assert datasets.CIFAR10.download(tmp_path, progress=False) == str(tmp_path / FOLDER)
    assert requested == [] and len(datasets.CIFAR10(tmp_path)) == 8


def test_checksum_mismatch_is_refused(server, tmp_path, monkeypatch):
    served, base, _ = server
    _serve(served, base, monkeypatch)
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", "0" * 32)
    with pytest.raises(datasets.DownloadError, match=r"could not download cifar-10-python.tar.gz "
                                                      r"\(.*refused, its md5 is "):
        datasets.CIFAR10(tmp_path / "data", download=True)
    assert os.listdir(tmp_path / "data") == []


def test_a_damaged_batch_is_refused_by_its_md5(server, tmp_path, monkeypatch):
    served, base, _ = server
    _serve(served, base, monkeypatch)
    datasets.CIFAR10.download(tmp_path, progress=False)
    with open(tmp_path / FOLDER / "data_batch_2", "ab") as f:
        f.write(b"tampered")
    with pytest.raises(datasets.CIFARFileError, match=r"data_batch_2' has md5 .*damaged"):
        datasets.CIFAR10(tmp_path)
    assert len(datasets.CIFAR10(tmp_path, download=True)) == 8    # unpacked again from the archive


def test_missing_files_message_says_how_to_download(tmp_path):
    with pytest.raises(datasets.CIFARFileError, match=r"data_batch_1 not found.*download=True.*"
                                                      r"chainrule data download cifar10.*kriz"):
        datasets.CIFAR10(tmp_path)


def test_a_pickle_that_would_run_code_is_refused_unrun(server, tmp_path, monkeypatch):
    served, base, _ = server
    witness = tmp_path / "pwned"
    rng = np.random.default_rng(1)
    batches = {name: _batch(name, n, rng)[1] for name, n in SIZES.items()}
    batches["data_batch_1"] = pickle.dumps({"data": _RunsShell(f"touch {witness}"), "labels": []},
                                           protocol=2)
    _serve(served, base, monkeypatch, batches)
    with pytest.raises(datasets.UnsafeFileError, match=r"data_batch_1.*global posix.system|"
                                                       r"data_batch_1.*global nt.system"):
        datasets.CIFAR10(tmp_path, download=True)
    assert not witness.exists()
    assert len(datasets.CIFAR10(tmp_path, train=False)) == 4   # the plain batch still loads


@pytest.mark.parametrize("member", ["../escaped", f"{FOLDER}/../../escaped", "/tmp/escaped"])
def test_an_archive_member_outside_root_is_refused(member, server, tmp_path, monkeypatch):
    served, base, _ = server
    rng = np.random.default_rng(2)
    batches = {name: _batch(name, n, rng)[1] for name, n in SIZES.items()}
    _serve(served, base, monkeypatch, batches, extra=[(member, b"outside")])
    root = tmp_path / "data"
    with pytest.raises(datasets.UnsafeFileError, match=r"would land outside the folder"):
        datasets.CIFAR10(root, download=True)
    assert os.listdir(root) == [datasets.CIFAR10.filename]          # nothing was unpacked
    assert not (tmp_path / "escaped").exists()


def test_a_link_in_the_archive_is_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo(f"{FOLDER}/data_batch_1")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    archive = tmp_path / "links.tar.gz"
    archive.write_bytes(buffer.getvalue())
    with pytest.raises(datasets.UnsafeFileError, match=r"data_batch_1' is a link"):
        datasets.cifar.extract_safely(str(archive), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def _cli(*args):
    click_testing = pytest.importorskip("click.testing")
    from chainrule.cli import build_cli
    return click_testing.CliRunner().invoke(build_cli(), list(map(str, args)), catch_exceptions=False)


def test_cli_data_download_cifar10(server, tmp_path, monkeypatch):
    served, base, requested = server
    _serve(served, base, monkeypatch)
    result = _cli("data", "download", "cifar10", "--root", tmp_path)
    assert result.exit_code == 0 and f"ready in {tmp_path / FOLDER}" in result.output
    assert len(datasets.CIFAR10(tmp_path, train=False)) == 4
    assert _cli("data", "download", "cifar10", "--root", tmp_path).exit_code == 0
    assert requested == [datasets.CIFAR10.filename]
