"""The ``newsarchive`` command, run as a user runs it (a subprocess)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from archive.reader import read_articles
from extraction.scoring import score_page
from newsweb import NewsWeb, seed_clean_body
from seeds import SEEDS_DIR
from tests.test_crawl import SEED_IDS, assert_no_boilerplate


def newsarchive(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_demo_twice_stores_everything_once_and_then_says_nothing_is_new(tmp_path):
    out = tmp_path / "demo"
    first = newsarchive("demo", "--out", str(out))
    assert first.returncode == 0, first.stderr[-3000:]
    stored = int(re.search(r"articles stored: (\d+)", first.stdout).group(1))
    assert stored == len(list(read_articles(out))) == 5
    # the 40 off-topic articles are not stored, and the summary lists them with their scores
    assert re.search(r"^off topic, not stored \(relevance below 0\.\d+\): 40$", first.stdout, re.MULTILINE)
    assert len(re.findall(r"^  0\.\d{3}  http://", first.stdout, re.MULTILINE)) == 20
    assert "  … and 20 more" in first.stdout
    assert re.search(r"^RT\s+\d+\s+\d+", first.stdout, re.MULTILINE), first.stdout

    # The promise, checked on the demo's own archive: each seed story once, its
    # text the seed's clean body, no boilerplate anywhere.
    web = NewsWeb(size=40)  # the demo's default web
    seeds = {}
    for article in read_articles(out):
        assert_no_boilerplate(article.text, article.url)
        story = web.article(article.url).story
        if story.startswith("seed-"):
            assert story not in seeds, f"{story} stored twice"
            seeds[story] = article
    assert sorted(seeds) == [f"seed-{i}" for i in SEED_IDS]
    for story, article in seeds.items():
        assert score_page(article.text, seed_clean_body(story.removeprefix("seed-"))).f1 >= 0.98

    second = newsarchive("demo", "--out", str(out))
    assert second.returncode == 0, second.stderr[-3000:]
    assert "articles stored: 0;" in second.stdout
    assert "Nothing new stored: every article found was already in the archive." in second.stdout
    assert len(list(read_articles(out))) == stored


def test_bad_sources_file_exits_2_naming_file_and_key(tmp_path):
    bad = tmp_path / "sources.toml"
    bad.write_text('[[sources]]\nname = "A"\nfeeds = ["not a url"]\n')
    proc = newsarchive("crawl", "--sources", str(bad), "--out", str(tmp_path / "a"))
    assert proc.returncode == 2
    assert f"{bad}: sources.0.feeds.0" in proc.stderr
    assert not (tmp_path / "a").exists()


def test_unwritable_archive_exits_2_before_crawling(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nname = "A"\nfeeds = ["http://a.test/rss"]\n')
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = newsarchive("crawl", "--sources", str(sources), "--out", str(blocker / "archive"))
    assert proc.returncode == 2
    assert "cannot be written" in proc.stderr


def test_unsupported_archive_scheme_exits_2(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nname = "A"\nfeeds = ["http://a.test/rss"]\n')
    proc = newsarchive("crawl", "--sources", str(sources), "--out", "gs://bucket/x")
    assert proc.returncode == 2
    assert "unsupported scheme 'gs'" in proc.stderr


def test_crawl_with_an_empty_seeds_folder_exits_2_naming_it(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nname = "A"\nfeeds = ["http://a.test/rss"]\n')
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    proc = newsarchive(
        "crawl", "--sources", str(sources), "--out", str(tmp_path / "a"), "-s", f"RELEVANCE_SEEDS_DIR={seeds}"
    )
    assert proc.returncode == 2
    assert proc.stderr == f"newsarchive: relevance: seeds folder {seeds}: has no .txt seed documents\n"
    assert not (tmp_path / "a").exists()


def test_topic_shows_the_profile_and_scores_files_and_urls(newsweb, tmp_path):
    web, server = newsweb
    on_topic = next(a for a in web.articles if a.story == "seed-002" and a.kind == "copy-edited")
    off_topic = next(a for a in web.articles if a.kind == "offtopic" and not a.disallowed)
    text = tmp_path / "story.txt"
    text.write_text(seed_clean_body("004"), encoding="utf-8")
    html = tmp_path / "page.html"
    html.write_bytes(web.render(urlsplit(off_topic.url).hostname, urlsplit(off_topic.url).path)[2])

    proc = newsarchive("topic", "--proxy", server.url, str(text), str(html), on_topic.url, off_topic.url)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith(f"Topic profile from 5 seeds in {SEEDS_DIR}\n")
    assert re.search(r"^threshold: 0\.\d{3} \(0\.5 x the median leave-one-out seed score \(0\.\d{3}\)\)$", out, re.M)
    assert re.search(r"^top terms:   blinken 0\.\d{3}, ", out, re.M)
    assert re.search(r"^top phrases: antony blinken 0\.\d{3}, ", out, re.M)
    verdicts = re.findall(r"^(0\.\d{3})  (keep|reject)\s+(\S+)$", out, re.M)
    assert [(v, where) for _, v, where in verdicts] == [
        ("keep", str(text)), ("reject", str(html)), ("keep", on_topic.url), ("reject", off_topic.url)
    ]
    assert f"        title: {on_topic.title}\n" in out
    assert re.search(r"^        because of: blinken 0\.\d{3}, ", out, re.M)


def test_topic_with_a_bad_seeds_folder_or_document(tmp_path):
    proc = newsarchive("topic", "--seeds", str(tmp_path / "none"))
    assert proc.returncode == 2
    assert proc.stderr == f"newsarchive: relevance: seeds folder {tmp_path / 'none'}: does not exist\n"
    proc = newsarchive("topic", str(tmp_path / "missing.html"))
    assert proc.returncode == 1
    assert proc.stderr == f"newsarchive: {tmp_path / 'missing.html'}: cannot be read: No such file or directory\n"
