"""Sphinx configuration for the Spinning Up documentation site.

Build with ``make docs`` (``sphinx-build -W --keep-going -b html docs docs/_build/html``).

Two things here are unusual:

* MathJax is served from ``_static/mathjax`` inside the built site, so equations render with no
  network connection when the pages are viewed.
* A page that documents code which is not in the repository yet (an algorithm still being written)
  is left out of the build, dropped from every toctree, and links to it become plain text. The page
  joins the site by itself once the file it needs exists, so a half-finished tree never breaks
  ``-W``. ``PAGE_NEEDS`` lists what each such page needs.
"""

from __future__ import annotations

import os
import re
import sys

DOCS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(DOCS)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(DOCS, "_ext"))

# -- Project ----------------------------------------------------------------------------------

project = "Spinning Up"
author = "the Spinning Up authors"
copyright = "2025, the Spinning Up authors"
try:
    from importlib.metadata import version as _dist_version

    release = _dist_version("spinup")
except Exception:  # the docs also build from a checkout that was never pip-installed
    release = "1.0.0"
version = release

# -- Extensions -------------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_design",  # framework tabs (PyTorch | JAX) whose choice is remembered across pages
    "rosetta",  # _ext/rosetta.py: pseudocode linked to code, the implementation in tabs, diffs
]

autodoc_member_order = "bysource"
# Show defaults as written in the source (core.MLPActorCritic, dict()) rather than their reprs.
autodoc_preserve_defaults = True
autodoc_typehints = "description"
autodoc_default_options = {"undoc-members": False, "show-inheritance": False}
# mpi4py is optional; the utilities import it lazily, so nothing needs mocking, but keep autodoc
# working on a machine without the extra.
autodoc_mock_imports = ["mpi4py"]
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# -- Math: MathJax 3 from the built site, never from a CDN -------------------------------------

# A relative mathjax_path is resolved against _static/ of the built site. The file is the
# "full" TeX bundle (every TeX extension built in), so nothing else is fetched at view time
# except the fonts beside it.
mathjax_path = "mathjax/tex-chtml-full.js"
mathjax3_config = {
    "tex": {
        "macros": {
            "E": ["{\\mathop{\\mathbb{E}}}", 0],
        },
    },
}

# -- HTML -------------------------------------------------------------------------------------

html_theme = "furo"
html_title = "Spinning Up"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
pygments_style = "default"
pygments_dark_style = "monokai"

templates_path: list[str] = []
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**/README.md"]
nitpicky = False

# -- Pages that wait for their code -------------------------------------------------------------

PAGE_NEEDS = {
    "algorithms/vpg": ["spinup/algos/pytorch/vpg/vpg.py"],
    "algorithms/trpo": ["spinup/algos/pytorch/trpo/trpo.py"],
    "algorithms/ppo": ["spinup/algos/pytorch/ppo/ppo.py"],
    "algorithms/ddpg": ["spinup/algos/pytorch/ddpg/ddpg.py"],
    "algorithms/td3": ["spinup/algos/pytorch/td3/td3.py"],
    "algorithms/sac": ["spinup/algos/pytorch/sac/sac.py"],
    "algorithms/dqn": ["spinup/algos/pytorch/dqn/dqn.py"],
    "utils/logger": ["spinup/utils/logx.py"],
    "utils/plotter": ["spinup/utils/plot.py"],
    "utils/mpi": ["spinup/utils/mpi_tools.py", "spinup/utils/mpi_pytorch.py"],
    "utils/run_utils": [
        "spinup/utils/run_utils.py",
        "spinup/utils/envs.py",
        "spinup/utils/run_entrypoint.py",
    ],
    "utils/video": ["spinup/utils/video.py"],
    "utils/checkpoint": ["spinup/utils/checkpoint.py"],
    "utils/ray": ["spinup/utils/ray_backend.py", "spinup/utils/run_utils.py"],
    "utils/serialization": [
        "spinup/utils/serialization_utils.py",
        "spinup/utils/checks.py",
        "spinup/utils/envs.py",
    ],
    "user/saving_and_loading": ["spinup/utils/test_policy.py"],
}

# The teaching pages are written separately; each joins the "Introduction to RL" and "Resources"
# toctrees of index.rst as soon as its file exists.
TEACHING = ["rl_intro", "rl_intro2", "rl_intro3", "spinningup", "keypapers", "exercises", "bench"]
for _name in TEACHING:
    PAGE_NEEDS["spinningup/" + _name] = ["docs/spinningup/%s.rst" % _name]

WAITING = sorted(
    page for page, needs in PAGE_NEEDS.items() if not all(os.path.exists(os.path.join(ROOT, p)) for p in needs)
)
exclude_patterns += [page + ".rst" for page in WAITING]
if WAITING:
    print("[spinup docs] left out until their code lands: " + ", ".join(WAITING))


def _drop_waiting_from_toctrees(app, docname, source):
    """Remove toctree entries for pages that are left out (see PAGE_NEEDS)."""
    if not WAITING:
        return
    lines = source[0].split("\n")
    kept = [ln for ln in lines if not re.fullmatch(r"\s+(%s)\s*" % "|".join(map(re.escape, WAITING)), ln)]
    source[0] = "\n".join(kept)


def _waiting_ref_as_text(app, env, node, contnode):
    """A :doc: link to a left-out page becomes its plain text instead of a broken-link warning."""
    if node.get("reftype") != "doc":
        return None
    import posixpath

    target = node["reftarget"]
    if not target.startswith("/"):
        target = posixpath.join(posixpath.dirname(node.get("refdoc", "")), target)
    target = posixpath.normpath(target).lstrip("/")
    if target in WAITING:
        return contnode
    return None


# -- literalinclude :pyobject: for functions nested inside the algorithm function ------------------

# The algorithm files define their losses and update() inside the algorithm function, where they
# read like the pseudocode. Sphinx's :pyobject: only finds top-level names and methods, so a
# dotted name it does not know (``ppo.compute_loss_pi``) is looked up here by walking the syntax
# tree. A name that is in neither place still fails the build, so a renamed function is noticed.


def _find_nested(source: str, dotted: str):
    import ast

    node = ast.parse(source)
    for part in dotted.split("."):
        body = getattr(node, "body", [])
        matches = [
            n
            for n in body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == part
        ]
        if not matches:
            return None
        node = matches[0]
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return first, node.end_lineno


def _patch_literalinclude():
    from sphinx.directives.code import LiteralIncludeReader

    original = LiteralIncludeReader.pyobject_filter

    def pyobject_filter(self, lines, location=None):
        pyobject = self.options.get("pyobject")
        if pyobject and "." in pyobject:
            found = _find_nested("".join(lines), pyobject)
            if found is not None:
                start, end = found
                if "lineno-match" in self.options:
                    self.lineno_start = start
                return lines[start - 1 : end]
        return original(self, lines, location)

    LiteralIncludeReader.pyobject_filter = pyobject_filter


def setup(app):
    _patch_literalinclude()
    app.connect("source-read", _drop_waiting_from_toctrees)
    app.connect("missing-reference", _waiting_ref_as_text)
