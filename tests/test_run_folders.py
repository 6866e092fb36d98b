"""Run folders (``--out``) of the command line: they cannot mix runs.

A resumed fit continues only the run that saved the state; a finished fit removes it; a busy
folder is refused; results are one set; an unwritable folder is found before any work;
stale temporaries are removed; a failed validation creates nothing.
"""
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import dec_np.cli as cli
import dec_np.runs as runs
import dec_np.dec as dec_module
from dec_np.checkpoint import FitCheckpoint
from dec_np.cli import main
from dec_np.runs import LOCK, STATE, STATE_ID
from dec_np.datasets import load_digits


@pytest.fixture(autouse=True)
def save_at_every_update(monkeypatch):
    monkeypatch.setattr(FitCheckpoint, "EVERY", 0.0)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """300 digits as X.npy / y.npy, and the same rows permuted."""
    d = tmp_path_factory.mktemp("data")
    X, y = load_digits()
    np.save(d / "X.npy", X[:300])
    np.save(d / "y.npy", y[:300])
    perm = np.random.default_rng(0).permutation(300)
    np.save(d / "Xp.npy", X[:300][perm])
    np.save(d / "yp.npy", y[:300][perm])
    return d


def _fit(files, out, *extra, x="X.npy", y="y.npy"):
    return ["fit", "--dataset", str(files / x), "--labels", str(files / y), "--fast", "--quiet",
            "--no-figures", "--n-clusters", "5", "--max-iter", "60", "--out", str(out), *extra]


def _one_error_line(capsys):
    err = [l for l in capsys.readouterr().err.strip().splitlines() if l]
    assert len(err) == 1 and "error" in err[0] and "Traceback" not in err[0], err
    return err[0]


def _interrupt_at_step(monkeypatch, step):
    """A real SIGINT in the middle of DEC step ``step``: the CLI saves the state, exits 130."""
    real, calls = dec_module._kl_gradients, [0]

    def ctrl_c(*args, **kw):
        calls[0] += 1
        if calls[0] == step:
            signal.raise_signal(signal.SIGINT)
        return real(*args, **kw)
    monkeypatch.setattr(dec_module, "_kl_gradients", ctrl_c)
    return lambda: monkeypatch.setattr(dec_module, "_kl_gradients", real)


def _interrupted_run(files, out, monkeypatch, capsys):
    restore = _interrupt_at_step(monkeypatch, 30)
    assert main(_fit(files, out)) == 130
    restore()
    assert (out / STATE).exists() and (out / STATE_ID).exists()
    assert "--resume" in capsys.readouterr().err
    return out


def test_resume_continues_the_same_run_and_a_finished_run_removes_its_state(
        files, tmp_path, monkeypatch, capsys):
    assert main(_fit(files, tmp_path / "full")) == 0
    assert not (tmp_path / "full" / STATE).exists()      # finished: nothing to resume
    assert not (tmp_path / "full" / STATE_ID).exists()
    out = _interrupted_run(files, tmp_path / "cut", monkeypatch, capsys)
    assert not (out / "labels.npy").exists()              # no results of an unfinished run
    assert main(_fit(files, out, "--resume")) == 0
    np.testing.assert_array_equal(np.load(out / "labels.npy"),
                                  np.load(tmp_path / "full" / "labels.npy"))
    assert not (out / STATE).exists() and not (out / STATE_ID).exists()
    capsys.readouterr()
    assert main(_fit(files, out, "--resume")) == 0        # nothing left: fresh, and says so
    assert "starting a fresh one" in capsys.readouterr().err


@pytest.mark.parametrize("change, words", [
    (["--seed", "1"], "seed"),
    (["--max-iter", "80"], "max_iter"),
    (["--lr", "0.05"], "lr"),
    (["--pretrain-lr", "0.1"], "schedule"),
    ("permuted", "data"),
])
def test_resume_refuses_a_state_of_another_run(files, tmp_path, monkeypatch, capsys, change,
                                               words):
    out = _interrupted_run(files, tmp_path / "run", monkeypatch, capsys)
    before = sorted(os.listdir(out)), (out / STATE).read_bytes()
    if change == "permuted":   # the same rows in another order: the state is not theirs
        argv = _fit(files, out, "--resume", x="Xp.npy", y="yp.npy")
        if "--max-iter" in argv:
            argv[argv.index("--max-iter") + 1] = "60"
    else:
        argv = _fit(files, out, "--resume")
        flag = change[0]
        if flag in argv:
            argv[argv.index(flag) + 1] = change[1]
        else:
            argv += change
    assert main(argv) == 1
    line = _one_error_line(capsys)
    assert "another run" in line and words in line and "--resume" in line
    assert (sorted(os.listdir(out)), (out / STATE).read_bytes()) == before  # untouched


def test_resume_refuses_a_state_it_cannot_attribute(files, tmp_path, monkeypatch, capsys):
    out = _interrupted_run(files, tmp_path / "run", monkeypatch, capsys)
    (out / STATE_ID).unlink()
    assert main(_fit(files, out, "--resume")) == 1
    assert "cannot tell which run" in _one_error_line(capsys)


def test_a_fresh_run_discards_an_unfinished_state_and_says_so(files, tmp_path, monkeypatch,
                                                              capsys):
    out = _interrupted_run(files, tmp_path / "run", monkeypatch, capsys)
    assert main(_fit(files, out, "--seed", "3")) == 0
    assert "discarding the unfinished fit" in capsys.readouterr().err  # even with --quiet
    assert not (out / STATE).exists()
    assert json.loads((out / "metrics.json").read_text())["seed"] == 3


def test_a_busy_folder_is_refused_and_a_dead_runs_lock_taken_over(files, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host = __import__("socket").gethostname()
        (out / LOCK).write_text(json.dumps({"pid": sleeper.pid, "host": host,
                                            "command": "fit", "started": "now"}))
        assert main(_fit(files, out)) == 1
        line = _one_error_line(capsys)
        assert "in use by another run" in line and str(sleeper.pid) in line
        assert sorted(os.listdir(out)) == [LOCK]          # nothing written beside it
    finally:
        sleeper.kill()
        sleeper.wait()
    assert main(_fit(files, out)) == 0                    # its process is gone: taken over
    assert "taking over the lock" in capsys.readouterr().err
    assert not (out / LOCK).exists() and (out / "labels.npy").exists()


def test_results_are_one_set(files, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    assert main(_fit(files, out)) == 0
    first = {n: (out / n).read_bytes() for n in ("labels.npy", "metrics.json", "model.npz")}

    def disk_full(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(cli, "save_dec", disk_full)       # labels written, then the model fails
    assert main(_fit(files, out, "--seed", "1")) == 1
    assert "No space left" in _one_error_line(capsys)
    assert {n: (out / n).read_bytes() for n in first} == first  # the previous set, whole
    assert not [n for n in os.listdir(out) if n.startswith(".")]  # no temporaries, no lock
    fresh = tmp_path / "fresh"
    assert main(_fit(files, fresh, "--seed", "1")) == 1
    assert not any(n in os.listdir(fresh) for n in runs.RESULTS)  # nothing rather than a part


def test_a_new_set_replaces_every_file_of_the_old_one(files, tmp_path, capsys):
    out = tmp_path / "run"
    argv = [a for a in _fit(files, out) if a != "--no-figures"]
    assert main(argv) == 0
    assert (out / "training_curves.png").exists()
    assert main(_fit(files, out)) == 0                    # --no-figures: old figures go too
    assert not list(out.glob("*.png"))


def test_an_interrupted_commit_is_completed_by_the_next_run(files, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_fit(files, out)) == 0
    commit = out / ".commit-123-abc"                      # killed after the commit rename
    commit.mkdir()
    (commit / "labels.npy").write_bytes((out / "labels.npy").read_bytes())
    (commit / ".set.json").write_text(json.dumps(["labels.npy", "metrics.json"]))
    (out / "metrics.json").write_text("{}")               # already moved in
    assert main(_fit(files, out)) == 0
    assert not commit.exists() and json.loads((out / "metrics.json").read_text())["seed"] == 0


def test_stale_temporaries_are_removed(files, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = [out / f".fit_state.npz.{dead}.x1y2.tmp",      # a kill -9 during a save
             out / ".model.npz.q8e4zq.tmp"]                # the naming of older versions
    for f in stale:
        f.write_bytes(b"\0" * 1000)
    (out / ".new-1-zz").mkdir()                           # an incomplete result set
    (out / ".new-1-zz" / "labels.npy").write_bytes(b"partial")
    assert main(_fit(files, out)) == 0
    assert not [n for n in os.listdir(out) if n.startswith(".")]


@pytest.mark.parametrize("argv", [
    ["fit", "--dataset", "digits", "--n-clusters", "1"],
    ["fit", "--dataset", "no-such-set"],
    ["fit", "--dataset", "digits", "--lr", "-1"],
    ["evaluate", "--model", "/no/such/model.npz", "--dataset", "digits"],
    ["select-k", "--k-min", "9", "--k-max", "3"],
])
def test_nothing_is_created_when_validation_fails(argv, tmp_path, capsys):
    out = tmp_path / "a" / "b"
    assert main(argv + ["--fast", "--quiet", "--out", str(out)]) == 1
    _one_error_line(capsys)
    assert os.listdir(tmp_path) == []
    out.mkdir(parents=True)                                # an existing folder stays empty
    assert main(argv + ["--fast", "--quiet", "--out", str(out)]) == 1
    assert os.listdir(out) == []


def test_an_unwritable_out_is_found_before_any_work(files, tmp_path, monkeypatch, capsys):
    def no_work(*a, **k):
        raise AssertionError("work started before --out was checked")
    monkeypatch.setattr(cli, "load_data", no_work)
    monkeypatch.setattr(cli, "pretrain", no_work)
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "file", tmp_path / "file" / "sub"):
        assert main(_fit(files, out)) == 1
        assert "not a folder" in _one_error_line(capsys)
    assert main(["pretrain", "--quiet", "--out", str(tmp_path / "file" / "sae.npz")]) == 1
    assert "not a folder" in _one_error_line(capsys)
    if os.geteuid() != 0:                                 # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        assert main(_fit(files, ro / "run")) == 1
        assert "not writable" in _one_error_line(capsys)


def test_evaluate_does_not_overwrite_a_fit(files, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_fit(files, out)) == 0
    labels = (out / "labels.npy").read_bytes()
    assert main(["evaluate", "--model", str(out / "model.npz"), "--dataset",
                 str(files / "X.npy"), "--quiet", "--out", str(out)]) == 1
    assert "model.npz" in _one_error_line(capsys)
    assert (out / "labels.npy").read_bytes() == labels


def test_locks_are_taken_whole_without_hard_links_too(files, tmp_path, monkeypatch, capsys):
    def no_links(*a, **k):
        raise OSError(1, "Operation not permitted")   # e.g. a FAT or some network file system
    monkeypatch.setattr(runs.os, "link", no_links)
    out = tmp_path / "run"
    assert main(_fit(files, out)) == 0
    assert not (out / LOCK).exists() and (out / "labels.npy").exists()


def test_a_lock_retaken_meanwhile_is_not_broken(tmp_path):
    import socket
    lock = tmp_path / LOCK
    live = {"pid": os.getpid(), "host": socket.gethostname(), "command": "fit", "started": "now"}
    lock.write_text(json.dumps(live))
    assert runs._break_lock(lock, {}) is False        # it was read empty, now someone holds it
    assert json.loads(lock.read_text()) == live
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK]
    lock.write_text("")
    assert runs._break_lock(lock, {}) is True and not lock.exists()
