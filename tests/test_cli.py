"""The ``newsarchive`` command, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit


from archive.reader import read_articles
from extraction.scoring import score_page
from newsweb import NewsWeb, NewsWebServer, seed_clean_body
from seeds import SEEDS_DIR
from tests.conftest import closed_port
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


def _crawl_args(server_url: str, sources: Path, out: Path) -> list[str]:
    return [
        "crawl", "--sources", str(sources), "--out", str(out), "-s", f"PROXY_URL={server_url}",
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS=1", "-s", "RETRY_TIMES=0",
        "-s", "RELEVANCE_ENABLED=False",  # every story is stored: the test counts them all
    ]


def _article_requests(server: NewsWebServer, web: NewsWeb) -> Counter:
    return Counter(f"http://{h}{p}" for _, h, p, _ in server.requests if web.article(f"http://{h}{p}"))


def _wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _assert_each_story_once(web: NewsWeb, out: Path) -> None:
    stories = Counter(web.article(a.url).story for a in read_articles(out))
    assert stories == Counter({a.story: 1 for a in web.crawlable()})


def test_two_crawls_at_once_then_a_hard_kill_and_a_stop_midway_lose_nothing_and_duplicate_nothing(tmp_path):
    web = NewsWeb(size=14)
    crawlable = {a.url for a in web.crawlable()}
    with NewsWebServer(web, delay=0.01) as server:
        sources, out = tmp_path / "sources.toml", tmp_path / "archive"
        sources.write_text(web.sources_toml(), encoding="utf-8")
        args = [sys.executable, "-m", "crawler.cli", *_crawl_args(server.url, sources, out)]

        # two crawls started at once: one runs, the other exits at once with code 3
        a, b = (subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2))
        _wait_for(lambda: a.poll() is not None or b.poll() is not None)
        loser, runner = (a, b) if a.poll() is not None else (b, a)
        _, err = loser.communicate()
        assert loser.returncode == 3, err[-2000:]
        assert f"newsarchive: not crawling {out}: another crawl holds {out}/state/crawl.lock (pid {runner.pid} since" in err

        # the running crawl is killed hard midway (SIGKILL): its job directory cannot be trusted
        _wait_for(lambda: sum(_article_requests(server, web).values()) >= 8)
        server.pause()
        runner.kill()
        runner.communicate()
        server.resume()
        assert (out / "state" / "job").exists() and not (out / "state" / "job" / "RESUMABLE").exists()
        killed_at = len(server.requests)

        # the next run starts afresh; it is stopped midway (SIGTERM, as cron's timeout does)
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for(lambda: len([r for r in server.requests[killed_at:] if web.article(f"http://{r[1]}{r[2]}")]) >= 8)
        server.pause()
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the crawl stops scheduling; what is in flight completes
        server.resume()
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 4, stderr[-3000:]
        assert "Resuming" not in stdout
        assert "Interrupted: the next run resumes it (exit code 4)." in stdout
        assert (out / "state" / "job" / "RESUMABLE").exists()
        stopped_at = len(server.requests)

        # the next run resumes it and completes
        again = newsarchive(*_crawl_args(server.url, sources, out))
        assert again.returncode == 0, again.stderr[-3000:]
        assert f"Resuming the interrupted run kept in {out}/state/job" in again.stdout
        assert not (out / "state" / "job").exists()
        # after the stop, the resumed run fetched only what the stopped run had not
        after_stop = Counter(f"http://{h}{p}" for _, h, p, _ in server.requests[stopped_at:] if f"http://{h}{p}" in crawlable)
        before_stop = Counter(f"http://{h}{p}" for _, h, p, _ in server.requests[killed_at:stopped_at] if f"http://{h}{p}" in crawlable)
        assert set(after_stop) | set(before_stop) == crawlable  # nothing missed since the hard kill...
        assert max(after_stop.values()) == 1 and not set(after_stop) & set(before_stop)  # ...nothing fetched twice
    _assert_each_story_once(web, out)  # no losses, no duplicates in the archive
    reports = [json.loads(p.read_text()) for p in sorted((out / "reports").glob("*.json"))]
    assert [r["status"] for r in reports] == ["interrupted", "ok"]  # the killed run wrote none


def test_a_run_where_every_outlet_failed_exits_1_with_a_report(tmp_path):
    # (a one-off URL list, whose only outlet cannot be reached)
    urls = tmp_path / "urls.txt"
    urls.write_text(f"http://127.0.0.1:{closed_port()}/2024/01/01/a-story-here/\n")
    out = tmp_path / "archive"
    proc = newsarchive("crawl", "--urls", str(urls), "--out", str(out), "-s", "RETRY_TIMES=0")
    assert proc.returncode == 1, proc.stderr[-3000:]
    [path] = (out / "reports").glob("*.json")
    report = json.loads(path.read_text())
    assert report["status"] == "failed" and report["problems"] == ["every outlet failed"]
    assert report["outlets"]["127.0.0.1"]["failed_reasons"] == {"connection_refused": 1}
    assert report["totals"]["discovered"] == report["totals"]["failed"] == 1
    assert f"run report: {path} (failed)" in proc.stdout


def test_crawl_uses_the_bundled_sources_file_by_default(monkeypatch):
    import crawler.cli as cli
    from sources import DEFAULT_SOURCES

    calls = []
    monkeypatch.setattr(cli, "_crawl", lambda *args, **kwargs: calls.append((args, kwargs)) or 0)
    assert cli.main(["crawl", "--out", "a"]) == 0
    assert cli.main(["crawl", "--out", "a", "--urls", "u.txt", "--no-resume"]) == 0
    assert calls == [
        ((str(DEFAULT_SOURCES), "a", {}), {"urls": None, "resume": True}),
        ((None, "a", {}), {"urls": "u.txt", "resume": False}),
    ]
    assert DEFAULT_SOURCES.is_file()
