"""``NewsWebServer``: serves a NewsWeb on 127.0.0.1, as a web server or as an HTTP proxy."""

from __future__ import annotations

import hashlib
import threading
import time
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from newsweb.site import NewsWeb


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self, send_body: bool) -> None:
        if self.path.startswith(("http://", "https://")):  # proxy mode: absolute URL
            parts = urlsplit(self.path)
            host = parts.hostname or ""
            path = parts.path or "/"
            if parts.query:
                path += f"?{parts.query}"
        else:  # web server mode: route by Host header
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
            path = self.path
        self.server.gate.wait()
        if self.server.delay:
            time.sleep(self.server.delay)
        status, headers, body = self.server.web.render(host, path)
        if status == 200:
            headers["ETag"] = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
            if self._not_modified(headers):
                status, body = 304, b""
        self.server.record((self.command, host, path, status), self.headers.get("User-Agent", ""))
        self.send_response(status)
        for name, value in headers.items():
            if status == 304 and name not in ("ETag", "Last-Modified"):
                continue
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and status != 304:
            self.wfile.write(body)

    def _not_modified(self, headers: dict[str, str]) -> bool:
        """RFC 9110 13.1: If-None-Match wins over If-Modified-Since."""
        if (tags := self.headers.get("If-None-Match")) is not None:
            return tags.strip() == "*" or headers["ETag"] in (t.strip().removeprefix("W/") for t in tags.split(","))
        since, modified = self.headers.get("If-Modified-Since"), headers.get("Last-Modified")
        if since and modified:
            try:
                return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False

    def do_GET(self) -> None:  # noqa: N802
        self._serve(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], web: NewsWeb, delay: float = 0.0) -> None:
        super().__init__(address, _Handler)
        self.web = web
        self.delay = delay
        self.gate = threading.Event()  # cleared: requests wait (NewsWebServer.pause)
        self.gate.set()
        self.requests: list[tuple[str, str, str, int]] = []
        self.user_agents: set[str] = set()
        self._lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away (a killed crawl) is not our problem

    def record(self, entry: tuple[str, str, str, int], user_agent: str) -> None:
        with self._lock:
            self.requests.append(entry)
            self.user_agents.add(user_agent)


class NewsWebServer:
    """Serve ``web`` on ``host:port`` (port 0: a free port) in a background thread.

    Every 200 response carries an ``ETag`` (and feeds, sitemaps and pages a
    ``Last-Modified``); a request whose ``If-None-Match`` / ``If-Modified-Since`` still
    holds gets ``304 Not Modified``. ``delay`` slows every response down (seconds), to
    catch a crawl midway.
    """

    def __init__(self, web: NewsWeb, host: str = "127.0.0.1", port: int = 0, *, delay: float = 0.0) -> None:
        self.web = web
        self.delay = delay
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> NewsWebServer:
        if self._server is None:
            self._server = _Server(self._address, self.web, self.delay)
            self._thread = threading.Thread(target=self._server.serve_forever, name="newsweb", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.gate.set()
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join()
            self._server = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("news web server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[tuple[str, str, str, int]]:
        """(method, host, path and query, status) of every request served so far."""
        if self._server is None:
            return []
        return list(self._server.requests)

    def pause(self) -> None:
        """Hold every request from now on until :meth:`resume` (to stop a crawl midway)."""
        if self._server is not None:
            self._server.gate.clear()

    def resume(self) -> None:
        if self._server is not None:
            self._server.gate.set()

    @property
    def user_agents(self) -> set[str]:
        """Every User-Agent header seen so far."""
        if self._server is None:
            return set()
        return set(self._server.user_agents)

    def __enter__(self) -> NewsWebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
