"""Run a tutorial as a script in fast mode, once per exercise mode, and parse what it printed.

``run_tutorial(script, solutions)`` runs ``tutorials/<script>`` in a subprocess with
``DEC_NP_FAST=1``, ``DEC_NP_SOLUTIONS=<solutions>`` ("1": reference solutions, "": the stubs,
"mutant": wrong copies of the solutions), a temporary ``DEC_NP_FIGURES`` and one BLAS thread
(BLAS threads competing for busy cores slow these small runs down badly).  Results are cached
for one pytest run, so the generic tests and each tutorial's own test file share one run per
mode.  ``run_with_solution(script, source, tmp_path)`` runs a tutorial with a given answer in
place of its reference solution, to show what a check says about it.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"
_CACHE: dict = {}


@dataclass
class TutorialRun:
    script: str
    solutions: str
    returncode: int
    stdout: str
    stderr: str
    figures: Path
    checks: list = field(default_factory=list)   # (status, name) with status PASS/FAIL/TODO
    claims: list = field(default_factory=list)   # (holds, text)

    @property
    def fell_back(self):
        """True when the tutorial wanted MNIST, did not find it and ran on the 8x8 digits: its
        numbers (and the claims made about MNIST) are then not the ones its text quotes."""
        return "falling back to the embedded 8x8 digits" in self.stdout

    def claim(self, fragment):
        """The one claim whose text contains ``fragment``; fails if none or several."""
        found = [(h, t) for h, t in self.claims if fragment in t]
        assert len(found) == 1, f"{self.script}: {len(found)} claims contain {fragment!r}"
        return found[0]

    def pass_error(self, name):
        """The max relative error the PASS line of check ``name`` printed (the text states
        the bound each check should meet)."""
        m = re.findall(r"^\[PASS\] " + re.escape(name) + r": .*\(max relative error "
                       r"([0-9.e+-]+)\)$", self.stdout, re.M)
        assert len(m) == 1, f"{self.script}: {len(m)} PASS lines for {name!r}"
        return float(m[0])

    def number(self, label):
        """The float printed after ``label`` (e.g. "DEC ACC" in "DEC ACC 0.8123")."""
        m = re.findall(re.escape(label) + r"\s*[=:]?\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)", self.stdout)
        assert m, f"{self.script} printed no number after {label!r}"
        return float(m[-1])


def run_tutorial(script, solutions="1", timeout=600, folder=None):
    """The fast run of ``tutorials/<script>`` (or of ``<folder>/<script>``), cached."""
    key = (script, solutions, str(folder))
    if key not in _CACHE:
        figures = Path(tempfile.mkdtemp(prefix=f"tut{script[:2]}_{solutions or 'stub'}_"))
        env = dict(os.environ, DEC_NP_FAST="1", DEC_NP_FIGURES=str(figures), MPLBACKEND="Agg",
                   DEC_NP_SOLUTIONS=solutions, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        env.pop("DEC_NP_MEDIUM", None)
        proc = subprocess.run([sys.executable, str(Path(folder or TUTORIALS) / script)],
                              cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout)
        run = TutorialRun(script, solutions, proc.returncode, proc.stdout, proc.stderr, figures)
        run.checks = re.findall(r"^\[(PASS|FAIL|TODO)\] (.*?):", proc.stdout, re.M)
        run.claims = [(tag == "claim holds", text) for tag, text in
                      re.findall(r"^\[(claim holds|CLAIM FALSE)\] (.*)$", proc.stdout, re.M)]
        _CACHE[key] = run
    return _CACHE[key]


def run_fixture(script):
    """A module-scoped pytest fixture ``run``: the cached fast run of ``script`` with the
    reference solutions, checked to have ended cleanly.  In a test file:
    ``run = run_fixture("01_dense_layer.py")``."""
    import pytest

    @pytest.fixture(scope="module")
    def run():
        result = run_tutorial(script, "1")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        if result.fell_back:
            pytest.skip(f"{script} found no MNIST (set DEC_NP_DATA or put it in "
                        "../shared/data): its quoted numbers are MNIST's")
        return result
    return run


def assert_claim(run, fragment):
    """The claim of ``run`` whose text contains ``fragment`` holds."""
    holds, text = run.claim(fragment)
    assert holds, text


def run_with_solution(script, source, tmp_path):
    """The fast run of ``script`` with its solutions file replaced by ``source``: a copy of
    the tutorials folder in ``tmp_path`` whose ``solutions/<script>`` is ``source``, run
    with ``DEC_NP_SOLUTIONS=1``.  Shows what a check says about a given (right or wrong)
    answer."""
    import shutil
    folder = Path(tmp_path) / "tutorials"
    shutil.copytree(TUTORIALS, folder, ignore=shutil.ignore_patterns("figures", "__pycache__"))
    (folder / "solutions" / script).write_text(source)
    return run_tutorial(script, "1", folder=folder)
