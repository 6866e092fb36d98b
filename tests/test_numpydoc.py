"""Every public callable of the package documents its parameters and what it returns.

numpydoc's validator runs on each public function, class and method of every public module
(the names in ``__all__``, else those without a leading underscore, defined in that module):
PR01 (a parameter not documented), PR02 (a documented parameter that does not exist), PR07
(a parameter without words), RT01 (no Returns section in a callable that returns something),
RT03 (a return value without words) and GL08 (no docstring) must not occur.  The private
modules at the edges (_download, _npfile) count as public here.
"""
import importlib
import inspect
import pkgutil

import pytest

import dec_np

validate = pytest.importorskip("numpydoc.validate").validate

CHECKS = {"PR01", "PR02", "PR07", "RT01", "RT03", "GL08"}



def public_modules():
    return ["dec_np"] + [f"dec_np.{m.name}" for m in pkgutil.iter_modules(dec_np.__path__)
                         if not m.name.startswith("_") or m.name in ("_download", "_npfile")]


def public_callables(modname):
    """Import paths of the module's public functions and classes, and of their methods."""
    mod = importlib.import_module(modname)
    names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
    for name in names:
        obj = getattr(mod, name, None)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)) \
                or getattr(obj, "__module__", None) != modname:
            continue  # imported from elsewhere: checked where it is defined
        yield f"{modname}.{name}"
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if not attr.startswith("_") and (inspect.isfunction(value) or isinstance(
                        value, (classmethod, staticmethod, property))):
                    yield f"{modname}.{name}.{attr}"


def incomplete():
    out = {}
    for modname in public_modules():
        for path in public_callables(modname):
            errors = [f"{code} {msg}" for code, msg in validate(path)["errors"] if code in CHECKS]
            if errors:
                out[path] = errors
    return out


def test_public_callables_document_parameters_and_returns():
    found = incomplete()
    assert not found, "\n".join(f"{path}: {errors}" for path, errors in sorted(found.items()))


def test_the_walk_sees_the_api():
    paths = {p for m in public_modules() for p in public_callables(m)}
    assert {"dec_np.dec.DEC.fit", "dec_np.dec.DEC.score", "dec_np.dec_math.soft_assignment",
            "dec_np.metrics.cluster_accuracy", "dec_np.kmeans.KMeans.predict",
            "dec_np.autoencoder.StackedAutoencoder.encode"} <= paths
    assert len(paths) > 100
