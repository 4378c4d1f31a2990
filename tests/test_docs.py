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


_BUILT: dict[str, Path] = {}


def build_site(tmp_path_factory) -> Path:
    """Build the site once per test session, with warnings as errors (the browser tests in
    test_docs_browser.py share this build)."""
    if "html" in _BUILT:
        return _BUILT["html"]
    pytest.importorskip("sphinx")
    pytest.importorskip("furo")
    pytest.importorskip("sphinx_design")
    out = tmp_path_factory.mktemp("html")
    doctrees = tmp_path_factory.mktemp("doctrees")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(doctrees), str(DOCS), str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, "sphinx-build -W failed:\n" + proc.stdout[-3000:] + proc.stderr[-6000:]
    assert "WARNING" not in proc.stderr, proc.stderr
    _BUILT["html"] = out
    return out


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    return build_site(tmp_path_factory)


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


# -- pseudocode linked to code, framework tabs, diffs (docs/_ext/rosetta.py) -----------------------

sys.path.insert(0, str(DOCS / "_ext"))
import rosetta  # noqa: E402

FRAMEWORK_LABELS = dict(rosetta.FRAMEWORKS)
DIFF_PAIRS = [("vpg", "ppo"), ("ppo", "trpo"), ("ddpg", "td3"), ("td3", "sac"), ("ddpg", "dqn")]


def _frameworks_present(algo: str) -> list[str]:
    return [fw for fw, _ in rosetta.FRAMEWORKS if (ROOT / rosetta.algo_path(fw, algo)).exists()]


def _pseudocode_steps(algo: str) -> dict[int, str]:
    """Step number -> text of each numbered line of the page's ``.. pseudocode::`` block."""
    text = (DOCS / "algorithms" / f"{algo}.rst").read_text(encoding="utf-8")
    block = re.search(rf"^\.\. pseudocode:: {algo}\n((?:[ \t]+.*\n|\n)+)", text, re.M)
    assert block, f"{algo}.rst has no '.. pseudocode:: {algo}' block"
    steps: dict[int, str] = {}
    current = None
    for line in block.group(1).splitlines():
        m = re.match(r"   (\d+)\. (.*)", line)
        if m:
            current = int(m.group(1))
            steps[current] = m.group(2)
        elif current is not None and line.strip():
            steps[current] += " " + line.strip()
    return steps


@pytest.mark.parametrize("algo", ALGOS)
def test_every_pseudocode_step_links_to_code_that_exists(algo):
    if not (ROOT / rosetta.algo_path("pytorch", algo)).exists():
        pytest.skip(f"no {algo}.py yet")
    steps = _pseudocode_steps(algo)
    mapping = rosetta.load_steps(algo)
    assert sorted(steps) == list(range(1, len(steps) + 1)), f"{algo}: pseudocode steps are not numbered 1..n"
    assert set(mapping) == set(steps), (
        f"{algo}: steps {sorted(set(steps) - set(mapping))} have no anchors and "
        f"{sorted(set(mapping) - set(steps))} are mapped but not in the pseudocode (docs/algorithms/anchors/{algo}.py)"
    )
    for n, spec in mapping.items():
        assert spec["says"].lower() in steps[n].lower(), f"{algo} step {n} no longer says {spec['says']!r}: {steps[n]}"
    links, problems = rosetta.step_links(algo)
    assert not problems, "\n".join(problems)
    for fw in _frameworks_present(algo):
        empty = [n for n in steps if not links[n].get(fw)]
        assert not empty, (
            f"{algo}: pseudocode steps {empty} link to no {FRAMEWORK_LABELS[fw]} code; "
            f"add '{fw}' anchors in docs/algorithms/anchors/{algo}.py"
        )


SAMPLE = '''\
import os


class Buffer:
    def get(self):
        x = 1
        return x


def algo(n):
    def update():
        # one step
        a = 1
        for i in range(n):
            a += i
        return a

    for epoch in range(n):
        update()
        print(epoch)
'''


def test_anchor_syntax():
    r = rosetta.resolve_anchor
    assert r(SAMPLE, "Buffer.get") == (5, 7)
    assert r(SAMPLE, "algo.update") == (11, 16)
    assert r(SAMPLE, "algo.update: a = 1") == (12, 13)  # the comment above it comes along
    assert r(SAMPLE, "algo.update: for i in range(n)") == (14, 15)  # a loop header names the loop
    assert r(SAMPLE, "algo: print(epoch)") == (20, 20)
    assert r(SAMPLE, "algo.update: a = 1 ... return a") == (12, 16)
    for bad, why in [("algo.missing", "no function or class"), ("algo: nowhere(", "no line"),
                     ("algo: a", "lines"), ("algo.update: return a ... a = 1", "before"),
                     ("not a name: x", "does not start")]:
        with pytest.raises(rosetta.AnchorError, match=why):
            r(SAMPLE, bad)


def test_jax_steps_borrow_pytorch_anchors_that_resolve(tmp_path, monkeypatch):
    """A JAX twin with the same names needs no anchors of its own; a name it lacks is skipped."""
    (tmp_path / "spinup" / "algos" / "pytorch" / "toy").mkdir(parents=True)
    (tmp_path / "spinup" / "algos" / "jax" / "toy").mkdir(parents=True)
    (tmp_path / "spinup" / "algos" / "pytorch" / "toy" / "toy.py").write_text(SAMPLE)
    (tmp_path / "spinup" / "algos" / "jax" / "toy" / "toy.py").write_text("\n\n" + SAMPLE.replace("print(epoch)", "pass"))
    anchors = tmp_path / "anchors"
    anchors.mkdir()
    (anchors / "toy.py").write_text(
        'STEPS = {1: {"says": "x", "pytorch": ["algo.update", "algo: print(epoch)"]},\n'
        '         2: {"says": "y", "pytorch": ["Buffer.get"], "jax": ["algo: pass"]}}\n'
    )
    monkeypatch.setattr(rosetta, "ROOT", str(tmp_path))
    monkeypatch.setattr(rosetta, "ANCHORS_DIR", str(anchors))
    links, problems = rosetta.step_links("toy")
    assert problems == []
    assert links[1] == {"pytorch": [(11, 16), (20, 20)], "jax": [(13, 18)]}
    assert links[2] == {"pytorch": [(5, 7)], "jax": [(22, 22)]}
    (anchors / "toy.py").write_text('STEPS = {1: {"says": "x", "pytorch": ["algo"], "jax": ["algo.gone"]}}\n')
    _, problems = rosetta.step_links("toy")
    assert len(problems) == 1 and "algo.gone" in problems[0]


class _Tabs(HTMLParser):
    """Tab labels (sync group, sync id, text), listings by id, and pseudocode links of a page."""

    def __init__(self):
        super().__init__()
        self.labels: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.links: list[dict] = []
        self.linenos = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "sd-tab-label" in (a.get("class") or ""):
            self.labels.append((a.get("data-sync-group"), a.get("data-sync-id")))
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and "rosetta-link" in (a.get("class") or ""):
            self.links.append(a)
        if tag == "span" and a.get("class") == "linenos":
            self.linenos += 1


@pytest.mark.parametrize("algo", ALGOS)
def test_algorithm_page_has_framework_tabs_and_linked_steps(site, algo):
    page = site / "algorithms" / f"{algo}.html"
    if not page.exists():
        pytest.skip(f"no page for {algo} yet")
    parsed = _Tabs()
    parsed.feed(page.read_text(encoding="utf-8"))
    assert ("framework", "pytorch") in parsed.labels and ("framework", "jax") in parsed.labels
    present = _frameworks_present(algo)
    for fw in present:
        assert f"rosetta-{algo}-{fw}" in parsed.ids, f"{algo}: no {fw} listing"
    source_lines = sum(len((ROOT / rosetta.algo_path(fw, algo)).read_text().splitlines()) for fw in present)
    assert parsed.linenos >= source_lines, "the listings should carry a line number on every line"
    links, _ = rosetta.step_links(algo)
    assert [int(a["data-step"]) for a in parsed.links] == sorted(links)
    for a in parsed.links:
        for fw in present:
            assert a.get(f"data-{fw}") == rosetta._ranges_attr(links[int(a["data-step"])][fw])


def test_diff_page_has_every_pair(site):
    html = (site / "user" / "algorithm_diffs.html").read_text(encoding="utf-8")
    heads = re.findall(r'<thead><tr><th colspan="2">([^<]+)</th><th colspan="2">([^<]+)</th>', html)
    want = [(rosetta.algo_path("pytorch", a), rosetta.algo_path("pytorch", b)) for a, b in DIFF_PAIRS]
    want += [(rosetta.algo_path("pytorch", a), rosetta.algo_path("jax", a)) for a in ALGOS
             if set(_frameworks_present(a)) == {"pytorch", "jax"}]
    assert heads == want
    for cls in ("d-chg", "d-add", "d-del", "d-x", "d-fold"):
        assert f'class="{cls}"' in html, f"the diffs show no {cls} cells"


def test_diff_table_marks_lines():
    table = rosetta.diff_table("a.py", ["x = 1", "y = 2", "gone()", "z = 3"],
                               "b.py", ["x = 1", "y = 20", "z = 3", "new()"], context=1)
    assert '<td class="d-chg">y = <span class="d-x">2</span></td>' in table  # the word that changed
    assert '<td class="d-chg">y = <span class="d-x">20</span></td>' in table
    assert '<td class="d-del">gone()</td>' in table and '<td class="d-add">new()</td>' in table
    assert "1 changed" in table and "1 only in a.py" in table and "1 only in b.py" in table
    folded = rosetta.diff_table("a.py", [str(i) for i in range(40)], "b.py", [str(i) for i in range(40)] + ["x"])
    assert "37 identical lines" in folded and folded.count("<tr class=\"d-row-eq\">") == 3


def _signature_defaults(framework: str, algo: str) -> dict[str, str]:
    """The algorithm function's keyword defaults, as source text (read with ast: no imports)."""
    import ast

    tree = ast.parse((ROOT / "spinup" / "algos" / framework / algo / f"{algo}.py").read_text())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == algo)
    args, defaults = fn.args.args, fn.args.defaults
    named = dict(zip([a.arg for a in args[len(args) - len(defaults):]], defaults))
    named.update({a.arg: d for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults) if d is not None})
    return {name: ast.unparse(node) for name, node in named.items()}


def test_shared_signature_on_the_algorithms_page_holds_for_every_algorithm():
    """Every default the shared signature on docs/user/algorithms.rst spells out (anything but
    ``...``) is the default of that argument in all seven algorithms, in both frameworks."""
    text = (DOCS / "user" / "algorithms.rst").read_text(encoding="utf-8")
    block = re.search(r"^   algo\((.*?)\)\n", text, re.S | re.M)
    assert block, "the shared signature block is missing from docs/user/algorithms.rst"
    shown = {}
    for part in re.split(r",\s*", " ".join(block.group(1).split())):
        if "=" in part:
            name, value = (s.strip() for s in part.split("=", 1))
            if value != "...":
                shown[name] = value
    assert shown, "the shared signature shows no defaults"
    wrong = []
    for framework in ("pytorch", "jax"):
        for algo in ALGOS:
            defaults = _signature_defaults(framework, algo)
            for name, value in shown.items():
                if defaults.get(name) != value:
                    wrong.append(f"{framework} {algo}: {name}={defaults.get(name)}, the page shows {value}")
    assert not wrong, "\n".join(wrong)
