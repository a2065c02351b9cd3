"""The local news web: a deterministic set of news outlets served over HTTP on 127.0.0.1,
for the demo, the tests and the benchmarks. Nothing here reaches the internet."""

from newsweb.content import seed_clean_body
from newsweb.model import Outlet, WebArticle
from newsweb.server import NewsWebServer
from newsweb.site import NewsWeb

__all__ = ["NewsWeb", "NewsWebServer", "Outlet", "WebArticle", "seed_clean_body"]
