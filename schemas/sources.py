"""The sources file: which outlets to crawl, and how each one's articles are discovered.

A TOML file with one ``[[sources]]`` table per outlet::

    [[sources]]
    name = "RT"                                  # unique; becomes Article.source
    home = "https://www.rt.com/"                 # home page: robots.txt sitemaps, <link rel="alternate"> feeds
    feeds = ["https://www.rt.com/rss/news/"]     # RSS 2.0, Atom or JSON Feed
    sitemaps = ["https://www.rt.com/sitemap.xml"]  # sitemaps or sitemap indexes (gzip or not, Google News too)
    sections = ["https://www.rt.com/news/"]      # pages whose article links are followed
    section_depth = 2                            # how many pagination steps below a section page
    robots_sitemaps = true                       # read the Sitemap: lines of <home>/robots.txt
    autodiscover_feeds = true                    # read the feeds the home page links to
    allow = ['/news/\\d+-']                      # article URLs must match one of these (if any)
    deny = ['/video/']                           # article URLs matching one of these are skipped
    max_age_days = 30                            # skip entries dated older than this
    download_delay = 1.0                         # per-outlet Scrapy overrides, for the outlet's hosts
    concurrency = 2

Every problem (unknown key, bad URL, bad regular expression, duplicate outlet, an outlet
with nothing to crawl) is reported at load time with the file, the key and the reason.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas._types import HttpUrlStr

class SourcesFileError(ValueError):
    """A sources file that cannot be used; the message names the file, the key and why."""


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regular expression {value!r}: {exc}") from None
    return value


RegexStr = Annotated[str, AfterValidator(_check_regex)]


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    home: HttpUrlStr | None = None
    feeds: list[HttpUrlStr] = Field(default_factory=list)
    sitemaps: list[HttpUrlStr] = Field(default_factory=list)
    sections: list[HttpUrlStr] = Field(default_factory=list)
    section_depth: int = Field(default=1, ge=0, le=10)
    robots_sitemaps: bool = False
    autodiscover_feeds: bool = False
    allow: list[RegexStr] = Field(default_factory=list)
    deny: list[RegexStr] = Field(default_factory=list)
    max_age_days: float | None = Field(default=None, gt=0)
    download_delay: float | None = Field(default=None, ge=0)
    concurrency: int | None = Field(default=None, ge=1, le=64)

    @model_validator(mode="after")
    def _something_to_crawl(self) -> Source:
        if (self.robots_sitemaps or self.autodiscover_feeds) and not self.home:
            raise ValueError(f"source {self.name!r}: robots_sitemaps and autodiscover_feeds need a home URL")
        if not (self.feeds or self.sitemaps or self.sections or self.robots_sitemaps or self.autodiscover_feeds):
            raise ValueError(
                f"source {self.name!r} has neither feeds nor sitemaps nor sections "
                "(nor robots_sitemaps / autodiscover_feeds with a home URL)"
            )
        return self

    def hosts(self) -> list[str]:
        """Every host named by this source's URLs (where its per-outlet overrides apply)."""
        urls = [self.home or "", *self.feeds, *self.sitemaps, *self.sections]
        return sorted({h for h in (urlsplit(u).hostname for u in urls if u) if h})

    def is_wanted(self, url: str) -> bool:
        """Whether an article URL passes this source's allow/deny patterns."""
        if any(re.search(p, url) for p in self.deny):
            return False
        return not self.allow or any(re.search(p, url) for p in self.allow)


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[Source] = Field(min_length=1)

    @field_validator("sources")
    @classmethod
    def _unique(cls, sources: list[Source]) -> list[Source]:
        seen: set[str] = set()
        for s in sources:
            if s.name.casefold() in seen:
                raise ValueError(f"duplicate source name {s.name!r}")
            seen.add(s.name.casefold())
        return sources

    def download_slots(self) -> dict[str, dict[str, float | int]]:
        """``DOWNLOAD_SLOTS`` entries (per host) for the per-outlet overrides."""
        slots: dict[str, dict[str, float | int]] = {}
        for s in self.sources:
            overrides: dict[str, float | int] = {}
            if s.download_delay is not None:
                overrides["delay"] = s.download_delay
            if s.concurrency is not None:
                overrides["concurrency"] = s.concurrency
            if overrides:
                for host in s.hosts():
                    slots.setdefault(host, {}).update(overrides)
        return slots


def load_sources(path: str | Path) -> SourcesFile:
    """Read and validate a TOML sources file, raising :class:`SourcesFileError` on any problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourcesFileError(f"{path}: cannot read sources file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SourcesFileError(f"{path}: not UTF-8 text: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SourcesFileError(f"{path}: invalid TOML: {exc}") from exc
    try:
        return SourcesFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise SourcesFileError(f"{path}: {problems}") from exc
