"""Reading ``.npy`` / ``.npz`` files that may be hostile: headers checked before allocation.

NumPy allocates an array from the shape its header states before reading the data, so a
tiny file claiming shape (10**9, 10**4) asks for terabytes.  :func:`load_checked` reads each
header with :mod:`numpy.lib.format` first and refuses one that claims more bytes than the
file (or the archive member) holds, or holds Python objects, with a ValueError naming it.
"""
from __future__ import annotations

import math
import os
import zipfile
import zlib
from pathlib import Path
from typing import IO, Dict, Tuple, Union

import numpy as np
from numpy.lib import format as npformat

PathLike = Union[str, "os.PathLike[str]"]
Loaded = Union[np.ndarray, Dict[str, np.ndarray]]
#: Deflate cannot inflate more than about 1032:1; a member claiming more is lying.
_MAX_DEFLATE_RATIO = 1100


def read_header(fp: IO[bytes], available: int, where: str) -> Tuple[Tuple[int, ...], np.dtype]:
    """Read and check the header of an ``.npy`` stream positioned at its start.

    Parameters
    ----------
    fp : binary file object
        Positioned at the magic string; left just after the header.
    available : int
        Bytes the whole stream holds (header included).
    where : str
        The file (or ``file[member]``) named in error messages.

    Returns
    -------
    shape : tuple of int
        The array's shape as the header states it.
    dtype : numpy.dtype
        Its element type (never one holding Python objects).

    Raises
    ------
    ValueError
        For a malformed header, a dtype holding Python objects, or a shape that needs more
        bytes than ``available`` minus the header.
    """
    version = npformat.read_magic(fp)
    if version == (1, 0):
        shape, _, dtype = npformat.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, _, dtype = npformat.read_array_header_2_0(fp)
    else:
        raise ValueError(f"{where}: .npy format version {version} is not supported")
    if dtype.hasobject:
        raise ValueError(f"{where}: holds Python objects (dtype {dtype}); only arrays of "
                         "numbers can be read")
    need = math.prod(int(d) for d in shape) * dtype.itemsize  # Python ints: no overflow
    have = available - fp.tell()
    if need > have:
        raise ValueError(f"{where}: the header claims shape {tuple(shape)} of {dtype} "
                         f"({need} bytes) but the file holds {max(have, 0)} bytes of data")
    return tuple(shape), dtype


def _check_npz(path: Path, size: int) -> None:
    """Check the header of every member of the archive ``path`` (``size`` bytes): each must
    be an ``.npy`` array (whatever its name) whose shape fits the bytes it holds."""
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            where = f"{path}[{info.filename}]"
            stored = info.compress_type == zipfile.ZIP_STORED
            bound = info.compress_size if stored else info.compress_size * _MAX_DEFLATE_RATIO
            if info.compress_size > size or info.file_size > bound + 1024:
                raise ValueError(f"{where}: the archive claims {info.file_size} bytes from "
                                 f"{info.compress_size} stored; damaged or forged")
            with z.open(info) as member:  # np.load reads any member with the magic string
                if member.read(len(npformat.MAGIC_PREFIX)) != npformat.MAGIC_PREFIX:
                    raise ValueError(f"{where}: not a NumPy array (np.load would return its "
                                     "raw bytes)")
            with z.open(info) as member:
                read_header(member, info.file_size, where)


def load_checked(path: PathLike, what: str = "data") -> Loaded:
    """``np.load`` without pickles, after checking every header: an ndarray (``.npy``) or a
    dict of them (``.npz``).

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What the file is, for the message when it does not exist ("data", "labels", ...).

    Returns
    -------
    ndarray or dict of str to ndarray
        The array of an ``.npy``; every member of an ``.npz``, read (and CRC-checked) now.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ValueError
        Naming the file: empty, damaged, not a NumPy file, Python objects inside, or a header
        claiming more data than the file holds (nothing is allocated for it).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such {what} file: {path}")
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"{path}: the file is empty (0 bytes)")
    try:
        with open(path, "rb") as f:
            is_zip = f.read(4) == b"PK\x03\x04"
            f.seek(0)
            if not is_zip:
                read_header(f, size, str(path))
        if is_zip:
            _check_npz(path, size)
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                return {k: loaded[k] for k in loaded.files}
        return loaded
    except (EOFError, OSError, ValueError, zipfile.BadZipFile, zlib.error,
            NotImplementedError) as exc:
        text = " ".join(str(exc).split())
        if text.startswith(str(path)):  # already names the file
            raise ValueError(text) from None
        raise ValueError(f"{path}: not a readable NumPy {path.suffix or ''} file "
                         f"({type(exc).__name__}: {text})") from None
