"""benchmarks/recipes.py: the cross-data-set study's records and its selection rule."""
import importlib.util
import json
from pathlib import Path

import pytest

from dec_np.schedules import get_schedule

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("recipes", ROOT / "benchmarks" / "recipes.py")
recipes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recipes)

SETS = ("mnist-test", "usps", "fashion-mnist")


def rows(name, accs, schedule=None):
    """Three seeds per data set: ``accs`` maps a data set to its three DEC ACCs."""
    schedule = schedule or recipes.recipe("adam")
    return [{"recipe": name, "dataset": d, "seed": s, "dec_acc": a, "schedule": schedule}
            for d, three in accs.items() for s, a in enumerate(three)]


SGD = recipes.recipe("sgd")


def test_set_changes_one_key_and_leaves_the_recipe_alone():
    s = recipes.recipe("sgd", ["finetune.lr=4", "model.p_drop=0.2"])
    assert s["finetune"]["lr"] == 4 and s["model"]["p_drop"] == 0.2
    assert recipes.SCHEDULES["sgd"]["finetune"]["lr"] == 8.0
    assert recipes.SCHEDULES["sgd"]["model"]["p_drop"] == 0.0
    n = recipes.recipe("nesterov", ["finetune.lr=4"])
    assert n["finetune"]["nesterov"] is True and n["finetune"]["lr"] == 4
    assert recipes.RECIPES["nesterov"]["finetune"]["lr"] == 8.0
    assert "nesterov" not in recipes.SCHEDULES["sgd"]["finetune"]
    assert recipes.recipe("b64-steps", ["layerwise.lr=0.5"])["layerwise"]["lr"] == 0.5


def test_which_recipes_count_as_sgd():
    assert recipes.uses_sgd(SGD) and recipes.uses_sgd(recipes.recipe("nesterov"))
    assert recipes.uses_sgd(recipes.recipe("b64-steps"))  # layer-wise SGD, the paper's
    assert not recipes.uses_sgd(recipes.recipe("adam"))
    assert not recipes.uses_sgd(recipes.recipe("dae-adam-shift"))  # Adam fine-tunes it
    # no optimizer named: SGD with a learning rate, Adam without (StackedAutoencoder's rule)
    assert recipes.uses_sgd({"layerwise": None, "finetune": {"iterations": 5, "lr": 0.1}})
    assert not recipes.uses_sgd({"layerwise": None, "finetune": {"iterations": 5}})


def test_no_choice_until_a_recipe_has_every_data_set():
    r = rows("adam", {"mnist-test": [0.8] * 3, "usps": [0.7] * 3}) + \
        rows("sgd", {"fashion-mnist": [0.5] * 3}, SGD)
    lines, pick = recipes.choose(r)
    assert pick is None and "no choice made" in lines[-1]


def test_best_median_over_all_nine_runs_wins():
    r = rows("adam", {"mnist-test": [0.84, 0.80, 0.83], "usps": [0.76, 0.77, 0.75],
                      "fashion-mnist": [0.55, 0.56, 0.50]}) + \
        rows("sgd", {"mnist-test": [0.82, 0.81, 0.80], "usps": [0.74, 0.745, 0.74],
                     "fashion-mnist": [0.55, 0.54, 0.56]}, SGD)
    lines, pick = recipes.choose(r)
    # adam's nine: median 0.76; sgd's: 0.74, more than a point below -> adam
    assert pick == "adam"
    assert "no SGD recipe among them within 1 point" in lines[-1]
    assert "| adam | 0.830 [0.800, 0.840] (n=3)" in lines[2]


def test_sgd_within_one_point_is_preferred():
    r = rows("adam", {"mnist-test": [0.84] * 3, "usps": [0.76] * 3, "fashion-mnist": [0.55] * 3}) + \
        rows("sgd", {"mnist-test": [0.83] * 3, "usps": [0.752] * 3, "fashion-mnist": [0.55] * 3},
             SGD)
    lines, pick = recipes.choose(r)
    assert pick == "sgd" and "within 1 point" in lines[-1]


def test_a_recipe_more_than_two_points_below_on_one_data_set_is_out():
    # "tilted" has the best overall median but is 3 points below on Fashion-MNIST
    r = rows("adam", {"mnist-test": [0.85] * 3, "usps": [0.77] * 3, "fashion-mnist": [0.58] * 3}) + \
        rows("tilted", {"mnist-test": [0.86] * 3, "usps": [0.78] * 3,
                        "fashion-mnist": [0.55] * 3})
    lines, pick = recipes.choose(r)
    assert pick == "adam"
    assert "'tilted' is out: fashion-mnist 0.550, 3.0 points below the best (0.580)" in lines
    # and when every recipe is more than 2 points behind somewhere, none is chosen
    r = rows("adam", {"mnist-test": [0.80] * 3, "usps": [0.77] * 3, "fashion-mnist": [0.58] * 3}) + \
        rows("tilted", {"mnist-test": [0.86] * 3, "usps": [0.78] * 3,
                        "fashion-mnist": [0.55] * 3})
    lines, pick = recipes.choose(r)
    assert pick is None and "no recipe is within 2 points" in lines[-1]


def test_a_run_writes_one_complete_line(tmp_path, capsys):
    out = tmp_path / "runs.jsonl"
    # --set twice: both changes are kept
    recipes.main(["run", "--recipe", "adam", "--set", "finetune.iterations=20",
                  "--set", "finetune.lr=0.002", "--hidden-dims", "16", "10",
                  "--datasets", "digits", "--seeds", "0", "--out", str(out)])
    (line,) = out.read_text().splitlines()
    row = json.loads(line)
    assert row["recipe"] == "adam" and row["dataset"] == "digits" and row["n"] == 1797
    assert row["schedule"]["finetune"]["iterations"] == 20 and row["hidden_dims"] == [16, 10]
    assert row["schedule"]["finetune"]["lr"] == 0.002
    assert 0.1 < row["dec_acc"] <= 1 and row["n_iter"] >= 1
    for key in ("ae_kmeans_acc", "dec_nmi", "dec_ari", "cpu_s", "commit", "date", "machine"):
        assert key in row
    lines, pick = recipes.choose(recipes.read_rows([out]))
    assert pick == "adam" and "| adam | " in lines[2]
    assert capsys.readouterr().out.strip() == line
    assert len(recipes.read_rows([out], machine=row["machine"][:5])) == 1
    assert recipes.read_rows([out], machine="no such machine") == []


@pytest.mark.parametrize("bad", ["finetune.lr", "lr=8", "finetune.lr=eight"])
def test_malformed_set_is_refused(bad):
    with pytest.raises(ValueError):
        recipes.recipe("sgd", [bad])


def test_the_mnist70k_check():
    assert recipes.check_70k([0.957, 0.924, 0.880, 0.922, 0.885]) == "passes"
    assert recipes.check_70k([0.957, 0.924, 0.880, 0.922]) == "incomplete"  # four of five
    assert recipes.check_70k([]) == "incomplete"
    assert recipes.check_70k([0.95, 0.849]) == "fails"                      # one below 0.85
    # three of five below 0.88: the median of five cannot reach it, whatever comes next
    assert recipes.check_70k([0.877, 0.868, 0.874, 0.966]) == "fails"
    assert recipes.check_70k([0.877, 0.868, 0.966, 0.95]) == "incomplete"
    assert recipes.check_70k([0.877, 0.868, 0.966, 0.95, 0.90]) == "passes"


def test_a_recipe_failing_the_70k_check_is_out_and_the_next_is_chosen():
    slow = recipes.recipe("adam", ["finetune.lr=0.0005"])
    r = rows("slow", {"mnist-test": [0.85] * 3, "usps": [0.80] * 3, "fashion-mnist": [0.60] * 3},
             slow) + \
        rows("capped", {"mnist-test": [0.85] * 3, "usps": [0.79] * 3,
                        "fashion-mnist": [0.60] * 3})
    big = [{"recipe": "slow", "dec_acc": a, "schedule": slow} for a in (0.87, 0.86, 0.87)]
    big += [{"recipe": "capped", "dec_acc": a, "schedule": recipes.recipe("adam")}
            for a in (0.957, 0.924, 0.880, 0.922, 0.885)]
    # a 70k run of another schedule under the same name does not count
    big += [{"recipe": "capped", "dec_acc": 0.5, "schedule": slow}]
    assert recipes.choose(r)[1] == "slow"                  # without the check
    lines, pick = recipes.choose(r, big)
    assert pick == "capped"
    assert "'slow' is out: fails the MNIST-70k check (DEC ACC 0.870, 0.860, 0.870)" in lines
    assert "MNIST-70k check passes (5 runs, median 0.922, min 0.880)" in lines[-1]
    # no 70k runs yet: chosen, and the verdict says the check is still to come
    lines, pick = recipes.choose(r, big[:3])
    assert pick == "capped" and "MNIST-70k check incomplete (0 runs)" in lines[-1]
    # every candidate fails: no choice
    lines, pick = recipes.choose(r[:9], big[:3])
    assert pick is None and "MNIST-70k check: no choice made" in lines[-1]


def _recorded_schedules():
    """recipe name -> the schedule dicts its records in docs/results/ ran with."""
    seen = {}
    for path in sorted((ROOT / "docs" / "results").glob("*.jsonl")):
        for r in recipes.read_rows([path]):
            if "schedule" in r:
                seen.setdefault(r["recipe"], []).append(r["schedule"])
    return seen


def test_every_candidate_is_a_schedule_its_records_ran_with():
    """benchmarks/candidates.py keeps the study's schedules: each named there is the dict of
    records under that name, so `recipes.py run --recipe NAME` repeats them."""
    seen = _recorded_schedules()
    for name, schedule in recipes.RECIPES.items():
        if name in seen:
            assert schedule in seen[name], name
    assert {"b64-shift", "dae-adam-shift", "dae-adam5e4-shift", "dae-adam-shift-long",
            "dae-adam-cap-shift"} <= set(seen) & set(recipes.RECIPES)
    # the package's own end-to-end schedules are those of their records too
    for name in ("adam", "adam-shift"):
        assert recipes.recipe(name) in seen[name]
    # and the candidates the package still names run as the package runs them on the
    # paper's network (lr_width is inert there)
    for name, package in (("dae-adam-cap-shift", "dae-adam-cap-shift"),
                          ("b64-steps", "paper-short")):
        mine = get_schedule(package)
        del mine["lr_width"]
        assert mine == recipes.RECIPES[name]


def test_summary_tables_another_recorded_score(tmp_path, capsys):
    out = tmp_path / "runs.jsonl"
    out.write_text("".join(json.dumps(dict(r, ae_kmeans_acc=a - 0.1)) + "\n" for r, a in zip(
        rows("adam", {d: [0.8, 0.7, 0.9] for d in SETS}), [0.8, 0.7, 0.9] * 3)))
    recipes.main(["summary", str(out), "--metric", "ae_kmeans_acc"])
    assert "| adam | 0.700 [0.600, 0.800] (n=3)" in capsys.readouterr().out
    recipes.main(["summary", str(out)])
    assert "| adam | 0.800 [0.700, 0.900] (n=3)" in capsys.readouterr().out
