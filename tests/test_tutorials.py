"""Every tutorial, run as a script in fast mode: with the reference solutions every check
passes and every claim holds; with the stubs, and with wrong copies of the solutions, every
check fails, so none passes vacuously.  Each tutorial's own claims are asserted in
``tests/test_tutorial_<NN>.py``."""
import re

import pytest

from tutorial_runner import TUTORIALS, run_tutorial

SCRIPTS = sorted(p.name for p in TUTORIALS.glob("[0-9][0-9]_*.py"))


def _failed(run):
    return f"{run.script} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_with_solutions_every_check_passes(script):
    run = run_tutorial(script, "1")
    assert run.returncode == 0, _failed(run)
    assert run.stdout.startswith(f"tutorial {script[:-3]}, mode fast"), "start() comes first"
    assert run.checks, f"{script} has no exercise check"
    assert all(status == "PASS" for status, _ in run.checks), _failed(run)
    assert "checks passed" in run.stdout
    pngs = list(run.figures.glob("*.png"))
    assert pngs, f"{script} drew no figure"
    for png in pngs:
        assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_every_claim_holds(script):
    run = run_tutorial(script, "1")
    assert run.returncode == 0, _failed(run)
    if run.fell_back:
        pytest.skip(f"{script} found no MNIST: its claims are about MNIST")
    assert not [t for holds, t in run.claims if not holds], _failed(run)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["", "mutant"])
@pytest.mark.parametrize("script", SCRIPTS)
def test_every_check_fails_on_stubs_and_on_wrong_code(script, mode):
    run = run_tutorial(script, mode)
    assert run.returncode == 0, "the lesson must run to the end without the exercises\n" + _failed(run)
    names = [name for _, name in run_tutorial(script, "1").checks]
    assert [name for _, name in run.checks] == names, "the same checks run in every mode"
    passed = [name for status, name in run.checks if status == "PASS"]
    assert not passed, f"{script}: these checks passed on {'stubs' if not mode else 'wrong code'}: {passed}"
    if not mode:
        assert all(status == "TODO" for status, _ in run.checks)


# every lesson is held to the rules below
RULED = sorted(p.name for p in TUTORIALS.glob("[0-9][0-9]_*.py"))
FORBIDDEN = re.compile(r"\bround [0-9]|\brounds [0-9]|xeon|epyc|skylake|haswell|cpu time|"
                       r"cpu seconds|blas thread|docs/results|\.jsonl", re.I)


@pytest.mark.parametrize("script", RULED)
def test_a_lesson_is_short_and_free_of_the_research_record(script):
    """One idea per lesson, under about 400 lines; no machine, BLAS kernel, thread count, CPU
    time, study round or stored record in it (those live in docs/)."""
    text = (TUTORIALS / script).read_text()
    assert len(text.splitlines()) <= 400, f"{script}: {len(text.splitlines())} lines"
    found = [m.group(0) for m in FORBIDDEN.finditer(text)]
    assert not found, f"{script} names {found}"
    solution = (TUTORIALS / "solutions" / script).read_text()
    assert not FORBIDDEN.search(solution)


@pytest.mark.parametrize("script", RULED)
def test_named_schedules_are_the_stable_ones(script):
    """A lesson names only schedules that stay (the package's named ones, never a candidate of
    the study, which lives in benchmarks/)."""
    names = set(re.findall(r"get_schedule\(\"([\w-]+)\"\)", (TUTORIALS / script).read_text()))
    assert names <= {"fast", "paper", "paper-short", "adam", "sgd", "default"}, names
