"""Stored pages of every template with their expected output: one test over all of them."""

import dataclasses
import json
from datetime import datetime
from pathlib import Path

import pytest

from extraction import ExtractionError, Extracted, Extractor

FIXTURES = Path(__file__).parent / "fixtures" / "extraction"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.html"))


@pytest.fixture(scope="module")
def extractor():
    return Extractor()


# Every field of Extracted is checked on every fixture (text_source is how, not what).
CHECKED = [f.name for f in dataclasses.fields(Extracted) if f.name != "text_source"]
DATES = {"published_at", "modified_at"}


def test_there_is_a_fixture_for_every_template():
    # the local news web's three themes, and hand-written pages (JSON-LD only, no date,
    # several authors, other languages, wire copy)
    assert {n.split("-")[0] for n in NAMES} == {"newscms", "wordpress", "blogger", "handmade"}


def _expected(name: str) -> dict:
    expected = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    for key in DATES:
        if expected.get(key) is not None:
            expected[key] = datetime.fromisoformat(expected[key])
    return expected


@pytest.mark.parametrize("name", NAMES)
def test_extraction_matches_expected_output(extractor, name):
    expected = _expected(name)
    assert sorted(expected) == sorted(CHECKED)
    html = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
    got = extractor.extract(html, expected["url"], content_language=expected.get("content_language"))
    assert {k: getattr(got, k) for k in CHECKED} == expected
    for key in DATES:
        value = getattr(got, key)
        assert value is None or value.tzinfo is not None


def test_fixtures_cover_every_metadata_case():
    """No date, several authors, JSON-LD only, non-English, wire copy, every field filled."""
    fixtures = [_expected(n) for n in NAMES]
    assert any(f["published_at"] is None for f in fixtures)
    assert any(len(f["authors"]) >= 3 for f in fixtures)
    assert {f["language"] for f in fixtures} >= {"en", "de", "fr"}
    assert len({f["original_publisher"] for f in fixtures if f["original_publisher"]}) >= 4
    for key in CHECKED:
        assert any(f[key] not in (None, []) for f in fixtures), f"no fixture has a value for {key}"
    assert "handmade-jsonld-only" in NAMES


@pytest.mark.parametrize(
    ("html", "authors"),
    [
        ('<meta name="author" content="By Jane Doe and John Roe">', ["Jane Doe", "John Roe"]),
        ('<meta name="author" content="Jane Doe; John Roe">', ["Jane Doe", "John Roe"]),
        ('<meta name="author" content="April">', []),
        ('<meta name="author" content="Sarah E. Needleman">', ["Sarah E. Needleman"]),
        ('<meta name="author" content="By TOM KRISHER, AP Auto Writer">', ["Tom Krisher"]),
        ('<meta name="author" content="Amy Kuperinsky | NJ Advance Media for NJ.com">', ["Amy Kuperinsky"]),
        ('<meta name="author" content="Von Anna Schmidt und Peter Müller">', ["Anna Schmidt", "Peter Müller"]),
        ('<meta name="author" content="https://www.facebook.com/someone">', []),
        ('<meta name="author" content="MARY CLARE JALONICK and ERIC TUCKER Associated Press">', ["Mary Clare Jalonick", "Eric Tucker"]),
        ('<meta name="author" content="Ilana Muhlstein, MS, RDN">', ["Ilana Muhlstein"]),
        ('<meta name="author" content="Josh">', ["Josh"]),
        ('<meta name="author" content="Analysis by Chris Cillizza">', ["Chris Cillizza"]),
        ('<meta name="author" content="Jeff Foust Monday">', ["Jeff Foust"]),
        # the site itself is not a person; its desk is a byline
        ('<meta property="og:site_name" content="CNN"><meta name="author" content="Jill Disis, CNN Business">', ["Jill Disis"]),
        ('<meta property="og:site_name" content="Ns News"><meta name="author" content="Ns News Desk">', ["Ns News Desk"]),
    ],
)
def test_authors_are_cleaned(extractor, html, authors):
    body = "<p>" + "Words of a real article body that goes on for a while. " * 8 + "</p>"
    page = f"<html><head>{html}<title>T</title></head><body><article>{body}</article></body></html>"
    assert extractor.extract(page, "http://a.test/x").authors == authors


def test_a_wire_agency_as_author_is_the_original_publisher_not_an_author(extractor):
    body = "<p>" + "Words of a real article body that goes on for a while. " * 8 + "</p>"
    page = f'<html><head><meta name="author" content="By The Associated Press"><title>T</title></head><body><article>{body}</article></body></html>'
    got = extractor.extract(page, "http://a.test/x")
    assert (got.authors, got.original_publisher) == ([], "The Associated Press")
    # ... unless the site is the agency itself
    assert extractor.extract(page, "http://apnews.test/x").original_publisher is None


def test_declared_language_loses_to_a_text_clearly_in_another_language(extractor):
    body = "".join(
        f"<p>{s}</p>"
        for s in [
            "Der Minister sagte am Montag, dass die beiden Länder sich auf eine Zusammenarbeit geeinigt hätten.",
            "Die Gespräche werden im Frühjahr fortgesetzt, was die Industrie in den Ländern sehr begrüßte.",
            "Es ist nicht klar, ob die Regierung dem Plan zustimmen wird, sagte ein Sprecher auf Nachfrage.",
        ]
    )
    page = f'<html lang="en"><head><title>T</title></head><body><article>{body}</article></body></html>'
    assert extractor.extract(page, "http://a.test/x").language == "de"


def test_no_date_gives_none_and_naive_dates_are_read_as_utc(extractor):
    body = "<article><p>" + "Words of a real article body that goes on for a while. " * 8 + "</p></article>"
    assert extractor.extract(f"<html><body>{body}</body></html>", "http://a.test/x").published_at is None
    naive = f'<html><head><meta property="article:published_time" content="2024-01-02T03:04:05"></head><body>{body}</body></html>'
    assert extractor.extract(naive, "http://a.test/x").published_at.isoformat() == "2024-01-02T03:04:05+00:00"


@pytest.mark.parametrize(
    "title", ["Bike review | MoreBikes", "MoreBikes - Bike review", "Bike review – The MoreBikes", "Bike review"]
)
def test_the_site_name_is_not_part_of_the_title(extractor, title):
    body = "<article><p>" + "Words of a real article body that goes on for a while. " * 8 + "</p></article>"
    head = f'<title>{title}</title><meta property="og:site_name" content="MoreBikes">'
    assert extractor.extract(f"<html><head>{head}</head><body>{body}</body></html>", "http://a.test/x").title == "Bike review"


def test_placeholder_dates_are_not_dates(extractor):
    body = "<article><p>" + "Words of a real article body that goes on for a while. " * 8 + "</p></article>"
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "0001-01-01T00:00:00Z"}</script>'
    assert extractor.extract(f"<html><head>{ld}</head><body>{body}</body></html>", "http://a.test/x").published_at is None


def test_canonical_on_another_site_is_ignored(extractor):
    body = "<article><p>" + "Words of a real article body that goes on for a while. " * 8 + "</p></article>"
    page = f'<html><head><link rel="canonical" href="http://elsewhere.test/y"></head><body>{body}</body></html>'
    assert extractor.extract(page, "http://www.a.test/x?utm_medium=rss&id=2#c").canonical_url == "http://www.a.test/x?id=2"


def test_malformed_metadata_is_ignored_not_fatal(extractor):
    body = "<article><p>" + "Words of a real article body that goes on for a while. " * 8 + "</p></article>"
    head = (
        '<link rel="canonical" href="http://[bad"><meta property="og:url" content="http://a.test:99999/x">'
        '<meta property="og:image" content="http://[bad/img.jpg">'
        '<meta property="article:published_time" content="9999-99-99">'
        '<meta property="article:modified_time" content="2024-13-45T99:00">'
        '<script type="application/ld+json">{"@type": {"x": 1}, "author": {"name": {"a": 1}}, "keywords": {"a": 1}}</script>'
        '<script type="application/ld+json">[{"@type": ["NewsArticle", 5], "headline": [1, 2], "author": [null, 5, "Jane Doe"],'
        ' "image": [{"url": 5}], "articleBody": {"x": 1}}]</script>'
        '<script type="application/ld+json">{not json</script>'
    )
    got = extractor.extract(f"<html><head>{head}</head><body>{body}</body></html>", "http://a.test/x")
    assert (got.canonical_url, got.authors, got.image_url, got.modified_at) == ("http://a.test/x", ["Jane Doe"], None, None)


@pytest.mark.parametrize("html", ["", "   ", b"\x00\x01\xff"])
def test_unusable_input_raises_a_clear_error(extractor, html):
    with pytest.raises(ExtractionError):
        extractor.extract(html, "http://a.test/x")


def test_extractor_and_its_result_pickle_for_worker_processes(extractor):
    import pickle

    name = "handmade-wire-reuters"
    expected = _expected(name)
    html = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
    again = pickle.loads(pickle.dumps(extractor))
    got = pickle.loads(pickle.dumps(again.extract(html, expected["url"])))
    assert got == extractor.extract(html, expected["url"])
    assert got.text_source == "precision"
