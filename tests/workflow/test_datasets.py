import gzip
import os
import shutil

import numpy as np
import pytest

import chainrule as cr
from chainrule import datasets
from workflow_helpers import MNIST_DIR, SHAKESPEARE

BINARY = ["circle", "xor", "gaussian", "spiral"]


@pytest.mark.parametrize("name", BINARY)
def test_playground_classification_shapes_labels_balance(name):
    X, y = datasets.make(name, n=400, noise=0.0, seed=0)
    assert X.shape == (400, 2) and X.dtype == cr.float32
    assert y.shape == (400,) and y.dtype == cr.int64
    assert set(y.tolist()) == {0, 1}
    assert abs(int(y.array.sum()) - 200) <= (0 if name in ("gaussian", "spiral") else 40)
    _, ys = datasets.make(name, n=400, noise=0.0, seed=0, signed=True)
    assert np.array_equal(ys.array, np.where(y.array == 1, 1.0, -1.0).astype(np.float32))


@pytest.mark.parametrize("name", list(datasets.PLAYGROUND))
def test_seed_determinism(name):
    a, b, c = datasets.make(name, n=50, seed=3), datasets.make(name, n=50, seed=3), datasets.make(name, n=50, seed=4)
    assert np.array_equal(a[0].array, b[0].array) and np.array_equal(a[1].array, b[1].array)
    assert not np.array_equal(a[0].array, c[0].array)
    cr.manual_seed(9)
    d = datasets.make(name, n=50)
    cr.manual_seed(9)
    assert np.array_equal(d[0].array, datasets.make(name, n=50)[0].array)


def test_circle_follows_playground_rules():
    X, y = datasets.circle(n=2000, noise=0.0, seed=1)
    r = np.hypot(*X.array.T)
    inner = y.array == 1
    assert r[inner].max() <= 2.5 and r[~inner].min() >= 3.5 and r.max() <= 5
    assert inner.sum() == 1000


def test_xor_padding_and_label_rule():
    X, y = datasets.xor(n=2000, noise=0.0, seed=1)
    x0, x1 = X.array.T
    assert np.abs(X.array).min() >= 0.3 and np.abs(X.array).max() <= 5.3
    assert np.array_equal(y.array, (x0 * x1 >= 0).astype(np.int64))


def test_noise_flips_labels_but_not_points():
    X0, y0 = datasets.xor(n=2000, noise=0.0, seed=2)
    X1, y1 = datasets.xor(n=2000, noise=0.5, seed=2)
    rule = (X1.array[:, 0] * X1.array[:, 1] >= 0).astype(np.int64)
    wrong = (rule != y1.array).mean()
    assert 0.05 < wrong < 0.45                 # noise moves the labelled point, as on the site
    assert np.abs(X1.array).max() <= 5.3       # the cloud keeps its shape


def test_gaussian_noise_widens_variance():
    X0, y0 = datasets.gaussian(n=4000, noise=0.0, seed=0)
    X1, _ = datasets.gaussian(n=4000, noise=0.5, seed=0)
    pos = y0.array == 1
    assert np.allclose(X0.array[pos].mean(0), [2, 2], atol=0.1)
    assert np.isclose(X0.array[pos, 0].var(), 0.5, rtol=0.15)    # variance 0.5 at noise 0
    assert np.isclose(X1.array[:, 0].var() - 4, 4, rtol=0.15)    # 4 at noise 0.5 (+4: the two means)


def test_spiral_radius_and_balance():
    X, y = datasets.spiral(n=500, noise=0.0, seed=0)
    assert np.hypot(*X.array.T).max() < 5
    assert int(y.array.sum()) == 250


def test_regression_sets():
    X, t = datasets.plane(n=1000, noise=0.0, seed=0)
    assert t.dtype == cr.float32 and np.abs(X.array).max() <= 6
    assert np.allclose(t.array, X.array.sum(1) / 10, atol=1e-6)
    X, t = datasets.multi_gaussian(n=1000, noise=0.0, seed=0)
    assert t.array.min() >= -1 and t.array.max() <= 1
    near = np.hypot(X.array[:, 0] + 4, X.array[:, 1] - 2.5) < 0.5   # the +1 bump at (-4, 2.5)
    assert (t.array[near] > 0.7).all()


def test_multiclass_sets():
    for fn in (datasets.blobs, datasets.spirals):
        X, y = fn(n=300, k=4, seed=0)
        assert X.shape == (300, 2) and np.bincount(y.array).tolist() == [75] * 4
    X, y = datasets.two_moons(n=200, noise=0.0, seed=0)
    assert np.bincount(y.array).tolist() == [100, 100]


def test_train_test_split():
    X, y = datasets.circle(n=100, seed=0)
    Xtr, Xte, ytr, yte = datasets.train_test_split(X, y, ratio=0.8, seed=0)
    assert Xtr.shape == (80, 2) and Xte.shape == (20, 2) and ytr.shape == (80,)
    rows = {tuple(r) for r in np.concatenate([Xtr.array, Xte.array]).tolist()}
    assert rows == {tuple(r) for r in X.array.tolist()}
    with pytest.raises(ValueError, match="ratio"):
        datasets.train_test_split(X, y, ratio=1.5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown dataset 'moon'"):
        datasets.make("moon")
    with pytest.raises(ValueError, match="n must be"):
        datasets.circle(n=0)


# -- MNIST ---------------------------------------------------------------------------------------
needs_mnist = pytest.mark.skipif(not os.path.exists(os.path.join(MNIST_DIR, "t10k-labels-idx1-ubyte.gz")),
                                 reason="shared MNIST files not present")


@needs_mnist
def test_mnist_test_set_counts_and_ranges():
    ds = datasets.MNIST(MNIST_DIR, train=False)
    assert len(ds) == 10000
    assert np.bincount(ds.targets.array).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                                       974, 1009]
    image, label = ds[0]
    assert image.shape == (1, 28, 28) and image.dtype == cr.float32 and label == 7
    X, y = ds.tensors()
    assert X.shape == (10000, 1, 28, 28) and y.dtype == cr.int64
    assert X.array.min() == 0 and X.array.max() == 1
    assert datasets.load_mnist(MNIST_DIR, train=False, flatten=True)[0].shape == (10000, 784)
    xb, yb = next(iter(cr.utils.data.DataLoader(ds, batch_size=16)))
    assert xb.shape == (16, 1, 28, 28) and np.array_equal(xb.array, X.array[:16])


@needs_mnist
def test_mnist_transform():
    ds = datasets.MNIST(MNIST_DIR, train=False, transform=lambda im: im.reshape(-1))
    assert ds[1][0].shape == (784,)


@needs_mnist
def test_mnist_missing_train_files_says_which_and_how(tmp_path):
    with pytest.raises(datasets.MNISTFileError, match=r"train-images-idx3-ubyte\[\.gz\] not found.*yann"):
        datasets.MNIST(MNIST_DIR, train=True)
    with pytest.raises(datasets.MNISTFileError, match="does not exist"):
        datasets.MNIST(tmp_path / "nowhere")


def _copy_mnist(tmp_path, gunzip=False):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        src = os.path.join(MNIST_DIR, name)
        if gunzip:
            with gzip.open(src) as f, open(tmp_path / name[:-3], "wb") as out:
                out.write(f.read())
        else:
            shutil.copy(src, tmp_path / name)
    return tmp_path


@needs_mnist
def test_mnist_uncompressed_files_and_truncation(tmp_path):
    root = _copy_mnist(tmp_path, gunzip=True)
    assert len(datasets.MNIST(root, train=False)) == 10000
    path = root / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(datasets.MNISTFileError, match="t10k-images-idx3-ubyte.*truncated"):
        datasets.MNIST(root, train=False)


@needs_mnist
def test_mnist_wrong_magic_and_damaged_gzip(tmp_path):
    root = _copy_mnist(tmp_path)
    # labels where images should be: wrong magic number
    shutil.copy(root / "t10k-labels-idx1-ubyte.gz", root / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(datasets.MNISTFileError, match="magic number 2049, expected 2051"):
        datasets.MNIST(root, train=False)
    raw = (tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(datasets.MNISTFileError, match="damaged or truncated"):
        datasets.MNIST(root, train=False)


@needs_mnist
def test_mnist_count_mismatch(tmp_path):
    root = _copy_mnist(tmp_path, gunzip=True)
    labels = bytearray((root / "t10k-labels-idx1-ubyte").read_bytes())
    labels[4:8] = (9999).to_bytes(4, "big")
    (root / "t10k-labels-idx1-ubyte").write_bytes(bytes(labels[:-1]))
    with pytest.raises(datasets.MNISTFileError, match="10000 images but .* 9999 labels"):
        datasets.MNIST(root, train=False)


# -- text ----------------------------------------------------------------------------------------
@pytest.mark.skipif(not os.path.exists(SHAKESPEARE), reason="shared tiny-Shakespeare corpus not present")
def test_text_corpus_windows_encode_decode():
    corpus = datasets.TextCorpus(SHAKESPEARE, seq_len=16)
    assert corpus.vocab_size == 65
    x, y = corpus[0]
    assert x.shape == (16,) and x.dtype == cr.int64
    assert np.array_equal(x.array[1:], y.array[:-1])
    assert corpus.decode(x) == corpus.text[:16]
    assert corpus.decode(corpus.encode("To be, or not")) == "To be, or not"
    xb, yb = next(iter(cr.utils.data.DataLoader(corpus, batch_size=4)))
    assert xb.shape == (4, 16) and corpus.decode(xb[1]) == corpus.text[16:32]
    with pytest.raises(ValueError, match="not in the vocabulary"):
        corpus.encode("\u00e9")


def test_text_corpus_split_next_target_and_stride():
    corpus = datasets.TextCorpus(text="abcdefghij" * 10, seq_len=4, stride=1, target="next")
    assert len(corpus) == 100 - 4
    x, y = corpus[2]
    assert corpus.decode(x) == "cdef" and corpus.decode(y.reshape(1)) == "g"
    train, val = corpus.split(0.2)
    assert train.vocab is val.vocab and len(train.text) == 80 and len(val.text) == 20
    with pytest.raises(ValueError, match="seq_len"):
        datasets.TextCorpus(text="abc", seq_len=5)


# -- CSV -----------------------------------------------------------------------------------------
def test_from_csv_numbers_scaling_and_classes(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,label,species\n1,10,0,cat\n2,20,1,dog\n3,30,1,cat\n4,40,0,dog\n")
    ds = datasets.from_csv(path, target="label", features=["a", "b"], scale="standard")
    X, y = ds.tensors
    assert X.dtype == cr.float32 and y.dtype == cr.int64 and y.tolist() == [0, 1, 1, 0]
    assert np.allclose(X.array.mean(0), 0, atol=1e-6) and np.allclose(X.array.std(0), 1, atol=1e-6)
    assert ds.feature_names == ["a", "b"]
    mm = datasets.from_csv(path, target="label", features=["a"], scale="minmax")
    assert np.allclose(mm.tensors[0].array.ravel(), [0, 1 / 3, 2 / 3, 1])
    again = datasets.from_csv(path, target="label", features=["a", "b"], scale=ds.scaler)
    assert np.allclose(again.tensors[0].array, X.array)
    sp = datasets.from_csv(path, target="species", features=["a"])
    assert sp.classes == ["cat", "dog"] and sp.tensors[1].tolist() == [0, 1, 0, 1]


def test_from_csv_regression_target_and_errors(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("x,y\n1,0.5\n2,1.5\n")
    assert datasets.from_csv(path, target="y").tensors[1].dtype == cr.float32
    with pytest.raises(KeyError, match=r"no column 'z'.*\['x', 'y'\]"):
        datasets.from_csv(path, target="z")
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,0.5\nabc,1.5\n")
    with pytest.raises(ValueError, match=r"column 'x', row 3 holds the value 'abc'"):
        datasets.from_csv(bad, target="y")
    empty = tmp_path / "e.csv"
    empty.write_text("x,y\n1,\n")
    with pytest.raises(ValueError, match=r"column 'y', row 2 holds an empty cell"):
        datasets.from_csv(empty, target="y")
    with pytest.raises(FileNotFoundError, match="no such file"):
        datasets.from_csv(tmp_path / "none.csv", target="y")
