"""The extract stage carries every metadata field of Extracted into the Article."""

import json
from pathlib import Path

from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from pipelines.extract import ExtractPipeline
from pipelines.validate import ValidatePipeline
from schemas import Article, FetchedPage
from tests.test_pipelines import FETCHED

FIXTURE = Path(__file__).parent / "fixtures" / "extraction" / "handmade-german-dpa"


def test_every_metadata_field_reaches_the_article():
    expected = json.loads(FIXTURE.with_suffix(".json").read_text(encoding="utf-8"))
    stats = MemoryStatsCollector(get_crawler())
    page = FetchedPage(
        url=expected["url"],
        request_url=expected["url"],
        source="Tagesblatt",
        status=200,
        content_type="text/html; charset=utf-8",
        html=FIXTURE.with_suffix(".html").read_text(encoding="utf-8"),
        fetched_at=FETCHED,
    )
    article = ValidatePipeline(stats).process_item(ExtractPipeline(stats).process_item(page))
    assert isinstance(article, Article)
    got = article.model_dump(mode="json")
    for key in ("title", "text", "authors", "language", "site_name", "description", "tags", "image_url", "original_publisher"):
        assert got[key] == expected[key], key
    assert article.published_at.isoformat() == expected["published_at"]
    assert article.modified_at.isoformat() == expected["modified_at"]
