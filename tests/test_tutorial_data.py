"""Where the tutorials find MNIST (tutorials/_common.py: data_dir and load_data).

Order: $DEC_NP_DATA; else ../shared/data next to the repository when it holds MNIST; else
the package's data folder (~/.cache/dec_np), downloading into it except in fast mode or with
DEC_NP_OFFLINE=1.  Without MNIST the tutorials fall back to the embedded digits and say how
to get it.  No test here touches the network.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

import dec_np._download
from dec_np.datasets import DatasetNotFoundError, write_idx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tutorials"))
import _common  # noqa: E402

FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def fake_mnist(root, n=30):
    """A folder laid out like the data folder: mnist/ with n tiny 28x28 test images."""
    folder = Path(root) / "mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_idx(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), folder / FILES[0])
    write_idx((np.arange(n) % 10).astype(np.uint8), folder / FILES[1])
    return Path(root)


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean slate: no DEC_NP_DATA/OFFLINE, the cache and the repository's neighbour
    ../shared/data both in tmp_path, full mode, and a network that must not be called."""
    for var in ("DEC_NP_DATA", "DEC_NP_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(_common, "HERE", tmp_path / "repo" / "tutorials")
    monkeypatch.setattr(_common, "FAST", False)
    calls = []

    def no_network(name, dest_dir, *args, **kwargs):
        calls.append((name, Path(dest_dir)))
        raise DatasetNotFoundError(f"could not download {name}; tried:\n  offline test")
    monkeypatch.setattr(dec_np._download, "download_file", no_network)
    return tmp_path, calls


def test_dec_np_data_comes_first(env, monkeypatch, capsys):
    tmp_path, calls = env
    fake_mnist(tmp_path / "shared" / "data")  # also present, but the variable wins
    explicit = fake_mnist(tmp_path / "mine", n=20)
    monkeypatch.setenv("DEC_NP_DATA", str(explicit))
    assert _common.data_dir() == explicit
    X, y, shape, name = _common.load_data()
    assert (X.shape, shape, name) == ((20, 784), (28, 28), "MNIST (test split)")
    assert X.dtype == np.float32 and 0 <= X.min() and X.max() <= 1 and y.tolist()[:3] == [0, 1, 2]
    assert capsys.readouterr().out == "data: MNIST (test split), 20 images of 28x28\n"
    assert not calls


def test_shared_data_next_to_the_repository(env):
    tmp_path, calls = env
    shared = fake_mnist(tmp_path / "shared" / "data")
    assert _common.data_dir() == shared
    X, _, _, name = _common.load_data(n_samples=10)
    assert X.shape == (10, 784) and name.startswith("MNIST") and not calls


def test_otherwise_the_package_cache_and_a_download_into_it(env, capsys):
    tmp_path, calls = env
    (tmp_path / "shared" / "data").mkdir(parents=True)  # there, but without MNIST
    assert _common.data_dir() == tmp_path / "cache" / "dec_np"
    X, y, shape, name = _common.load_data()
    out = capsys.readouterr().out
    assert calls and calls[0] == (FILES[0], tmp_path / "cache" / "dec_np" / "mnist")
    assert "downloading its test split" in out and "the download failed" in out
    assert name == "UCI digits (embedded, 8x8)" and X.shape == (1797, 64) and shape == (8, 8)


@pytest.mark.parametrize("fast, offline, why", [(True, False, "fast mode never downloads"),
                                                (False, True, "DEC_NP_OFFLINE=1")])
def test_fast_mode_and_offline_never_download_and_say_how_to_fix_it(env, monkeypatch, capsys,
                                                                    fast, offline, why):
    tmp_path, calls = env
    monkeypatch.setattr(_common, "FAST", fast)
    if offline:
        monkeypatch.setenv("DEC_NP_OFFLINE", "1")
    X, y, shape, name = _common.load_data(n_samples=100)
    lines = capsys.readouterr().out.splitlines()
    assert not calls
    assert lines[0].startswith(f"MNIST not found in {tmp_path / 'cache' / 'dec_np' / 'mnist'}")
    assert why in lines[0] and "8x8 digits" in lines[0]
    assert "load_mnist(subset='test')" in lines[1]  # the one command that fixes it
    assert "DEC_NP_DATA" in lines[2]
    assert lines[3] == "data: UCI digits (embedded, 8x8), 100 images of 8x8"
    assert X.shape == (100, 64) and name.startswith("UCI digits")


def test_prefer_digits_says_nothing_about_mnist(env, capsys):
    X, _, _, name = _common.load_data(prefer_mnist=False)
    assert capsys.readouterr().out == "data: UCI digits (embedded, 8x8), 1797 images of 8x8\n"


def test_a_damaged_file_is_reported(env, monkeypatch, capsys):
    tmp_path, calls = env
    root = fake_mnist(tmp_path / "mine")
    (root / "mnist" / FILES[0]).write_bytes(b"not gzip")
    monkeypatch.setenv("DEC_NP_DATA", str(root))
    _, _, _, name = _common.load_data()
    assert "damaged" in capsys.readouterr().out and name.startswith("UCI digits")
