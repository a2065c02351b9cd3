"""The ``newsarchive`` command.

    newsarchive demo [--out DIR] [--size N]      crawl the bundled local news web
    newsarchive crawl [--sources FILE | --urls FILE] --out DIR
                                                 crawl real outlets (default: sources/default.toml)
    newsarchive schema                           print the Article JSON Schema
    newsarchive newsweb [--port N] [--size N]    serve the local news web
    newsarchive topic [--seeds DIR] [URL_OR_FILE ...]   the topic profile, and scores
    newsarchive ls|stats|show|export|runs        read an archive (see ARCHIVE.md)
    newsarchive reextract [--out URI]            extract again from the archived raw pages

Exit codes: 0 the run finished and its archive was written; 1 the run failed (every
outlet failed, or the archive could not be written); 2 bad usage or configuration (the
message says which file, key or value); 3 another crawl is running on this archive;
4 the run was interrupted (SIGINT/SIGTERM) and the next run resumes it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED, EXIT_INTERRUPTED = 0, 1, 2, 3, 4
RESUMABLE = "RESUMABLE"  # in a job directory: the run stopped cleanly and can resume


def _parse_setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return key, value


def _check_archive(out: str, settings: Any = None) -> str | None:
    """A clear message if the archive location cannot be used, before anything is crawled:
    its local folder must be writable, and a remote archive (``s3://``) reachable with the
    ``AWS_*`` settings, its bucket existing and writable."""
    from archive import parse_archive_uri
    from archive.s3 import s3_options
    from archive.storage import FileStorage, open_storage

    try:
        root = parse_archive_uri(out)
        root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=root, prefix=".write-test-")
        probe.close()
        storage = open_storage(out, **s3_options(settings or {}), max_attempts=2)
        if not isinstance(storage, FileStorage):
            storage.check()
    except (ValueError, OSError) as exc:
        return f"archive {out!r} cannot be written: {exc}"
    return None


def _check_relevance(settings: Any) -> str | None:
    """A clear message if the relevance stage cannot start (seeds folder, settings)."""
    from relevance import RelevanceConfig, RelevanceConfigError

    try:
        config = RelevanceConfig.from_settings(settings)
        if config.enabled:
            config.profile()
    except RelevanceConfigError as exc:
        return f"relevance: {exc}"
    return None


def _prepare_jobdir(jobdir: Path) -> bool:
    """Keep a job directory left by a cleanly interrupted run (True: resuming); remove one
    left by a finished run or a hard kill (its disk queue cannot be trusted)."""
    import shutil

    if (jobdir / RESUMABLE).exists():
        (jobdir / RESUMABLE).unlink()
        return True
    if jobdir.exists():
        shutil.rmtree(jobdir)
    return False


def _finish_jobdir(jobdir: Path, finish_reason: str | None) -> None:
    import shutil

    if finish_reason == "shutdown" and jobdir.exists():
        (jobdir / RESUMABLE).write_text("interrupted by a signal; the next run resumes it\n", encoding="utf-8")
    elif jobdir.exists():
        shutil.rmtree(jobdir)


def _crawl(sources_file: str | None, out: str, overrides: dict[str, Any], *, urls: str | None = None,
           resume: bool = True) -> int:
    from archive import parse_archive_uri
    from archive.writer import STATE
    from crawler.lock import LOCK_FILE, CrawlLock, CrawlLocked
    from crawler.report import RunSummary
    from crawler.runner import crawl_settings, run_crawl
    from crawler.spiders.news import read_url_list
    from schemas import SourcesFileError, load_sources

    try:
        sources = load_sources(sources_file) if sources_file else None
        if urls:
            read_url_list(urls)
    except SourcesFileError as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return EXIT_USAGE
    settings = crawl_settings(out, overrides)
    if problem := _check_relevance(settings) or _check_archive(out, settings):
        print(f"newsarchive: {problem}", file=sys.stderr)
        return EXIT_USAGE
    state = parse_archive_uri(out) / STATE
    lock = CrawlLock(state / LOCK_FILE)
    try:
        lock.acquire()
    except CrawlLocked as exc:
        print(f"newsarchive: not crawling {out}: {exc}; exiting (code {EXIT_LOCKED})", file=sys.stderr)
        return EXIT_LOCKED
    try:
        overrides = dict(overrides)
        jobdir = None
        if resume and "JOBDIR" not in overrides:
            jobdir = state / "job"
            if _prepare_jobdir(jobdir):
                print(f"Resuming the interrupted run kept in {jobdir}")
            overrides["JOBDIR"] = str(jobdir)
        spider_args = {"sources": sources_file} if sources_file else {}
        if urls:
            spider_args["urls"] = urls
        stats = run_crawl(crawl_settings(out, overrides), **spider_args)
        if jobdir is not None:
            _finish_jobdir(jobdir, stats.get("finish_reason"))
    finally:
        lock.release()
    names = [s.name for s in sources.sources] if sources and not urls else []
    summary = RunSummary(stats, sources=names)
    print(summary.format())
    status = stats.get("report/status")
    if status == "interrupted":
        print(f"Interrupted: the next run resumes it (exit code {EXIT_INTERRUPTED}).")
        return EXIT_INTERRUPTED
    if status is None:  # no report: judge from the stats
        return EXIT_OK if summary.ok else EXIT_FAILED
    return EXIT_OK if status == "ok" else EXIT_FAILED


def cmd_crawl(args: argparse.Namespace) -> int:
    from sources import DEFAULT_SOURCES

    sources = args.sources or (None if args.urls else str(DEFAULT_SOURCES))
    return _crawl(sources, args.out, dict(args.set), urls=args.urls, resume=not args.no_resume)


def cmd_demo(args: argparse.Namespace) -> int:
    from newsweb import NewsWeb, NewsWebServer

    web = NewsWeb(size=args.size)
    print(f"Local news web: {len(web.outlets)} outlets, {len(web.articles)} article pages; archive: {args.out}")
    with tempfile.TemporaryDirectory(prefix="newsarchive-demo-") as tmp, NewsWebServer(web) as server:
        sources = Path(tmp) / "sources.toml"
        sources.write_text(web.sources_toml(), encoding="utf-8")
        overrides: dict[str, Any] = {
            "PROXY_URL": server.url,
            # the local web is ours: no need to be gentle with it
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
            **dict(args.set),
        }
        return _crawl(str(sources), args.out, overrides)


def cmd_schema(args: argparse.Namespace) -> int:
    from schemas import Article

    print(json.dumps(Article.model_json_schema(), indent=2))
    return EXIT_OK


def cmd_newsweb(args: argparse.Namespace) -> int:
    from newsweb.__main__ import main as newsweb_main

    argv = ["--port", str(args.port), "--size", str(args.size)]
    if args.faults:
        argv.append("--faults")
    if args.write_sources:
        argv += ["--write-sources", args.write_sources]
    return newsweb_main(argv)


def cmd_topic(args: argparse.Namespace) -> int:
    from relevance import RelevanceConfig, RelevanceConfigError
    from relevance.documents import DocumentError, read_document
    from seeds import SEEDS_DIR

    try:
        config = RelevanceConfig.from_settings(
            {"RELEVANCE_SEEDS_DIR": args.seeds or SEEDS_DIR, "RELEVANCE_THRESHOLD": args.threshold}
        )
        profile = config.profile()
    except RelevanceConfigError as exc:
        print(f"newsarchive: relevance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"Topic profile from {len(profile.seeds)} seeds in {profile.seeds_dir}")
    for seed in profile.seeds:
        loo = profile.leave_one_out.get(seed.name)
        print(f"  {seed.name}" + (f"  (scored by the other seeds: {loo:.3f})" if loo is not None else ""))
    print(f"threshold: {profile.threshold:.3f} ({profile.threshold_rule})")
    print("top terms:   " + ", ".join(f"{f} {w:.3f}" for f, w in profile.top(args.top)))
    print("top phrases: " + ", ".join(f"{f} {w:.3f}" for f, w in profile.top(args.top, phrases=True)))
    failed = 0
    for where in args.documents:
        try:
            doc = read_document(where, proxy=args.proxy)
        except DocumentError as exc:
            print(f"newsarchive: {exc}", file=sys.stderr)
            failed += 1
            continue
        score = profile.score(doc.scored_text)
        verdict = "keep" if profile.is_relevant(score) else "reject"
        print(f"\n{score:.3f}  {verdict:<6}  {where}" + (f"\n        title: {doc.title}" if doc.title else ""))
        if because := profile.explain(doc.scored_text):
            print("        because of: " + ", ".join(f"{f} {c:.3f}" for f, c in because))
    return EXIT_FAILED if failed else EXIT_OK
# -- reading the archive (consumer commands) --------------------------------------------------


class _UsageError(Exception):
    """Bad arguments or an unreadable archive or cursor: exit 2 with this message."""


def _when(text: str, *, end: bool = False) -> datetime:
    """A date (``YYYY-MM-DD``) or an ISO 8601 time; naive means UTC. As the end of a range,
    a bare date includes that whole day."""
    try:
        if len(text) == 10:
            day = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
            return day + timedelta(days=1) if end else day
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD) or ISO 8601 time: {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _open_archive(args: argparse.Namespace) -> Any:
    from archive import Archive

    try:
        archive = Archive.open(args.archive)
        if not archive.manifests():
            raise _UsageError(f"no archive at {args.archive!r} (no manifests/ in it)")
    except (ValueError, OSError) as exc:
        raise _UsageError(f"archive {args.archive!r} cannot be read: {exc}") from exc
    return archive


def _cursor(args: argparse.Namespace) -> Any:
    from archive import Cursor

    if not getattr(args, "cursor", None):
        return None
    try:
        return Cursor.load(args.cursor)
    except ValueError as exc:
        raise _UsageError(str(exc)) from exc


def _selected_articles(archive: Any, args: argparse.Namespace, cursor: Any = None) -> Any:
    return archive.articles(
        published_since=args.published_since,
        published_until=args.published_until,
        fetched_since=args.fetched_since,
        fetched_until=args.fetched_until,
        source=args.source or None,
        language=args.language,
        min_relevance=args.min_relevance,
        since_run=args.since_run,
        cursor=cursor,
    )


def _consumer(fn: Any) -> Any:
    """Run a consumer command, turning usage problems into exit code 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return int(fn(args))
        except _UsageError as exc:
            print(f"newsarchive: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except BrokenPipeError:  # `newsarchive ls | head`: the reader has had enough (no cursor saved)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_OK

    return run


def _day(when: datetime | None) -> str:
    return when.astimezone(UTC).date().isoformat() if when else "-"


@_consumer
def cmd_ls(args: argparse.Namespace) -> int:
    archive = _open_archive(args)
    cursor = _cursor(args)
    out = sys.stdout
    for a in _selected_articles(archive, args, cursor):
        relevance = f"{a.relevance:.3f}" if a.relevance is not None else "-"
        title = (a.title or "").replace("\t", " ").replace("\n", " ")
        fields = (a.id, _day(a.fetched_at), _day(a.published_at), a.source, a.language or "-", relevance, title)
        out.write("\t".join(fields) + "\n")
    out.flush()
    if cursor:
        cursor.save()
    return EXIT_OK


@_consumer
def cmd_stats(args: argparse.Namespace) -> int:
    from collections import Counter

    archive = _open_archive(args)
    by_day: Counter[str] = Counter()
    by_source: Counter[str] = Counter()
    by_both: Counter[tuple[str, str]] = Counter()
    for a in _selected_articles(archive, args):
        day = _day(a.published_at if args.by == "published" else a.fetched_at)
        by_day[day] += 1
        by_source[a.source] += 1
        by_both[(day, a.source)] += 1
    width = max([len(s) for s in by_source] + [6])
    print(f"articles: {sum(by_day.values())} in {len(archive.manifests())} runs")
    print(f"\nby day ({args.by}):")
    for day, n in sorted(by_day.items()):
        print(f"  {day}  {n:>7}")
    print("\nby outlet:")
    for source, n in sorted(by_source.items()):
        print(f"  {source:<{width}}  {n:>7}")
    print(f"\nby day ({args.by}) and outlet:")
    for (day, source), n in sorted(by_both.items()):
        print(f"  {day}  {source:<{width}}  {n:>7}")
    return EXIT_OK


@_consumer
def cmd_show(args: argparse.Namespace) -> int:
    from archive import RawNotAvailable

    archive = _open_archive(args)
    article = archive.get(args.id)
    if article is None:
        print(f"newsarchive: no article {args.id} in {args.archive}", file=sys.stderr)
        return EXIT_FAILED
    if not args.html:
        print(article.model_dump_json(indent=2))
        return EXIT_OK
    try:
        body = archive.raw(article).body
    except RawNotAvailable as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return EXIT_FAILED
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
    return EXIT_OK


@_consumer
def cmd_export(args: argparse.Namespace) -> int:
    from archive.export import write_csv, write_jsonl, write_parquet

    archive = _open_archive(args)
    cursor = _cursor(args)
    articles = _selected_articles(archive, args, cursor)
    if args.format == "parquet":
        if args.out == "-":
            raise _UsageError("--format parquet needs a file: --out FILE")
        try:
            n = write_parquet(articles, args.out)
        except RuntimeError as exc:
            raise _UsageError(str(exc)) from exc
    else:
        write = write_jsonl if args.format == "jsonl" else write_csv
        if args.out == "-":
            n = write(articles, sys.stdout)
            sys.stdout.flush()
        else:
            tmp = Path(args.out).with_name(f".{Path(args.out).name}.tmp")
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                n = write(articles, f)
            tmp.replace(args.out)
    if cursor:
        cursor.save()
    print(f"Exported {n} articles to {args.out} ({args.format})", file=sys.stderr)
    return EXIT_OK


@_consumer
def cmd_runs(args: argparse.Namespace) -> int:
    for m in _open_archive(args).manifests():
        kinds = ("articles", "sightings", "quarantine", "warc")
        records = {kind: sum(f.records for f in m.files if f.kind == kind) for kind in kinds}
        counts = " ".join(f"{kind}={n}" for kind, n in records.items())
        print(f"{m.run_id}\t{m.status}\t{m.started_at:%Y-%m-%dT%H:%M:%SZ}\tfiles={len(m.files)} {counts}")
    return EXIT_OK


@_consumer
def cmd_reextract(args: argparse.Namespace) -> int:
    from archive import parse_archive_uri
    from crawler.reextract import reextract

    archive = _open_archive(args)
    if args.out:
        try:
            same = parse_archive_uri(args.out).resolve() == parse_archive_uri(args.archive).resolve()
        except ValueError as exc:
            raise _UsageError(str(exc)) from exc
        if same:
            raise _UsageError("--out must be another archive than --archive")
        if problem := _check_archive(args.out):
            raise _UsageError(problem)
    boilerplate = None
    try:
        from archive.writer import STATE
        from extraction import SiteBoilerplate

        boilerplate = SiteBoilerplate.load(parse_archive_uri(args.archive) / STATE)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        print(f"newsarchive: warning: site boilerplate state not readable ({exc}); re-extracting without it",
              file=sys.stderr)
    report = reextract(archive, _selected_articles(archive, args), out=args.out, boilerplate=boilerplate)
    print(report.format())
    return EXIT_OK


def _reader_arguments(p: argparse.ArgumentParser, *, incremental: bool = True) -> None:
    p.add_argument("--archive", default="newsarchive-data", help="archive path or URI (default: %(default)s)")
    f = p.add_argument_group("filters (dates: YYYY-MM-DD or ISO 8601, UTC if no offset; 'until' dates include the day)")
    f.add_argument("--published-since", type=_when, metavar="WHEN")
    f.add_argument("--published-until", type=lambda t: _when(t, end=True), metavar="WHEN")
    f.add_argument("--fetched-since", type=_when, metavar="WHEN")
    f.add_argument("--fetched-until", type=lambda t: _when(t, end=True), metavar="WHEN")
    f.add_argument("--source", action="append", default=[], metavar="OUTLET", help="outlet name (repeatable)")
    f.add_argument("--language", metavar="CODE", help="e.g. en")
    f.add_argument("--min-relevance", type=float, metavar="X")
    f.add_argument("--since-run", metavar="RUN_ID", help="only runs started after this run")
    if incremental:
        f.add_argument(
            "--cursor", metavar="FILE",
            help="read only files not yet recorded in FILE, then record them (created if missing)",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsarchive", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    settings_help = "override a Scrapy setting (repeatable), e.g. -s CLOSESPIDER_PAGECOUNT=100"

    p = sub.add_parser("demo", help="crawl the bundled local news web into an archive")
    p.add_argument("--out", default="newsarchive-demo", help="archive path, file:// or s3://bucket/prefix URI (default: %(default)s)")
    p.add_argument("--size", type=int, default=40, help="off-topic articles in the local web (default: %(default)s)")
    p.add_argument("-s", "--set", type=_parse_setting, action="append", default=[], metavar="NAME=VALUE", help=settings_help)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("crawl", help="crawl the outlets of a sources file into an archive")
    p.add_argument("--sources", help="TOML sources file (default: the bundled sources/default.toml)")
    p.add_argument("--urls", metavar="FILE", help="crawl only these article URLs (one per line); "
                   "--sources, if given, names their outlets")
    p.add_argument("--out", required=True, help="archive path, file:// or s3://bucket/prefix URI")
    p.add_argument("--no-resume", action="store_true",
                   help="do not keep a job directory (<archive>/state/job) to resume an interrupted run")
    p.add_argument("-s", "--set", type=_parse_setting, action="append", default=[], metavar="NAME=VALUE", help=settings_help)
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("schema", help="print the JSON Schema of archived articles")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("newsweb", help="serve the local news web (an HTTP proxy-style server on 127.0.0.1)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--size", type=int, default=40)
    p.add_argument("--faults", action="store_true", help="add an outlet serving broken pages and feeds")
    p.add_argument("--write-sources", metavar="FILE", help="write the sources file for the spider")
    p.set_defaults(func=cmd_newsweb)

    p = sub.add_parser("topic", help="show the topic profile built from the seeds, and score pages or files")
    p.add_argument("documents", nargs="*", metavar="URL_OR_FILE", help="http(s) URL (one GET) or file (HTML or text)")
    p.add_argument("--seeds", help="seeds folder (default: the seeds shipped with newsarchive)")
    p.add_argument("--threshold", type=float, help="use this threshold instead of the one derived from the seeds")
    p.add_argument("--top", type=int, default=15, help="how many terms and phrases to show (default: %(default)s)")
    p.add_argument("--proxy", help="fetch URLs through this HTTP proxy (e.g. the local news web)")
    p.set_defaults(func=cmd_topic)
    p = sub.add_parser(
        "ls", help="list archived articles, one per line (id, fetched, published, outlet, language, relevance, title)"
    )
    _reader_arguments(p)
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser("stats", help="count archived articles by day and outlet")
    _reader_arguments(p, incremental=False)
    p.add_argument("--by", choices=["fetched", "published"], default="fetched", help="which day (default: %(default)s)")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("show", help="print one article record, or with --html the page as it was served")
    p.add_argument("id")
    p.add_argument("--archive", default="newsarchive-data", help="archive path or URI (default: %(default)s)")
    p.add_argument("--html", action="store_true", help="print the archived response body (from its WARC record)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("export", help="export articles as JSON Lines, CSV or Parquet (see ARCHIVE.md)")
    _reader_arguments(p)
    p.add_argument("--format", choices=["jsonl", "csv", "parquet"], required=True)
    p.add_argument("--out", required=True, help="output file ('-' for stdout, not for parquet)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("runs", help="list the archive's runs (manifests)")
    p.add_argument("--archive", default="newsarchive-data", help="archive path or URI (default: %(default)s)")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("reextract", help="extract again from the archived raw pages; report how many texts match")
    _reader_arguments(p, incremental=False)
    p.add_argument("--out", metavar="URI", help="also write the re-extracted articles into this (other) archive")
    p.set_defaults(func=cmd_reextract)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
