"""The archive's main record: one cleaned news article."""

import hashlib
import itertools
import re
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas._types import HttpUrlStr
from schemas.raw import RawRef

SCHEMA_VERSION = 2
"""2 added modified_at, site_name, description, tags, image_url and relevance (all optional:
every version-1 record is a valid version-2 record). ``raw`` (where the raw response is kept,
optional) was added later without a bump: purely additive."""

MIN_TEXT_WORDS = 25
"""Below this many words a page is not an article (teaser, stub, paywall or error page)."""

_WORD = re.compile(r"\w+")


def article_id(canonical_url: str) -> str:
    """Stable id of an article: the first 128 bits of SHA-256 of its canonical URL, in hex."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]


def content_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ExtractorInfo(BaseModel):
    """Which extractor produced the text, so it can be re-run or compared later."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)


class Article(BaseModel):
    """A news article as stored in the archive (one JSON line in an article batch)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1, 2] = SCHEMA_VERSION
    id: str = Field(pattern=r"^[0-9a-f]{32}$", description="article_id(canonical_url)")
    url: HttpUrlStr = Field(description="URL the page was fetched from (after redirects)")
    canonical_url: HttpUrlStr
    source: str = Field(min_length=1, description="Outlet name from the sources file")
    title: str | None = None
    text: str = Field(description="Cleaned article body, one paragraph per line")
    authors: list[str] = Field(default_factory=list)
    published_at: AwareDatetime | None = None
    modified_at: AwareDatetime | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    original_publisher: str | None = Field(
        default=None, description="Wire or syndication source named on the page, e.g. 'Associated Press'"
    )
    site_name: str | None = Field(default=None, description="The site's own name for itself (og:site_name)")
    description: str | None = Field(default=None, description="The page's summary (meta description / og:description)")
    tags: list[str] = Field(default_factory=list, description="Keywords, tags and categories the page declares")
    image_url: HttpUrlStr | None = Field(default=None, description="Main image (og:image / JSON-LD image)")
    relevance: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Similarity to the seed documents (topic profile), 0-1"
    )
    fetched_at: AwareDatetime
    content_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of `text` (UTF-8)")
    extractor: ExtractorInfo
    raw: RawRef | None = Field(
        default=None, description="The raw HTTP response this record was extracted from, in a WARC file of the archive"
    )

    @field_validator("text")
    @classmethod
    def _text_is_an_article(cls, text: str) -> str:
        # count up to the minimum only: every article would otherwise be tokenised in full
        words = sum(1 for _ in itertools.islice(_WORD.finditer(text), MIN_TEXT_WORDS))
        if words < MIN_TEXT_WORDS:
            raise ValueError(f"text has {words} words, fewer than the {MIN_TEXT_WORDS} an article needs")
        return text

    @field_validator("authors")
    @classmethod
    def _authors_not_blank(cls, authors: list[str]) -> list[str]:
        if any(not a.strip() for a in authors):
            raise ValueError("authors contains a blank name")
        return authors

    @model_validator(mode="after")
    def _consistent(self) -> "Article":
        if self.id != article_id(self.canonical_url):
            raise ValueError("id is not article_id(canonical_url)")
        if self.content_sha256 != content_sha256(self.text):
            raise ValueError("content_sha256 does not match text")
        return self
