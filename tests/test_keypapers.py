"""The key-papers list: complete entries, no duplicates, at least 100 papers, and a page in sync."""
import importlib.util
import json
import re
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[1] / "docs" / "spinningup"


def load_generator():
    spec = importlib.util.spec_from_file_location("make_keypapers", HERE / "make_keypapers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data():
    return json.loads((HERE / "keypapers.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def papers(data):
    return list(load_generator().papers(data))


def test_at_least_100_papers(papers):
    assert len(papers) >= 100


def test_every_entry_has_every_field(papers):
    gen = load_generator()
    for p in papers:
        assert set(p) == set(gen.REQUIRED), p
        for field in ("title", "authors", "venue", "url"):
            assert isinstance(p[field], str) and p[field].strip(), (field, p)
        assert isinstance(p["algorithm"], str), p  # empty when the paper names no algorithm
        assert isinstance(p["year"], int) and 1950 <= p["year"] <= 2030, p
        assert re.match(r"https?://\S+$", p["url"]), p


def test_arxiv_links_are_abstract_pages(papers):
    for p in papers:
        if "arxiv.org" in p["url"]:
            assert re.fullmatch(r"https://arxiv\.org/abs/\d{4}\.\d{4,5}", p["url"]), p


def test_no_duplicates(papers):
    for field in ("title", "url"):
        values = [p[field].lower() for p in papers]
        dupes = {v for v in values if values.count(v) > 1}
        assert not dupes, (field, dupes)


def test_every_section_has_papers(data):
    for section in data["sections"]:
        assert section["title"] and section["groups"]
        for group in section["groups"]:
            assert group["papers"], (section["title"], group["title"])


def test_page_is_generated_from_the_data(data):
    rendered = load_generator().render(data)
    committed = (HERE / "keypapers.rst").read_text(encoding="utf-8")
    assert committed == rendered, "keypapers.rst is stale: run python docs/spinningup/make_keypapers.py"
