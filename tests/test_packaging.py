"""Packaging: one version, the licence, metadata, dependencies; a slow build check.

The fast tests read pyproject.toml and the installed package offline; the build test (marked
slow) builds the sdist and wheel without network, and skips without ``build`` or a
setuptools new enough for SPDX licence expressions.
"""
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import dec_np

ROOT = Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib")  # Python 3.11+


@pytest.fixture(scope="module")
def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_version_is_written_once(project):
    assert "version" not in project and "version" in project["dynamic"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "dec_np.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc|\.dev)?\d*", dec_np.__version__)
    holders = [p.name for p in list((ROOT / "dec_np").glob("*.py")) + [ROOT / "pyproject.toml"]
               if f'"{dec_np.__version__}"' in p.read_text()]
    assert holders == ["__init__.py"]


def test_license_file_and_spdx_expression(project):
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 The dec_np authors" in text
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # SPDX instead
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    floor = re.search(r"setuptools>=([\d.]+)", requires[0]).group(1)
    assert tuple(int(v) for v in floor.split(".")[:2]) >= (77, 0)  # PEP 639 support


def test_classifiers_and_dependencies(project):
    assert "Programming Language :: Python :: 3" in project["classifiers"]
    assert any(c.startswith("Topic :: Scientific/Engineering") for c in project["classifiers"])
    names = {re.split(r"[<>=!~;\[ ]", d)[0] for d in project["dependencies"]}
    assert {"numpy", "scipy", "matplotlib", "threadpoolctl"} <= names


def test_sdist_manifest_carries_what_the_tests_need():
    manifest = (ROOT / "MANIFEST.in").read_text().split()
    # the suite, the tutorials it runs, and the records and scripts tests read (docs/results,
    # benchmarks/start_diagnosis.py): without them the sdist's suite failed
    for folder in ("tests", "tutorials", "docs", "benchmarks"):
        assert folder in manifest


def test_the_test_extra_has_what_the_suite_uses(project):
    test = {re.split(r"[<>=!~;\[ ]", d)[0]: d for d in project["optional-dependencies"]["test"]}
    # is_clusterer and check_estimator(expected_failed_checks=) are scikit-learn 1.6
    assert re.search(r"scikit-learn>=1\.(6|[7-9])", test["scikit-learn"])
    assert {"build", "setuptools", "mypy", "numpydoc", "pytest"} <= set(test)


def test_importing_the_package_loads_neither_scipy_optimize_nor_matplotlib():
    """scipy.optimize (the Hungarian method) took 0.57 s of a 0.86 s import; it is imported
    when a metric first needs it, and matplotlib only by dec_np.plotting."""
    code = ("import sys, dec_np\n"
            "print(sorted(m for m in ('scipy.optimize', 'matplotlib') if m in sys.modules))\n"
            "dec_np.cluster_accuracy([0, 1], [1, 0])\n"
            "print('scipy.optimize' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["[]", "True"]


def test_version_on_the_command_line():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    run = subprocess.run([sys.executable, "-m", "dec_np", "--version"], capture_output=True,
                         text=True, timeout=60, cwd=ROOT, env=env)
    assert run.returncode == 0 and run.stdout.strip() == f"dec-np {dec_np.__version__}"


def test_no_threadpoolctl_note_with_the_declared_dependency(capsys):
    pytest.importorskip("threadpoolctl")
    from dec_np.cli import blas_threads
    with blas_threads(1):
        pass
    assert "pip install" not in capsys.readouterr().err


def _build_tools():
    try:
        import build  # noqa: F401
        import setuptools
    except ImportError:
        pytest.skip("needs the `build` package")
    if tuple(int(v) for v in setuptools.__version__.split(".")[:2]) < (77, 0):
        pytest.skip(f"setuptools {setuptools.__version__} < 77 cannot build offline")


@pytest.mark.slow
def test_build_without_warnings_and_the_sdist_tests_pass(tmp_path):
    _build_tools()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    run = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel",
                          "--outdir", str(tmp_path / "dist"), str(ROOT)], capture_output=True,
                         text=True, timeout=600, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    log = (run.stdout + run.stderr).replace(str(tmp_path), "<tmp>")
    warnings = [l for l in log.splitlines() if "warn" in l.lower()]
    assert warnings == []
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "dec_np/data/digits.npz" in names and "dec_np/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in meta and "Requires-Dist: threadpoolctl" in meta
    assert f"Version: {dec_np.__version__}" in meta
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as t:
        t.extractall(tmp_path / "src")
    (src,) = (tmp_path / "src").iterdir()
    assert (src / "tests" / "conftest.py").exists() and (src / "LICENSE").exists()
    assert (src / "benchmarks" / "start_diagnosis.py").exists()
    assert (src / "docs" / "results" / "recipes_cpu.jsonl").exists()
    env["PYTHONPATH"] = str(src)
    # the files that read the repository's records (not the minutes-long training runs)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/test_layout.py", "tests/test_datasets.py", "tests/test_docs.py",
                          "tests/test_recipes_study.py", "-k", "not mnist and not a_run_writes"],
                         capture_output=True, text=True, timeout=600, cwd=src, env=env)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "passed" in run.stdout
