import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import dec_np
import dec_np.dec_math
from dec_np.dec import load_dec
from dec_np.cli import main
from dec_np.datasets import load_digits


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0] and "Traceback" not in err[0], err
    return err[0]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    """One tiny demo run shared by the tests that read its outputs."""
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--fast", "--quiet", "--out", str(out)]) == 0
    return out


def test_demo_writes_labels_metrics_model_and_figures(demo_dir):
    X, y = load_digits()
    labels = np.load(demo_dir / "labels.npy")
    assert labels.shape == y.shape
    metrics = json.loads((demo_dir / "metrics.json").read_text())
    assert set(metrics["dec"]) == {"acc", "nmi", "ari"} and metrics["ae_kmeans"]["acc"] > 0.5
    assert metrics["times_s"]["total"] > 0 and sum(metrics["cluster_sizes"]) == len(y)
    np.testing.assert_array_equal(load_dec(demo_dir / "model.npz").predict(X), labels)
    assert (demo_dir / "training_curves.png").exists()  # dec_np.plotting is there


def test_demo_prints_scores(tmp_path, capsys):
    assert main(["demo", "--fast", "--quiet", "--max-iter", "20", "--no-figures",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "DEC" in out and "ACC" in out and "NMI" in out and "ARI" in out


def test_evaluate_a_saved_model(demo_dir, tmp_path, capsys):
    assert main(["evaluate", "--model", str(demo_dir / "model.npz"), "--dataset", "digits",
                 "--out", str(tmp_path)]) == 0
    assert "ACC" in capsys.readouterr().out
    np.testing.assert_array_equal(np.load(tmp_path / "labels.npy"),
                                  np.load(demo_dir / "labels.npy"))


def test_fit_a_data_file_with_labels(tmp_path, capsys):
    X, y = load_digits()
    np.save(tmp_path / "X.npy", X[:300])
    np.save(tmp_path / "y.npy", y[:300])
    args = ["fit", "--dataset", str(tmp_path / "X.npy"), "--labels", str(tmp_path / "y.npy"),
            "--fast", "--quiet", "--no-figures", "--out", str(tmp_path / "run"), "--n-clusters", "5"]
    assert main(args) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["n_samples"] == 300 and len(metrics["cluster_sizes"]) == 5
    assert metrics["data"].startswith("sha256:")
    assert not (tmp_path / "run" / "fit_state.npz").exists()  # finished: the state is gone


def test_fit_a_csv_table_with_csv_labels(tmp_path, capsys):
    X, y = load_digits(scaling="none")
    header = ",".join(f"pixel{i}" for i in range(X.shape[1]))
    np.savetxt(tmp_path / "X.csv", X[:200], fmt="%g", delimiter=",", header=header, comments="")
    np.savetxt(tmp_path / "y.csv", y[:200], fmt="%d", header="digit", comments="")
    args = ["fit", "--dataset", str(tmp_path / "X.csv"), "--labels", str(tmp_path / "y.csv"),
            "--fast", "--quiet", "--no-figures", "--out", str(tmp_path / "run"), "--n-clusters", "4"]
    assert main(args) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["n_samples"] == 200 and 0 < metrics["dec"]["acc"] <= 1
    np.save(tmp_path / "X.npy", X[:200] / 16.0)  # the table was read and scaled as this array
    assert main(["fit", "--dataset", str(tmp_path / "X.npy"), "--labels", str(tmp_path / "y.csv"),
                 "--fast", "--quiet", "--no-figures", "--out", str(tmp_path / "run2"),
                 "--n-clusters", "4"]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "run" / "labels.npy"),
                                  np.load(tmp_path / "run2" / "labels.npy"))


def test_pretrain_then_fit_with_that_autoencoder(tmp_path, capsys):
    sae = tmp_path / "sae.npz"
    assert main(["pretrain", "--fast", "--quiet", "--n-samples", "300", "--out", str(sae)]) == 0
    assert main(["fit", "--autoencoder", str(sae), "--n-samples", "300", "--max-iter", "20",
                 "--quiet", "--no-figures", "--out", str(tmp_path / "run")]) == 0
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["hidden_dims"] == [32, 10]


def test_gradcheck_passes_and_prints_the_table(capsys):
    assert main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    assert "rel error | ok" in out and "FAIL" not in out
    for name in ("Dense.W", "ReLU.x", "Dropout", "MSE", "SAE.enc0.W", "KL(alpha=2).mu",
                 "DEC through encoder.mu"):
        assert name in out


def test_gradcheck_fails_on_a_wrong_gradient(monkeypatch, capsys):
    real = dec_np.dec_math.kl_gradients
    monkeypatch.setattr(dec_np.dec_math, "kl_gradients",
                        lambda *a, **k: tuple(2 * g for g in real(*a, **k)))
    assert main(["gradcheck"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_select_k_writes_a_table(tmp_path, capsys):
    assert main(["select-k", "--fast", "--quiet", "--no-figures", "--n-samples", "300",
                 "--k-min", "3", "--k-max", "4", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| k | L_train | L_val | G |" in out
    rows = json.loads((tmp_path / "select_k.json").read_text())["rows"]
    assert [r["k"] for r in rows] == [3, 4] and all(r["G"] > 0 for r in rows)


@pytest.mark.parametrize("argv", [
    ["fit", "--dataset", "no-such-set"],
    ["fit", "--dataset", "/no/such/file.npy"],
    ["evaluate", "--model", "/no/such/model.npz"],
    ["fit", "--dataset", "digits", "--n-clusters", "1", "--fast"],
    ["select-k", "--k-min", "9", "--k-max", "3"],
])
def test_user_errors_are_one_line(argv, tmp_path, capsys):
    assert main(argv + ["--quiet", "--out", str(tmp_path / "o")]) == 1
    _one_error_line(capsys)


def test_bad_checkpoint_and_missing_cupy_are_one_line(tmp_path, capsys):
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    assert main(["evaluate", "--model", str(tmp_path / "bad.npz")]) == 1
    assert "bad.npz" in _one_error_line(capsys)
    from dec_np.backend import gpu_available
    if not gpu_available():
        assert main(["demo", "--fast", "--backend", "cupy", "--out", str(tmp_path)]) == 1
        assert "CuPy" in _one_error_line(capsys)


def _bad_file(tmp_path, kind):
    path = tmp_path / f"{kind}.npy"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "scalar":
        np.save(path, np.float32(3.0))
    elif kind == "complex":
        np.save(path, np.ones((20, 4)) * (1 + 1j))
    elif kind == "vector":
        np.save(path, np.arange(20.0))
    elif kind == "nan":
        np.save(path, np.full((20, 4), np.nan))
    elif kind == "text":
        path.write_text("1,2,3\n")
    return path


@pytest.mark.parametrize("kind", ["empty", "scalar", "complex", "vector", "nan", "text"])
def test_bad_data_files_are_one_line_in_the_cli_and_value_errors_in_the_api(tmp_path, capsys,
                                                                           kind):
    from dec_np import DEC
    from dec_np.datasets import load_dataset
    path = _bad_file(tmp_path, kind)
    assert main(["fit", "--dataset", str(path), "--fast", "--quiet", "--out",
                 str(tmp_path / "o")]) == 1
    assert str(path) in _one_error_line(capsys)
    with pytest.raises(ValueError):
        load_dataset(path)
    if kind not in ("empty", "text"):  # the array itself: the estimator refuses it as well
        with pytest.raises(ValueError):
            DEC(2, hidden_dims=(3, 2)).fit(np.load(path))
    assert not (tmp_path / "o").exists()


def test_bad_labels_file_is_one_line(tmp_path, capsys):
    X, _ = load_digits()
    np.save(tmp_path / "X.npy", X[:50])
    for name, y in (("few", np.zeros(10, int)), ("frac", np.linspace(0, 1, 50))):
        np.save(tmp_path / f"{name}.npy", y)
        assert main(["fit", "--dataset", str(tmp_path / "X.npy"), "--labels",
                     str(tmp_path / f"{name}.npy"), "--fast", "--quiet",
                     "--out", str(tmp_path / "o")]) == 1
        assert f"{name}.npy" in _one_error_line(capsys)


def _edit_meta(src, dst, edit):
    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("meta")))
    edit(meta, arrays)
    np.savez(dst, meta=np.array(json.dumps(meta)), **arrays)
    return dst


@pytest.mark.parametrize("edit", [
    lambda m, a: m.update(params=[1, 2]),
    lambda m, a: m["params"].update(alpha="one"),
    lambda m, a: m["params"].update(n_clusters="10"),
    lambda m, a: m["params"].update(hidden_dims="32,10"),
    lambda m, a: m.update(scale=None),
    lambda m, a: m.update(scale="x"),
    lambda m, a: m.update(autoencoder="sae"),
    lambda m, a: m["autoencoder"].update(dims="64,32,10"),
    lambda m, a: m["autoencoder"].update(p_drop="0.1"),
    lambda m, a: m.update(format_version="1"),
    lambda m, a: m.update(history=[0]),
    lambda m, a: a.update(labels=a["labels"].astype(float)),
    lambda m, a: a["sae/enc0.W"].__setitem__((0, 0), np.nan),
    lambda m, a: a.update(mu=a["mu"] * np.inf),
], ids=["params-list", "alpha-str", "k-str", "dims-str", "scale-none", "scale-str", "ae-str",
        "ae-dims-str", "p_drop-str", "version-str", "history-list", "labels-float", "nan-weight",
        "inf-centres"])
def test_a_model_with_bad_metadata_or_weights_is_one_line(demo_dir, tmp_path, capsys, edit):
    bad = _edit_meta(demo_dir / "model.npz", tmp_path / "bad.npz", edit)
    assert main(["evaluate", "--model", str(bad), "--dataset", "digits"]) == 1
    assert "bad.npz" in _one_error_line(capsys)
    with pytest.raises(ValueError, match="bad.npz"):
        load_dec(bad)


def test_version(capsys):
    import dec_np
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"dec-np {dec_np.__version__}"


def test_pretrain_lr_sets_the_pretraining_rate(tmp_path, monkeypatch, capsys):
    import dec_np.cli as cli
    seen = []
    real = cli.pretrain

    def spy(X, dims, schedule, *a, **k):
        seen.append(schedule)
        return real(X, dims, schedule, *a, **k)
    monkeypatch.setattr(cli, "pretrain", spy)
    assert main(["pretrain", "--fast", "--quiet", "--n-samples", "200", "--pretrain-lr", "0.02",
                 "--out", str(tmp_path / "sae.npz")]) == 0
    s = seen[-1]
    assert s["layerwise"]["lr"] == 0.02 and s["finetune"]["lr"] == 0.02
    assert main(["fit", "--fast", "--quiet", "--no-figures", "--n-samples", "200",
                 "--max-iter", "20", "--pretrain-lr", "0.03", "--input-scaling", "max",
                 "--out", str(tmp_path / "run")]) == 0
    assert seen[-1]["finetune"]["lr"] == 0.03 and seen[-1]["input_scaling"] == "max"
    with pytest.raises(SystemExit):
        main(["fit", "--pretrain-lr", "-1"])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_names_settings_the_command_line_has(tmp_path, capsys):
    with warnings.catch_warnings(record=True) as caught:  # the retries warn, NumPy stays quiet
        warnings.simplefilter("always")
        assert main(["fit", "--fast", "--quiet", "--no-figures", "--n-samples", "200",
                     "--pretrain-lr", "1e6", "--out", str(tmp_path / "run")]) == 1
    assert caught and all("retrying" in str(w.message) for w in caught), caught
    line = _one_error_line(capsys)
    assert "--pretrain-lr" in line
    flags = {a for a in line.replace(",", " ").split() if a.startswith("--")}
    from dec_np.cli import build_parser
    known = set(build_parser()._subparsers._group_actions[0].choices["fit"]._option_string_actions)
    assert flags and flags <= known


def test_usage_errors_exit_2_with_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--hidden-dims", "a,b"])
    assert exc.value.code == 2
    _one_error_line(capsys)


def test_python_dash_m_help():
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(root)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    run = subprocess.run([sys.executable, "-m", "dec_np", "--help"], capture_output=True,
                         text=True, timeout=60, cwd=root, env=env)
    assert run.returncode == 0
    for command in ("demo", "fit", "pretrain", "evaluate", "gradcheck", "select-k"):
        assert command in run.stdout


def test_image_shape_reaches_pretraining(tmp_path, monkeypatch, capsys):
    """Named image data sets pretrain with their shape, a data file only with --image-shape,
    and a shape that does not fit the rows is a one-line error."""
    import dec_np.cli as cli
    seen = []
    real = cli.pretrain

    def spy(X, dims, schedule, backend=None, seed=0, verbose=True, image_shape=None):
        seen.append(image_shape)
        return real(X, dims, schedule, backend, seed, verbose, image_shape)
    monkeypatch.setattr(cli, "pretrain", spy)
    X, _ = load_digits()
    np.save(tmp_path / "X.npy", X[:200])
    common = ["--fast", "--quiet", "--no-figures", "--max-iter", "5"]
    runs = [(["--n-samples", "200"], (8, 8)), (["--dataset", str(tmp_path / "X.npy")], None),
            (["--dataset", str(tmp_path / "X.npy"), "--image-shape", "8,8"], (8, 8))]
    for i, (extra, shape) in enumerate(runs):
        assert main(["fit", *extra, *common, "--out", str(tmp_path / f"r{i}")]) == 0
        assert seen[-1] == shape
    capsys.readouterr()
    for cmd in (["fit"], ["pretrain"]):
        assert main([*cmd, "--dataset", str(tmp_path / "X.npy"), "--image-shape", "7,7",
                     "--fast", "--quiet", "--out", str(tmp_path / "bad")]) == 1
        assert "image" in _one_error_line(capsys)
    with pytest.raises(SystemExit):
        main(["fit", "--image-shape", "28"])


def test_jobs_gives_the_same_labels_for_one_thread_or_two_and_refuses_zero(tmp_path, capsys):
    X, _ = load_digits()
    np.save(tmp_path / "X.npy", X[:300])
    labels = []
    for jobs in ("1", "2"):
        out = tmp_path / f"run{jobs}"
        assert main(["fit", "--dataset", str(tmp_path / "X.npy"), "--fast", "--quiet",
                     "--no-figures", "--out", str(out), "--n-clusters", "5",
                     "--jobs", jobs]) == 0
        labels.append(np.load(out / "labels.npy"))
    np.testing.assert_array_equal(labels[0], labels[1])
    with pytest.raises(SystemExit):  # argparse: usage error
        main(["fit", "--jobs", "0"])
    assert "--jobs" in capsys.readouterr().err


def test_fit_with_shifts_in_the_clustering_phase(tmp_path, capsys):
    X, y = load_digits()
    np.save(tmp_path / "X.npy", X[:300])
    base = ["fit", "--dataset", str(tmp_path / "X.npy"), "--fast", "--quiet", "--no-figures",
            "--n-clusters", "5", "--cluster-shift", "0.2", "--lr", "0.001"]
    assert main(base + ["--image-shape", "8,8", "--out", str(tmp_path / "run")]) == 0
    model = load_dec(tmp_path / "run" / "model.npz")
    assert model.augment == {"shift": 0.2} and model.image_shape == (8, 8)
    # a data file is no image unless it says so; the fraction is a fraction of the side
    assert main(base + ["--out", str(tmp_path / "plain")]) != 0
    assert "--cluster-shift shifts images" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["fit", "--dataset", "digits", "--cluster-shift", "0.7"])
    capsys.readouterr()
    # rotations ride on the shifts
    assert main(base + ["--image-shape", "8,8", "--cluster-rotate", "10",
                        "--out", str(tmp_path / "turned")]) == 0
    assert load_dec(tmp_path / "turned" / "model.npz").augment == {"shift": 0.2, "rotate": 10.0}
    assert main(base[:-4] + ["--lr", "0.001", "--image-shape", "8,8", "--cluster-rotate", "10",
                             "--out", str(tmp_path / "alone")]) != 0
    assert "--cluster-rotate turns the shifted batches" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["fit", "--dataset", "digits", "--cluster-rotate", "-3"])


def test_fit_gives_the_estimators_numbers(tmp_path, capsys):
    """`dec-np fit --seed S` pretrains, then k-means and DEC go on from the generator its
    pretraining left: the same weights, centres and labels as DEC(random_state=S).fit(X)."""
    X, _ = load_digits()
    out = tmp_path / "run"
    assert main(["fit", "--dataset", "digits", "--seed", "3", "--schedule", "fast",
                 "--max-iter", "60", "--no-figures", "--quiet", "--out", str(out)]) == 0
    cli = load_dec(out / "model.npz")
    api = dec_np.DEC(10, schedule="fast", image_shape=(8, 8), random_state=3, max_iter=60).fit(X)
    np.testing.assert_array_equal(np.load(out / "labels.npy"), api.labels_)
    assert cli.cluster_centers_.tobytes() == api.cluster_centers_.tobytes()
    assert cli.init_centers_.tobytes() == api.init_centers_.tobytes()
