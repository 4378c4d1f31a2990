"""Sphinx extension that lets the algorithm pages be read as a Rosetta Stone.

It adds three directives:

``.. pseudocode:: ALGO``
    A framed, numbered pseudocode block (the content is ordinary reStructuredText with one
    enumerated list). Every numbered step gets a "show in code" link that carries the line ranges
    of the implementation that carry the step out, in each framework whose file exists. The
    ranges come from ``docs/algorithms/anchors/ALGO.py``, which names code by function, class or
    a line of code inside one, never by line number, so the mapping survives edits to the file.
    ``_static/rosetta.js`` highlights those lines when the step is hovered or clicked.

``.. implementation:: ALGO``
    The whole ``ALGO.py`` in tabs, one per framework (PyTorch, JAX), with line numbers. The tabs
    share the sphinx-design sync group ``framework``, so a reader's choice holds on every page
    and is remembered. The JAX tab fills itself in once ``spinup/algos/jax/ALGO/ALGO.py`` exists.

``.. algo-diff:: OLD NEW``
    A side-by-side, colour-coded diff of two files, computed with :mod:`difflib` when the site is
    built. ``OLD`` and ``NEW`` are paths from the repository root, or ``pytorch:ALGO`` /
    ``jax:ALGO`` for an algorithm file. A pair whose files are not both present is left out
    (with ``:optional:``) instead of failing the build.

Anchor syntax (see ``resolve_anchor``)::

    "ppo.update"                      the whole nested function update() inside ppo()
    "PPOBuffer.get"                   a method
    "ppo: for t in range("            inside ppo(), the statement that contains the one line
                                      holding this code (a loop header gives the whole loop)
    "ppo.update: a = 1 ... b = 2"     the statements from the one at ``a = 1`` to the one at ``b = 2``

Comment lines directly above the chosen statement are included, since they say what it does.
"""

from __future__ import annotations

import ast
import difflib
import html
import os
import re
import runpy
from functools import lru_cache
from itertools import zip_longest

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.nodes import nested_parse_with_titles

logger = logging.getLogger(__name__)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANCHORS_DIR = os.path.join(ROOT, "docs", "algorithms", "anchors")
FRAMEWORKS = (("pytorch", "PyTorch"), ("jax", "JAX"))
ALGOS = ("vpg", "trpo", "ppo", "ddpg", "td3", "sac", "dqn")


class AnchorError(ValueError):
    """An anchor that does not name exactly one place in the code."""


def algo_path(framework: str, algo: str) -> str:
    """Path from the repository root of an algorithm's main file."""
    return f"spinup/algos/{framework}/{algo}/{algo}.py"


def _exists(relpath: str) -> bool:
    return os.path.exists(os.path.join(ROOT, relpath))


# -- resolving anchors ----------------------------------------------------------------------------


def _find_scope(tree: ast.AST, dotted: str) -> ast.AST:
    node = tree
    for part in dotted.split("."):
        found = [
            n
            for n in getattr(node, "body", [])
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == part
        ]
        if not found:
            raise AnchorError(f"there is no function or class {dotted!r}")
        node = found[0]
    return node


def _first_line(node: ast.AST) -> int:
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def resolve_anchor(source: str, anchor: str) -> tuple[int, int]:
    """The 1-based, inclusive line range in ``source`` that ``anchor`` names.

    Raises AnchorError when the scope does not exist, or the code after the colon is found on
    no line or on more than one line of that scope.
    """
    scope_name, sep, code = anchor.partition(":")
    scope_name, code = scope_name.strip(), code.strip()
    if not scope_name or not all(p.isidentifier() for p in scope_name.split(".")):
        raise AnchorError(f"{anchor!r} does not start with a function or class name")
    if sep and not code:
        raise AnchorError(f"{anchor!r} has nothing after the colon")
    tree = ast.parse(source)
    scope = _find_scope(tree, scope_name)
    first, last = _first_line(scope), scope.end_lineno
    if not code:
        return first, last
    lines = source.splitlines()
    if " ... " in code:  # a run of statements, from the one at the first code to the one at the second
        a, b = (c.strip() for c in code.split(" ... ", 1))
        start, _ = _statement_at(scope, lines, first, last, scope_name, a)
        _, end = _statement_at(scope, lines, first, last, scope_name, b)
        if end < start:
            raise AnchorError(f"{b!r} comes before {a!r} in {scope_name}")
        return start, end
    return _statement_at(scope, lines, first, last, scope_name, code)


def _statement_at(scope, lines, first, last, scope_name, code):
    hits = [n for n in range(first, last + 1) if code in lines[n - 1]]
    if len(hits) != 1:
        where = "no line" if not hits else f"{len(hits)} lines ({', '.join(map(str, hits))})"
        raise AnchorError(f"{code!r} is on {where} of {scope_name}; an anchor must name one line")
    line = hits[0]
    best = None
    for node in ast.walk(scope):
        if isinstance(node, ast.stmt) and node is not scope and node.lineno <= line <= node.end_lineno:
            if best is None or node.lineno >= best.lineno:
                best = node
    if best is None:  # the line is the scope's own header
        return first, last
    start, end = _first_line(best), best.end_lineno
    while start > first and lines[start - 2].strip().startswith("#"):
        start -= 1
    return start, end


def _merge(ranges):
    out: list[list[int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [tuple(r) for r in out]


@lru_cache(maxsize=None)
def _read(relpath: str) -> str:
    with open(os.path.join(ROOT, relpath), encoding="utf-8") as f:
        return f.read()


def load_steps(algo: str) -> dict:
    """The STEPS mapping of ``docs/algorithms/anchors/ALGO.py``: step number -> dict with
    ``says`` (words the step's text contains), ``pytorch`` (anchors) and optionally ``jax``."""
    path = os.path.join(ANCHORS_DIR, f"{algo}.py")
    if not os.path.exists(path):
        return {}
    return runpy.run_path(path)["STEPS"]


def step_links(algo: str) -> tuple[dict, list[str]]:
    """For every step: {framework: merged line ranges}, for each framework whose file exists.

    Returns the links and a list of problems: an anchor that no longer resolves. A JAX step with
    no anchors of its own borrows the PyTorch ones that resolve in the JAX file (twins keep the
    same names); a step left with no JAX lines at all is reported by the tests, not the build.
    """
    _read.cache_clear()
    links: dict[int, dict[str, list]] = {}
    problems: list[str] = []
    for step, spec in sorted(load_steps(algo).items()):
        links[step] = {}
        for fw, _label in FRAMEWORKS:
            rel = algo_path(fw, algo)
            if not _exists(rel):
                continue
            source = _read(rel)
            explicit = fw in spec
            anchors = spec.get(fw, spec.get("pytorch", []))
            ranges = []
            for anchor in anchors:
                try:
                    ranges.append(resolve_anchor(source, anchor))
                except AnchorError as err:
                    if explicit:
                        problems.append(f"{algo} step {step}, {fw} anchor {anchor!r} in {rel}: {err}")
            links[step][fw] = _merge(ranges)
    return links, problems


def _ranges_attr(ranges) -> str:
    return ",".join(f"{a}-{b}" for a, b in ranges)


# -- directives -------------------------------------------------------------------------------------


def _html(text: str) -> nodes.raw:
    return nodes.raw("", text, format="html")


class PseudocodeDirective(Directive):
    """Numbered pseudocode whose steps link to the code that carries them out."""

    required_arguments = 1
    has_content = True

    def run(self):
        algo = self.arguments[0]
        env = self.state.document.settings.env
        env.note_dependency(os.path.join(ANCHORS_DIR, f"{algo}.py"))
        for fw, _ in FRAMEWORKS:
            if _exists(algo_path(fw, algo)):
                env.note_dependency(os.path.join(ROOT, algo_path(fw, algo)))
        box = nodes.container(classes=["pseudocode", "rosetta-pseudocode"])
        self.state.nested_parse(self.content, self.content_offset, box)
        lists = list(box.findall(nodes.enumerated_list))
        if not lists:
            return [box, self.state.document.reporter.warning(
                "a pseudocode block needs a numbered list of steps", line=self.lineno)]
        steps = load_steps(algo)
        links, problems = step_links(algo)
        warnings = [self.state.document.reporter.warning(p, line=self.lineno) for p in problems]
        items = [c for c in lists[0].children if isinstance(c, nodes.list_item)]
        start = int(lists[0].get("start", 1))
        seen = set()
        for offset, item in enumerate(items):
            step = start + offset
            seen.add(step)
            spec = steps.get(step)
            if spec is None:
                warnings.append(self.state.document.reporter.warning(
                    f"pseudocode step {step} of {algo} has no code anchors in docs/algorithms/anchors/{algo}.py",
                    line=self.lineno))
                continue
            if spec["says"].lower() not in item.astext().lower():
                warnings.append(self.state.document.reporter.warning(
                    f"pseudocode step {step} of {algo} no longer says {spec['says']!r}: the steps were "
                    f"renumbered or rewritten, so check docs/algorithms/anchors/{algo}.py", line=self.lineno))
            item["classes"].append("rosetta-step")
            attrs = " ".join(
                f'data-{fw}="{_ranges_attr(r)}"' for fw, r in links.get(step, {}).items() if r
            )
            link = _html(
                f'<a class="rosetta-link reference internal" href="#rosetta-{algo}-code" data-algo="{algo}" '
                f'data-step="{step}" {attrs} title="Highlight the code of step {step}">show in code</a>'
            )
            para = next(iter(item.findall(nodes.paragraph)), None)
            if para is None:
                para = nodes.paragraph()
                item.insert(0, para)
            para += nodes.Text(" ")
            para += link
        for step in sorted(set(steps) - seen):
            warnings.append(self.state.document.reporter.warning(
                f"docs/algorithms/anchors/{algo}.py maps step {step}, which the pseudocode does not have",
                line=self.lineno))
        return [box] + warnings


class ImplementationDirective(Directive):
    """The algorithm's file in framework tabs, with line numbers."""

    required_arguments = 1

    def run(self):
        algo = self.arguments[0]
        env = self.state.document.settings.env
        docdir = os.path.dirname(env.doc2path(env.docname))
        title = algo.upper()
        rst = [
            ".. rst-class:: rosetta-hint",
            "",
            f"The whole of ``{algo}.py`` follows, in one tab per framework. Point at a step of the "
            "pseudocode above, or use its *show in code* link, to light up the lines that carry it out.",
            "",
            ".. container:: rosetta-code",
            f"   :name: rosetta-{algo}-code",
            "",
            "   .. tab-set::",
            "      :sync-group: framework",
            "",
        ]
        for fw, label in FRAMEWORKS:
            rel = algo_path(fw, algo)
            rst += [f"      .. tab-item:: {label}", f"         :sync: {fw}", ""]
            if _exists(rel):
                env.note_dependency(os.path.join(ROOT, rel))
                include = os.path.relpath(os.path.join(ROOT, rel), docdir).replace(os.sep, "/")
                rst += [
                    f"         .. literalinclude:: {include}",
                    "            :linenos:",
                    f"            :caption: {rel}",
                    f"            :name: rosetta-{algo}-{fw}",
                    "            :class: rosetta-listing",
                    "",
                ]
            else:
                rst += [
                    f"         This release has no {label} version of {title}; the other tab holds its code.",
                    "",
                ]
        node = nodes.container()
        nested_parse_with_titles(self.state, StringList(rst, source="rosetta"), node)
        return node.children


def _resolve_diff_file(spec: str) -> str:
    if ":" in spec:
        fw, algo = spec.split(":", 1)
        return algo_path(fw, algo)
    return spec


_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def _intraline(a: str, b: str) -> tuple[str, str]:
    """Mark the words and symbols that differ between two versions of a line."""
    ta, tb = _TOKEN.findall(a), _TOKEN.findall(b)
    sm = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
    if sm.ratio() < 0.3:
        return html.escape(a), html.escape(b)
    left, right = [], []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        x, y = html.escape("".join(ta[i1:i2])), html.escape("".join(tb[j1:j2]))
        if tag == "equal":
            left.append(x)
            right.append(y)
        else:
            if x:
                left.append(f'<span class="d-x">{x}</span>')
            if y:
                right.append(f'<span class="d-x">{y}</span>')
    return "".join(left), "".join(right)


def diff_table(old_name: str, old: list[str], new_name: str, new: list[str], context: int = 3) -> str:
    """An HTML side-by-side diff: removed lines red on the left, added green on the right,
    changed lines amber with the changed characters darker; long unchanged runs fold into one row."""
    sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
    rows = []
    counts = {"chg": 0, "del": 0, "add": 0}

    def row(kind, i, a, j, b):
        ln = f'<td class="d-n">{i}</td>' if i else '<td class="d-n"></td>'
        rn = f'<td class="d-n">{j}</td>' if j else '<td class="d-n"></td>'
        lk = {"eq": "d-eq", "chg": "d-chg", "del": "d-del", "add": "d-none"}[kind]
        rk = {"eq": "d-eq", "chg": "d-chg", "del": "d-none", "add": "d-add"}[kind]
        rows.append(f'<tr class="d-row-{kind}">{ln}<td class="{lk}">{a}</td>{rn}<td class="{rk}">{b}</td></tr>')

    opcodes = sm.get_opcodes()
    for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            size = i2 - i1
            head = 0 if n == 0 else context
            tail = 0 if n == len(opcodes) - 1 else context
            if size > head + tail + 1:
                for k in range(head):
                    row("eq", i1 + k + 1, html.escape(old[i1 + k]), j1 + k + 1, html.escape(new[j1 + k]))
                hidden = size - head - tail
                rows.append(
                    f'<tr class="d-fold"><td colspan="4">&#8943; {hidden} identical lines '
                    f"({i1 + head + 1}&ndash;{i2 - tail} on the left) &#8943;</td></tr>"
                )
                for k in range(size - tail, size):
                    row("eq", i1 + k + 1, html.escape(old[i1 + k]), j1 + k + 1, html.escape(new[j1 + k]))
            else:
                for k in range(size):
                    row("eq", i1 + k + 1, html.escape(old[i1 + k]), j1 + k + 1, html.escape(new[j1 + k]))
            continue
        pairs = list(zip_longest(range(i1, i2), range(j1, j2)))
        for i, j in pairs:
            if i is not None and j is not None:
                a, b = _intraline(old[i], new[j])
                row("chg", i + 1, a, j + 1, b)
                counts["chg"] += 1
            elif i is not None:
                row("del", i + 1, html.escape(old[i]), None, "")
                counts["del"] += 1
            else:
                row("add", None, "", j + 1, html.escape(new[j]))
                counts["add"] += 1
    summary = (
        f'<p class="d-summary"><span class="d-key d-chg">{counts["chg"]} changed</span> '
        f'<span class="d-key d-del">{counts["del"]} only in {html.escape(os.path.basename(old_name))}</span> '
        f'<span class="d-key d-add">{counts["add"]} only in {html.escape(os.path.basename(new_name))}</span></p>'
    )
    head = (
        f'<thead><tr><th colspan="2">{html.escape(old_name)}</th>'
        f'<th colspan="2">{html.escape(new_name)}</th></tr></thead>'
    )
    return (
        f'<div class="rosetta-diff">{summary}<div class="d-scroll"><table class="d-table">'
        f'<colgroup><col class="d-ncol"><col><col class="d-ncol"><col></colgroup>'
        f"{head}<tbody>{''.join(rows)}</tbody></table></div></div>"
    )


class AlgoDiffDirective(Directive):
    """A side-by-side diff of two files, computed at build time."""

    required_arguments = 2
    option_spec = {"optional": directives.flag}

    def run(self):
        env = self.state.document.settings.env
        old, new = (_resolve_diff_file(a) for a in self.arguments)
        missing = [p for p in (old, new) if not _exists(p)]
        if missing:
            if "optional" in self.options:
                return []
            return [self.state.document.reporter.warning(
                f"algo-diff: no such file {missing[0]}", line=self.lineno)]
        for p in (old, new):
            env.note_dependency(os.path.join(ROOT, p))
        _read.cache_clear()
        table = diff_table(old, _read(old).splitlines(), new, _read(new).splitlines())
        return [_html(table)]


class TwinDiffsDirective(Directive):
    """One section per algorithm that has a JAX twin: the diff from its PyTorch file.

    The directive's content gives each section its paragraph, one per algorithm, as
    ``algo: text`` (the text may run on over indented lines).
    """

    has_content = True

    def notes(self) -> dict:
        notes, algo = {}, None
        for line in self.content:
            head, sep, rest = line.partition(":")
            if sep and head.strip() in ALGOS and not line.startswith(" "):
                algo = head.strip()
                notes[algo] = rest.strip()
            elif algo is not None and line.strip():
                notes[algo] += " " + line.strip()
        return notes

    def run(self):
        env = self.state.document.settings.env
        notes = self.notes()
        rst = []
        have = [a for a in ALGOS if _exists(algo_path("jax", a)) and _exists(algo_path("pytorch", a))]
        for algo in ALGOS:
            if _exists(algo_path("pytorch", algo)):
                # rebuild this page when a twin appears or goes
                env.note_dependency(os.path.join(ROOT, "spinup", "algos", "jax", algo))
        if not have:
            rst = ["This build holds no JAX files, so there are no framework diffs to show."]
        for algo in have:
            title = f"{algo.upper()}: PyTorch to JAX"
            rst += [
                title,
                "-" * len(title),
                "",
                *([notes[algo], ""] if algo in notes else []),
                f".. algo-diff:: pytorch:{algo} jax:{algo}",
                "",
            ]
        node = nodes.container()
        nested_parse_with_titles(self.state, StringList(rst, source="rosetta"), node)
        return node.children


def setup(app):
    app.add_directive("pseudocode", PseudocodeDirective)
    app.add_directive("implementation", ImplementationDirective)
    app.add_directive("algo-diff", AlgoDiffDirective)
    app.add_directive("twin-diffs", TwinDiffsDirective)
    app.add_css_file("rosetta.css")
    app.add_js_file("rosetta.js")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
