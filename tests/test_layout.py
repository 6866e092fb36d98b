"""The package's layout: no import circle among its modules (lazy imports inside functions
count too), and the shared helpers live in the modules their names suggest."""
import ast
from pathlib import Path

import dec_np

PACKAGE = Path(dec_np.__file__).resolve().parent


def _imports():
    """module name -> the dec_np modules it imports anywhere in its source."""
    graph = {}
    for path in PACKAGE.glob("*.py"):
        name = path.stem
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level == 1:  # from .x import y / from . import y
                    deps |= {mod.split(".")[0]} if mod else {a.name for a in node.names}
                elif mod.startswith("dec_np"):
                    parts = mod.split(".")
                    deps |= {parts[1]} if len(parts) > 1 else {a.name for a in node.names}
            elif isinstance(node, ast.Import):
                deps |= {a.name.split(".")[1] for a in node.names if a.name.startswith("dec_np.")}
        graph[name] = {d for d in deps if (PACKAGE / f"{d}.py").exists() and d != name}
    return graph


def test_no_import_circle():
    graph = _imports()
    graph.pop("__init__", None)  # the package front imports everything and nothing imports it
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                raise AssertionError("import circle: " + " -> ".join(stack + [node, dep]))
            if dep not in state:
                visit(dep, stack + [node])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_checkpoint_does_not_import_the_estimator():
    assert "dec" not in _imports()["checkpoint"]


def test_shared_helpers_live_in_utils_and_scaling():
    from dec_np import autoencoder, checkpoint, dec, scaling, utils
    for name in ("check_array", "Progress", "BatchStream"):
        obj = getattr(utils, name)
        assert obj.__module__ == "dec_np.utils"
        for user in (autoencoder, dec):
            assert getattr(user, name, obj) is obj  # imported from utils, not redefined
    assert not hasattr(checkpoint, "BatchStream")
    assert dec.input_scale_factor is scaling.input_scale_factor
