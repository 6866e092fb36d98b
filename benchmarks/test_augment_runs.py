"""benchmarks/augment_runs.py: paired fits from one pretrained autoencoder, and the cap."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

here = Path(__file__).resolve().parent
if not (here / "augment_runs.py").exists():  # an unpacked sdist ships no benchmarks
    pytest.skip("benchmarks/ is not here", allow_module_level=True)
sys.path.insert(0, str(here))
spec = importlib.util.spec_from_file_location("augment_runs", here / "augment_runs.py")
augment_runs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(augment_runs)


def test_two_arms_share_the_pretraining_and_resume(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(augment_runs, "HIDDEN", (16, 10))
    out, cache = tmp_path / "runs.jsonl", tmp_path / "sae"
    args = ["--datasets", "digits", "--seeds", "0", "--out", str(out), "--cache", str(cache)]
    augment_runs.main(args)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["recipe"] for r in rows] == ["default", "default+shift"]
    a, b = rows
    # one autoencoder, one k-means start: the arms differ in the clustering phase only
    assert a["ae_kmeans_acc"] == b["ae_kmeans_acc"] and a["pretrain_s"] == b["pretrain_s"]
    assert a["augment"] is None and b["augment"] == {"shift": 0.1}
    assert a["history"]["iteration"][-1] == a["n_iter"]
    assert len(list(cache.glob("*.npz"))) == 1
    augment_runs.main(args)  # both recorded: nothing runs again
    assert len(out.read_text().splitlines()) == 2
    capsys.readouterr()
    augment_runs.main(["--table", str(out), "--caps", "140"])
    text = capsys.readouterr().out
    assert "A = default+shift@140" in text and "| digits | 0 |" in text


def test_capped_reads_the_history_at_the_cap():
    row = {"recipe": "default+shift", "n_iter": 420, "cluster_s": 42.0, "pretrain_s": 100.0,
           "dec_acc": 0.9, "history": {"iteration": [0, 140, 280, 420],
                                       "acc": [0.5, 0.6, 0.7, 0.9]}}
    c = augment_runs.capped(row, 200)
    assert (c["recipe"], c["dec_acc"], c["n_iter"]) == ("default+shift@200", 0.7, 280)
    assert c["cluster_s"] == pytest.approx(28.0) and c["total_s"] == pytest.approx(128.0)
    assert augment_runs.capped(row, 10_000)["dec_acc"] == 0.9  # stopped before the cap


def test_max_iter_caps_the_shifted_arm_only(tmp_path, monkeypatch):
    monkeypatch.setattr(augment_runs, "HIDDEN", (16, 10))
    out, cache = tmp_path / "runs.jsonl", tmp_path / "sae"
    augment_runs.main(["--datasets", "digits", "--seeds", "0", "--out", str(out),
                       "--cache", str(cache), "--max-iter", "140"])
    a, b = [json.loads(line) for line in out.read_text().splitlines()]
    assert (a["recipe"], b["recipe"]) == ("default", "default+shift@140")
    assert b["n_iter"] <= 140 and b["history"]["iteration"][-1] == b["n_iter"]
    # the real capped fit equals what the uncapped one's history gives at the cap
    augment_runs.main(["--datasets", "digits", "--seeds", "0", "--out", str(out),
                       "--cache", str(cache)])
    full = [json.loads(line) for line in out.read_text().splitlines()][-1]
    assert full["recipe"] == "default+shift"
    assert augment_runs.capped(full, 140)["dec_acc"] == b["dec_acc"]


def test_table_pairs_every_arm_with_the_default(tmp_path, capsys):
    def row(recipe, seed, acc, hist=None):
        return {"recipe": recipe, "dataset": "usps", "seed": seed, "dec_acc": acc,
                "n_iter": 280, "pretrain_s": 10.0, "cluster_s": 2.0, "total_s": 12.0,
                "image_shape": [16, 16],
                "history": {"iteration": [0, 140, 280], "acc": hist or [0.5, acc, acc]}}
    out = tmp_path / "runs.jsonl"
    rows = [row("default", 0, 0.7), row("default+shift", 0, 0.8, [0.5, 0.75, 0.8]),
            row("default+shift+rot10", 0, 0.82), row("default+shift@140", 0, 0.75)]
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    augment_runs.main(["--table", str(out), "--caps", "140"])
    text = capsys.readouterr().out
    heads = [line for line in text.splitlines() if line.startswith("A = ")]
    assert [h.split(",")[0] for h in heads] == [
        "A = default+shift", "A = default+shift+rot10", "A = default+shift@140",
        "A = default+shift+rot10@140"]
    augment_runs.main(["--table", str(out), "--caps", "140", "--against", "default+shift@140"])
    text = capsys.readouterr().out
    heads = [line.split(",")[0] for line in text.splitlines() if line.startswith("A = ")]
    assert heads == ["A = default+shift", "A = default+shift+rot10",
                     "A = default+shift+rot10@140"]
    assert "B = default+shift@140" in text and "| usps | 0 |" in text
