"""The tutorials open as notebooks: one quick tutorial, converted with jupytext and executed
with nbclient on the ``python3`` kernel, shows its figure inline and raises no error.

Needs the ``tutorials`` extra (jupytext, nbclient, nbformat, ipykernel; part of the ``test``
extra too) and skips without it.  The tutorials themselves are converted with
``jupytext --to notebook tutorials/*.py``.
"""
import os
import sys

import pytest

from tutorial_runner import ROOT, TUTORIALS

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.slow

NOTEBOOK = "01_dense_layer.py"  # about 5 s, one figure


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    figures = tmp_path_factory.mktemp("nb_figures")
    env = {"DEC_NP_FAST": "1", "DEC_NP_SOLUTIONS": "1", "DEC_NP_FIGURES": str(figures),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    saved = {k: os.environ.get(k) for k in [*env, "MPLBACKEND", "DEC_NP_MEDIUM"]}
    os.environ.update(env)
    # the kernel inherits this environment; MPLBACKEND=Agg (as CI often sets it) would
    # override ipykernel's inline backend and no figure would reach the notebook
    os.environ.pop("MPLBACKEND", None)
    os.environ.pop("DEC_NP_MEDIUM", None)
    try:
        nb = jupytext.read(TUTORIALS / NOTEBOOK)
        # "python" in the kernelspec is run as this interpreter (jupyter_client does so)
        client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                         resources={"metadata": {"path": str(TUTORIALS)}})
        client.execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb, figures


def _outputs(nb):
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def test_kernelspec_python3_is_available():
    from jupyter_client.kernelspec import KernelSpecManager
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.language == "python"


def test_figures_are_inline_and_nothing_fails(executed):
    nb, figures = executed
    outputs = _outputs(nb)
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, "\n".join(f"{o.ename}: {o.evalue}" for o in errors)
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "no inline image in the executed notebook"
    assert list(figures.glob("*.png")), "show() did not save the figure file as well"


def test_notebook_prints_the_lesson(executed):
    nb, _ = executed
    text = "".join(o.get("text", "") for o in _outputs(nb) if o.get("output_type") == "stream")
    assert text.startswith(f"tutorial {NOTEBOOK[:-3]}, mode fast")
    assert "[PASS]" in text and "[FAIL]" not in text and "CLAIM FALSE" not in text
