"""Render keypapers.json into keypapers.rst.

The list of papers is kept as data so that it can be checked (tests/test_keypapers.py) and so that
the page's layout lives in one place. After editing the JSON file, run:

    python docs/spinningup/make_keypapers.py

and commit both files. The test fails if the committed page differs from what this script writes.
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "keypapers.json"
PAGE = HERE / "keypapers.rst"
REQUIRED = ("title", "authors", "year", "venue", "url", "algorithm")

HEADER = """\
..
   This file is generated from keypapers.json by make_keypapers.py. Edit the JSON, not this file.

==========
Key Papers
==========

This is a reading list for deep RL, sorted by topic, with {count} papers. It is a map, not a ranking:
each section gathers papers that started a line of work, that turned an idea into something that
works at scale, or that taught the field something about how to evaluate its methods. Where a paper
introduced an algorithm with a common name, that name is given after the entry.

Read a paper with a question in mind. For an algorithm paper, the useful questions are usually what
quantity it estimates, what it does to keep the variance or the bias of that estimate in check, and
which of its ingredients its own ablations show to matter. For the algorithms implemented in this
package, the algorithm pages (for example :doc:`../algorithms/ppo`) list the papers they follow.
"""


def rst_escape(text: str) -> str:
    """Escape the characters that reStructuredText would read as markup inside a link title."""
    for ch in ("\\", "`", "*", "_", "|", "<", ">"):
        text = text.replace(ch, "\\" + ch)
    return text


def papers(data: dict):
    """Yield every paper in the data, in page order."""
    for section in data["sections"]:
        for group in section["groups"]:
            yield from group["papers"]


def render(data: dict) -> str:
    count = sum(1 for _ in papers(data))
    out = [HEADER.format(count=count)]
    n = 0
    for i, section in enumerate(data["sections"], start=1):
        heading = f"{i}. {section['title']}"
        out += ["", heading, "=" * len(heading)]
        for j, group in enumerate(section["groups"]):
            if group["title"]:
                sub = f"{chr(ord('a') + j)}. {group['title']}"
                out += ["", sub, "-" * len(sub)]
            out.append("")
            for p in group["papers"]:
                n += 1
                line = (f"* **[{n}]** `{rst_escape(p['title'])} <{p['url']}>`__, "
                        f"{rst_escape(p['authors'])}, {rst_escape(p['venue'])} {p['year']}.")
                if p["algorithm"]:
                    line += f" *Algorithm: {rst_escape(p['algorithm'])}.*"
                out.append(line)
    return "\n".join(out) + "\n"


def main():
    data = json.loads(DATA.read_text(encoding="utf-8"))
    PAGE.write_text(render(data), encoding="utf-8")
    print(f"wrote {PAGE} ({sum(1 for _ in papers(data))} papers)")


if __name__ == "__main__":
    main()
