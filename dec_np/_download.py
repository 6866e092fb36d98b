"""Where dataset files live, and how missing ones are fetched (urllib only).

A file is downloaded from a list of mirrors tried in turn (any failure of one moves on to
the next), checked against the md5 of its *decompressed* content (re-gzipped copies are as
good as the originals), and only then moved into place with :func:`os.replace`, so a corrupt
or partial download is never cached.  A download has an overall deadline, a stall timeout
and size caps on the body and on what it inflates to, so a slow or misbehaving mirror can
neither hold it nor fill the disk or the memory.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

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

#: Bytes of the decompressed IDX payloads, the same for MNIST and Fashion-MNIST.
IDX_SIZES = {
    "train-images-idx3-ubyte.gz": 47040016,
    "train-labels-idx1-ubyte.gz": 60008,
    "t10k-images-idx3-ubyte.gz": 7840016,
    "t10k-labels-idx1-ubyte.gz": 10008,
}
#: Largest body accepted for a file of unknown size (bytes).
DEFAULT_MAX_BYTES = 200 * 2 ** 20
#: Largest decompressed content hashed for a file of unknown size (bytes).
DEFAULT_MAX_INFLATED = 2 ** 30
#: Seconds one :func:`download_file` call may take in all, over every mirror.
DEFAULT_DEADLINE = 1800.0
#: Seconds without progress after which a mirror is abandoned (see :func:`download_file`).
DEFAULT_STALL_TIMEOUT = 30.0
#: Fewer bytes than this in one stall timeout is a stall (a trickle of a few bytes a second).
STALL_BYTES = 16 * 1024
#: Seconds between progress lines when stderr is not a terminal.
PROGRESS_EVERY = 10.0

_CHUNK = 1 << 16


def max_download_bytes(name: str) -> int:
    """The largest body accepted for ``name``.

    Parameters
    ----------
    name : str
        The file name, e.g. ``"train-images-idx3-ubyte.gz"``.

    Returns
    -------
    int
        Its known decompressed size (:data:`IDX_SIZES`) plus the gzip wrapper's overhead
        (1% + 4 KiB is far above what gzip adds), else :data:`DEFAULT_MAX_BYTES`.
    """
    size = IDX_SIZES.get(name)
    return DEFAULT_MAX_BYTES if size is None else size + size // 100 + 4096


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is neither on disk nor downloadable; the message says where to put it."""


def default_data_dir() -> Path:
    """The data directory used when none is given.

    Returns
    -------
    Path
        ``$DEC_NP_DATA`` if set, else ``$XDG_CACHE_HOME/dec_np``, else ``~/.cache/dec_np``
        (``~`` expanded; the folder may not exist yet).
    """
    env = os.environ.get("DEC_NP_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "dec_np"


def resolve_data_dir(data_dir: Optional[Union[str, "os.PathLike[str]"]] = None) -> Path:
    """The data directory to use.

    Parameters
    ----------
    data_dir : str or Path, optional
        A folder (``~`` is expanded); None means :func:`default_data_dir`.

    Returns
    -------
    Path
        ``data_dir`` as a :class:`~pathlib.Path`, or :func:`default_data_dir`.
    """
    return default_data_dir() if data_dir is None else Path(data_dir).expanduser()


def payload_md5(path: Union[str, "os.PathLike[str]"], gz: Optional[bool] = None,
                max_bytes: Optional[int] = None, deadline: Optional[float] = None) -> str:
    """md5 (hex) of a file's content, decompressed first if ``gz``.

    Parameters
    ----------
    path : str or Path
        The file.
    gz : bool, optional
        Decompress with :mod:`gzip` before hashing; default: when the name ends in ``.gz``.
    max_bytes : int, optional
        Refuse a content larger than this many bytes (a gzip that inflates without bound);
        reading stops at the first byte beyond it. None: no limit.
    deadline : float, optional
        A :func:`time.monotonic` time at which hashing stops with TimeoutError. None: none.

    Returns
    -------
    str
        32 hexadecimal digits.

    Raises
    ------
    OSError, EOFError or zlib.error
        For a damaged gzip stream.
    ValueError
        When the content is larger than ``max_bytes``.
    TimeoutError
        When ``deadline`` passes first.
    """
    h = hashlib.md5()
    opener = gzip.open if (str(path).endswith(".gz") if gz is None else gz) else open
    size = 0
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise ValueError(f"the content inflates to more than the {max_bytes} bytes "
                                 "expected; stopped")
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"the download's deadline passed while checking the "
                                   f"content ({size} bytes inflated)")
            h.update(chunk)
    return h.hexdigest()


class _Progress:
    """Download progress on stderr: one line rewritten in place on a terminal; elsewhere
    (a log file, a pipe) plain lines, at most one every :data:`PROGRESS_EVERY` seconds."""

    def __init__(self, url: str, total: int) -> None:
        self.url, self.total, self.shown = url, total, False
        self.last: Optional[float] = None
        self.tty = bool(getattr(sys.stderr, "isatty", lambda: False)())

    def __call__(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and not self.tty and self.last is not None and now - self.last < PROGRESS_EVERY:
            return
        self.last, self.shown = now, True
        size = f"{done / 1e6:.1f} MB"
        if self.total:
            size = f"{done / 1e6:.1f}/{self.total / 1e6:.1f} MB ({100 * done / self.total:.0f}%)"
        line = f"downloading {self.url}: {size}"
        sys.stderr.write(f"\r{line}" if self.tty else line + "\n")
        sys.stderr.flush()

    def close(self, done: int) -> None:
        if self.shown or done:
            self(done, final=True)
            if self.tty:
                sys.stderr.write("\n")
                sys.stderr.flush()


def _remove_stale_parts(dest_dir: Path, name: str) -> None:
    """Remove ``.<name>.<pid>.*.part`` files whose downloading process is gone."""
    for part in Path(dest_dir).glob(f".{name}.*.part"):
        pid = part.name[:-len(".part")].rsplit(".", 2)[-2]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            try:
                part.unlink()
            except OSError:
                pass
        except (PermissionError, OverflowError):
            pass


def _make_folder(folder: Path) -> "list[Path]":
    """Create ``folder`` and its missing parents; return those created, deepest first."""
    created, p = [], folder
    while not p.exists():
        created.append(p)
        if p.parent == p:
            break
        p = p.parent
    folder.mkdir(parents=True, exist_ok=True)
    return created


def _remove_empty(folders: "list[Path]") -> None:
    """Remove the folders (deepest first) that are empty; the others stay."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            break  # not empty (or not ours to remove): its parents are not empty either


def _why(exc: BaseException) -> str:
    """One line for a failed attempt: the error's words, or its type when it has none."""
    text = " ".join(str(exc).split())[:300]
    kind = type(exc).__name__
    if not text or text == repr(""):
        return kind
    return text if type(exc) is ValueError else f"{kind}: {text}"


#: Errors that mean "this mirror failed": the network (OSError: URLError, timeouts, TLS,
#: refused or reset connections), HTTP itself (malformed status lines, cut or malformed
#: chunks, too many or too long header lines), and the content (short, too long, bad gzip,
#: wrong digest).  Anything else is a bug and propagates.
_MIRROR_ERRORS = (OSError, http.client.HTTPException, ValueError, EOFError, zlib.error)


def _fetch_one(url: str, tmp: str, cap: int, end: float, timeout: float,
               progress: bool) -> int:
    """Stream ``url`` into the file ``tmp``; return the bytes written, or raise a
    :data:`_MIRROR_ERRORS` error saying why this mirror failed."""
    done, shown = 0, None
    try:
        with open(tmp, "wb") as out, \
                urllib.request.urlopen(url, timeout=min(timeout, end - time.monotonic())) as r:
            length = r.headers.get("Content-Length")
            try:
                total = int(length) if length is not None else 0
            except ValueError:
                raise ValueError(f"the server sent a malformed Content-Length {length!r}")
            if total < 0:
                raise ValueError(f"the server sent a malformed Content-Length {length!r}")
            if total > cap:
                raise ValueError(f"the server announces {total} bytes, more than the "
                                 f"{cap} expected")
            shown = _Progress(url, total) if progress else None
            window, at_window = time.monotonic(), 0
            while True:
                chunk = r.read1(_CHUNK)  # what has arrived: a trickle cannot block a read
                if not chunk:
                    break
                done += len(chunk)
                if done > cap:
                    raise ValueError(f"more than the {cap} bytes expected; stopped")
                out.write(chunk)
                if shown:
                    shown(done)
                now = time.monotonic()
                if now > end:
                    raise TimeoutError(f"the download's deadline passed after {done} bytes")
                if now - window >= timeout:  # a trickle: bytes arrive, but far too few
                    if done - at_window < STALL_BYTES:
                        raise TimeoutError(f"stalled: {done - at_window} bytes in "
                                           f"{now - window:.0f} s (fewer than {STALL_BYTES})")
                    window, at_window = now, done
            if length is not None and not getattr(r, "chunked", False) and done != total:
                raise ValueError(f"the body ended after {done} of the {total} bytes the "
                                 "server announced")
    finally:
        if shown:
            shown.close(done)
    return done


def download_file(name: str, dest_dir: Union[str, "os.PathLike[str]"], mirrors: Sequence[str],
                  md5: Optional[str] = None, timeout: float = DEFAULT_STALL_TIMEOUT,
                  progress: bool = True, deadline: Optional[float] = None,
                  max_bytes: Optional[int] = None) -> Path:
    """Download ``name`` into ``dest_dir``, trying each mirror in turn.

    Any failure of a mirror (no connection, a malformed HTTP answer, a body cut short of its
    Content-Length, too large, stalled, or with the wrong digest) moves on to the next one.
    Nothing is left behind by a failed call: no partial file, and no folder it created.

    Parameters
    ----------
    name : str
        File name; the URL is ``mirror + name`` and the result ``dest_dir / name``.
    dest_dir : str or Path
        Created if needed (and removed again, with the parents created, if the download
        fails). The download goes to a temporary file in the same directory and is moved
        into place only once verified; temporary files of downloads whose process died are
        removed.
    mirrors : sequence of str
        Base URLs (ending in ``/``).
    md5 : str, optional
        Expected :func:`payload_md5` (of the decompressed content). None skips the check.
    timeout : float
        The stall timeout, in seconds: connecting, and waiting for the next bytes, may take
        at most this long, and a mirror that sends fewer than :data:`STALL_BYTES` bytes in
        this time is abandoned (default :data:`DEFAULT_STALL_TIMEOUT`).
    progress : bool
        Report progress on stderr (a line rewritten in place on a terminal, plain lines
        otherwise). False: silent.
    deadline : float, optional
        Seconds the whole call may take, over all mirrors, checking the digest included;
        default :data:`DEFAULT_DEADLINE`. A mirror still sending when it passes is abandoned.
    max_bytes : int, optional
        Largest body accepted; a larger one (by its Content-Length or as it arrives) is
        refused at once. Default :func:`max_download_bytes` of ``name``.

    Returns
    -------
    Path
        The verified file.

    Raises
    ------
    DatasetNotFoundError
        If no mirror gave a file with the right checksum in time, or ``dest_dir`` cannot be
        created; the message lists each attempt and says where to put the file by hand.
    """
    dest_dir = Path(dest_dir)
    cap = max_download_bytes(name) if max_bytes is None else int(max_bytes)
    inflated = IDX_SIZES.get(name, DEFAULT_MAX_INFLATED)
    end = time.monotonic() + (DEFAULT_DEADLINE if deadline is None else float(deadline))
    by_hand = f"put {name} into {dest_dir} by hand (or fix the network and try again)"
    try:
        created = _make_folder(dest_dir)
    except OSError as exc:
        raise DatasetNotFoundError(f"could not download {name}: cannot create {dest_dir} "
                                   f"({exc.strerror or exc})") from None
    _remove_stale_parts(dest_dir, name)
    errors = []
    for mirror in mirrors:
        url = mirror + name
        if end - time.monotonic() <= 0:
            errors.append(f"{url}: not tried, the deadline of the download had passed")
            continue
        tmp = ""
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=".part",
                                       dir=dest_dir)
            os.close(fd)
            _fetch_one(url, tmp, cap, end, timeout, progress)
            if md5:
                got = payload_md5(tmp, gz=name.endswith(".gz"), max_bytes=inflated,
                                  deadline=end)
                if got != md5:
                    raise ValueError(f"md5 of the content is {got}, expected {md5}")
            os.replace(tmp, dest_dir / name)
            return dest_dir / name
        except _MIRROR_ERRORS as exc:  # URLError and socket timeouts are OSErrors
            errors.append(f"{url}: {_why(exc)}")
        finally:
            if tmp and os.path.exists(tmp):  # failed or corrupt: never leave it behind
                os.remove(tmp)
    _remove_empty(created)
    tried = "\n  ".join(errors) if errors else "(no mirror)"
    raise DatasetNotFoundError(f"could not download {name}; tried:\n  {tried}\n"
                               f"To go on without the network, {by_hand}.")


def fetch(names: Sequence[str], folder: Union[str, "os.PathLike[str]"],
          mirrors: Sequence[str] = (), md5s: Optional[Mapping[str, str]] = None,
          download: bool = True, what: str = "dataset", hint: str = "",
          progress: bool = True) -> "list[Path]":
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
    progress : bool
        Report download progress on stderr (see :func:`download_file`).

    Returns
    -------
    list of Path
        ``folder / name`` for each name, in order.

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
                download_file(n, folder, mirrors, (md5s or {}).get(n), progress=progress)
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
