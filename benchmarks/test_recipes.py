"""benchmarks/recipes.py: DEC's own parameters beside a schedule's changes (``--dec``)."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

here = Path(__file__).resolve().parent
if not (here / "recipes.py").exists():  # an unpacked sdist ships no benchmarks
    pytest.skip("benchmarks/ is not here", allow_module_level=True)
sys.path.insert(0, str(here))
spec = importlib.util.spec_from_file_location("recipes", here / "recipes.py")
recipes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recipes)


def test_dec_options_parse_json_values():
    kw = recipes.dec_options(['augment={"shift": 0.1, "rotate": 10}', "max_iter=2520",
                              "tol=0.0005"])
    assert kw == {"augment": {"shift": 0.1, "rotate": 10}, "max_iter": 2520, "tol": 0.0005}
    assert recipes.dec_options([]) == {}


@pytest.mark.parametrize("key", ["random_state", "image_shape", "schedule", "n_jobs"])
def test_dec_options_refuse_what_the_script_sets(key):
    with pytest.raises(SystemExit, match=key):
        recipes.dec_options([f"{key}=1"])


def test_run_passes_dec_options_to_the_fit(tmp_path):
    """A --dec option reaches DEC and the record: max_iter=140 stops the fit at 140."""
    out = tmp_path / "runs.jsonl"
    recipes.main(["run", "--recipe", "fast", "--datasets", "digits", "--seeds", "0",
                  "--hidden-dims", "32", "10", "--dec", "max_iter=140", "tol=0",
                  "--n-jobs", "1", "--out", str(out)])
    row = json.loads(out.read_text())
    assert row["dec"] == {"max_iter": 140, "tol": 0}
    assert row["n_iter"] == 140
