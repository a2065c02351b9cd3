"""What the spider hands to the pipelines: one fetched page, before extraction."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from schemas._types import HttpUrlStr
from schemas.raw import HttpExchange, RawRef


class FetchedPage(BaseModel):
    """A downloaded candidate article page.

    ``html`` is the decoded body (Scrapy's encoding detection) when the response is HTML,
    and ``None`` otherwise; the extract stage quarantines non-HTML pages with the reason.
    """

    model_config = ConfigDict(extra="forbid")

    url: HttpUrlStr
    request_url: HttpUrlStr
    source: str
    status: int
    content_type: str | None = None
    html: str | None = None
    fetched_at: AwareDatetime
    exchange: HttpExchange | None = None
    """The raw request and response, until the WARC stage has written them."""
    raw: RawRef | None = None
    """Where the WARC stage archived the raw response."""


@dataclass
class ArticleCandidate:
    """Fields extracted from a page, not yet validated: the validate stage turns this into
    an :class:`~schemas.article.Article` or a quarantine record."""

    url: str
    source: str
    fetched_at: datetime
    fields: dict[str, Any] = field(default_factory=dict)
