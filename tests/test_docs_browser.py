"""The algorithm pages and the diff page, looked at in headless Chromium as a reader would: the
framework tabs switch (and the choice carries to the next page), pointing at a pseudocode step
lights up the right lines of code, the diffs are drawn in colour, and no page asks another host
for anything.

The site is the one test_docs.py builds (once per session). Needs Debian's ``chromium`` and the
``playwright`` Python package (no browser download: Playwright drives the system Chromium); the
tests skip only when one of them is missing. Set SPINUP_DOCS_SHOTS=DIR to also save screenshots
of the PPO, SAC and diff pages there.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from test_docs import ALGOS, _chromium, build_site, rosetta  # noqa: F401  (one build for both files)

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    site = build_site(tmp_path_factory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Reader:
    """One browser tab that records every request it makes."""

    def __init__(self, browser, base_url):
        self.base = base_url
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda req: self.requests.append(req.url))

    def open(self, path: str):
        self.page.goto(self.base + "/" + path, wait_until="load")
        # MathJax typesets (and fetches its fonts) after the load event; wait for it to finish
        self.page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
        return self.page

    def foreign_requests(self) -> list[str]:
        here = urlsplit(self.base).netloc
        return [u for u in self.requests
                if urlsplit(u).scheme not in ("data", "blob", "about") and urlsplit(u).netloc != here]

    def shot(self, name: str):
        folder = os.environ.get("SPINUP_DOCS_SHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(folder) / name), full_page=False)

    def close(self):
        self.context.close()


@pytest.fixture
def reader(browser, base_url):
    r = Reader(browser, base_url)
    yield r
    foreign = r.foreign_requests()
    r.close()
    assert not foreign, "a page asked another host for: " + ", ".join(foreign[:10])


def _pages(site_algos):
    return [a for a in site_algos if (Path(rosetta.ROOT) / rosetta.algo_path("pytorch", a)).exists()]


def _panel_visible(page, algo, fw):
    """Whether the tab panel of framework ``fw`` in the implementation block is shown."""
    return page.evaluate(
        """([algo, fw]) => {
            const box = document.getElementById('rosetta-' + algo + '-code');
            const label = box.querySelector('label.sd-tab-label[data-sync-id="' + fw + '"]');
            const panel = label.nextElementSibling;
            return panel.offsetParent !== null && panel.getBoundingClientRect().height > 0;
        }""",
        [algo, fw],
    )


def test_framework_tabs_switch_and_the_choice_carries_to_other_pages(reader):
    page = reader.open("algorithms/ppo.html")
    assert _panel_visible(page, "ppo", "pytorch") and not _panel_visible(page, "ppo", "jax")
    page.locator('#rosetta-ppo-code label.sd-tab-label[data-sync-id="jax"]').click()
    assert _panel_visible(page, "ppo", "jax") and not _panel_visible(page, "ppo", "pytorch")
    if (Path(rosetta.ROOT) / rosetta.algo_path("jax", "ppo")).exists():
        assert page.locator("#rosetta-ppo-jax pre").is_visible()
    else:
        assert "no JAX version" in page.locator("#rosetta-ppo-code").inner_text()
    # remembered: the next page opens on JAX too, until the reader picks PyTorch again
    page = reader.open("algorithms/sac.html")
    assert _panel_visible(page, "sac", "jax")
    page.locator('#rosetta-sac-code label.sd-tab-label[data-sync-id="pytorch"]').click()
    assert _panel_visible(page, "sac", "pytorch")
    assert page.evaluate("localStorage.getItem('sphinx-design-tab-id-framework')") == "pytorch"


HIGHLIGHTED = """(algo) => {
    const out = {};
    for (const fw of ['pytorch', 'jax']) {
        const box = document.getElementById('rosetta-' + algo + '-' + fw);
        if (!box) continue;
        const pre = box.querySelector('pre');
        const spans = [...pre.querySelectorAll('span.linenos.rosetta-hl')];
        const view = pre.getBoundingClientRect();
        const bands = [...pre.querySelectorAll('.rosetta-band')].map(b => {
            const r = b.getBoundingClientRect();
            return {lines: b.dataset.lines, height: r.height, top: r.top};
        });
        out[fw] = {
            lines: spans.map(s => parseInt(s.textContent, 10)),
            bands: bands,
            view: {top: view.top, bottom: view.bottom},
            shown: pre.offsetParent !== null,
        };
    }
    return out;
}"""


@pytest.mark.parametrize("algo", ALGOS)
def test_hovering_a_step_highlights_its_code(reader, algo):
    if algo not in _pages(ALGOS):
        pytest.skip(f"no page for {algo} yet")
    links, _ = rosetta.step_links(algo)
    page = reader.open(f"algorithms/{algo}.html")
    steps = page.locator(".rosetta-step")
    assert steps.count() == len(links)
    for i, step in enumerate(sorted(links)):
        steps.nth(i).hover(force=True)  # a real pointer move, without waiting out animations
        got = page.evaluate(HIGHLIGHTED, algo)
        assert set(got) == set(links[step]), f"{algo} step {step}: listings {sorted(got)}"
        for fw, ranges in links[step].items():
            want = [n for a, b in ranges for n in range(a, b + 1)]
            assert got[fw]["lines"] == want, f"{algo} step {step} ({fw}) lit up the wrong lines"
            bands = got[fw]["bands"]
            assert [b["lines"] for b in bands] == [f"{a}-{b}" for a, b in ranges]
            if got[fw]["shown"]:  # the listing of the visible tab: bands drawn, scrolled to the first
                assert all(b["height"] > 0 for b in bands)
                view = got[fw]["view"]
                assert view["top"] - 1 <= bands[0]["top"] < view["bottom"], f"{algo} step {step}: not scrolled to"
    assert page.locator(".rosetta-step.rosetta-active").count() == 1
    if algo in SHOTS:  # what a reader sees pointing at the step: the step framed, its code lit up
        step = page.locator(f'.rosetta-step:has(a[data-step="{SHOTS[algo]}"])')
        step.evaluate("e => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 40)")
        step.hover()
        reader.shot(f"{algo}.png")


SHOTS = {"ppo": 6, "sac": 8}


def test_show_in_code_brings_the_lines_into_view(reader):
    page = reader.open("algorithms/ppo.html")
    page.set_viewport_size({"width": 390, "height": 800})  # a phone: no hover, a tap on the link
    link = page.locator('a.rosetta-link[data-step="7"]')
    link.scroll_into_view_if_needed()
    link.click()
    page.wait_for_function(
        """() => { const b = document.querySelector('#rosetta-ppo-pytorch .rosetta-band');
                   if (!b) return false; const r = b.getBoundingClientRect();
                   return r.top >= 0 && r.top < window.innerHeight; }""",
        timeout=5000,
    )
    assert page.url.endswith("ppo.html"), "the click should not navigate away"
    reader.shot("ppo-phone.png")


def test_diff_page_renders_in_colour(reader):
    page = reader.open("user/algorithm_diffs.html")
    assert page.locator("table.d-table").count() >= 5
    colours = page.evaluate(
        """() => {
            const rgb = sel => {
                const el = document.querySelector(sel);
                const m = getComputedStyle(el).backgroundColor.match(/[\\d.]+/g).map(Number);
                return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1, w: el.getBoundingClientRect().width};
            };
            return {add: rgb('td.d-add'), del: rgb('td.d-del'), chg: rgb('td.d-chg'), x: rgb('td.d-chg .d-x')};
        }"""
    )
    assert colours["add"]["g"] > colours["add"]["r"] and colours["add"]["a"] > 0, colours
    assert colours["del"]["r"] > colours["del"]["g"] and colours["del"]["a"] > 0, colours
    assert colours["chg"]["r"] > colours["chg"]["b"] and colours["x"]["a"] > colours["chg"]["a"], colours
    assert all(c["w"] > 100 for c in (colours["add"], colours["del"], colours["chg"])), "diff columns collapsed"
    page.locator("table.d-table").first.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -120)")
    reader.shot("diffs.png")


def test_no_page_loads_anything_from_another_host(reader):
    """Every other test checks the pages it opens (see the ``reader`` fixture); this adds the
    front page and one utility page."""
    for path in ["index.html", "utils/logger.html"]:
        reader.open(path)
    assert len(reader.requests) > 10
    assert not reader.foreign_requests()
