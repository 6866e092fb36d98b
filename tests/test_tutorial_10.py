"""Tutorial 10 (DEC with augmentation): the claims its text makes, on the fast run; what its
check says about a right step, a step in another float scaling, and the wrong steps it is
meant to catch (a target P built from the shifted batch, a batch left unshifted, a missing
1/B)."""
import re

import pytest

from tutorial_runner import assert_claim, run_fixture, run_tutorial, run_with_solution

pytestmark = pytest.mark.slow

run = run_fixture("10_dec_augmented.py")


def test_exercise_is_the_augmented_step(run):
    assert run.checks == [("PASS", "augmented_dec_step")]
    assert "(max relative error" in run.stdout


@pytest.mark.parametrize("fragment", [
    "more images keep their cluster when shifted by up to one pixel",
    "the embedding moves less under the shift",
    "ACC on the shifted copies is higher for every seed",
    "On these 8x8 digits augment lowers ACC on the clean images",
])
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


def test_printed_numbers(run):
    """The means line repeats the table's numbers, and the effect it reports is large."""
    line = next(l for l in run.stdout.splitlines() if l.startswith("means over"))
    assert line.startswith("means over 1 seed(s)")
    m = re.search(r"label agreement plain ([\d.]+), augmented ([\d.]+); "
                  r"z drift plain ([\d.]+), augmented ([\d.]+)", line)
    agree_plain, agree_aug, drift_plain, drift_aug = (float(v) for v in m.groups())
    assert agree_aug > agree_plain + 0.1 and drift_aug < drift_plain
    rows = re.findall(r"^\s+0\s+(True|False)\s+\d+\s+(\d+)\s+([\d.]+)\s+([\d.]+)",
                      run.stdout, re.M)
    assert {a: float(v) for a, _, v, _ in rows} == {"False": agree_plain, "True": agree_aug}
    assert {a: float(d) for a, _, _, d in rows} == {"False": drift_plain, "True": drift_aug}


def test_stubs_and_mutants_fail():
    stub = run_tutorial("10_dec_augmented.py", "")
    assert stub.returncode == 0 and stub.checks == [("TODO", "augmented_dec_step")]
    mutant = run_tutorial("10_dec_augmented.py", "mutant")
    assert mutant.returncode == 0 and mutant.checks == [("FAIL", "augmented_dec_step")]


def test_figure(run):
    assert (run.figures / "10_shift_stability.png").stat().st_size > 1000


RIGHT_FLOAT64 = '''from dec_np.dec_math import kl_gradients, soft_assignment
import numpy as np


def augmented_dec_step(encoder, xb, pb, params, grads, opt, shift, rng, alpha=1.0):
    zb = encoder.forward(shift(xb, rng), train=True)
    qb = soft_assignment(zb, params["mu"], alpha)
    dz, dmu = kl_gradients(zb, params["mu"], pb, qb, alpha)
    inv = np.float64(1 / xb.shape[0])          # a float64 scalar: float64 gradients
    encoder.backward(dz * inv, need_dx=False)
    grads["mu"] = dmu * inv
    opt.step(params, grads)
'''
# the mistake section 1 warns of: a target from the shifted batch instead of the clean P
P_FROM_SHIFTED = RIGHT_FLOAT64.replace(
    "from dec_np.dec_math import kl_gradients, soft_assignment",
    "from dec_np.dec_math import kl_gradients, soft_assignment, target_distribution").replace(
    "    dz, dmu = kl_gradients(zb, params[\"mu\"], pb, qb, alpha)",
    "    pb = target_distribution(qb)\n"
    "    dz, dmu = kl_gradients(zb, params[\"mu\"], pb, qb, alpha)")
NO_MEAN = RIGHT_FLOAT64.replace("np.float64(1 / xb.shape[0])", "1.0  # forgot 1/B")
UNSHIFTED = RIGHT_FLOAT64.replace("encoder.forward(shift(xb, rng), train=True)",
                                  "encoder.forward(xb, train=True)")


def test_the_check_accepts_another_float_scaling_and_catches_the_mistakes(tmp_path):
    assert RIGHT_FLOAT64 not in (P_FROM_SHIFTED, NO_MEAN, UNSHIFTED)
    right = run_with_solution("10_dec_augmented.py", RIGHT_FLOAT64, tmp_path / "a")
    assert right.returncode == 0, right.stderr[-2000:]
    assert right.checks == [("PASS", "augmented_dec_step")], right.stdout[:3000]
    for name, source in (("b", P_FROM_SHIFTED), ("c", UNSHIFTED), ("d", NO_MEAN)):
        wrong = run_with_solution("10_dec_augmented.py", source, tmp_path / name)
        assert wrong.checks == [("FAIL", "augmented_dec_step")], wrong.stdout[:3000]
        assert ("differs from 40 iterations of DEC(augment={'shift': 0.1}).fit, "
                "enc0.W: at index") in wrong.stdout
