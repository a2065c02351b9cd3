"""The dedup stage's settings: DEDUP_NEAR_THRESHOLD decides what a near copy is; invalid
values and MinHash parameters that differ from the archive index's are clear errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from archive import ArchiveWriter
from archive.index import IndexMismatch, MinHasher
from pipelines.dedup import DedupPipeline
from schemas import Article, Sighting
from schemas.article import article_id, content_sha256

SENTENCES = [
    "The regional parliament approved a new water management plan on Tuesday after months of debate over irrigation quotas.",
    "Farmers in the southern valleys had warned that the previous limits left orchards without enough water during the summer.",
    "Under the plan, quotas will be set each spring according to the level of the reservoirs and the forecast rainfall.",
    "The environment minister said the rules would protect wetlands that had shrunk by a third over the past decade.",
    "Opposition members voted against the plan, arguing that it gave too much power to the regional water agency.",
    "The agency will publish monthly reports on reservoir levels and the amount of water drawn by each district.",
    "Environmental groups welcomed the decision but said enforcement would be the real test of the new rules.",
    "The plan takes effect in March and will be reviewed by parliament after two irrigation seasons.",
]
# The same story as another outlet ran it: three sentences edited.
EDITED = {
    0: "The regional parliament approved a new water management plan on Wednesday after months of debate over irrigation quotas.",
    4: "Opposition members voted against the plan, saying that it gave too much power to the regional water agency.",
    7: "The plan takes effect in April and will be reviewed by parliament after two irrigation seasons.",
}
ORIGINAL_TEXT = "\n".join(SENTENCES)
NEAR_TEXT = "\n".join(EDITED.get(i, s) for i, s in enumerate(SENTENCES))
OTHER_TEXT = "\n".join(
    (
        "A storm brought down power lines across the coast overnight and left thousands of homes without electricity.",
        "Repair crews worked through the morning, and the utility said most customers would be reconnected by the evening.",
        "Schools in three towns stayed closed while fallen trees were cleared from the roads leading to them.",
    )
)


def estimated_similarity(a: str, b: str) -> float:
    """What the dedup stage estimates for two texts (default MinHash parameters)."""
    hasher = MinHasher()
    return MinHasher.similarity(hasher.packed(hasher.signature(a)), hasher.packed(hasher.signature(b)))


SIMILARITY = estimated_similarity(ORIGINAL_TEXT, NEAR_TEXT)


def make_article(url: str, text: str) -> Article:
    return Article(
        id=article_id(url),
        url=url,
        canonical_url=url,
        source="Outlet " + url.split("/")[2],
        text=text,
        fetched_at=datetime(2024, 5, 1, 12, tzinfo=UTC),
        content_sha256=content_sha256(text),
        extractor={"name": "test", "version": "1"},
    )


ORIGINAL = make_article("https://www.news.test/2024/05/water-plan", ORIGINAL_TEXT)
NEAR_COPY = make_article("https://copies.test/water-plan", NEAR_TEXT)


def dedup_from_settings(archive: Path, **settings: Any) -> DedupPipeline:
    crawler = get_crawler(settings_dict={"ARCHIVE_URI": str(archive), **settings})
    return DedupPipeline.from_crawler(crawler)


def test_the_near_copy_is_a_near_copy() -> None:
    # the edits leave a copy clearly similar yet clearly not the same text
    assert 0.6 < SIMILARITY < 0.9
    assert estimated_similarity(ORIGINAL_TEXT, OTHER_TEXT) < 0.05


def _store_in_archive(archive: Path, article: Article) -> None:
    writer = ArchiveWriter(archive, run_id="run-earlier")
    writer.open()
    writer.add(article)
    writer.close()


THRESHOLDS = [
    # (id, setting value, a sighting?)
    ("unset-default-0.5", None, True),
    ("below-similarity", SIMILARITY - 0.05, True),
    ("at-similarity", SIMILARITY, True),
    ("as-string", f"{SIMILARITY - 0.05:.4f}", True),
    ("above-similarity", SIMILARITY + 0.01, False),
    ("one", 1.0, False),
]


@pytest.mark.parametrize("stored", ["in-the-archive", "earlier-in-this-run"])
@pytest.mark.parametrize(("threshold", "sighting"), [r[1:] for r in THRESHOLDS], ids=[r[0] for r in THRESHOLDS])
def test_near_threshold_setting_decides_what_a_near_copy_is(
    tmp_path: Path, stored: str, threshold: float | str | None, sighting: bool
) -> None:
    archive = tmp_path / "archive"
    if stored == "in-the-archive":
        _store_in_archive(archive, ORIGINAL)
    settings = {} if threshold is None else {"DEDUP_NEAR_THRESHOLD": threshold}
    dedup = dedup_from_settings(archive, **settings)
    assert dedup.near_threshold == (0.5 if threshold is None else float(threshold))
    dedup.open_spider()
    try:
        if stored == "earlier-in-this-run":
            assert dedup.process_item(ORIGINAL) is ORIGINAL
        result = dedup.process_item(NEAR_COPY)
        if sighting:
            assert isinstance(result, Sighting)
            assert (result.story_id, result.match, result.similarity) == (ORIGINAL.id, "near", round(SIMILARITY, 4))
            assert dedup.stats.get_value("dedup/dropped_near") == 1
        else:
            assert result is NEAR_COPY
            assert dedup.stats.get_value("dedup/dropped_near") is None
        # the same words are a copy whatever the threshold
        exact = make_article("https://mirror.test/water-plan", ORIGINAL_TEXT.upper())
        copy = dedup.process_item(exact)
        assert isinstance(copy, Sighting)
        assert (copy.story_id, copy.match, copy.similarity) == (ORIGINAL.id, "text", 1.0)
        # and another story is new
        other = make_article("https://www.news.test/2024/05/storm", OTHER_TEXT)
        assert dedup.process_item(other) is other
    finally:
        dedup.close_spider()


@pytest.mark.parametrize("value", [0, 0.0, -0.1, 1.5, "abc", "", "nan", "1.01"])
def test_an_invalid_threshold_is_an_error_naming_the_setting(tmp_path: Path, value: object) -> None:
    with pytest.raises(ValueError, match="DEDUP_NEAR_THRESHOLD"):
        dedup_from_settings(tmp_path / "archive", DEDUP_NEAR_THRESHOLD=value)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"DEDUP_NUM_PERM": "abc"}, "DEDUP_NUM_PERM"),
        ({"DEDUP_LSH_BANDS": "many"}, "DEDUP_LSH_BANDS"),
        ({"DEDUP_LSH_BANDS": 200}, "DEDUP_LSH_BANDS"),
        ({"DEDUP_NUM_PERM": -5}, "DEDUP_NUM_PERM"),
        ({"DEDUP_SHINGLE_SIZE": 9}, "DEDUP_SHINGLE_SIZE"),
    ],
)
def test_invalid_minhash_settings_are_errors_naming_them(tmp_path: Path, settings: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        dedup_from_settings(tmp_path / "archive", **settings)


def _open_close(dedup: DedupPipeline) -> None:
    dedup.open_spider()
    dedup.close_spider()


@pytest.mark.parametrize(
    ("settings", "asked"),
    [
        ({"DEDUP_NUM_PERM": 64}, "num_perm=64, bands=32, shingle_size=5"),
        ({"DEDUP_LSH_BANDS": 16}, "num_perm=128, bands=16, shingle_size=5"),
        ({"DEDUP_NUM_PERM": 256, "DEDUP_LSH_BANDS": 64}, "num_perm=256, bands=64, shingle_size=5"),
        ({"DEDUP_SHINGLE_SIZE": 3}, "num_perm=128, bands=32, shingle_size=3"),
    ],
)
def test_minhash_settings_other_than_the_index_are_refused(tmp_path: Path, settings: dict[str, Any], asked: str) -> None:
    archive = tmp_path / "archive"
    _store_in_archive(archive, ORIGINAL)  # an index made with the defaults
    dedup = dedup_from_settings(archive, **settings)
    with pytest.raises(IndexMismatch) as caught:
        dedup.open_spider()
    message = str(caught.value)
    assert str(archive / "state" / "index.sqlite") in message
    assert "was created with num_perm=128, bands=32, shingle_size=5" in message
    assert f"the settings ask for {asked}" in message
    assert "DEDUP_NUM_PERM, DEDUP_LSH_BANDS and DEDUP_SHINGLE_SIZE" in message
    # the same values as the index's, or none, are accepted
    _open_close(dedup_from_settings(archive, DEDUP_NUM_PERM=128, DEDUP_LSH_BANDS=32, DEDUP_SHINGLE_SIZE=5))
    _open_close(dedup_from_settings(archive))


def test_an_archive_keeps_the_minhash_settings_it_was_created_with(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    first = dedup_from_settings(archive, DEDUP_NUM_PERM=64, DEDUP_LSH_BANDS=16)
    first.open_spider()
    try:
        assert first.process_item(ORIGINAL) is ORIGINAL
    finally:
        first.close_spider()
    # a new index was made with the settings; a run without them uses the stored ones
    later = dedup_from_settings(archive)
    later.open_spider()
    try:
        assert later.index.hasher == MinHasher(64, 16)
        assert later.pending.hasher == MinHasher(64, 16)
    finally:
        later.close_spider()
    with pytest.raises(IndexMismatch, match="created with num_perm=64, bands=16"):
        dedup_from_settings(archive, DEDUP_NUM_PERM=128, DEDUP_LSH_BANDS=32).open_spider()
