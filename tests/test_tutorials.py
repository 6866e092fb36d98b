"""Run every tutorial as a script in fast mode and check the figures it promises.

Each tutorial runs in a subprocess with ``DEC_NP_FAST=1`` and a temporary
``DEC_NP_FIGURES``; one BLAS thread, because on a small shared machine OpenBLAS threads
fighting over the cores made these runs up to 100x slower.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"

EXPECTED = {
    "01_dense_layer.py": ["01_gradcheck_step.png"],
    "02_dropout_denoising.py": ["02_dae_loss.png", "02_reconstructions.png",
                                "02_dropout_noise.png"],
    "03_sgd_momentum.py": ["03_momentum_paths.png", "03_lr_schedule.png",
                           "03_ae_learning_rates.png"],
    "04_stacked_autoencoder.py": ["04_loss_history.png", "04_reconstructions.png"],
    "05_soft_assignment_target.py": ["05_q_and_p.png"],
    "06_kl_gradients.py": ["06_gradcheck_alpha.png"],
    "07_dec_end_to_end.py": ["07_training_curves.png", "07_confusion.png",
                             "07_fig3_cluster_examples.png", "07_fig4_gradient.png",
                             "07_fig5_embedding.png"],
    "08_gpu_cupy.py": ["08_backend_timing.png"],
    "09_choosing_k_imbalance.py": ["09_select_k.png", "09_imbalanced_confusion.png"],
}


def test_every_tutorial_is_listed():
    found = {p.name for p in TUTORIALS.glob("[0-9][0-9]_*.py")}
    assert found == set(EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_tutorial_runs_in_fast_mode(script, tmp_path):
    env = dict(os.environ, DEC_NP_FAST="1", DEC_NP_FIGURES=str(tmp_path), MPLBACKEND="Agg",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    env.pop("DEC_NP_MEDIUM", None)
    proc = subprocess.run([sys.executable, str(TUTORIALS / script)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    for name in EXPECTED[script]:
        png = tmp_path / name
        assert png.exists(), f"{script} did not write {name}"
        assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"
