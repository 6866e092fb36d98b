"""Shared fixtures: the ``xp`` backend fixture and the data directory.

``xp`` is NumPy, plus CuPy (marked ``gpu``) when CuPy and a GPU are present.  With
``DEC_NP_BACKEND=cupy`` the suite runs its numeric tests on CuPy only, and the
estimators default to the CuPy backend.
"""
import os
from pathlib import Path

import numpy as np
import pytest

from dec_np.backend import default_backend, gpu_available

HAVE_GPU = gpu_available()


def _backends():
    if default_backend() == "cupy":
        return [pytest.param("cupy", marks=pytest.mark.gpu)]
    params = [pytest.param("numpy")]
    if HAVE_GPU:
        params.append(pytest.param("cupy", marks=pytest.mark.gpu))
    return params


@pytest.fixture(params=_backends())
def xp(request):
    """The array module under test (numpy, or cupy when a GPU is present)."""
    if request.param == "cupy":
        import cupy
        return cupy
    return np


def _data_dir():
    env = os.environ.get("DEC_NP_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir():
    """``../shared/data`` (or ``$DEC_NP_DATA``); skips the test when MNIST is not there."""
    d = _data_dir()
    if not (d / "mnist" / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST not found under {d}")
    return d
