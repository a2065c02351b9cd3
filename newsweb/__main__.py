"""``python -m newsweb``: serve the local news web until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from newsweb import NewsWeb, NewsWebServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsweb", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--size", type=int, default=40, help="number of off-topic articles")
    parser.add_argument("--faults", action="store_true", help="add an outlet with broken pages and feeds")
    parser.add_argument("--write-sources", metavar="FILE", help="write the spider's sources file here")
    args = parser.parse_args(argv)

    web = NewsWeb(size=args.size, faults=args.faults)
    if args.write_sources:
        Path(args.write_sources).write_text(web.sources_toml(), encoding="utf-8")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with NewsWebServer(web, port=args.port) as server:
        print(f"newsweb listening on {server.url} (use it as the HTTP proxy: -s PROXY_URL={server.url})", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
