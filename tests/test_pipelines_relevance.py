"""pipelines/relevance.py: articles scored against the seeds; off-topic ones dropped and listed."""

from datetime import UTC, datetime

import pytest
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from newsweb import seed_clean_body
from newsweb.content import offtopic_article
from pipelines.relevance import RelevancePipeline
from relevance import RelevanceConfigError, TopicProfile
from schemas import Article
from schemas.article import article_id, content_sha256
from seeds import SEEDS_DIR

FETCHED = datetime(2024, 4, 27, 8, tzinfo=UTC)


def article(url: str, title: str, text: str, source: str = "News") -> Article:
    return Article(
        id=article_id(url), url=url, canonical_url=url, source=source, title=title, text=text,
        fetched_at=FETCHED, content_sha256=content_sha256(text), extractor={"name": "test", "version": "1"},
    )


ON_TOPIC = article("https://news.test/xi-blinken", "Xi tells Blinken", seed_clean_body("003"))
_gen = [offtopic_article(n) for n in (1, 2, 3)]
OFF_TOPIC = [
    article(f"https://other.test/{n}", g.title, "\n".join(g.paragraphs), source=f"Other {n % 2}")
    for n, g in enumerate(_gen)
]


@pytest.fixture(scope="module")
def profile():
    return TopicProfile.from_seeds(SEEDS_DIR)


@pytest.fixture
def stats():
    return MemoryStatsCollector(get_crawler())


def test_an_on_topic_article_passes_with_its_relevance(profile, stats):
    pipeline = RelevancePipeline(profile, stats)
    pipeline.open_spider()
    item = ON_TOPIC.model_copy()
    assert pipeline.process_item(item) is item
    assert item.relevance == round(profile.score(f"{item.title}\n{item.text}"), 4)
    assert item.relevance > profile.threshold
    assert stats.get_value("relevance/kept") == 1
    assert stats.get_value("relevance/kept/by_source/News") == 1
    assert stats.get_value("relevance/threshold") == round(profile.threshold, 4)
    assert stats.get_value("relevance/seeds") == 5


def test_off_topic_articles_are_dropped_counted_and_listed(profile, stats):
    pipeline = RelevancePipeline(profile, stats, rejected_list_max=2)
    for item in OFF_TOPIC:
        with pytest.raises(DropItem, match=rf"^Off topic {item.url}: relevance 0\.\d+ < threshold 0\.\d+$"):
            pipeline.process_item(item.model_copy())
    assert stats.get_value("relevance/rejected") == 3
    assert stats.get_value("relevance/rejected/by_source/Other 0") == 2
    assert stats.get_value("relevance/rejected/by_source/Other 1") == 1
    listed = stats.get_value("relevance/rejected_items")
    assert [(r["url"], r["source"], r["title"]) for r in listed] == [
        (a.url, a.source, a.title) for a in OFF_TOPIC[:2]
    ]
    assert all(0 <= r["score"] < profile.threshold for r in listed)
    assert stats.get_value("relevance/kept") is None


def test_other_items_pass_through(profile, stats):
    marker = {"not": "ours"}
    assert RelevancePipeline(profile, stats).process_item(marker) is marker


def test_from_crawler_reads_the_settings(tmp_path):
    crawler = get_crawler(settings_dict={"RELEVANCE_THRESHOLD": "0.5"})
    pipeline = RelevancePipeline.from_crawler(crawler)
    assert pipeline.profile.threshold == 0.5
    assert pipeline.rejected_list_max == 500

    with pytest.raises(NotConfigured, match="RELEVANCE_ENABLED is off"):
        RelevancePipeline.from_crawler(get_crawler(settings_dict={"RELEVANCE_ENABLED": False}))


def test_an_empty_seeds_folder_fails_at_start_naming_it(tmp_path):
    crawler = get_crawler(settings_dict={"RELEVANCE_SEEDS_DIR": str(tmp_path)})
    with pytest.raises(RelevanceConfigError, match=f"^seeds folder {tmp_path}: has no .txt seed documents$"):
        RelevancePipeline.from_crawler(crawler)


def test_the_run_summary_lists_off_topic_articles_best_first():
    from crawler.report import RunSummary

    items = [{"url": f"http://a.test/{i}", "source": "A", "score": i / 100, "title": None} for i in range(22)]
    stats = {"finish_reason": "finished", "archive/run_id": "r", "archive/root": "/x", "news/pages": 23,
             "archive/stored": 1, "relevance/threshold": 0.219, "relevance/rejected": 25,
             "relevance/rejected_items": items}
    lines = RunSummary(stats, sources=["A"]).format().splitlines()
    start = lines.index("off topic, not stored (relevance below 0.219): 25")
    assert lines[start + 1 : start + 3] == ["  0.210  http://a.test/21", "  0.200  http://a.test/20"]
    assert lines[start + 20] == "  0.020  http://a.test/2"
    assert lines[start + 21] == "  … and 5 more"

    stats.update({"archive/stored": 0, "relevance/rejected": 1, "relevance/rejected_items": items[:1]})
    text = RunSummary(stats, sources=["A"]).format()
    assert "Nothing stored: every article found was off topic." in text
    assert "  … and" not in text
