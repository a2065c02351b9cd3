import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas import Article, SourcesFileError, load_sources
from schemas.article import article_id, content_sha256

TEXT = " ".join(["word"] * 40)


def article(**changes):
    fields = {
        "id": article_id("https://news.test/a"),
        "url": "https://news.test/a?utm_source=x",
        "canonical_url": "https://news.test/a",
        "source": "News",
        "title": "A title",
        "text": TEXT,
        "authors": ["Jane Doe"],
        "published_at": datetime(2024, 4, 26, 9, 0, tzinfo=UTC),
        "language": "en",
        "fetched_at": datetime(2024, 4, 27, tzinfo=UTC),
        "content_sha256": content_sha256(TEXT),
        "extractor": {"name": "trafilatura", "version": "2.3.1"},
    }
    fields.update(changes)
    return fields


def test_valid_article_round_trips_through_json():
    a = Article.model_validate(article())
    assert Article.model_validate_json(a.model_dump_json()) == a
    assert a.schema_version == 2


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"text": "", "content_sha256": content_sha256("")}, "text", "0 words"),
        ({"text": "Too short to be news.", "content_sha256": content_sha256("Too short to be news.")}, "text", "5 words"),
        ({"url": "ftp://news.test/a"}, "url", "http or https"),
        ({"url": "javascript:alert(1)"}, "url", "http or https"),
        ({"canonical_url": "/relative/path"}, "canonical_url", "http or https"),
        ({"published_at": datetime(2024, 4, 26, 9, 0)}, "published_at", "timezone"),
        ({"fetched_at": datetime(2024, 4, 26, 9, 0)}, "fetched_at", "timezone"),
        ({"surprise": 1}, "surprise", "Extra inputs are not permitted"),
        ({"id": "0" * 32}, "record", "id is not article_id"),
        ({"content_sha256": "0" * 64}, "record", "content_sha256 does not match"),
        ({"authors": ["  "]}, "authors", "blank name"),
        ({"language": "English!"}, "language", "pattern"),
    ],
)
def test_invalid_articles_name_the_field(changes, field, message):
    with pytest.raises(ValidationError) as info:
        Article.model_validate(article(**changes))
    errors = info.value.errors()
    locs = [".".join(str(p) for p in e["loc"]) or "record" for e in errors]
    assert field in locs
    assert any(message in e["msg"] for e in errors)


def test_published_at_may_be_unknown():
    assert Article.model_validate(article(published_at=None)).published_at is None


def test_schema_command_prints_the_json_schema():
    out = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "schema"], check=True, capture_output=True, text=True
    ).stdout
    schema = json.loads(out)
    assert schema["title"] == "Article"
    assert schema["additionalProperties"] is False
    assert {"id", "url", "canonical_url", "source", "text", "fetched_at", "content_sha256", "extractor"} <= set(
        schema["required"]
    )


def test_sources_file_loads(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text('[[sources]]\nname = "A"\nfeeds = ["http://a.test/rss"]\n')
    assert load_sources(path).sources[0].name == "A"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[[sources]\nname=", "invalid TOML"),
        ('[[sources]]\nname = "A"\n', "neither feeds nor sitemaps"),
        ('[[sources]]\nname = "A"\nfeeds = ["ftp://a.test/rss"]\n', "sources.0.feeds.0"),
        ('[[sources]]\nname = "A"\nfeeds = ["http://a.test/rss"]\nfeeed = 1\n', "sources.0.feeed: Extra inputs"),
        (
            '[[sources]]\nname = "A"\nfeeds = ["http://a.test/rss"]\n[[sources]]\nname = "A"\nfeeds = ["http://b.test/"]\n',
            "duplicate source name 'A'",
        ),
        ("", "sources: Field required"),
        ('[[sources]]\nname = "A"\nfeeds = ["http://a.test/rss"]\nallow = ["(unclosed"]\n',
         "sources.0.allow.0: Value error, bad regular expression '(unclosed': missing ), unterminated subpattern"),
        ('[[sources]]\nname = "A"\nfeeds = ["http://a.test/rss"]\n[[sources]]\nname = "a"\nfeeds = ["http://b.test/"]\n',
         "duplicate source name 'a'"),
        ('[[sources]]\nname = "A"\nrobots_sitemaps = true\n', "robots_sitemaps and autodiscover_feeds need a home URL"),
        ('[[sources]]\nname = "A"\nfeeds = ["http://a.test/rss"]\nconcurrency = 0\n', "sources.0.concurrency: Input should be greater than or equal to 1"),
        ('[[sources]]\nname = "A"\nfeeds = ["http://a.test/rss"]\nmax_age_days = "week"\n', "sources.0.max_age_days"),
        ('[[sources]]\nname = "A"\nsections = ["/news/"]\n', "sources.0.sections.0"),
    ],
)
def test_bad_sources_files_name_file_key_and_reason(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(SourcesFileError) as info:
        load_sources(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_the_default_sources_file_ships_and_loads():
    from sources import DEFAULT_SOURCES

    sources = load_sources(DEFAULT_SOURCES)
    names = [s.name for s in sources.sources]
    for outlet in ("RT", "The Hindu", "AP News", "France 24", "Kuwait News Agency", "Dawn", "Al Jazeera", "BBC News",
                   "South China Morning Post", "Xinhua", "Global Times", "Reuters"):
        assert outlet in names
    assert all(s.max_age_days == 7 for s in sources.sources)
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"sources",' in pyproject and 'sources = ["*.toml"]' in pyproject  # shipped as package data


def test_per_outlet_overrides_become_download_slots(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[sources]]\nname = "A"\nhome = "http://www.a.test/"\nfeeds = ["http://feeds.a.test/rss"]\n'
        "download_delay = 2.5\nconcurrency = 1\n"
        '[[sources]]\nname = "B"\nfeeds = ["http://b.test/rss"]\n'
    )
    assert load_sources(path).download_slots() == {
        "feeds.a.test": {"delay": 2.5, "concurrency": 1},
        "www.a.test": {"delay": 2.5, "concurrency": 1},
    }


def test_missing_sources_file(tmp_path):
    with pytest.raises(SourcesFileError, match="cannot read sources file"):
        load_sources(tmp_path / "nope.toml")
