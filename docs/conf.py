"""Sphinx configuration of the dec_np site: the README as the home page, the tutorials
executed in fast mode with their figures, the API reference from the numpydoc docstrings, and
the pages of docs/.

Build it (warnings are errors, every cross reference must resolve)::

    python -m pip install -e ".[docs]" && python -m sphinx -W -b html docs docs/_build/html

The tutorials (``tutorials/[0-9][0-9]_*.py``) are executed in fast mode with the reference
solutions, several at a time (``DEC_NP_DOCS_JOBS``, default one per core), by
``docs/_ext/executed_tutorials.py``: at a fresh build, and again when they or the code they run
change; the pages show what they print and draw.
"""
from __future__ import annotations

import builtins
import importlib
import os
import pkgutil
import posixpath
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

from docutils import nodes  # noqa: E402

import dec_np  # noqa: E402

# -- project -------------------------------------------------------------------------------
project = "dec_np"
author = "The dec_np authors"
copyright = "The dec_np authors, MIT licence"
release = version = dec_np.__version__
SOURCE_URL = "https://github.com/dec-np/dec_np"
html_baseurl = "https://dec-np.github.io/dec_np/"  # where the site is published

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
    "executed_tutorials",
]
exclude_patterns = ["_build", "_ext", "conf.py", "**/__pycache__", "**.ipynb_checkpoints"]
# every cross reference must resolve; names from the standard library and other packages are
# not linked (no network at build time, so no intersphinx) and are listed here instead
nitpicky = True
_OUTSIDE = sorted({*sys.stdlib_module_names, "numpy", "cupy", "scipy", "matplotlib"} - {"this"})
nitpick_ignore_regex = [(r"py:.*", rf"({'|'.join(map(re.escape, _OUTSIDE))})(\..+)?")]
nitpick_ignore = [("py:func", name) for name in dir(builtins) if not name.startswith("_")]

# -- the API reference ---------------------------------------------------------------------
autodoc_default_options = {"members": True, "undoc-members": True, "member-order": "bysource"}
# signatures as the reader calls them; the types, with shapes, are in each Parameters section
autodoc_typehints = "none"
autodoc_preserve_defaults = True
# [source] links only where a name is defined: following re-exports sends viewcode's back
# links to the wrong page (dec_np.datasets re-exports dec_np._download's functions)
viewcode_follow_imported_members = False
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True


def _reexported_names():
    """{one spelling: the other} for every name a module re-exports through ``__all__``:
    ``dec_np.DEC`` <-> ``dec_np.dec.DEC``, ``dec_np.datasets.download_file`` <->
    ``dec_np._download.download_file``.  Each is documented under one spelling only.  And
    {module: the modules it re-exports from}, where its re-exported docstrings' names live."""
    names, sources = {}, {}
    modules = ["dec_np"] + [f"dec_np.{m.name}" for m in pkgutil.iter_modules(dec_np.__path__)
                            if not m.name.startswith("_")]
    for modname in modules:
        module = importlib.import_module(modname)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            home = f"{getattr(obj, '__module__', modname)}.{getattr(obj, '__qualname__', name)}"
            if home != f"{modname}.{name}":
                names.setdefault(f"{modname}.{name}", home)
                names.setdefault(home, f"{modname}.{name}")
                sources.setdefault(modname, set()).add(getattr(obj, "__module__", modname))
    return names, sources


_REEXPORTED, _REEXPORTED_FROM = _reexported_names()


def _reexported_reference(app, env, node, contnode):
    """Resolve a Python reference that failed through the other spelling of a re-exported
    name: ``DEC.fit`` or ``dec_np.DEC.fit`` to ``dec_np.dec.DEC.fit``, and so on; a name in a
    re-exported docstring (``STALL_BYTES`` in ``dec_np.datasets.download_file``) is looked up
    in the module the docstring comes from as well."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    context = node.get("py:module") or ""
    domain = env.get_domain("py")
    homes = [f"{home}.{target}" for home in sorted(_REEXPORTED_FROM.get(context, ()))]
    for candidate in (target, f"dec_np.{target}", f"{context}.{target}", *homes):
        if candidate != target:  # the target as written has failed already
            found = domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                        candidate, node, contnode)
            if found is not None:
                return found
        parts = candidate.split(".")
        for i in range(len(parts), 0, -1):
            other = _REEXPORTED.get(".".join(parts[:i]))
            if other:
                found = domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                            ".".join([other, *parts[i:]]), node, contnode)
                if found is not None:
                    return found
    return None


# -- MyST: the README, docs/*.md and the tutorials -----------------------------------------
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 6  # docs/ link to sections by their GitHub-style anchors
# the tutorial pages: executed by docs/_ext/executed_tutorials.py, several at a time
nb_custom_formats = {".py": "executed_tutorials.read"}
nb_execution_mode = "off"
nb_merge_streams = True
tutorials_source = "../tutorials"
tutorials_repo_url = f"{SOURCE_URL}/blob/main"  # where a tutorial's link to a repository file goes
tutorials_cell_timeout = 300  # seconds per cell (the longest takes seconds in fast mode)
tutorials_jobs = int(os.environ.get("DEC_NP_DOCS_JOBS", "0"))  # 0: one per available core

# -- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"dec_np {release}"
html_static_path = []
html_theme_options = {
    "github_url": SOURCE_URL,
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_context = {"default_mode": "light"}
html_show_sourcelink = True


def _site_links_relative(app, doctree, docname):
    """Make links to this site's published address relative (the README links to the site's
    pages by address, so that they work on PyPI too): the built site stands alone, and the
    link check of tests/test_site.py sees them."""
    here = posixpath.dirname(docname)
    for node in doctree.findall(nodes.reference):
        uri = node.get("refuri", "")
        if uri.startswith(html_baseurl):
            path, _, fragment = uri[len(html_baseurl):].partition("#")
            path = posixpath.relpath(path or "index.html", here or ".")
            node["refuri"] = path + (f"#{fragment}" if fragment else "")
            node["internal"] = True


def setup(app):
    app.connect("missing-reference", _reexported_reference)
    app.connect("doctree-resolved", _site_links_relative)
