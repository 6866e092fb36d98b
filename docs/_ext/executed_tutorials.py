"""A Sphinx extension that executes the tutorials side by side and hands myst-nb the results.

The tutorials are jupytext percent scripts in ``tutorials/``.  At the start of a build they are
copied into ``docs/tutorials/`` (not committed), where Sphinx finds them.  When Sphinx is about
to read some of them, each is converted to a notebook and executed on the ``python3`` kernel, in
``tutorials/`` (so ``_common`` and ``solutions/`` are found as by a learner), in fast mode with
the reference solutions, several at a time; the rest of the site is read meanwhile.  myst-nb
reads a ``.py`` page through :func:`read` (``nb_custom_formats``), which returns the executed
notebook, so myst-nb itself executes nothing (``nb_execution_mode = "off"``).

A cell that raises, or runs longer than ``tutorials_cell_timeout`` seconds, is a warning naming
the tutorial (an error under ``-W``); the page then shows the outputs up to that cell.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote

import jupytext
import nbclient
from sphinx.util import logging

logger = logging.getLogger(__name__)
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
_RUNS: dict[str, Future] = {}      # sha256 of a script's text -> Future[(path, nb, error)]
_SETTINGS: dict = {}
_LOCK = threading.Lock()


def _key(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _environment(root, figures):
    """What each kernel inherits: fast mode, the reference solutions, this checkout first on
    the path, figures in a scratch folder, one BLAS thread (the runs go side by side)."""
    env = dict(os.environ, DEC_NP_FAST="1", DEC_NP_SOLUTIONS="1", DEC_NP_FIGURES=str(figures),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(root),
                                                        os.environ.get("PYTHONPATH")])))
    # MPLBACKEND=Agg would override ipykernel's inline backend: no figure would reach the page
    for name in ("MPLBACKEND", "DEC_NP_MEDIUM"):
        env.pop(name, None)
    return env


def _execute(path, text):
    """Execute one script as a notebook; returns (path, notebook, error message or None)."""
    nb = jupytext.reads(text, fmt="py:percent")
    nb.metadata["kernelspec"] = KERNELSPEC
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=_SETTINGS["timeout"],
        resources={"metadata": {"path": _SETTINGS["cwd"]}})
    # the kernel's own log (not the cells' output, which reaches the notebook) goes to a file,
    # shown only when the kernel itself failed
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        try:
            client.execute(env=_SETTINGS["env"], stderr=log)
        except nbclient.exceptions.CellExecutionError as exc:  # a cell raised
            return path, nb, f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a cell ran too long, or the kernel died
            log.seek(0)
            return path, nb, f"{type(exc).__name__}: {exc}\nkernel log:\n{log.read()[-3000:]}"
    return path, nb, None


_LINK = re.compile(r"(\]\()([^)\s]+)(\))")  # a Markdown link's target: [text](target)


def relink(text, source, docs, repo, repo_url):
    """A tutorial's text with the relative links of its comment lines rewritten for its copy
    in ``docs/tutorials/``: to another tutorial, to its copy; into ``docs/``, to that page; to
    any other file of the repository, to ``repo_url`` + its path.  Code is left as it is."""
    out = docs / "tutorials"

    def fix(match):
        target = match.group(2)
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return match.group(0)
        path, hash_, fragment = target.partition("#")
        real = (source / unquote(path)).resolve()
        if not real.exists():
            new = None  # left as it is: Sphinx reports it
        elif real.parent == source and real.name[:2].isdigit() and real.suffix == ".py":
            new = real.name
        elif docs in real.parents:
            new = os.path.relpath(real, out).replace(os.sep, "/")
        elif repo in real.parents:
            new = f"{repo_url}/{real.relative_to(repo).as_posix()}"
        else:
            new = None
        return match.group(0) if new is None else f"]({new}{hash_}{fragment})"

    return "".join(_LINK.sub(fix, line) if line.lstrip().startswith("#") else line
                   for line in text.splitlines(keepends=True))


def copy_tutorials(app, config):
    """Copy tutorials/NN_*.py into docs/tutorials/ (links rewritten by :func:`relink`) and
    drop copies whose tutorial is gone; unchanged copies are left alone, so an incremental
    build does not re-run them."""
    source = Path(app.confdir, config.tutorials_source).resolve()
    docs = Path(app.srcdir).resolve()
    out = docs / "tutorials"
    out.mkdir(exist_ok=True)
    wanted = {p.name: p for p in sorted(source.glob("[0-9][0-9]_*.py"))}
    for old in out.glob("*.py"):
        if old.name not in wanted:
            old.unlink()
    for name, src in wanted.items():
        dst = out / name
        text = relink(src.read_text(encoding="utf-8"), source, docs, docs.parent,
                      config.tutorials_repo_url)
        if not dst.exists() or dst.read_text(encoding="utf-8") != text:
            tmp = dst.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, dst)
    figures = Path(tempfile.mkdtemp(prefix="dec_np_docs_figures_"))  # the files show() saves
    _SETTINGS.update(cwd=str(source), timeout=config.tutorials_cell_timeout, figures=figures,
                     env=_environment(Path(app.confdir).parent, figures))


def remove_figure_files(app, exception):
    """The pages hold the figures; the files the tutorials saved beside them go."""
    if "figures" in _SETTINGS:
        shutil.rmtree(_SETTINGS["figures"], ignore_errors=True)


def _inputs_digest(app):
    """A digest of what the tutorials run besides their own text: the package and the
    helpers and solutions beside the tutorials."""
    root, source = Path(app.confdir).parent, Path(_SETTINGS["cwd"])
    digest = hashlib.sha256()
    for path in sorted([*(root / "dec_np").rglob("*.py"), *source.rglob("*.py")]):
        if path.parent == source and path.name[:2].isdigit():
            continue  # a tutorial itself: Sphinx re-reads it when it changes
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def outdated(app, env, added, changed, removed):
    """Re-run every tutorial when the code they run has changed since the last build
    (``env-get-outdated``); an unchanged tutorial over unchanged code is not run again."""
    digest = _inputs_digest(app)
    if getattr(env, "dec_np_tutorial_inputs", None) == digest:
        return []
    env.dec_np_tutorial_inputs = digest
    return [d for d in env.found_docs if d.startswith("tutorials/")]


def start(app, env, docnames):
    """Start executing the tutorials Sphinx is about to read (``env-before-read-docs``)."""
    folder = Path(app.srcdir, "tutorials")
    paths = [Path(env.doc2path(d)) for d in docnames]
    paths = [p for p in paths if p.suffix == ".py" and p.parent == folder]
    if not paths:
        return
    jobs = app.config.tutorials_jobs
    if not jobs:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    pool = ThreadPoolExecutor(max_workers=max(1, min(int(jobs), len(paths))))
    for path in paths:
        text = path.read_text(encoding="utf-8")
        with _LOCK:
            _RUNS[_key(text)] = pool.submit(_execute, path, text)
    pool.shutdown(wait=app.parallel > 1)  # a parallel read forks: finish before it does


def read(text):
    """myst-nb's reader for the tutorial pages: the executed notebook of this script."""
    with _LOCK:
        run = _RUNS.get(_key(text))
    path, nb, error = run.result() if run is not None else _execute(Path("?"), text)
    if error:
        logger.warning("tutorial %s failed in fast mode with the reference solutions: %s",
                       path.name, error, type="dec_np", subtype="tutorial")
    return nb


def setup(app):
    app.add_config_value("tutorials_source", "../tutorials", "env")
    app.add_config_value("tutorials_repo_url", "", "env")  # + "/path": a repository file
    app.add_config_value("tutorials_cell_timeout", 300, "env")
    app.add_config_value("tutorials_jobs", 0, "env")  # 0: one per available core
    app.connect("config-inited", copy_tutorials)
    app.connect("env-get-outdated", outdated)
    app.connect("env-before-read-docs", start)
    app.connect("build-finished", remove_figure_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
