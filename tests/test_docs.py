"""The documentation site builds with no warnings, links only to pages that exist, and renders its
math in a real browser with no network (MathJax is served from the site itself).

The browser part needs Debian's ``chromium`` (CI installs it); without it that test is skipped.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ALGOS = ["vpg", "trpo", "ppo", "ddpg", "td3", "sac", "dqn"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Build the site once for every test in this file, with warnings as errors."""
    pytest.importorskip("sphinx")
    pytest.importorskip("furo")
    out = tmp_path_factory.mktemp("html")
    doctrees = tmp_path_factory.mktemp("doctrees")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(doctrees), str(DOCS), str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, "sphinx-build -W failed:\n" + proc.stdout[-3000:] + proc.stderr[-6000:]
    assert "WARNING" not in proc.stderr, proc.stderr
    return out


class _Links(HTMLParser):
    """Collects the ids defined in a page and the href/src values it points at."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key) is not None and not (tag == "link" and a.get("rel") == "preconnect"):
                self.refs.append(a[key])


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_algorithm_with_code_has_a_page(site):
    for algo in ALGOS:
        if (ROOT / "spinup" / "algos" / "pytorch" / algo / f"{algo}.py").exists():
            page = site / "algorithms" / f"{algo}.html"
            assert page.exists(), f"{algo}.py exists but the site has no page for it"
            html = page.read_text(encoding="utf-8")
            # autodoc found the function and literalinclude pulled in real code
            assert f'id="spinup.algos.pytorch.{algo}.{algo}.{algo}"' in html
            assert 'class="highlight' in html


def test_no_broken_internal_links(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    broken = []
    for page in pages:
        for ref in _parse(page).refs:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("//") or ref.startswith("mailto:"):
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {ref} (no such file)")
                continue
            if parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in _parse(target).ids:
                    broken.append(f"{page.relative_to(site)} -> {ref} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(broken[:50])


def test_math_is_served_from_the_site(site):
    html = (site / "algorithms" / "ppo.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    mathjax = [s for s in scripts if "mathjax" in s.lower()]
    assert mathjax, "no MathJax script on the PPO page"
    for src in scripts:
        assert not urlsplit(src).scheme and not src.startswith("//"), f"script loaded from the network: {src}"
    local = (site / "algorithms" / mathjax[0].split("?")[0]).resolve()
    assert local.exists()
    assert (site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff").exists()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Text(HTMLParser):
    """Visible text of a page (no scripts or styles) and a count of MathJax output elements."""

    def __init__(self):
        super().__init__()
        self.skip = 0
        self.text: list[str] = []
        self.mjx = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        if tag == "mjx-container":
            self.mjx += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.text.append(data)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_math_renders_in_a_browser(site, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/algorithms/ppo.html"
        proc = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
             "--virtual-time-budget=15000", "--dump-dom", url],
            capture_output=True, text=True, timeout=90,
        )
    finally:
        server.shutdown()
        server.server_close()
    dom = proc.stdout
    assert "<html" in dom.lower(), "chromium returned no page:\n" + proc.stderr[-3000:]
    parsed = _Text()
    parsed.feed(dom)
    text = "".join(parsed.text)
    source = (site / "algorithms" / "ppo.html").read_text(encoding="utf-8")
    n_math = source.count('class="math notranslate')
    assert n_math > 10, "the PPO page should hold plenty of math"
    assert parsed.mjx >= n_math, f"only {parsed.mjx} of {n_math} formulas were typeset by MathJax"
    for raw in ("\\(", "\\)", "\\[", "\\]"):
        assert raw not in text, f"raw TeX delimiter {raw} left in the rendered page"
    assert "Math input error" not in text and "<mjx-merror" not in dom


def _public_objects():
    """(dotted name, object) for every public function and class defined in spinup.utils, and the
    algorithm functions exported by spinup."""
    import importlib
    import inspect
    import pkgutil

    import spinup
    import spinup.utils

    found = []
    for info in pkgutil.iter_modules(spinup.utils.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module("spinup.utils." + info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) == module.__name__:
                found.append((f"{module.__name__}.{name}", obj))
    for name in getattr(spinup, "__all__", []):
        obj = getattr(spinup, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            found.append((f"{obj.__module__}.{obj.__qualname__}", obj))
    return found


def test_every_public_object_is_documented(site):
    documented = set()
    for page in site.rglob("*.html"):
        documented |= _parse(page).ids
    missing = sorted({name for name, _ in _public_objects() if name not in documented})
    assert not missing, (
        "public functions and classes with no entry on any docs page (add an autodoc directive "
        "for each, e.g. in docs/utils/): " + ", ".join(missing)
    )


def test_no_contents_directive_furo_flags_as_an_error():
    """Furo draws a red error box for `.. contents::` (its sidebar already lists the sections)."""
    offenders = [str(p.relative_to(DOCS)) for p in DOCS.rglob("*.rst") if "_build" not in p.parts
                 and ".. contents::" in p.read_text()]
    assert offenders == []
