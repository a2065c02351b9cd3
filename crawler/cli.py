"""The ``newsarchive`` command.

    newsarchive demo [--out DIR] [--size N]      crawl the bundled local news web
    newsarchive crawl --sources FILE --out DIR   crawl real outlets
    newsarchive schema                           print the Article JSON Schema
    newsarchive newsweb [--port N] [--size N]    serve the local news web
    newsarchive topic [--seeds DIR] [URL_OR_FILE ...]   the topic profile, and scores

Exit codes: 0 the run finished and its archive was written; 1 the run failed;
2 bad usage or configuration (the message says which file, key or value).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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


def _crawl(sources_file: str, out: str, overrides: dict[str, Any]) -> int:
    from crawler.report import RunSummary
    from crawler.runner import crawl_settings, run_crawl
    from schemas import SourcesFileError, load_sources

    try:
        sources = load_sources(sources_file)
    except SourcesFileError as exc:
        print(f"newsarchive: {exc}", file=sys.stderr)
        return EXIT_USAGE
    settings = crawl_settings(out, overrides)
    if problem := _check_relevance(settings) or _check_archive(out):
        print(f"newsarchive: {problem}", file=sys.stderr)
        return EXIT_USAGE
    stats = run_crawl(settings, sources=sources_file)
    summary = RunSummary(stats, sources=[s.name for s in sources.sources])
    print(summary.format())
    return EXIT_OK if summary.ok else EXIT_FAILED


def cmd_crawl(args: argparse.Namespace) -> int:
    return _crawl(args.sources, args.out, dict(args.set))


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
    p.add_argument("--sources", required=True, help="TOML sources file")
    p.add_argument("--out", required=True, help="archive path or file:// URI")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
