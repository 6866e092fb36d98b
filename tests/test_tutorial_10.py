"""Tutorial 10 (DEC with augmentation, and neighbours for rows that are not images): the
claims its text makes, on the fast run; what its check says about a right step, a step in
another float scaling, and the wrong steps it is meant to catch (a target P built from the
shifted batch, a batch left unshifted, a missing 1/B)."""
import re
from pathlib import Path

import pytest

from tutorial_runner import assert_claim, run_fixture, run_tutorial, run_with_solution

pytestmark = pytest.mark.slow

run = run_fixture("10_dec_augmented.py")


def test_exercise_is_the_augmented_step(run):
    assert run.checks == [("PASS", "augmented_dec_step"), ("PASS", "rotate_bilinear"),
                          ("PASS", "nearest_neighbours_by_hand")]
    assert "(max relative error" in run.stdout


@pytest.mark.parametrize("fragment", [
    "more images keep their cluster when shifted by up to one pixel",
    "the embedding moves less under the shift",
    "ACC on the shifted copies is higher for every seed",
    "On these 8x8 digits augment lowers ACC on the clean images",
    "random_rotate turns each image as scipy.ndimage.rotate",
    "a digit's 5 nearest neighbours share its class far more often than random pairs",
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
    assert stub.returncode == 0
    assert stub.checks == [("TODO", "augmented_dec_step"), ("TODO", "rotate_bilinear"),
                           ("TODO", "nearest_neighbours_by_hand")]
    mutant = run_tutorial("10_dec_augmented.py", "mutant")
    assert mutant.returncode == 0
    assert mutant.checks == [("FAIL", "augmented_dec_step"), ("FAIL", "rotate_bilinear"),
                             ("FAIL", "nearest_neighbours_by_hand")]


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
# exercise 2's reference, as tutorials/solutions/ has it, and three wrong rotations: turned
# the wrong way, nearest neighbour instead of bilinear, edges repeated instead of zeros
_SOLUTIONS = Path(__file__).resolve().parents[1] / "tutorials" / "solutions"
ROTATE = "\n\n\ndef rotate_bilinear" + (_SOLUTIONS / "10_dec_augmented.py").read_text().split(
    "def rotate_bilinear", 1)[1]
RIGHT_FLOAT64 += ROTATE
WRONG_WAY = ROTATE.replace("np.deg2rad(degrees)", "np.deg2rad(-degrees)")
NEAREST = ROTATE.replace("t, u = sr - r0, sc - c0",
                         "r0, c0 = int(round(sr)), int(round(sc))\n            t, u = 0.0, 0.0")
CLAMPED = ROTATE.replace(
    "                if 0 <= r0 + dr < H and 0 <= c0 + dc < W:  # outside the image: 0\n"
    "                    out[r, c] += w * img[r0 + dr, c0 + dc]",
    "                out[r, c] += w * img[min(max(r0 + dr, 0), H - 1), min(max(c0 + dc, 0), W - 1)]")

# exercise 3's reference comes with ROTATE (it follows rotate_bilinear in the solutions
# file); three wrong ones: the point as its own neighbour, the nearest last, city-block
# distances instead of Euclidean
SELF = ROTATE.replace("        d[i] = np.inf  # not its own neighbour\n", "")
FAR_FIRST = ROTATE.replace('np.argsort(d, kind="stable")[:k]',
                           'np.argsort(d, kind="stable")[:k][::-1]')
CITY_BLOCK = ROTATE.replace("((z - z[i]) ** 2).sum(axis=1)", "np.abs(z - z[i]).sum(axis=1)")

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
    assert len({ROTATE, WRONG_WAY, NEAREST, CLAMPED, SELF, FAR_FIRST, CITY_BLOCK}) == 7
    right = run_with_solution("10_dec_augmented.py", RIGHT_FLOAT64, tmp_path / "a")
    assert right.returncode == 0, right.stderr[-2000:]
    assert right.checks == [("PASS", "augmented_dec_step"), ("PASS", "rotate_bilinear"),
                            ("PASS", "nearest_neighbours_by_hand")], right.stdout[:3000]
    # each run: one wrong step, one wrong rotation and one wrong search for neighbours (a run
    # of the lesson per mistake triple)
    nbr_right = "def nearest_neighbours_by_hand" + ROTATE.split("def nearest_neighbours_by_hand")[1]
    for name, step, rotate, nbr in (
            ("b", P_FROM_SHIFTED, WRONG_WAY, SELF), ("c", UNSHIFTED, NEAREST, FAR_FIRST),
            ("d", NO_MEAN, CLAMPED, CITY_BLOCK)):
        wrong_nbr = "def nearest_neighbours_by_hand" + nbr.split("def nearest_neighbours_by_hand")[1]
        assert wrong_nbr != nbr_right
        wrong = run_with_solution(
            "10_dec_augmented.py",
            step.replace(ROTATE, "") + rotate.replace(nbr_right, wrong_nbr), tmp_path / name)
        assert wrong.checks == [("FAIL", "augmented_dec_step"), ("FAIL", "rotate_bilinear"),
                                ("FAIL", "nearest_neighbours_by_hand")], wrong.stdout[:3000]
        assert ("differs from 40 iterations of DEC(augment={'shift': 0.1}).fit, "
                "enc0.W: at index") in wrong.stdout
