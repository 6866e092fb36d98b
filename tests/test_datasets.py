"""Tests for dec_np.datasets: IDX parsing, verified downloads, loaders, scalings, protocols.

Downloads are exercised end to end against a local HTTP server on 127.0.0.1 serving small
generated files; the real MNIST/USPS checks use the ``data_dir`` fixture and skip without it.
"""
import functools
import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest

from dec_np import _download, datasets
from dec_np.datasets import (DatasetNotFoundError, imbalanced_subsample, load_dataset,
                             load_digits, load_mnist, load_usps, paper_scale, parse_idx,
                             read_idx, write_idx)

MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
USPS_COUNTS = [1553, 1269, 929, 824, 852, 716, 834, 792, 708, 821]
DIGITS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
NAMES = list(_download.MNIST_MD5)


# ----------------------------------------------------------------------------- IDX
@pytest.mark.parametrize("shape, dtype", [((7,), np.uint8), ((5, 28, 28), np.uint8),
                                          ((3, 4), np.int32), ((2, 3), np.float32)])
def test_idx_round_trip(shape, dtype):
    a = (np.arange(np.prod(shape)) % 251).reshape(shape).astype(dtype)
    raw = write_idx(a)
    b = parse_idx(raw)
    assert b.shape == shape and b.dtype == dtype
    np.testing.assert_array_equal(a, b)


def test_idx_magic_of_mnist_files():
    assert write_idx(np.zeros(3, np.uint8))[:4] == bytes.fromhex("00000801")
    assert write_idx(np.zeros((1, 2, 2), np.uint8))[:4] == bytes.fromhex("00000803")


def test_read_idx_gz_and_plain(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    write_idx(a, tmp_path / "x-idx3-ubyte.gz")
    write_idx(a, tmp_path / "x-idx3-ubyte")
    np.testing.assert_array_equal(read_idx(tmp_path / "x-idx3-ubyte.gz"), a)
    np.testing.assert_array_equal(read_idx(tmp_path / "x-idx3-ubyte"), a)


def test_bad_magic_names_the_file(tmp_path):
    path = tmp_path / "bad-idx1-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"PK\x03\x04" + bytes(20))
    with pytest.raises(ValueError, match=r"bad-idx1-ubyte\.gz.*not an IDX file"):
        read_idx(path)
    with pytest.raises(ValueError, match="magic"):
        parse_idx(b"")


@pytest.mark.parametrize("cut", [1, 100, 4 + 4 * 3 + 10])
def test_truncated_file_names_the_file(tmp_path, cut):
    raw = write_idx(np.ones((2, 28, 28), np.uint8))
    path = tmp_path / "cut-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(raw[:-cut])
    with pytest.raises(ValueError, match=r"cut-idx3-ubyte\.gz.*truncated"):
        read_idx(path)


def test_trailing_bytes_and_cut_gzip_stream(tmp_path):
    with pytest.raises(ValueError, match="trailing"):
        parse_idx(write_idx(np.ones(3, np.uint8)) + b"\0")
    path = tmp_path / "half.gz"
    gz = gzip.compress(write_idx(np.arange(1000, dtype=np.uint8).reshape(10, 10, 10)))
    path.write_bytes(gz[: len(gz) // 2])
    with pytest.raises(ValueError, match="half.gz"):
        read_idx(path)


# ----------------------------------------------------------------------------- downloads
def _fake_mnist(folder, n_train=30, n_test=20):
    """Write four small MNIST-like files; return name -> md5 of the decompressed content."""
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    md5s = {}
    for part, n in (("train", n_train), ("t10k", n_test)):
        for kind, a in (("images-idx3", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
                        ("labels-idx1", (np.arange(n) % 10).astype(np.uint8))):
            name = f"{part}-{kind}-ubyte.gz"
            md5s[name] = hashlib.md5(write_idx(a, folder / name)).hexdigest()
    return md5s


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_download_falls_back_past_404_and_corrupt_mirrors(tmp_path, server, capsys):
    www = tmp_path / "www"
    md5s = _fake_mnist(www / "good")
    (www / "empty").mkdir()                            # mirror 1: 404 for everything
    (www / "corrupt").mkdir()                          # mirror 2: wrong content
    name = "t10k-labels-idx1-ubyte.gz"
    write_idx(np.zeros(20, np.uint8), www / "corrupt" / name)
    mirrors = [server + "empty/", server + "corrupt/", server + "good/"]
    cache = tmp_path / "cache" / "mnist"
    path = _download.download_file(name, cache, mirrors, md5s[name])
    assert path == cache / name and _download.payload_md5(path) == md5s[name]
    assert sorted(p.name for p in cache.iterdir()) == [name]  # no .part files left
    assert "downloading" in capsys.readouterr().err


def test_corrupt_download_is_never_cached(tmp_path, server):
    www = tmp_path / "www"
    md5s = _fake_mnist(www / "good")
    name = "t10k-images-idx3-ubyte.gz"
    (www / "bad").mkdir()
    gz = (www / "good" / name).read_bytes()
    (www / "bad" / name).write_bytes(gz[:-40])        # a cut gzip stream
    cache = tmp_path / "cache"
    with pytest.raises(DatasetNotFoundError, match="tried"):
        _download.download_file(name, cache, [server + "bad/"], md5s[name], progress=False)
    wrong = "0" * 32                                   # a whole file, wrong checksum
    with pytest.raises(DatasetNotFoundError, match=f"expected {wrong}"):
        _download.download_file(name, cache, [server + "good/"], wrong, progress=False)
    assert not cache.exists()                          # nor the folder it created


def test_load_mnist_end_to_end_from_local_mirror(tmp_path, server, monkeypatch):
    md5s = _fake_mnist(tmp_path / "www" / "mnist")
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", [server + "missing/", server + "mnist/"])
    monkeypatch.setattr(datasets, "MNIST_MD5", md5s)
    X, y = load_mnist(data_dir=tmp_path / "data")
    assert X.shape == (50, 784) and X.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0
    assert sorted(p.name for p in (tmp_path / "data" / "mnist").iterdir()) == sorted(md5s)
    Xt, yt = load_mnist(data_dir=tmp_path / "data", subset="test", download=False)
    np.testing.assert_array_equal(Xt, X[30:])
    np.testing.assert_array_equal(yt, y[30:])


def test_no_network_error_lists_files_and_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", ["http://127.0.0.1:1/"])  # refused
    for download in (True, False):
        with pytest.raises(DatasetNotFoundError) as err:
            load_mnist(data_dir=tmp_path, subset="test", download=download)
        msg = str(err.value)
        assert "t10k-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
        assert str(tmp_path / "mnist") in msg and "DEC_NP_DATA" in msg
    assert isinstance(err.value, FileNotFoundError)
    assert not any((tmp_path / "mnist").glob("*"))
    with pytest.raises(DatasetNotFoundError, match=r"usps\.npz.*no public mirror"):
        load_usps(data_dir=tmp_path)


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("DEC_NP_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _download.default_data_dir() == tmp_path / "xdg" / "dec_np"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert _download.default_data_dir().parts[-2:] == (".cache", "dec_np")
    monkeypatch.setenv("DEC_NP_DATA", str(tmp_path / "env"))
    assert _download.default_data_dir() == tmp_path / "env"


# ------------------------------------------------------------------ embedded data, scaling
def test_embedded_digits():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == DIGITS_COUNTS
    assert X.min() == 0.0 and X.max() == 1.0
    Xn, _ = load_digits(scaling="none")
    np.testing.assert_array_equal(Xn, X * 16)
    assert set(np.unique(Xn)) <= set(range(17))


def test_scalings():
    Xp, y = load_digits(scaling="paper")
    assert abs(np.mean(np.sum(Xp.astype(np.float64) ** 2, axis=1) / Xp.shape[1]) - 1) < 1e-5
    X = np.random.default_rng(0).integers(0, 256, (500, 784)).astype(np.float32)
    Xs, factor = paper_scale(X)
    assert Xs.dtype == np.float32 and factor > 0
    np.testing.assert_allclose(Xs, X * factor, rtol=1e-6)
    assert abs(np.mean(np.sum(Xs.astype(np.float64) ** 2, axis=1)) / 784 - 1) < 1e-5
    with pytest.raises(ValueError, match="scaling"):
        load_digits(scaling="minmax")


# ----------------------------------------------------------------------------- protocols, dispatch
def test_imbalanced_subsample_proportions():
    n_per, K, r_min = 20000, 10, 0.1
    y = np.repeat(np.arange(K), n_per)[::-1].copy()   # order must not matter
    X = y[:, None].astype(np.float32) * np.ones((1, 3), np.float32)
    Xs, ys = imbalanced_subsample(X, y, r_min, random_state=0)
    np.testing.assert_array_equal(Xs[:, 0], ys)        # rows stay paired
    p = r_min + (1 - r_min) * np.arange(K) / (K - 1)
    kept = np.bincount(ys, minlength=K) / n_per
    assert np.all(np.abs(kept - p) <= 5 * np.sqrt(p * (1 - p) / n_per) + 1e-12)
    assert kept[-1] == 1.0
    Xs2, ys2 = imbalanced_subsample(X, y, r_min, random_state=0)
    np.testing.assert_array_equal(ys, ys2)
    with pytest.raises(ValueError):
        imbalanced_subsample(X, y, 0.0)


def test_load_dataset_dispatch(tmp_path):
    X, y = load_dataset("digits", scaling="none")
    np.savez(tmp_path / "d.npz", X=X.reshape(-1, 8, 8), y=y)
    Xf, yf = load_dataset(tmp_path / "d.npz")
    np.testing.assert_allclose(Xf, X / 16)             # "unit" maps 0..16 to [0, 1]
    np.testing.assert_array_equal(yf, y)
    np.save(tmp_path / "d.npy", X / 16)
    Xn, yn = load_dataset(str(tmp_path / "d.npy"))
    assert yn is None and Xn.dtype == np.float32
    np.testing.assert_allclose(Xn, X / 16)              # already in [0, 1]: unchanged
    np.savez(tmp_path / "nolabels.npz", X=X)
    assert load_dataset(tmp_path / "nolabels.npz", scaling="none")[1] is None
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("cifar")
    with pytest.raises(FileNotFoundError):
        load_dataset(tmp_path / "absent.npz")


# ----------------------------------------------------------------------------- the real data
def test_mnist_test_split(data_dir):
    X, y = load_mnist(data_dir=data_dir, subset="test", download=False)
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert np.bincount(y).tolist() == MNIST_TEST_COUNTS
    assert X.max() == 1.0
    X2, y2 = load_dataset("mnist-test", data_dir=data_dir, scaling="none", download=False)
    np.testing.assert_array_equal(X2, X * 255)
    assert (_download.payload_md5(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz")
            == _download.MNIST_MD5["t10k-labels-idx1-ubyte.gz"])


def test_usps(data_dir):
    if not (data_dir / "usps" / "usps.npz").exists():
        pytest.skip("USPS not found")
    X, y = load_usps(data_dir=data_dir)
    assert X.shape == (9298, 256) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == USPS_COUNTS
    assert 0.0 <= X.min() and X.max() <= 1.0
    assert load_usps(data_dir=data_dir, subset="train")[0].shape == (7291, 256)
    assert load_usps(data_dir=data_dir, subset="test")[0].shape == (2007, 256)


# ----------------------------------------------------------------------------- download limits
class _Trickle(http.server.BaseHTTPRequestHandler):
    """/slow: one byte every 50 ms, forever; /big: 1 MB more than any cap the test sets;
    /liar: announces 10 bytes and sends 100,000."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        import time
        self.send_response(200)
        if self.path.endswith("/liar/" + self.path.rsplit("/", 1)[-1]):
            self.send_header("Content-Length", "100000")
        elif "/big/" in self.path:
            self.send_header("Content-Length", str(2 ** 20))
        self.end_headers()
        try:
            if "/slow/" in self.path:
                for _ in range(2000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            else:
                self.wfile.write(b"\0" * (2 ** 20 if "/big/" in self.path else 100000))
        except OSError:  # the client gave up: expected
            pass


@pytest.fixture
def trickle():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_a_trickling_mirror_cannot_hold_the_download(tmp_path, trickle):
    import time
    t0 = time.monotonic()
    with pytest.raises(DatasetNotFoundError, match="deadline"):
        _download.download_file("f.gz", tmp_path, [trickle + "slow/"], progress=False,
                                timeout=5.0, deadline=1.0)
    assert time.monotonic() - t0 < 4.0          # 1 byte per 50 ms never trips the timeout
    assert list(tmp_path.iterdir()) == []


def test_bodies_larger_than_expected_are_refused(tmp_path, trickle, monkeypatch):
    name = "t10k-labels-idx1-ubyte.gz"           # a 10,008-byte payload
    assert _download.max_download_bytes(name) < 20000
    for mirror in ("big/", "liar/"):             # announced too big / sends more than it said
        with pytest.raises(DatasetNotFoundError, match="expected"):
            _download.download_file(name, tmp_path, [trickle + mirror], progress=False)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(_download, "DEFAULT_MAX_BYTES", 50000)  # unknown names: a cap too
    with pytest.raises(DatasetNotFoundError, match="50000"):
        _download.download_file("other.bin", tmp_path, [trickle + "liar/"], progress=False)


def test_progress_is_plain_lines_off_a_terminal_and_silent_when_asked(tmp_path, server, capsys,
                                                                     monkeypatch):
    md5s = _fake_mnist(tmp_path / "www" / "mnist")
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", [server + "mnist/"])
    monkeypatch.setattr(datasets, "MNIST_MD5", md5s)
    load_mnist(data_dir=tmp_path / "quiet", subset="test", progress=False)
    assert capsys.readouterr().err == ""
    load_mnist(data_dir=tmp_path / "loud", subset="test")
    err = capsys.readouterr().err
    assert "downloading" in err and "\r" not in err and err.endswith("\n")


def test_cli_quiet_silences_downloads(tmp_path, server, capsys, monkeypatch):
    from dec_np.cli import main
    md5s = _fake_mnist(tmp_path / "www" / "mnist")
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", [server + "mnist/"])
    monkeypatch.setattr(datasets, "MNIST_MD5", md5s)
    assert main(["fit", "--dataset", "mnist-test", "--data-dir", str(tmp_path / "d"), "--fast",
                 "--quiet", "--no-figures", "--n-clusters", "2", "--max-iter", "20",
                 "--pretrain-lr", "1e-4",
                 "--out", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().err == ""
    assert (tmp_path / "d" / "mnist" / "t10k-images-idx3-ubyte.gz").exists()


def test_stale_partial_downloads_are_removed(tmp_path, server):
    import subprocess
    import sys
    md5s = _fake_mnist(tmp_path / "www" / "good")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    name = "t10k-labels-idx1-ubyte.gz"
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / f".{name}.{dead}.abc.part").write_bytes(b"\0" * 100)
    _download.download_file(name, cache, [server + "good/"], md5s[name], progress=False)
    assert sorted(p.name for p in cache.iterdir()) == [name]


# ----------------------------------------------------------------------------- data files
@pytest.mark.parametrize("content, match", [
    (None, "empty"),
    (np.float32(1.0), "0-d"),
    (np.arange(5.0), "1-d"),
    (np.ones((3, 2)) * 1j, "real numbers"),
    (np.array([[1.0, np.inf]]), "NaN or inf"),
    (np.zeros((0, 4)), "no rows"),
    (np.array([["a", "b"]]), "real numbers"),
])
def test_data_files_are_checked_as_the_estimator_checks_x(tmp_path, content, match):
    path = tmp_path / "x.npy"
    if content is None:
        path.write_bytes(b"")
    else:
        np.save(path, content)
    with pytest.raises(ValueError, match=match):
        load_dataset(path)


def test_image_arrays_are_flattened_and_labels_checked(tmp_path):
    X = np.random.default_rng(0).random((6, 4, 4, 3))
    np.savez(tmp_path / "img.npz", X=X, y=np.arange(6.0))
    Xf, y = load_dataset(tmp_path / "img.npz", scaling="none")
    assert Xf.shape == (6, 48) and y.dtype == np.int64
    np.savez(tmp_path / "bad_y.npz", X=X, y=np.arange(5))
    with pytest.raises(ValueError, match="5 labels for 6 samples"):
        load_dataset(tmp_path / "bad_y.npz")
    np.save(tmp_path / "y.npy", np.array([0.0, 1.5]))
    with pytest.raises(ValueError, match="integers"):
        datasets.load_labels(tmp_path / "y.npy")
    (tmp_path / "zip.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ValueError, match="zip.npz"):
        load_dataset(tmp_path / "zip.npz")


# ----------------------------------------------------------------------------- hostile files
def _forged_npy(path, shape, dtype="<f8", data=b"\0" * 64):
    """An .npy whose header claims ``shape`` but which holds only ``data``."""
    from numpy.lib import format as npformat
    with open(path, "wb") as f:
        npformat.write_array_header_1_0(f, {"descr": dtype, "fortran_order": False,
                                            "shape": shape})
        f.write(data)


def test_a_header_claiming_more_than_the_file_holds_is_refused_before_allocation(tmp_path):
    _forged_npy(tmp_path / "huge.npy", (10 ** 9, 10 ** 4))
    with pytest.raises(ValueError, match=r"huge\.npy: the header claims shape \(1000000000, "
                                         r"10000\).*holds 64 bytes"):
        load_dataset(tmp_path / "huge.npy")
    _forged_npy(tmp_path / "x.npy", (10 ** 9, 10 ** 4))
    import zipfile
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as z:   # the same, as an archive member
        z.write(tmp_path / "x.npy", "X.npy")
    with pytest.raises(ValueError, match=r"huge\.npz\[X\.npy\]: the header claims"):
        load_dataset(tmp_path / "huge.npz")
    with pytest.raises(ValueError, match=r"huge\.npy: the header claims"):
        datasets.load_labels(tmp_path / "huge.npy")


def test_object_arrays_are_refused_in_one_line(tmp_path):
    _forged_npy(tmp_path / "obj.npy", (2, 2), dtype="|O")
    with pytest.raises(ValueError, match=r"obj\.npy: holds Python objects"):
        load_dataset(tmp_path / "obj.npy")


@pytest.mark.parametrize("shape", [(5, 0), (5, 0, 3)])
def test_arrays_without_features_name_the_file(tmp_path, shape):
    np.save(tmp_path / "e.npy", np.zeros(shape))
    with pytest.raises(ValueError, match=r"e\.npy: X has no features"):
        load_dataset(tmp_path / "e.npy")


def test_finite_extremes_load_in_unit_scaling_and_are_refused_beyond_float32(tmp_path):
    np.save(tmp_path / "big.npy", np.array([[1e308, -1e308], [0.0, 1e308]]))
    X, _ = load_dataset(tmp_path / "big.npy")
    np.testing.assert_allclose(X, [[1.0, 0.0], [0.5, 1.0]])
    with pytest.raises(ValueError, match=r"big\.npy: values as large as 1e\+308 overflow"):
        load_dataset(tmp_path / "big.npy", scaling="none")


@pytest.mark.parametrize("y, match", [
    (np.array([0, 2 ** 63 + 5], np.uint64), "does not fit in int64"),
    (np.array([0.0, 1e30]), "exactly"),
    (np.array([0.0, np.nan]), "integers"),
    (np.array(["a", "b"]), "integers"),
])
def test_labels_out_of_range_or_not_integral_are_refused(tmp_path, y, match):
    np.save(tmp_path / "y.npy", y)
    with pytest.raises(ValueError, match=r"y\.npy: .*" + match):
        datasets.load_labels(tmp_path / "y.npy")


@pytest.mark.parametrize("member, content", [("X", b"just some text"), ("notes.txt", b"hi")])
def test_archive_members_that_are_not_arrays_are_refused(tmp_path, member, content):
    import zipfile
    with zipfile.ZipFile(tmp_path / "odd.npz", "w") as z:
        z.writestr(member, content)
    with pytest.raises(ValueError, match=rf"odd\.npz\[{member}\]: not a NumPy array"):
        load_dataset(tmp_path / "odd.npz")


def test_an_array_member_without_the_npy_suffix_is_still_checked(tmp_path):
    import zipfile
    _forged_npy(tmp_path / "x.npy", (10 ** 9, 10 ** 4))
    with zipfile.ZipFile(tmp_path / "bare.npz", "w") as z:
        z.write(tmp_path / "x.npy", "X")              # np.load reads it as key X
    with pytest.raises(ValueError, match=r"bare\.npz\[X\]: the header claims"):
        load_dataset(tmp_path / "bare.npz")


def test_a_gzip_bomb_in_the_data_folder_is_read_no_further_than_its_header_says(tmp_path):
    import zlib
    header = bytes([0, 0, 8, 1]) + np.asarray([10], ">u4").tobytes()   # 10 labels
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    gz = z.compress(header) + b"".join(z.compress(bytes(1 << 20)) for _ in range(64)) + z.flush()
    (tmp_path / "bomb-idx1-ubyte.gz").write_bytes(gz)                  # 64 MiB of zeros inside
    import tracemalloc
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="has trailing bytes"):
            read_idx(tmp_path / "bomb-idx1-ubyte.gz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20                         # not the 64 MiB the stream inflates to


# ----------------------------------------------------------------------------- text tables
@pytest.mark.parametrize("name, text", [
    ("x.csv", "f1,f2,f3\n1,2,3\n4,5,6\n"),         # a header row of column names
    ("x.csv", "1, 2, 3\n4,5,6\n"),                  # spaces around commas
    ("x.tsv", "1\t2\t3\n4\t5\t6\n"),
    ("x.txt", "1 2  3\n\n4 5 6\n"),                 # any whitespace; blank lines skipped
    ("x.CSV", "a,b,c\n1,2,3\n4,5,6\n"),
])
def test_text_tables_load_as_their_arrays(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    X, y = load_dataset(tmp_path / name, scaling="none")
    np.testing.assert_array_equal(X, [[1, 2, 3], [4, 5, 6]])
    assert X.dtype == np.float32 and y is None


def test_a_gzipped_table_and_its_labels(tmp_path):
    with gzip.open(tmp_path / "x.csv.gz", "wt") as fh:
        fh.write("0,10\n5,20\n")
    X, _ = load_dataset(tmp_path / "x.csv.gz")  # "unit": min..max to [0, 1]
    np.testing.assert_allclose(X, [[0.0, 0.5], [0.25, 1.0]])
    (tmp_path / "y.csv").write_text("label\n3\n1\n")
    np.testing.assert_array_equal(datasets.load_labels(tmp_path / "y.csv", 2), [3, 1])
    (tmp_path / "y.txt").write_text("0.0\n1.5\n")
    with pytest.raises(ValueError, match="integers"):
        datasets.load_labels(tmp_path / "y.txt")
    (tmp_path / "y2.txt").write_text("0 1\n1 0\n")
    with pytest.raises(ValueError, match="1-D"):
        datasets.load_labels(tmp_path / "y2.txt")


@pytest.mark.parametrize("name, content, match", [
    ("e.csv", "", "no rows"),
    ("h.csv", "a,b\n", "no rows"),
    ("r.csv", "1,2\n3\n", r"r\.csv: data must be numbers, the same count on every line"),
    ("w.csv", "1,2\n3,x\n", r"w\.csv: data must be numbers"),
    ("n.csv", "1,nan\n", "NaN or inf"),
    ("g.csv.gz", b"not gzip", r"g\.csv\.gz: not a readable text table"),
    ("b.txt", b"\xff\xfe\x00", r"b\.txt: not a readable text table"),
])
def test_bad_text_tables_name_the_file(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(ValueError, match=match):
        load_dataset(path)


def test_a_missing_table_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        load_dataset(tmp_path / "missing.csv")
