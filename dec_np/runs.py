"""Run folders: the ``--out`` folder of one ``dec-np`` run, locked, written as one set.

An ``--out`` folder holds one run: it is checked writable before any work and locked while a
run uses it (a second run is refused); results are written into a temporary folder and
moved in as one set; ``fit --resume`` continues only the run that saved the state (same
data, seed and settings, see :func:`run_identity`), and a finished fit removes its state.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Union

from .checkpoint import _pid_alive, data_fingerprint, remove_stale_temporaries


def _silent(*parts):
    pass


LOCK = ".dec-np.lock"
STATE, STATE_ID = "fit_state.npz", "fit_state.json"
#: every file a command writes into --out; a new set of results replaces all of them
RESULTS = ("labels.npy", "metrics.json", "model.npz", "autoencoder_loss.png",
           "training_curves.png", "confusion.png", "cluster_examples.png", "embedding.png",
           "select_k.json", "select_k.png")
_MANIFEST = ".set.json"


class RunFolder:
    """The ``--out`` folder of one run, as a context manager.

    On entry the folder (or, when it does not exist yet, its nearest existing parent) must
    be writable, and an existing folder is locked at once: a file ``.dec-np.lock`` holding
    the pid, created exclusively, so a second run on a busy folder is refused in one line; a
    lock whose process is gone is taken over.  Nothing is created until :meth:`create`, which
    a command calls once its input and settings are validated: it makes the folder, locks
    it, and removes what dead runs left (temporary files, incomplete result sets).  On exit
    the lock is released, and folders this run created are removed if they stayed empty.

    Results go through :meth:`results`: written into a temporary folder inside, then moved in
    as one set that replaces every file of :data:`RESULTS` of the previous set; a failure
    while writing leaves the previous complete set (or nothing).  The set is committed by
    renaming its folder (``.new-*`` to ``.commit-*``); a run killed between that rename and
    the last move is completed by the next run on the folder.

    Parameters
    ----------
    path : str or Path
        The ``--out`` folder.
    command : str
        The command using it ("fit", "demo", ...), recorded in the lock.
    keep_models : bool
        False refuses a folder that holds a fit's ``model.npz`` (evaluate and select-k must
        not replace a fit's results).
    say : callable, optional
        Progress lines (``say(text)``); default: silent.
    note : callable, optional
        Notices shown even when quiet (a lock taken over); default: silent.
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"], command: str,
                 keep_models: bool = True, say: Optional[Callable[..., None]] = None,
                 note: Optional[Callable[..., None]] = None) -> None:
        self.path, self.command, self.keep_models = Path(path), command, keep_models
        self.say, self.note = say or _silent, note or _silent
        self.locked = False
        self.created: "list[Path]" = []

    def __enter__(self):
        p = self.path
        if p.exists() and not p.is_dir():
            raise ValueError(f"--out {p} exists and is not a folder")
        base = p
        while not base.exists():
            base = base.parent
        if not base.is_dir():
            raise ValueError(f"--out {p}: {base} is a file, not a folder")
        try:  # a real write, not os.access: read-only mounts, ACLs and root all answer it
            os.rmdir(tempfile.mkdtemp(prefix=".dec-np-probe-", dir=base))
        except OSError as exc:
            raise OSError(f"--out {p} is not writable ({exc.strerror or exc} in {base})") from None
        if p.is_dir():
            self._lock()
            if not self.keep_models and (p / "model.npz").exists():
                self.__exit__(None, None, None)
                raise ValueError(f"--out {p} holds the results of a fit (model.npz); write the "
                                 f"{self.command} results to another folder")
        return self

    def __exit__(self, *exc):
        if self.locked:
            _drop_orphan_state_id(self.path)  # e.g. a fit interrupted while pretraining
            if _read_lock(self.path / LOCK).get("pid") == os.getpid():
                with contextlib.suppress(OSError):
                    (self.path / LOCK).unlink()
            self.locked = False
        for folder in self.created:  # deepest first; only if this run left them empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        return False

    def _lock(self) -> None:
        lock = self.path / LOCK
        me = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
              "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        for _ in range(3):
            if _create_lock(lock, me):
                self.locked = True
                return
            owner = _read_lock(lock)
            if _lock_alive(owner):
                raise RuntimeError(
                    f"--out {self.path} is in use by another run (dec-np "
                    f"{owner.get('command', '?')}, pid {owner.get('pid', '?')} on "
                    f"{owner.get('host', '?')}, since {owner.get('started', '?')}); wait "
                    f"for it or choose another --out (remove {lock} if that run is gone)")
            gone = f"pid {owner['pid']}" if "pid" in owner else "an empty or unreadable lock"
            if _break_lock(lock, owner):
                self.note(f"taking over the lock of a run that is gone ({gone}) in {self.path}")
        raise RuntimeError(f"--out {self.path}: could not take the lock {lock}")

    def create(self) -> Path:
        """Create the folder (and missing parents), lock it, tidy what dead runs left.

        Returns
        -------
        Path
            The folder, now existing and locked by this run.
        """
        missing, p = [], self.path
        while not p.exists():
            missing.append(p)
            p = p.parent
        self.path.mkdir(parents=True, exist_ok=True)
        self.created = missing
        if not self.locked:
            self._lock()
        removed = remove_stale_temporaries(self.path, unowned=True)
        _drop_orphan_state_id(self.path)  # a run killed before its first saved state
        for d in sorted(self.path.glob(".commit-*")):  # a committed set a kill interrupted
            _move_set_in(self.path, d)
        for d in self.path.glob(".new-*"):  # an incomplete set: never results
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d.name)
        if removed:
            self.say(f"removed {len(removed)} temporary file(s) left by a run that was killed")
        return self.path

    @contextlib.contextmanager
    def results(self) -> "Iterator[Path]":
        """A temporary folder to write the results into; moved in as one set on success."""
        tmp: Optional[Path] = Path(tempfile.mkdtemp(prefix=f".new-{os.getpid()}-",
                                                    dir=self.path))
        assert tmp is not None
        try:
            yield tmp
            names = sorted(f.name for f in tmp.iterdir())
            (tmp / _MANIFEST).write_text(json.dumps(names))
            old = [n for n in RESULTS if (self.path / n).exists()]
            commit = tmp.with_name(".commit-" + tmp.name[len(".new-"):])
            os.rename(tmp, commit)  # the commit point: from here the new set is complete
            tmp = None
            _move_set_in(self.path, commit)
            if old:
                self.say(f"replaced the results of an earlier run in {self.path}")
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)


def _drop_orphan_state_id(folder: Path) -> None:
    """Remove ``fit_state.json`` when there is no ``fit_state.npz`` for it to describe."""
    if not (folder / STATE).exists():
        with contextlib.suppress(OSError):
            (folder / STATE_ID).unlink()


def _create_lock(lock: Path, me: dict) -> bool:
    """Create ``lock`` holding ``me`` (JSON) if it does not exist; False if it does.

    The content is written to a temporary file first and hard-linked into place, so a lock
    is never seen empty or half written: one without a readable owner is stale.  Where
    hard links are not available, the lock is created exclusively and then written.
    """
    fd, tmp = tempfile.mkstemp(prefix=f"{LOCK}.{os.getpid()}.", suffix=".tmp", dir=lock.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(me, f)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, lock)
            return True
        except FileExistsError:
            return False
        except OSError:  # no hard links here (some network or FAT file systems)
            pass
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
        except BaseException:
            with contextlib.suppress(OSError):
                lock.unlink()
            raise
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _break_lock(lock: Path, owner: dict) -> bool:
    """Remove the stale ``lock`` (whose owner read as ``owner``); False if another run took
    it meanwhile (then it is put back, or left to whoever holds it now)."""
    aside = lock.with_name(f"{LOCK}.stale.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return False  # someone else broke it first: try to create it again
    try:
        if _read_lock(aside) != owner:  # a new owner locked it between our read and rename
            with contextlib.suppress(OSError):
                os.link(aside, lock)
            return False
        return True
    finally:
        with contextlib.suppress(OSError):
            aside.unlink()


def _read_lock(lock: Path) -> dict:
    """The lock's owner (pid, host, command, started), or {} if it is empty or unreadable."""
    try:
        info = json.loads(Path(lock).read_text())
        return info if isinstance(info, dict) else {}
    except (OSError, ValueError, RecursionError):
        return {}


def _lock_alive(owner: dict) -> bool:
    """Whether the run that wrote the lock may still be running: False for a lock without a
    readable pid (a lock is never seen half written, see :func:`_create_lock`)."""
    pid = owner.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if owner.get("host") != socket.gethostname():
        return True  # another machine's process: we cannot tell
    return _pid_alive(pid)


def _move_set_in(folder, commit):
    """Replace the results in ``folder`` by the committed set ``commit`` (idempotent)."""
    try:
        names = json.loads((commit / _MANIFEST).read_text())
    except (OSError, ValueError, RecursionError):
        names = [f.name for f in commit.iterdir() if f.name != _MANIFEST]
    for name in RESULTS:
        if name not in names:
            with contextlib.suppress(FileNotFoundError):
                (folder / name).unlink()
    for name in names:
        if (commit / name).exists():
            os.replace(commit / name, folder / name)
    shutil.rmtree(commit, ignore_errors=True)


def run_identity(args: Any, X: Any, y: Any, settings: "dict[str, Any]") -> "dict[str, Any]":
    """What a resumed fit must share with the one that saved the state.

    Parameters
    ----------
    args : argparse.Namespace
        The command line (its ``seed``, ``n_clusters`` and ``autoencoder`` file).
    X : ndarray of shape (n_samples, n_features)
        The data.
    y : ndarray of shape (n_samples,) or None
        The true labels.
    settings : dict
        Every DEC and pretraining setting of the run.

    Returns
    -------
    dict
        JSON values: fingerprints of X, y and the autoencoder file, the seed, k and the
        settings.
    """
    sae_file = getattr(args, "autoencoder", None)
    sae_hash = None
    if sae_file:
        sae_hash = "sha256:" + hashlib.sha256(Path(sae_file).read_bytes()).hexdigest()
    ident = {"data": data_fingerprint(X), "labels": None if y is None else data_fingerprint(y),
             "seed": args.seed, "n_clusters": args.n_clusters, "autoencoder": sae_hash,
             "settings": settings}
    return json.loads(json.dumps(ident, default=list))


def _identity_differences(saved, here):
    """The differences between two run identities, in words."""
    words = {"data": "the data (values or row order)", "labels": "the labels",
             "autoencoder": "the --autoencoder file"}
    diff = []
    for key in sorted(set(saved) | set(here)):
        a, b = saved.get(key), here.get(key)
        if a == b:
            continue
        if key == "settings" and isinstance(a, dict) and isinstance(b, dict):
            diff += [f"{k} {a.get(k)!r} there, {b.get(k)!r} here"
                     for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif key in words:
            diff.append(f"{words[key]} differ")
        else:
            diff.append(f"{key} {a!r} there, {b!r} here")
    return diff


def resume_or_fresh(args: Any, run: RunFolder, identity: "dict[str, Any]") -> Optional[Path]:
    """The state to resume from, if ``--resume`` asks for one and it is this run's.

    Parameters
    ----------
    args : argparse.Namespace
        The command line (its ``resume`` flag).
    run : RunFolder
        The ``--out`` folder.
    identity : dict
        This run's :func:`run_identity`.

    Returns
    -------
    Path or None
        The saved state to continue from, or None for a fresh fit (an unfinished state is
        then discarded, with a note).

    Raises
    ------
    ValueError
        When ``--resume`` finds a state saved by another run, or one it cannot attribute.
    """
    state, state_id = run.path / STATE, run.path / STATE_ID
    if getattr(args, "resume", False):
        if not state.exists():
            run.note(f"--resume: no unfinished fit in {run.path}; starting a fresh one")
            return None
        try:
            saved = json.loads(state_id.read_text())
        except (OSError, ValueError, RecursionError):
            raise ValueError(f"--resume: cannot tell which run saved {state} (no readable "
                             f"{STATE_ID}); drop --resume to start afresh") from None
        diff = _identity_differences(saved if isinstance(saved, dict) else {}, identity)
        if diff:
            raise ValueError(f"--resume: {state} was saved by another run ({'; '.join(diff)}); "
                             "use the same data, --seed and settings, drop --resume to start "
                             "afresh, or choose another --out")
        return state
    if state.exists():
        run.note(f"discarding the unfinished fit in {state} (add --resume to continue it instead)")
    return None


#: Version of the layout of ``metrics.json``; raised whenever a key changes meaning or goes.
METRICS_SCHEMA_VERSION = 1
#: The keys of ``metrics.json``, in the order written (docs/metrics-json.md explains each).
METRICS_KEYS = ("schema_version", "command", "dec_np_version", "dataset", "data", "n_samples",
                "n_features", "n_clusters", "model", "seed", "hidden_dims", "n_iter",
                "mean_kl", "cluster_sizes", "dec", "ae_kmeans", "times_s")
_TIMES = ("pretrain", "dec", "total")


def metrics_record(**fields: Any) -> "dict[str, Any]":
    """The content of ``metrics.json``, the same layout for ``fit``, ``demo`` and ``evaluate``.

    Parameters
    ----------
    **fields
        Every key of :data:`METRICS_KEYS` but ``schema_version`` and ``dec_np_version``,
        which are filled in; ``times_s`` may give only some of pretrain, dec and total
        (the others are None).

    Returns
    -------
    dict
        Ordered as :data:`METRICS_KEYS`, JSON values only.

    Raises
    ------
    ValueError
        For a missing or unknown key (a programming error: the schema is fixed).
    """
    from . import __version__
    fields = dict(fields, schema_version=METRICS_SCHEMA_VERSION, dec_np_version=__version__)
    times = fields.get("times_s") or {}
    fields["times_s"] = {k: times.get(k) for k in _TIMES}
    if set(fields) != set(METRICS_KEYS) or set(times) - set(_TIMES):
        raise ValueError(f"metrics.json keys {sorted(fields)} differ from the schema "
                         f"{sorted(METRICS_KEYS)}")
    return json.loads(json.dumps({k: fields[k] for k in METRICS_KEYS}, default=_plain))


def _plain(x: Any) -> Any:
    """NumPy scalars and arrays as JSON values."""
    return x.tolist() if hasattr(x, "tolist") else str(x)
