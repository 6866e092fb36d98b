"""Every public callable of the edge modules (data, downloads, checkpoints, run folders,
command line, figures) documents each parameter and what it returns, in numpydoc."""
import importlib
import inspect

import pytest

validate = pytest.importorskip("numpydoc.validate").validate

MODULES = ["dec_np._download", "dec_np._npfile", "dec_np.datasets", "dec_np.checkpoint",
           "dec_np.runs", "dec_np.cli", "dec_np.cli_args", "dec_np.plotting"]
#: parameters undocumented, no Returns, no docstring, a parameter or return without words
CODES = {"PR01", "PR02", "PR07", "RT01", "RT03", "GL08"}


def _public(name):
    mod = importlib.import_module(name)
    for attr, obj in vars(mod).items():
        if attr.startswith("_") or getattr(obj, "__module__", None) != name:
            continue
        if inspect.isfunction(obj):
            yield f"{name}.{attr}"
        elif inspect.isclass(obj):
            yield f"{name}.{attr}"
            yield from (f"{name}.{attr}.{k}" for k, v in vars(obj).items()
                        if inspect.isfunction(v) and not k.startswith("_"))


@pytest.mark.parametrize("module", MODULES)
def test_parameters_and_returns_are_documented(module):
    problems = [(qual, code, msg) for qual in _public(module)
                for code, msg in validate(qual)["errors"] if code in CODES]
    assert problems == []
