"""The package type-checks: ``mypy dec_np`` at mypy's default strictness, with the settings
of ``[tool.mypy]`` in pyproject.toml (skipped where mypy is not installed)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_finds_no_error_in_the_package():
    pytest.importorskip("mypy")
    if not (ROOT / "pyproject.toml").exists():
        pytest.skip("needs pyproject.toml's [tool.mypy] settings")
    run = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "dec_np"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    assert run.returncode == 0 and not errors, "\n".join(errors or [run.stdout, run.stderr])


def test_the_package_says_it_is_typed():
    assert (ROOT / "dec_np" / "py.typed").exists()
