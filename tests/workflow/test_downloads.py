"""Downloads (MNIST, Fashion-MNIST, tiny Shakespeare) from a local HTTP server: never the internet."""
import gzip
import hashlib
import os
import socket

import numpy as np
import pytest

from chainrule import datasets

STEMS = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte"]


def _idx(array, magic):
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


def _idx_files(seed):
    """Tiny IDX files: 6 training and 4 test images with their labels, by name."""
    rng = np.random.default_rng(seed)
    files = {}
    for prefix, n in (("train", 6), ("t10k", 4)):
        files[f"{prefix}-images-idx3-ubyte.gz"] = _idx(rng.integers(0, 256, (n, 28, 28)), 2051)
        files[f"{prefix}-labels-idx1-ubyte.gz"] = _idx(rng.integers(0, 10, n), 2049)
    return files


def _closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _serve(cls, served, base, monkeypatch, seed=0):
    files = _idx_files(seed)
    for name, content in files.items():
        (served / name).write_bytes(content)
    monkeypatch.setattr(cls, "mirrors", [base])
    monkeypatch.setattr(cls, "resources",
                        [(name, hashlib.md5(files[name]).hexdigest()) for name, _ in cls.resources])
    return files


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST])
def test_download_true_fetches_checks_and_reads(cls, server, tmp_path, monkeypatch):
    served, base, requested = server
    files = _serve(cls, served, base, monkeypatch, seed=1)
    root = tmp_path / "data"
    train = cls(root, train=True, download=True)
    raw = root / cls.__name__ / "raw"
    assert sorted(os.listdir(raw)) == sorted(files)             # no temporary file left behind
    assert all((raw / name).read_bytes() == content for name, content in files.items())
    assert len(train) == 6 and train[0][0].shape == (1, 28, 28)
    expected = np.frombuffer(gzip.decompress(files["train-images-idx3-ubyte.gz"])[16:], np.uint8)
    assert np.array_equal(train.data.array.reshape(-1), expected)
    assert len(cls(root, train=False)) == 4
    assert repr(train).startswith(f"{cls.__name__}(train split, 6 images")
    assert sorted(requested) == sorted(files)


def test_present_files_are_not_fetched_again(server, tmp_path, monkeypatch):
    served, base, requested = server
    files = _serve(datasets.MNIST, served, base, monkeypatch)
    root = tmp_path / "data"
    root.mkdir()
    # one file already in root unzipped, one in torchvision's raw folder
    (root / "t10k-labels-idx1-ubyte").write_bytes(gzip.decompress(files["t10k-labels-idx1-ubyte.gz"]))
    (root / "MNIST" / "raw").mkdir(parents=True)
    (root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").write_bytes(files["train-images-idx3-ubyte.gz"])
    datasets.MNIST.download(root, progress=False)
    assert sorted(requested) == ["t10k-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    datasets.MNIST(root, download=True)
    assert len(requested) == 2


def test_checksum_mismatch_is_refused_and_leaves_no_file(server, tmp_path, monkeypatch):
    served, base, _ = server
    _serve(datasets.MNIST, served, base, monkeypatch)
    (served / "t10k-images-idx3-ubyte.gz").write_bytes(b"tampered")
    root = tmp_path / "data"
    with pytest.raises(datasets.DownloadError, match=r"could not download t10k-images-idx3-ubyte.gz "
                                                      r"\(.*refused, its md5 is "):
        datasets.MNIST(root, train=False, download=True)
    raw = root / "MNIST" / "raw"
    assert sorted(os.listdir(raw)) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_a_bad_mirror_falls_back_to_the_next(server, tmp_path, monkeypatch):
    served, base, requested = server
    _serve(datasets.FashionMNIST, served, base, monkeypatch)
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [_closed_port_url(), base])
    folder = datasets.FashionMNIST.download(tmp_path, progress=False)
    assert len(os.listdir(folder)) == 4 and len(requested) == 4


def test_offline_error_names_the_files_and_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.MNIST, "mirrors", [_closed_port_url()])
    with pytest.raises(datasets.DownloadError) as error:
        datasets.MNIST(tmp_path, download=True)
    message = str(error.value)
    assert "could not download train-images-idx3-ubyte.gz" in message
    assert all(stem + ".gz" in message for stem in STEMS)
    assert repr(str(tmp_path / "MNIST" / "raw")) in message
    assert os.listdir(tmp_path / "MNIST" / "raw") == []


def test_missing_files_message_says_how_to_download(tmp_path):
    with pytest.raises(datasets.MNISTFileError, match="download=True.*chainrule data download "
                                                      "fashion-mnist.*fashion-mnist.s3"):
        datasets.FashionMNIST(tmp_path)


def test_text_corpus_download(server, tmp_path, monkeypatch):
    served, base, requested = server
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 3
    (served / "input.txt").write_text(text)
    monkeypatch.setattr(datasets.TextCorpus, "shakespeare_urls", [base + "input.txt"])
    monkeypatch.setattr(datasets.TextCorpus, "shakespeare_sha256",
                        hashlib.sha256(text.encode()).hexdigest())
    path = datasets.TextCorpus.download(tmp_path / "data", progress=False)
    assert path == str(tmp_path / "data" / "tinyshakespeare.txt")
    corpus = datasets.TextCorpus(path, seq_len=8)
    assert corpus.text == text
    assert datasets.TextCorpus.download(tmp_path / "data") == path and requested == ["input.txt"]

    monkeypatch.setattr(datasets.TextCorpus, "shakespeare_sha256", "0" * 64)
    with pytest.raises(datasets.DownloadError, match="refused, its sha256 is"):
        datasets.TextCorpus.download(tmp_path / "other")
    assert os.listdir(tmp_path / "other") == []


def test_published_checksums_match_the_shared_copies():
    shared = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
    pairs = [(os.path.join(shared, "mnist", name), md5, "md5")
             for name, md5 in datasets.MNIST.resources if name.startswith("t10k")]
    pairs.append((os.path.join(shared, "tinyshakespeare.txt"),
                  datasets.TextCorpus.shakespeare_sha256, "sha256"))
    pairs = [pair for pair in pairs if os.path.exists(pair[0])]
    if not pairs:
        pytest.skip("shared data not present")
    for path, checksum, algorithm in pairs:
        assert datasets.download.file_digest(path, algorithm) == checksum


def _cli(*args):
    click_testing = pytest.importorskip("click.testing")
    from chainrule.cli import build_cli
    return click_testing.CliRunner().invoke(build_cli(), list(map(str, args)), catch_exceptions=False)


def test_cli_data_download(server, tmp_path, monkeypatch):
    served, base, requested = server
    _serve(datasets.FashionMNIST, served, base, monkeypatch)
    result = _cli("data", "download", "fashion-mnist", "--root", tmp_path)
    folder = tmp_path / "FashionMNIST" / "raw"
    assert result.exit_code == 0 and f"ready in {folder}" in result.output
    assert len(os.listdir(folder)) == 4 and len(datasets.FashionMNIST(tmp_path)) == 6
    assert _cli("data", "download", "fashion-mnist", "--root", tmp_path).exit_code == 0
    assert len(requested) == 4

    monkeypatch.setattr(datasets.TextCorpus, "shakespeare_urls", [_closed_port_url()])
    result = _cli("data", "download", "shakespeare", "--root", tmp_path)
    assert result.exit_code == 1
    assert "could not download tinyshakespeare.txt" in result.output
    assert _cli("data", "download", "cifar").exit_code == 2
