"""Datasets for DEC: MNIST, Fashion-MNIST, USPS, and the embedded UCI digits.

Every loader returns ``(X, y)``: ``X`` float32 of shape (n_samples, n_features), one flattened
image per row, and ``y`` int64 of shape (n_samples,). Files are read with NumPy alone (IDX
parsing, ``.npz``); missing MNIST files are downloaded and verified by :mod:`dec_np._download`.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Optional, Tuple, Union

import numpy as np

from dec_np._download import (FASHION_MNIST_MD5, FASHION_MNIST_MIRRORS, MNIST_MD5,
                              MNIST_MIRRORS, DatasetNotFoundError, default_data_dir,
                              download_file, fetch, payload_md5, resolve_data_dir)
from dec_np._npfile import load_checked
from dec_np.backend import asnumpy, get_array_module, seed_sequence
from dec_np.utils import check_array
# the scaling rule lives with the estimator's input handling; re-exported for old imports
from dec_np.scaling import input_scale_factor, max_scale_factor, paper_scale_factor  # noqa: F401

__all__ = [
    "DatasetNotFoundError", "MNIST_MIRRORS", "FASHION_MNIST_MIRRORS", "MNIST_MD5",
    "FASHION_MNIST_MD5", "default_data_dir", "download_file", "payload_md5",
    "parse_idx", "read_idx", "write_idx", "paper_scale", "load_mnist", "load_fashion_mnist",
    "load_usps", "load_digits", "imbalanced_subsample", "load_dataset", "load_labels",
]

PathLike = Union[str, "os.PathLike[str]"]
Scaling = Literal["unit", "paper", "none"]
Subset = Literal["all", "train", "test"]
ArrayLike = Any  # a NumPy or CuPy array

#: IDX type byte -> big-endian dtype (the IDX format's table; MNIST uses 0x08 only).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_NAMES = {  # subset -> (images, labels), in the order "all" concatenates them
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_SCALINGS = ("unit", "paper", "none")


# ----------------------------------------------------------------------------- IDX files
def parse_idx(raw_bytes: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode an (uncompressed) IDX file, the format of the MNIST distribution.

    Layout: two zero bytes, a type byte (0x08 = uint8), the number of dimensions, then one
    big-endian uint32 per dimension and the row-major payload. MNIST labels start with
    0x00000801 (uint8, 1-D), images with 0x00000803 (uint8, 3-D).

    Parameters
    ----------
    raw_bytes : bytes
        The whole file content.
    name : str
        File name used in error messages.

    Returns
    -------
    ndarray of shape dims
        In native byte order (uint8 for MNIST).

    Raises
    ------
    ValueError
        For a bad magic number, an unknown type byte, or a payload whose length does not match
        the dimensions (a truncated file, or trailing bytes).
    """
    raw = memoryview(raw_bytes)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES or raw[3] < 1:
        magic = bytes(raw[:4]).hex() or "empty"
        raise ValueError(f"{name}: not an IDX file (magic 0x{magic}; expected 0x00000801 for "
                         "labels or 0x00000803 for images)")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: truncated IDX header ({len(raw)} bytes, need {header})")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise ValueError(f"{name}: IDX file {what}: {len(raw)} bytes, expected {expected} "
                         f"for shape {dims}")
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file from disk, through :mod:`gzip` when its name ends in ``.gz``.

    Parameters
    ----------
    path : str or Path
        The file; a name ending in ``.gz`` is decompressed first.

    Returns
    -------
    ndarray
        As :func:`parse_idx` returns it.

    Raises
    ------
    ValueError
        For a damaged gzip stream or a malformed IDX file, naming the file.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4 + 4 * 255)  # the magic and up to 255 dimensions
            need = _idx_size(head)  # the whole file, by its header; None if not IDX
            chunks, got = [head], len(head)
            while need is not None and got <= need:  # never more than the header says, +1
                chunk = f.read(min(1 << 20, need + 1 - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:  # a cut or damaged download
        raise ValueError(f"{path}: damaged gzip stream ({exc})") from None
    return parse_idx(b"".join(chunks), name=str(path))


def _idx_size(head: bytes) -> Optional[int]:
    """The size in bytes of the IDX file whose first bytes are ``head`` (None if they are not
    an IDX header, which :func:`parse_idx` then reports)."""
    if len(head) < 4 or head[0] or head[1] or head[2] not in _IDX_DTYPES or head[3] < 1:
        return None
    header = 4 + 4 * head[3]
    if len(head) < header:
        return None
    dims = np.frombuffer(head, ">u4", count=head[3], offset=4)
    return header + math.prod(int(d) for d in dims) * np.dtype(_IDX_DTYPES[head[2]]).itemsize


def write_idx(array: np.ndarray, path: Optional[PathLike] = None) -> bytes:
    """Encode ``array`` as IDX; also write it to ``path`` (gzipped if it ends in ``.gz``).

    The inverse of :func:`parse_idx`, for tests and benchmarks.

    Parameters
    ----------
    array : ndarray
        Of a dtype IDX can store (uint8, int8, int16, int32, float32, float64).
    path : str or Path, optional
        Also write the encoding there.

    Returns
    -------
    bytes
        The uncompressed IDX content.
    """
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_DTYPES.items()}
    code = codes.get(array.dtype)
    if code is None:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    raw = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if path is not None:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "wb") as f:
            f.write(raw)
    return raw


# ----------------------------------------------------------------------------- scaling
def paper_scale(X: np.ndarray) -> Tuple[np.ndarray, float]:
    """Scale ``X`` by one scalar so that the mean over samples of (1/d)*||x||^2 is 1.

    This is the normalisation the DEC paper states for its datasets. The factor is computed
    from the data: ``factor = sqrt(n * d / sum(X**2))``. On MNIST bytes it is about 0.0117;
    the original Caffe code multiplies by a fixed 0.02 instead, which gives a mean
    (1/d)*||x||^2 of about 2.9.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data, any real dtype, on the host.

    Returns
    -------
    X_scaled : ndarray of shape (n_samples, n_features), float32
        ``factor * X``.
    factor : float
        ``X_scaled = factor * X``.
    """
    X = np.asarray(X)
    factor = paper_scale_factor(X)
    return X.astype(np.float32) * np.float32(factor), factor


def _scale(X, maxval, scaling):
    # One place for the three conventions, so every loader documents and behaves the same.
    if scaling == "unit":
        return (X / np.float32(maxval)).astype(np.float32)
    if scaling == "paper":
        return paper_scale(X)[0]
    if scaling == "none":
        return X.astype(np.float32)
    raise ValueError(f"scaling must be one of {_SCALINGS}, got {scaling!r}")


def _check_subset(subset):
    if subset not in ("all", "train", "test"):
        raise ValueError(f"subset must be 'all', 'train' or 'test', got {subset!r}")
    return ["train", "test"] if subset == "all" else [subset]


# ----------------------------------------------------------------------------- loaders
def _load_idx_dataset(folder, what, mirrors, md5s, subset, scaling, download, progress):
    parts = _check_subset(subset)
    names = [n for part in parts for n in _IDX_NAMES[part]]
    paths = fetch(names, folder, mirrors, md5s, download=download, what=what, progress=progress)
    X, y = [], []
    for image_path, label_path in zip(paths[0::2], paths[1::2]):
        images, labels = read_idx(image_path), read_idx(label_path)
        if images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
            raise ValueError(f"{what}: {image_path.name} has shape {images.shape} and "
                             f"{label_path.name} {labels.shape}; expected (n, 28, 28) and (n,)")
        X.append(images.reshape(len(images), 28 * 28))
        y.append(labels.astype(np.int64))
    return _scale(np.concatenate(X), 255.0, scaling), np.concatenate(y)


def load_mnist(data_dir: Optional[PathLike] = None, subset: Subset = "all",
               scaling: Scaling = "unit", download: bool = True,
               progress: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """MNIST handwritten digits, 28x28, flattened to 784 features.

    Parameters
    ----------
    data_dir : str or Path, optional
        Folder holding ``mnist/<the four IDX .gz files>``. Default: ``$DEC_NP_DATA``, else
        ``$XDG_CACHE_HOME/dec_np`` or ``~/.cache/dec_np``.
    subset : {"all", "train", "test"}
        "all" is the 60,000 training images followed by the 10,000 test images (as in DEC).
    scaling : {"unit", "paper", "none"}
        "unit": pixels / 255, in [0, 1]. "paper": one scalar so that the mean over samples of
        (1/d)*||x||^2 is 1 (:func:`paper_scale`). "none": the bytes 0..255 as floats.
    download : bool
        Download missing files from :data:`MNIST_MIRRORS` (md5-verified, size-capped, with an
        overall deadline; see :func:`dec_np._download.download_file`). False: never touch
        the network.
    progress : bool
        Report download progress on stderr (plain lines when stderr is not a terminal).

    Returns
    -------
    X : ndarray of shape (n_samples, 784), float32
        One flattened 28x28 image per row, scaled as ``scaling`` says.
    y : ndarray of shape (n_samples,), int64
        Digits 0..9.

    Raises
    ------
    DatasetNotFoundError
        When files are missing and cannot be downloaded; the message says where to put them.
    """
    folder = resolve_data_dir(data_dir) / "mnist"
    return _load_idx_dataset(folder, "MNIST", MNIST_MIRRORS, MNIST_MD5, subset, scaling,
                             download, progress)


def load_fashion_mnist(data_dir: Optional[PathLike] = None, subset: Subset = "all",
                       scaling: Scaling = "unit", download: bool = True,
                       progress: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST (Zalando, MIT licence): 28x28 clothing images in 10 classes, flattened.

    Files live in ``<data_dir>/fashion-mnist/`` under the MNIST file names, and are
    downloaded from :data:`FASHION_MNIST_MIRRORS`.

    Parameters
    ----------
    data_dir : str or Path, optional
        Folder holding ``fashion-mnist/<the four IDX .gz files>``; default as in
        :func:`load_mnist`.
    subset : {"all", "train", "test"}
        "all" is the 60,000 training images followed by the 10,000 test images.
    scaling : {"unit", "paper", "none"}
        As in :func:`load_mnist`.
    download : bool
        Download missing files (md5-verified); False never touches the network.
    progress : bool
        Report download progress on stderr.

    Returns
    -------
    X : ndarray of shape (n_samples, 784), float32
        One flattened 28x28 image per row, scaled as ``scaling`` says.
    y : ndarray of shape (n_samples,), int64
        Classes 0..9.
    """
    folder = resolve_data_dir(data_dir) / "fashion-mnist"
    return _load_idx_dataset(folder, "Fashion-MNIST", FASHION_MNIST_MIRRORS, FASHION_MNIST_MD5,
                             subset, scaling, download, progress)


def load_usps(data_dir: Optional[PathLike] = None, subset: Subset = "all",
              scaling: Scaling = "unit", download: bool = True,
              progress: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """USPS handwritten digits, 16x16, flattened to 256 features (9,298 = 7,291 + 2,007).

    Read from ``<data_dir>/usps/usps.npz`` with keys ``X`` (float32 in [0, 1]), ``y`` and
    ``split`` (0 = train, 1 = test), train rows first. There is no public mirror of this file,
    so ``download`` is accepted for a uniform signature but nothing is downloaded.

    Parameters
    ----------
    data_dir : str or Path, optional
        Folder holding ``usps/usps.npz``; default as in :func:`load_mnist`.
    subset : {"all", "train", "test"}
        "all" is the 7,291 training images followed by the 2,007 test images.
    scaling : {"unit", "paper", "none"}
        The stored values are already in [0, 1], so "unit" and "none" both return them as is;
        "paper" as in :func:`paper_scale`.
    download : bool
        Accepted for a uniform signature; there is nothing to download.
    progress : bool
        Accepted for a uniform signature.

    Returns
    -------
    X : ndarray of shape (n_samples, 256), float32
        One flattened 16x16 image per row, scaled as ``scaling`` says.
    y : ndarray of shape (n_samples,), int64
        The label of each row.
    """
    parts = _check_subset(subset)
    folder = resolve_data_dir(data_dir) / "usps"
    (path,) = fetch(["usps.npz"], folder, mirrors=(), download=download, what="USPS",
                    hint="Expected keys: X (9298 x 256 float32 in [0, 1]), y, split (0 = train, "
                         "1 = test).")
    z = _read_array(path)
    if not isinstance(z, dict) or not {"X", "y", "split"} <= set(z):
        raise ValueError(f"{path}: expected an .npz with keys X, y and split")
    X = check_array(z["X"], name=f"{path}[X]")
    y, split = _check_labels(z["y"], path, len(X)), z["split"]
    if split.shape != y.shape:
        raise ValueError(f"{path}: split has shape {split.shape}, expected {y.shape}")
    keep = np.isin(split, [{"train": 0, "test": 1}[p] for p in parts])
    return _scale(X[keep], 1.0, scaling), y[keep]


def load_digits(scaling: Scaling = "unit") -> Tuple[np.ndarray, np.ndarray]:
    """The embedded UCI optical digits (1,797 images, 8x8, values 0..16; CC BY 4.0).

    Shipped inside the package (``dec_np/data/digits.npz``, see the README there), so it
    needs no download: the default dataset for tutorials and tests.

    Parameters
    ----------
    scaling : {"unit", "paper", "none"}
        "unit": values / 16, in [0, 1]. "paper": :func:`paper_scale`. "none": 0..16 as floats.

    Returns
    -------
    X : ndarray of shape (1797, 64), float32
        One flattened 8x8 image per row, scaled as ``scaling`` says.
    y : ndarray of shape (1797,), int64
        The digit of each image, 0..9.
    """
    with resources.files("dec_np").joinpath("data", "digits.npz").open("rb") as f:
        with np.load(f) as z:
            X, y = z["X"], z["y"].astype(np.int64)
    return _scale(X, 16.0, scaling), y


# ----------------------------------------------------------------------------- protocols
def imbalanced_subsample(X: ArrayLike, y: ArrayLike, r_min: float,
                         random_state: Union[None, int, np.random.Generator] = None
                         ) -> Tuple[ArrayLike, ArrayLike]:
    """Subsample to an imbalanced dataset, the protocol of the DEC paper's imbalanced-data test.

    With the K distinct labels sorted, class c (c = 0 .. K-1) keeps each of its samples
    independently with probability ``r_min + (1 - r_min) * c / (K - 1)``: the first class
    with ``r_min``, the last with 1.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        NumPy or CuPy; the result stays on the same device.
    y : ndarray of shape (n_samples,)
        Class labels (NumPy or CuPy), any values; their sorted order ranks the classes.
    r_min : float in (0, 1]
        Retention rate of the smallest class.
    random_state : None, int or numpy Generator
        Seeds the keep-or-drop draws (drawn on the host, so equal on every backend).

    Returns
    -------
    X_sub : ndarray of shape (n_kept, n_features)
        The rows kept, in their original order.
    y_sub : ndarray of shape (n_kept,)
        Rows kept in their original order.
    """
    if not 0.0 < r_min <= 1.0:
        raise ValueError(f"r_min must be in (0, 1], got {r_min}")
    y_host = asnumpy(y)
    if len(y_host) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y_host)}")
    classes, c = np.unique(y_host, return_inverse=True)
    K = len(classes)
    p_keep = r_min + (1.0 - r_min) * np.arange(K) / max(K - 1, 1)
    if K == 1:  # a single class is the "last" class: keep everything
        p_keep[:] = 1.0
    keep = seed_sequence(random_state).random(len(y_host)) < p_keep[c.ravel()]
    # Each array is indexed with a mask on its own device (X may be on the GPU, y on the host).
    return X[get_array_module(X).asarray(keep)], y[get_array_module(y).asarray(keep)]


def load_dataset(name: PathLike, data_dir: Optional[PathLike] = None,
                 scaling: Scaling = "unit", subset: Optional[Subset] = None,
                 download: bool = True,
                 progress: bool = True) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Load a dataset by name, or from a ``.npy`` / ``.npz`` file or a text table.

    A file is checked as :class:`dec_np.DEC` checks its input (real, finite numbers, at least
    one row), so what loads here is what the estimator accepts: a 2-D array is
    (n_samples, n_features); an array of images, (n_samples, height, width[, channels]), is
    flattened to one row per image; a 0-d or 1-D array is refused (reshape a single feature
    to (n, 1) yourself).  An empty or damaged file is a ValueError naming it, and so is a
    header that claims more data than the file holds (checked before anything is allocated),
    an array without rows or features, values that overflow float32 in the chosen scaling,
    and labels that are not integers within int64 (floats: within +-2**53).

    Parameters
    ----------
    name : str or Path
        "mnist" (70,000), "mnist-test" (10,000), "fashion-mnist", "usps", "digits", or a path
        to a ``.npy`` (X only) or ``.npz`` file (key ``X``, optional ``y``), or to a ``.csv``,
        ``.tsv`` or ``.txt`` table (comma, tab or whitespace between the numbers; optionally
        gzipped; X only, one row per line, a first line of column names skipped).
    data_dir : str or Path, optional
        Where MNIST, Fashion-MNIST and USPS live (ignored by "digits" and files); default
        ``$DEC_NP_DATA``, else ``~/.cache/dec_np``.
    scaling : {"unit", "paper", "none"}
        As in :func:`load_mnist`. For a file, "unit" keeps data already in [0, 1] and otherwise
        maps its global min..max to [0, 1].
    subset : {"all", "train", "test"}, optional
        For "mnist", "fashion-mnist" and "usps"; default "all" ("mnist-test" is the test
        subset of "mnist").
    download : bool
        Download missing MNIST / Fashion-MNIST files; False never touches the network.
    progress : bool
        Report download progress on stderr.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32
        One sample per row (images flattened), scaled as ``scaling`` says.
    y : ndarray of shape (n_samples,), int64, or None when the file has no labels
        The true labels, or None when a data file has none.

    Raises
    ------
    ValueError
        For an unknown name, or a file that is empty, damaged or holds no usable data.
    FileNotFoundError
        For a missing file (:class:`DatasetNotFoundError` for a dataset that cannot be found
        or downloaded).

    Examples
    --------
    >>> from dec_np.datasets import load_dataset
    >>> X, y = load_dataset("digits")
    >>> X.shape, X.dtype, y.shape
    ((1797, 64), dtype('float32'), (1797,))
    >>> float(X.min()), float(X.max())
    (0.0, 1.0)
    >>> X_raw, _ = load_dataset("digits", scaling="none")
    >>> float(X_raw.max())
    16.0
    """
    key = str(name).lower()
    net = dict(download=download, progress=progress)
    if key in ("mnist", "mnist-test", "fashion-mnist", "fashion_mnist", "fashion", "usps"):
        if key == "mnist-test":
            if subset not in (None, "test"):
                raise ValueError(f"'mnist-test' is the test subset; got subset={subset!r}")
            key, subset = "mnist", "test"
        loader = {"mnist": load_mnist, "usps": load_usps}.get(key, load_fashion_mnist)
        return loader(data_dir, subset=subset or "all", scaling=scaling, **net)
    if subset is not None:
        raise ValueError(f"subset= applies to mnist, fashion-mnist and usps, not {name!r}")
    if key == "digits":
        return load_digits(scaling=scaling)
    if key.endswith((".npy", ".npz")) or _text_table_kind(name) is not None:
        return _load_array_file(Path(name), scaling)
    raise ValueError(f"unknown dataset {name!r}: use 'mnist', 'mnist-test', 'fashion-mnist', "
                     "'usps', 'digits' or a path to a .npy, .npz, .csv, .tsv or .txt file")


#: the text tables :func:`load_dataset` and :func:`load_labels` read, by suffix (also
#: gzipped, e.g. ``data.csv.gz``), and the delimiter of each (None: any whitespace)
TEXT_TABLES = {".csv": ",", ".tsv": "\t", ".txt": None}


def _text_table_kind(path: PathLike) -> Optional[str]:
    """The suffix of :data:`TEXT_TABLES` that ``path`` ends with (before a ``.gz``), or None."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes and suffixes[-1] in TEXT_TABLES else None


def _is_header(line: str, delimiter: Optional[str]) -> bool:
    """Whether a table's first line names its columns: a cell that is not a number."""
    for cell in (line.split(delimiter) if delimiter else line.split()):
        try:
            float(cell.strip())
        except ValueError:
            return True
    return False


def _read_text_table(path: PathLike, what: str = "data") -> np.ndarray:
    """A table of numbers from a .csv, .tsv or .txt file (optionally gzipped) as a 2-D
    float64 array: one row per line; a first line of column names is skipped.

    Parameters
    ----------
    path : str or Path
        The file; its suffix gives the delimiter (:data:`TEXT_TABLES`).
    what : str, default "data"
        What the file holds, for messages.

    Returns
    -------
    ndarray of shape (n_rows, n_columns), float64

    Raises
    ------
    FileNotFoundError
        For a missing file.
    ValueError
        For a file that is not text, a cell that is not a number or rows of unequal length;
        the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {what} file")
    delimiter = TEXT_TABLES[_text_table_kind(path) or ".txt"]
    opener: Any = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            first = fh.readline()
            header = bool(first.strip()) and _is_header(first, delimiter)
            if not (first.strip() and not header) and not any(line.strip() for line in fh):
                return np.zeros((0, 1))  # no line of numbers: the caller's check names it
        with opener(path, "rt", encoding="utf-8") as fh:
            return np.loadtxt(fh, delimiter=delimiter, skiprows=int(header), ndmin=2,
                              dtype=np.float64)
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable text table of {what} ({exc})") from None
    except ValueError as exc:
        reason = str(exc).split(";")[0]  # NumPy's own advice after ";" names its arguments
        raise ValueError(f"{path}: {what} must be numbers, the same count on every line "
                         f"({reason})") from None


def _read_array(path: PathLike, what: str = "data") -> Any:
    """``np.load`` without pickles, headers checked first (:func:`dec_np._npfile.load_checked`):
    an ndarray (.npy) or a dict of them (.npz), or a ValueError / FileNotFoundError naming
    the file."""
    return load_checked(path, what)


def load_labels(path: PathLike, n_samples: Optional[int] = None) -> np.ndarray:
    """Read true labels from a ``.npy`` file or a text table: one integer per sample.

    Parameters
    ----------
    path : str or Path
        A ``.npy`` holding a 1-D array (or an (n, 1) column) of integers, or a ``.csv``,
        ``.tsv`` or ``.txt`` file (optionally gzipped) with one integer per line and an
        optional first line naming the column.
    n_samples : int, optional
        How many labels there must be.

    Returns
    -------
    y : ndarray of shape (n_samples,), int64
        The label of each row.

    Raises
    ------
    ValueError
        For an empty or damaged file, a 0-d array, values that are not integers, or the wrong
        count; the message names the file.
    """
    y = (_read_text_table(path, "labels") if _text_table_kind(path) else
         _read_array(path, "labels"))
    if isinstance(y, dict):
        raise ValueError(f"{path}: labels must be a .npy array, not an .npz archive")
    return _check_labels(y, path, n_samples)


#: Largest magnitude a float label may have: beyond 2**53 floats skip integers.
_FLOAT_LABEL_MAX = 2.0 ** 53


def _check_labels(y: np.ndarray, path: Any, n_samples: Optional[int] = None) -> np.ndarray:
    """``y`` as int64 of shape (n,), or a ValueError naming ``path``: 1-D (or a column),
    integers (or integral floats within +-2**53), within int64, ``n_samples`` of them."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{path}: labels must be 1-D (one per sample), got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or (y != np.round(y)).any():
            raise ValueError(f"{path}: labels must be integers, got dtype {y.dtype} with "
                             "fractional or non-finite values")
        if y.size and np.abs(y).max() > _FLOAT_LABEL_MAX:
            raise ValueError(f"{path}: label {np.abs(y).max():g} is beyond the integers a "
                             f"{y.dtype} holds exactly (|y| <= 2**53)")
    elif y.dtype.kind == "u" and y.dtype.itemsize == 8:
        if y.size and y.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{path}: label {y.max()} does not fit in int64")
    elif y.dtype.kind not in "iub":
        raise ValueError(f"{path}: labels must be integers, got dtype {y.dtype}")
    if n_samples is not None and len(y) != n_samples:
        raise ValueError(f"{path}: {len(y)} labels for {n_samples} samples")
    return y.astype(np.int64)


def _unit_range(X: np.ndarray) -> np.ndarray:
    """Map X's global min..max to [0, 1] in float64 without overflow (the halves keep
    ``max - min`` finite even for +-1e308)."""
    lo, hi = X.min() / 2, X.max() / 2
    span = hi - lo
    return (X / 2 - lo) / (span if span > 0 else 1.0)


def _load_array_file(path: Path, scaling: Scaling) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    loaded = _read_text_table(path) if _text_table_kind(path) else _read_array(path)
    if isinstance(loaded, dict):
        if "X" not in loaded:
            raise ValueError(f"{path}: an .npz needs a key 'X' (found {sorted(loaded)})")
        X, y = loaded["X"], loaded.get("y")
    else:
        X, y = loaded, None
    if X.ndim < 2:
        raise ValueError(f"{path}: X must be 2-D (n_samples, n_features) or images (n, h, w), "
                         f"got a {X.ndim}-d array of shape {X.shape}")
    if X.shape[0] and not math.prod(X.shape[1:]):
        raise ValueError(f"{path}: X has no features (shape {X.shape})")
    X = X.reshape(X.shape[0], math.prod(X.shape[1:]))
    X = check_array(X, name=str(path)).astype(np.float64)
    y = None if y is None else _check_labels(y, path, len(X))
    if scaling == "unit" and (X.min() < 0 or X.max() > 1):
        X = _unit_range(X)
        scaling = "none"  # already in [0, 1]
    with np.errstate(over="ignore", invalid="ignore"):
        out = _scale(X, 1.0, scaling)
    if not np.isfinite(out).all():
        raise ValueError(f"{path}: values as large as {np.abs(X).max():g} overflow float32 "
                         f"with scaling={scaling!r}; use scaling='unit' or rescale the data")
    return out, y
