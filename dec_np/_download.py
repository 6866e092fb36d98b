"""Where dataset files live, and how missing ones are fetched (urllib only).

A file is downloaded from a list of mirrors tried in turn, checked against the md5 of its
*decompressed* content (re-gzipped copies are as good as the originals), and only then moved
into place with :func:`os.replace`, so a corrupt or partial download is never cached.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import sys
import tempfile
import urllib.request
import zlib
from pathlib import Path

#: MNIST mirrors, tried in this order; a file's URL is ``mirror + file name``.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
FASHION_MNIST_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)

#: md5 of the decompressed IDX payloads (the gzip wrappers differ between mirrors).
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
}

_CHUNK = 1 << 16


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is neither on disk nor downloadable; the message says where to put it."""


def default_data_dir():
    """The data directory used when none is given.

    ``$DEC_NP_DATA`` if set, else ``$XDG_CACHE_HOME/dec_np``, else ``~/.cache/dec_np``.
    """
    env = os.environ.get("DEC_NP_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "dec_np"


def resolve_data_dir(data_dir=None):
    """``data_dir`` as a :class:`~pathlib.Path`, or :func:`default_data_dir` when it is None."""
    return default_data_dir() if data_dir is None else Path(data_dir).expanduser()


def payload_md5(path, gz=None):
    """md5 (hex) of a file's content, decompressed first if ``gz`` (default: name ends in .gz).

    Raises :class:`OSError`, :class:`EOFError` or :class:`zlib.error` for a damaged gzip stream.
    """
    h = hashlib.md5()
    opener = gzip.open if (str(path).endswith(".gz") if gz is None else gz) else open
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _progress(url, done, total):
    # One line, rewritten in place: long downloads show they are alive without flooding logs.
    size = f"{done / 1e6:.1f} MB"
    if total:
        size = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB ({100 * done / total:.0f}%)"
    sys.stderr.write(f"\rdownloading {url}: {size}")
    sys.stderr.flush()


def download_file(name, dest_dir, mirrors, md5=None, timeout=30.0, progress=True):
    """Download ``name`` into ``dest_dir``, trying each mirror in turn.

    Parameters
    ----------
    name : str
        File name; the URL is ``mirror + name`` and the result ``dest_dir / name``.
    dest_dir : str or Path
        Created if needed. The download goes to a temporary file in the same directory
        and is moved into place only once verified.
    mirrors : sequence of str
        Base URLs (ending in ``/``).
    md5 : str, optional
        Expected :func:`payload_md5` (of the decompressed content). None skips the check.
    timeout : float
        Socket timeout per request, in seconds.
    progress : bool
        Write a one-line progress indicator to stderr.

    Returns
    -------
    Path
        The verified file.

    Raises
    ------
    DatasetNotFoundError
        If no mirror gave a file with the right checksum; the message lists each attempt.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    errors = []
    for mirror in mirrors:
        url = mirror + name
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=dest_dir)
        done = 0
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
                total = int(r.headers.get("Content-Length") or 0)
                for chunk in iter(lambda: r.read(_CHUNK), b""):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        _progress(url, done, total)
            got = payload_md5(tmp, gz=name.endswith(".gz")) if md5 else None
            if got != md5:
                raise ValueError(f"md5 of the content is {got}, expected {md5}")
            os.replace(tmp, dest_dir / name)
            return dest_dir / name
        except (OSError, EOFError, ValueError, zlib.error) as exc:  # URLError is an OSError
            errors.append(f"{url}: {exc}")
        finally:
            if progress and done:
                sys.stderr.write("\n")
            if os.path.exists(tmp):  # failed or corrupt: never leave it behind
                os.remove(tmp)
    raise DatasetNotFoundError(f"could not download {name}; tried:\n  " + "\n  ".join(errors))


def fetch(names, folder, mirrors=(), md5s=None, download=True, what="dataset", hint=""):
    """Make sure every file in ``names`` exists in ``folder``; return their paths.

    Parameters
    ----------
    names : sequence of str
        File names expected in ``folder``.
    folder : Path
        Where the files live, e.g. ``<data_dir>/mnist``.
    mirrors : sequence of str
        Base URLs to download missing files from; empty means there is no mirror.
    md5s : dict, optional
        ``name -> md5`` of the decompressed content, checked on download.
    download : bool
        False: never touch the network, only report what is missing.
    what : str
        Dataset name used in error messages.
    hint : str
        Appended to the error message (e.g. the expected file format).

    Raises
    ------
    DatasetNotFoundError
        Listing the missing files, the directory to put them in, and ``DEC_NP_DATA``.
    """
    folder = Path(folder)
    paths = [folder / n for n in names]
    missing = [p.name for p in paths if not p.exists()]
    error = ""
    if download and mirrors:
        for n in list(missing):
            try:
                download_file(n, folder, mirrors, (md5s or {}).get(n))
                missing.remove(n)
            except DatasetNotFoundError as exc:
                error = str(exc)  # no network usually fails them all: don't wait on each
                break
    if missing:
        if not mirrors:
            why = "there is no public mirror for it"
        elif not download:
            why = "downloading is off (download=False)"
        else:
            why = "the download failed (details below)"
        raise DatasetNotFoundError(
            f"{what}: {', '.join(missing)} not found in {folder}; {why}.\n"
            f"Put the file(s) there, or pass data_dir= or set the DEC_NP_DATA environment "
            f"variable to a folder laid out as {folder.name}/{missing[0]}."
            + (f" {hint}" if hint else "") + (f"\n{error}" if error else ""))
    return paths
