"""The command line against careless input and hostile files: usage errors for bad numbers,
one line (never a traceback) for any file, a described --help, one metrics.json schema."""
import argparse
import json
import re
import signal
from pathlib import Path

import numpy as np
import pytest

import dec_np.cli as cli
import dec_np.dec as dec_module
from dec_np.checkpoint import FitCheckpoint
from dec_np.cli import build_parser, main
from dec_np.datasets import load_digits
from dec_np.runs import LOCK, METRICS_KEYS, STATE, STATE_ID

DOC = Path(__file__).resolve().parents[1] / "docs" / "metrics-json.md"


@pytest.fixture(autouse=True)
def save_at_every_update(monkeypatch):
    monkeypatch.setattr(FitCheckpoint, "EVERY", 0.0)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    X, y = load_digits()
    np.save(d / "X.npy", X[:200])
    np.save(d / "y.npy", y[:200])
    return d


def _fit(files, out, *extra):
    return ["fit", "--dataset", str(files / "X.npy"), "--labels", str(files / "y.npy"), "--fast",
            "--quiet", "--no-figures", "--n-clusters", "4", "--max-iter", "40", "--out",
            str(out), *extra]


def _one_line(capsys, code_text="error"):
    err = [l for l in capsys.readouterr().err.strip().splitlines() if l]
    assert len(err) == 1 and code_text in err[0] and "Traceback" not in err[0], err
    return err[0]


# ----------------------------------------------------------------------------- usage errors
@pytest.mark.parametrize("argv", [
    ["demo", "--threads", "0"],
    ["demo", "--threads", "-2"],
    ["gradcheck", "--tol", "nan"],
    ["gradcheck", "--tol", "inf"],
    ["gradcheck", "--tol", "0"],
    ["gradcheck", "--tol", "-1e-6"],
    ["fit", "--n-samples", "0"],
    ["select-k", "--val-fraction", "nan"],
    ["select-k", "--val-fraction", "1.5"],
])
def test_bad_numbers_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert argv[-2] in _one_line(capsys)


# ----------------------------------------------------------------------------- --help
def _subparsers():
    parser = build_parser()
    return parser._subparsers._group_actions[0].choices


def test_every_command_has_a_description_and_every_option_help_with_its_default():
    for name, p in _subparsers().items():
        assert p.description and len(p.description) > 40, name
        text = " ".join(p.format_help().split())
        for action in p._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue
            flag = action.option_strings[0]
            assert action.help, f"{name} {flag} has no help"
            if action.default not in (None, False):
                shown = (",".join(map(str, action.default)) if isinstance(action.default, tuple)
                         else str(action.default))
                assert f"default: {shown})" in text or "(default" in action.help, (name, flag)
    fit = " ".join(_subparsers()["fit"].format_help().split())
    for flag in ("--seed SEED random seed: weights", "--n-clusters K number of clusters (default: 10)"):
        assert flag in fit
    sk = " ".join(_subparsers()["select-k"].format_help().split())
    for text in ("--k-min K_MIN smallest k tried (>= 2) (default: 5)",
                 "--val-fraction VAL_FRACTION fraction", "(default: 500,500,2000,10)",
                 "--schedule SCHEDULE pretraining schedule"):
        assert text in sk


# ----------------------------------------------------------------------------- signals, locks
def test_a_fit_started_with_sigint_ignored_keeps_ignoring_it(files, tmp_path, monkeypatch):
    real, calls = dec_module._kl_gradients, [0]

    def ctrl_c(*args, **kw):
        calls[0] += 1
        if calls[0] == 10:
            signal.raise_signal(signal.SIGINT)
        return real(*args, **kw)
    monkeypatch.setattr(dec_module, "_kl_gradients", ctrl_c)
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)       # as `nohup dec-np fit &` starts
    try:
        assert main(_fit(files, tmp_path / "run")) == 0
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, old)
    assert calls[0] > 10 and (tmp_path / "run" / "labels.npy").exists()
    assert not (tmp_path / "run" / STATE).exists()


@pytest.mark.parametrize("content", [b"", b"{\"pid\": ", b"\xff\xfe garbage", b"[1, 2]",
                                     b"{\"pid\": \"x\"}", b"{\"pid\": 0}"])
def test_a_lock_without_a_live_owner_is_taken_over(files, tmp_path, capsys, content):
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK).write_bytes(content)           # e.g. what a full disk left
    assert main(_fit(files, out)) == 0
    assert "taking over the lock" in capsys.readouterr().err
    assert not (out / LOCK).exists() and (out / "labels.npy").exists()


def test_interrupted_pretraining_leaves_no_state_files(files, tmp_path, monkeypatch, capsys):
    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "pretrain", interrupted)
    out = tmp_path / "run"
    assert main(_fit(files, out)) == 130
    assert not (out / STATE_ID).exists() and not (out / STATE).exists()
    assert "--resume" not in capsys.readouterr().err


def test_an_orphan_state_id_left_by_a_kill_is_removed(files, tmp_path, demo_model):
    out = tmp_path / "eval"
    out.mkdir()
    (out / STATE_ID).write_text("{}")            # no fit_state.npz beside it
    assert main(["evaluate", "--model", str(demo_model), "--quiet", "--out", str(out)]) == 0
    assert not (out / STATE_ID).exists()


# ----------------------------------------------------------------------------- hostile files
def _forged_npy(path, shape):
    from numpy.lib import format as npformat
    with open(path, "wb") as f:
        npformat.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False,
                                            "shape": shape})
        f.write(bytes(80))
    return path


@pytest.fixture(scope="module")
def demo_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--fast", "--quiet", "--no-figures", "--out", str(out)]) == 0
    return out / "model.npz"


def test_hostile_files_on_the_command_line_are_one_line(files, tmp_path, capsys, demo_model):
    huge = _forged_npy(tmp_path / "huge.npy", (10 ** 9, 10 ** 4))
    assert main(_fit(files, tmp_path / "o") + ["--dataset", str(huge)]) == 1
    assert "huge.npy: the header claims" in _one_line(capsys)
    np.save(tmp_path / "y30.npy", np.r_[np.zeros(199), 1e30])
    assert main(_fit(files, tmp_path / "o") + ["--labels", str(tmp_path / "y30.npy")]) == 1
    assert "y30.npy" in _one_line(capsys)
    with np.load(demo_model) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("meta")))
    meta["autoencoder"]["dims"] = [64, 10 ** 8, 10]
    np.savez(tmp_path / "m.npz", meta=np.array(json.dumps(meta)), **arrays)
    assert main(["evaluate", "--model", str(tmp_path / "m.npz"), "--quiet"]) == 1
    assert "m.npz: the autoencoder dims" in _one_line(capsys)
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------------------------- metrics.json
def test_fit_demo_and_evaluate_write_one_schema_documented_in_docs(files, tmp_path, demo_model):
    assert main(_fit(files, tmp_path / "fit")) == 0
    assert main(["evaluate", "--model", str(demo_model), "--quiet", "--out",
                 str(tmp_path / "eval")]) == 0
    records = {"fit": tmp_path / "fit", "demo": demo_model.parent, "evaluate": tmp_path / "eval"}
    for command, folder in records.items():
        m = json.loads((folder / "metrics.json").read_text())
        assert list(m) == list(METRICS_KEYS), command
        assert m["schema_version"] == 1 and m["command"] == command
        assert set(m["times_s"]) == {"pretrain", "dec", "total"}
        assert m["n_features"] == 64 and m["mean_kl"] > 0
        assert m["dec"] is not None and set(m["dec"]) == {"acc", "nmi", "ari"}
        assert (m["ae_kmeans"] is None) == (command == "evaluate")
    documented = re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(), flags=re.M)
    assert documented == list(METRICS_KEYS)


def _interrupted(files, out, monkeypatch):
    real, calls = dec_module._kl_gradients, [0]

    def ctrl_c(*args, **kw):
        calls[0] += 1
        if calls[0] == 25:
            signal.raise_signal(signal.SIGINT)
        return real(*args, **kw)
    monkeypatch.setattr(dec_module, "_kl_gradients", ctrl_c)
    assert main(_fit(files, out)) == 130
    monkeypatch.setattr(dec_module, "_kl_gradients", real)
    assert (out / STATE).exists()


@pytest.mark.parametrize("edit", [
    lambda meta, a: meta.pop("iteration"),
    lambda meta, a: meta.update(stream="x"),
    lambda meta, a: meta.update(opt_t=-1),
    lambda meta, a: meta.update(history=[]),
    lambda meta, a: a.update(mu=np.zeros((3, 3), np.float32)),
    lambda meta, a: a.update(p=np.zeros((5, 4), np.float32)),
])
def test_a_forged_fit_state_is_one_line_on_resume(files, tmp_path, monkeypatch, capsys, edit):
    out = tmp_path / "run"
    _interrupted(files, out, monkeypatch)
    capsys.readouterr()
    with np.load(out / STATE) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("meta")))
    edit(meta, arrays)
    np.savez(out / STATE, meta=np.array(json.dumps(meta)), **arrays)
    assert main(_fit(files, out, "--resume")) == 1
    assert "fit_state.npz" in _one_line(capsys)


def test_a_full_disk_while_locking_leaves_no_lock(files, tmp_path, monkeypatch, capsys):
    import errno
    import dec_np.runs as runs
    out = tmp_path / "run"
    out.mkdir()
    real = runs.json.dump

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(runs.json, "dump", full)
    assert main(_fit(files, out)) == 1
    assert "No space left" in _one_line(capsys)
    assert sorted(p.name for p in out.iterdir()) == []      # no lock, no temporary
    monkeypatch.setattr(runs.json, "dump", real)
    assert main(_fit(files, out)) == 0


def test_running_out_of_memory_is_one_line(tmp_path, monkeypatch, capsys):
    def too_big(*a, **k):
        raise MemoryError("Unable to allocate 72.8 TiB")
    monkeypatch.setattr(cli, "load_dataset", too_big)
    assert main(["fit", "--quiet", "--out", str(tmp_path / "o")]) == 1
    assert "out of memory" in _one_line(capsys)
