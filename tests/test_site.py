"""The documentation site builds with Sphinx, warnings as errors, and is whole: a page per
tutorial, executed in fast mode with the reference solutions, with its figures inline and
every check passing; an API page for every public name, the estimators' parameters listed;
the README as the home page; no relative link that leads nowhere.

Needs the ``docs`` extra (``pip install -e ".[docs]"``) and skips without it.  The site is
built once for the module, into a temporary folder, with the command the README gives.
"""
from __future__ import annotations

import html
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

for _name in ("sphinx", "myst_nb", "numpydoc", "pydata_sphinx_theme", "jupytext", "nbclient",
              "ipykernel"):
    pytest.importorskip(_name)

import dec_np  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
if not (ROOT / "docs" / "conf.py").is_file():  # an sdist carries the tests, not docs/
    pytest.skip("no docs/conf.py beside the tests", allow_module_level=True)
TUTORIALS = sorted(p.stem for p in (ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr"}


class Page(HTMLParser):
    """One HTML page: its ids, its links, and the text and images of its cell outputs."""

    def __init__(self, path: Path):
        super().__init__(convert_charrefs=True)
        self.path, self.ids, self.links = path, set(), []
        self.output_text, self.output_images = [], []
        self._open, self._in_output = [], 0
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        self.links += [a[key] for key in ("href", "src") if a.get(key)]
        if tag == "img" and self._in_output:
            self.output_images.append(a.get("src", ""))
        if tag not in VOID:
            opens = tag == "div" and "cell_output" in (a.get("class") or "").split()
            self._open.append(opens)
            self._in_output += opens

    def handle_endtag(self, tag):
        if tag not in VOID and self._open:
            self._in_output -= self._open.pop()

    def handle_data(self, data):
        if self._in_output:
            self.output_text.append(data)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [
        str(ROOT), os.environ.get("PYTHONPATH")])))
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(out / "doctrees"), "docs", str(out / "html")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    print(f"site built in {time.perf_counter() - start:.0f} s")
    assert proc.returncode == 0, f"the site does not build:\n{proc.stderr[-6000:]}"
    return (out / "html").resolve()


@pytest.fixture(scope="module")
def pages(site):
    return {p.relative_to(site).as_posix(): Page(p) for p in site.rglob("*.html")
            if p.relative_to(site).parts[0] != "_static"}  # the theme's templates are there


# ------------------------------------------------------------------------------ the course
@pytest.mark.parametrize("tutorial", TUTORIALS)
def test_each_tutorial_is_a_page_with_its_figures(pages, site, tutorial):
    page = pages.get(f"tutorials/{tutorial}.html")
    assert page is not None, f"no page for tutorials/{tutorial}.py"
    text = "".join(page.output_text).lstrip()
    first = text.partition("\n")[0]
    assert first.startswith(f"tutorial {tutorial}, mode fast") and "reference solutions" in first
    assert "[PASS]" in text
    for bad in ("[FAIL]", "[TODO]"):
        assert bad not in text, f"{tutorial}: {bad} in the executed page"
    if "falling back to the embedded 8x8 digits" not in text:  # its claims are about MNIST
        assert "CLAIM FALSE" not in text, f"{tutorial}: a claim is false on the page"
    assert page.output_images, f"{tutorial}: no figure in the executed page"
    for src in page.output_images:
        png = (page.path.parent / unquote(src)).resolve()
        assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG", src
        assert png.stat().st_size > 1000, f"{src} is nearly empty"


def test_course_page_lists_the_tutorials_in_order(pages):
    linked = [h.split("/")[1].split(".")[0] for h in pages["course.html"].links
              if h.startswith("tutorials/")]
    assert list(dict.fromkeys(t for t in linked if t in TUTORIALS)) == TUTORIALS


# -------------------------------------------------------------------------------- the API
def _public_modules():
    return ["dec_np"] + [f"dec_np.{m.name}" for m in pkgutil.iter_modules(dec_np.__path__)
                         if not m.name.startswith("_")]


def _public_names(modname):
    """{documented name: other acceptable spelling}: a module's ``__all__`` (re-exports are
    documented under either name), else the functions and classes it defines."""
    module = importlib.import_module(modname)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, o in vars(module).items() if not n.startswith("_")
                 and (inspect.isfunction(o) or inspect.isclass(o))
                 and o.__module__ == modname]
    out = {}
    for name in names:
        if name.startswith("__"):
            continue
        obj = getattr(module, name)
        home = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
        out[f"{modname}.{name}"] = f"{home[0]}.{home[1]}" if all(home) else None
    return out


@pytest.mark.parametrize("modname", _public_modules())
def test_every_public_name_has_an_entry(pages, modname):
    ids = set().union(*(p.ids for k, p in pages.items() if k.startswith("api/")))
    assert f"module-{modname}" in ids, f"no API page declares {modname}"
    missing = [name for name, home in _public_names(modname).items()
               if name not in ids and home not in ids]
    assert not missing, f"not in the API reference: {missing}"


@pytest.mark.parametrize("cls, page", [(dec_np.DEC, "api/dec.html"),
                                       (dec_np.StackedAutoencoder, "api/autoencoder.html")])
def test_estimator_pages_list_every_parameter(site, cls, page):
    text = (site / page).read_text(encoding="utf-8")
    at = text.find(f'id="{cls.__module__}.{cls.__name__}"')
    assert at >= 0, f"{cls.__name__} is not on {page}"
    end = text.find('<dl class="py ', at)  # its first method: the class docstring ends there
    own = text[at:end if end > 0 else len(text)]
    assert "Parameters" in own
    params = [p for p in inspect.signature(cls).parameters if p not in ("self", "kwargs")]
    missing = [p for p in params if f"<strong>{p}</strong>" not in own]
    assert params and not missing, f"{cls.__name__}: parameters not listed: {missing}"


# ---------------------------------------------------------------------- home page, links
def test_the_home_page_is_the_readme_and_docs_are_pages(pages, site):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    readme = re.sub(r"^```.*?^```", "", readme, flags=re.M | re.S)  # no code blocks
    home = html.unescape(re.sub(r"<[^>]+>", "", (site / "index.html").read_text("utf-8")))
    for heading in re.findall(r"^#{1,3} (.+)$", readme, re.M):
        plain = heading.replace("`", "").replace("**", "").strip()
        assert plain in home, f"README heading {heading!r} not on the home page"
    docs = ROOT / "docs"
    for md in [*docs.glob("*.md"), *docs.glob("results/*.md")]:
        assert md.relative_to(docs).with_suffix(".html").as_posix() in pages, md


def test_no_relative_link_is_broken(pages, site):
    broken = []
    for name, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("//"):
                continue
            target = (page.path.parent / unquote(parts.path)).resolve() if parts.path \
                else page.path
            if not target.exists() or site not in target.parents:
                broken.append(f"{name}: {link}")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target.relative_to(site).as_posix()].ids
                if parts.fragment not in ids:
                    broken.append(f"{name}: {link} (no such anchor)")
    assert not broken, f"{len(broken)} broken links, e.g.\n" + "\n".join(broken[:30])


# ----------------------------------------------------- a failing tutorial fails the build
@pytest.fixture()
def executor(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT / "docs" / "_ext"))
    import executed_tutorials
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    monkeypatch.setattr(executed_tutorials, "_SETTINGS",
                        {"cwd": str(tmp_path), "timeout": 5, "env": env})
    return executed_tutorials


def test_a_cell_that_raises_is_an_error_naming_it(executor):
    text = "# %%\nprint('before')\n\n# %%\nraise ValueError('wrong shape')\n"
    path, nb, error = executor._execute(Path("99_broken.py"), text)
    assert path.name == "99_broken.py"
    assert error and "ValueError" in error and "wrong shape" in error
    assert nb.cells[0].outputs[0]["text"] == "before\n"  # the page keeps what ran


def test_a_cell_that_runs_too_long_is_an_error(executor):
    path, nb, error = executor._execute(Path("99_slow.py"), "# %%\nimport time\ntime.sleep(60)\n")
    assert error and "Timeout" in error


def test_a_tutorial_that_runs_gives_no_error(executor):
    _, nb, error = executor._execute(Path("99_fine.py"), "# %%\nprint(6 * 7)\n")
    assert error is None and nb.cells[0].outputs[0]["text"] == "42\n"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_links_to_the_published_site_become_relative():
    import importlib.util

    from docutils import nodes
    spec = importlib.util.spec_from_file_location("dec_np_docs_conf", ROOT / "docs" / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    base = conf.html_baseurl
    page = nodes.paragraph()
    uris = [base + "api/dec.html#dec_np.dec.DEC", base,
            base + "tutorials/02_dropout_denoising.html", "https://github.com/dec-np/dec_np"]
    for uri in uris:
        page += nodes.reference(refuri=uri)
    conf._site_links_relative(None, page, "tutorials/01_dense_layer")
    assert [r["refuri"] for r in page.findall(nodes.reference)] == [
        "../api/dec.html#dec_np.dec.DEC", "../index.html", "02_dropout_denoising.html",
        "https://github.com/dec-np/dec_np"]
    conf._site_links_relative(None, page, "index")
    assert page.children[0]["refuri"] == "../api/dec.html#dec_np.dec.DEC"  # already relative


def test_tutorial_links_are_rewritten_for_the_copy_in_docs(executor, tmp_path):
    repo = tmp_path / "repo"
    for f in ["tutorials/01_a.py", "tutorials/02_b.py", "tutorials/solutions/01_a.py",
              "docs/page.md", "docs/figures/f.png", "dec_np/layers.py"]:
        (repo / f).parent.mkdir(parents=True, exist_ok=True)
        (repo / f).write_text("x")
    text = ("# [a](02_b.py) [b](../docs/page.md#sec) [c](../docs/figures/f.png)\n"
            "# [d](solutions/01_a.py) [e](../dec_np/layers.py) [f](https://x.org/y.md)\n"
            "# [g](#here) [h](../docs/missing.md)\n"
            "y = f[0](../docs/page.md)  # code is left alone\n")
    out = executor.relink(text, repo / "tutorials", repo / "docs", repo, "URL")
    assert out.splitlines() == [
        "# [a](02_b.py) [b](../page.md#sec) [c](../figures/f.png)",
        "# [d](URL/tutorials/solutions/01_a.py) [e](URL/dec_np/layers.py) [f](https://x.org/y.md)",
        "# [g](#here) [h](../docs/missing.md)",
        "y = f[0](../docs/page.md)  # code is left alone"]
