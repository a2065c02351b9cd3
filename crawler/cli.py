"""The ``newsarchive`` command.

    newsarchive demo [--out DIR] [--size N]      crawl the bundled local news web
    newsarchive crawl [--sources FILE | --urls FILE] --out DIR
                                                 crawl real outlets (default: sources/default.toml)
    newsarchive schema                           print the Article JSON Schema
    newsarchive newsweb [--port N] [--size N]    serve the local news web

Exit codes: 0 the run finished and its archive was written; 1 the run failed (every
outlet failed, or the archive could not be written); 2 bad usage or configuration (the
message says which file, key or value); 3 another crawl is running on this archive;
4 the run was interrupted (SIGINT/SIGTERM) and the next run resumes it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED, EXIT_INTERRUPTED = 0, 1, 2, 3, 4
RESUMABLE = "RESUMABLE"  # in a job directory: the run stopped cleanly and can resume


def _parse_setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return key, value


def _check_archive(out: str) -> str | None:
    """A clear message if the archive location cannot be used, before anything is crawled."""
    from archive import parse_archive_uri

    try:
        root = parse_archive_uri(out)
        root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=root, prefix=".write-test-")
        probe.close()
    except (ValueError, OSError) as exc:
        return f"archive {out!r} cannot be written: {exc}"
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
    if problem := _check_archive(out):
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsarchive", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    settings_help = "override a Scrapy setting (repeatable), e.g. -s CLOSESPIDER_PAGECOUNT=100"

    p = sub.add_parser("demo", help="crawl the bundled local news web into an archive")
    p.add_argument("--out", default="newsarchive-demo", help="archive path or file:// URI (default: %(default)s)")
    p.add_argument("--size", type=int, default=40, help="off-topic articles in the local web (default: %(default)s)")
    p.add_argument("-s", "--set", type=_parse_setting, action="append", default=[], metavar="NAME=VALUE", help=settings_help)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("crawl", help="crawl the outlets of a sources file into an archive")
    p.add_argument("--sources", help="TOML sources file (default: the bundled sources/default.toml)")
    p.add_argument("--urls", metavar="FILE", help="crawl only these article URLs (one per line); "
                   "--sources, if given, names their outlets")
    p.add_argument("--out", required=True, help="archive path or file:// URI")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
