"""Stored pages of every template with their expected output: one test over all of them."""

import json
from datetime import datetime
from pathlib import Path

import pytest

from extraction import ExtractionError, Extractor

FIXTURES = Path(__file__).parent / "fixtures" / "extraction"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.html"))


@pytest.fixture(scope="module")
def extractor():
    return Extractor()


def test_there_is_a_fixture_for_every_template():
    assert {n.split("-")[0] for n in NAMES} == {"newscms", "wordpress", "blogger"}


@pytest.mark.parametrize("name", NAMES)
def test_extraction_matches_expected_output(extractor, name):
    expected = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    html = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
    got = extractor.extract(html, expected["url"])
    assert got.text == expected["text"]
    assert got.title == expected["title"]
    assert got.published_at == datetime.fromisoformat(expected["published_at"])
    assert got.language == expected["language"]
    assert got.canonical_url == expected["canonical_url"]
    assert got.original_publisher == expected["original_publisher"]


@pytest.mark.parametrize(
    ("html", "authors"),
    [
        ('<meta name="author" content="By Jane Doe and John Roe">', ["Jane Doe", "John Roe"]),
        ('<meta name="author" content="Jane Doe; John Roe">', ["Jane Doe", "John Roe"]),
        ('<meta name="author" content="April">', []),
    ],
)
def test_authors_are_cleaned(extractor, html, authors):
    body = "<p>" + "Words of a real article body that goes on for a while. " * 8 + "</p>"
    page = f"<html><head>{html}<title>T</title></head><body><article>{body}</article></body></html>"
    assert extractor.extract(page, "http://a.test/x").authors == authors


def test_no_date_gives_none_and_naive_dates_are_read_as_utc(extractor):
    body = "<article><p>" + "Words of a real article body that goes on for a while. " * 8 + "</p></article>"
    assert extractor.extract(f"<html><body>{body}</body></html>", "http://a.test/x").published_at is None
    naive = f'<html><head><meta property="article:published_time" content="2024-01-02T03:04:05"></head><body>{body}</body></html>'
    assert extractor.extract(naive, "http://a.test/x").published_at.isoformat() == "2024-01-02T03:04:05+00:00"


def test_canonical_on_another_site_is_ignored(extractor):
    body = "<article><p>" + "Words of a real article body that goes on for a while. " * 8 + "</p></article>"
    page = f'<html><head><link rel="canonical" href="http://elsewhere.test/y"></head><body>{body}</body></html>'
    assert extractor.extract(page, "http://www.a.test/x?utm_medium=rss&id=2#c").canonical_url == "http://www.a.test/x?id=2"


@pytest.mark.parametrize("html", ["", "   ", b"\x00\x01\xff"])
def test_unusable_input_raises_a_clear_error(extractor, html):
    with pytest.raises(ExtractionError):
        extractor.extract(html, "http://a.test/x")
