"""Tutorial 08 (one code path for NumPy and CuPy): its checks, claims and numbers, on the
fast run (reference solutions)."""
import re

import pytest

from dec_np.backend import gpu_available
from tutorial_runner import assert_claim, run_fixture

pytestmark = pytest.mark.slow


run = run_fixture("08_gpu_cupy.py")


def test_exercise_is_checked_on_numpy_on_the_pretend_device_and_on_cupy_with_a_gpu(run):
    names = ["softmax_rows on NumPy",
             "softmax_rows on a pretend device (no NumPy on device data)"]
    if gpu_available():
        names.append("softmax_rows on CuPy (GPU)")
    assert [name for _, name in run.checks] == names
    assert all(status == "PASS" for status, _ in run.checks)


def test_data_set_is_named_first(run):
    lines = run.stdout.splitlines()
    assert lines[0].startswith("tutorial 08_gpu_cupy, mode fast")
    data = next(i for i, line in enumerate(lines) if line.startswith("data: "))
    assert data <= 4, "the data set is printed in the first lines (after a fallback notice)"


@pytest.mark.parametrize("fragment", [
    "In float32 the unshifted softmax of logits near 100 is NaN",
    "All three leaky softmaxes match the package on NumPy, and the pretend device refuses all three",
    "soft_assignment, target_distribution and kl_gradients run on the pretend device",
    "On every backend, labels_ comes back as a NumPy array",
])
def test_claims_hold(run, fragment):
    assert_claim(run, fragment)


def test_quoted_numbers(run):
    assert run.number("n_refused") == 3
    assert run.number("max_abs_difference") <= 1e-12
    assert abs(run.number("shifted_sum") - 1) < 1e-6
    # the text's formula 6 N P - 2 N P_1 for N = 256 and the fast network 784-128-128-512-10:
    # SAE (encoder and decoder) 524,288,000 flops, DEC step (encoder) 236,453,888
    sae, dec = re.search(r"numpy: SAE fine-tuning step .*?\((\d+) Mflop.*?DEC step .*?\((\d+) "
                         r"Mflop", run.stdout).groups()
    assert (int(sae), int(dec)) == (524, 236)
    for leaky in ("leaky_exp", "leaky_zeros", "leaky_asarray"):
        assert f"{leaky}: refused (" in run.stdout


def test_without_gpu_it_says_so(run):
    if gpu_available():
        assert "GPU found:" in run.stdout
    else:
        assert "No usable GPU, so everything below runs on NumPy only." in run.stdout
        assert "the CuPy check of softmax_rows is skipped" in run.stdout


def test_figure(run):
    assert (run.figures / "08_backend_timing.png").stat().st_size > 1000


def test_pretend_device_lives_beside_common_and_refuses_numpy_on_its_data():
    """The pretend device (tutorials/_device.py) hands a function device arrays through the
    package's own get_array_module, refuses np.<function> on them and host results, and
    leaves sys.modules as it found it."""
    import sys

    import numpy as np

    from dec_np.backend import get_array_module
    from tutorial_runner import TUTORIALS
    sys.path.insert(0, str(TUTORIALS))
    import _device

    assert "class DeviceArray" not in (TUTORIALS / "08_gpu_cupy.py").read_text()
    before = sys.modules.get("cupy")
    x = np.arange(6.0).reshape(2, 3)

    def with_xp(a):
        xp = get_array_module(a)
        return xp.exp(a - a.max(axis=1, keepdims=True))

    assert np.allclose(_device.on_pretend_device(with_xp, x), np.exp(x - x.max(1, keepdims=True)))
    with pytest.raises(TypeError, match="np.exp|ufunc|unsupported"):
        _device.on_pretend_device(lambda a: np.exp(a), x)
    with pytest.raises(TypeError, match="not a device array"):
        _device.on_pretend_device(lambda a: np.zeros(a.shape), x)
    assert sys.modules.get("cupy") is before


def test_a_failure_names_the_tensor():
    from tutorial_runner import run_tutorial
    wrong = run_tutorial("08_gpu_cupy.py", "mutant")
    assert "[FAIL] softmax_rows on NumPy: differs from dec_np.soft_assignment (float64), q: at index" in wrong.stdout


def test_the_timed_dec_step_holds_p_fixed():
    """Section 4 builds the target once, before the clock starts, as DEC holds P fixed between
    updates; the timed loop computes no target."""
    from tutorial_runner import TUTORIALS
    text = (TUTORIALS / "08_gpu_cupy.py").read_text()
    loop = text.split("    for _ in range(repeats):")[1].split("    sync(xp)")[0]
    assert "target_distribution" not in loop and "kl_gradients(zb, mu_dev, pb, qb)" in loop


def test_checks_meet_the_bound_the_text_states(run):
    assert run.pass_error("softmax_rows on NumPy") < 1e-12
    assert run.pass_error("softmax_rows on a pretend device (no NumPy on device data)") < 1e-12
