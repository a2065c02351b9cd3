"""A later copy of a stored story: where else the story appeared.

The first copy of a story is stored as an :class:`~schemas.article.Article`; every later
copy (same URL seen again under another address, same text, or a near copy) is kept as a
``Sighting`` of that article, so a consumer can list every outlet that ran the story
without any archive file being rewritten.
"""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas._types import HttpUrlStr


class Sighting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    story_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="id of the stored Article this page copies")
    url: HttpUrlStr = Field(description="URL the copy was fetched from")
    canonical_url: HttpUrlStr
    source: str = Field(min_length=1, description="Outlet that ran the copy (sources file name)")
    title: str | None = None
    seen_at: AwareDatetime = Field(description="When the copy was fetched")
    match: Literal["url", "text", "near"] = Field(description="How the copy was recognised")
    similarity: float = Field(ge=0.0, le=1.0, description="Estimated text similarity to the stored story")
    original_publisher: str | None = Field(default=None, description="Wire or original outlet named on the copy")
    is_original: bool = Field(
        default=False, description="True when this outlet is the story's detected original publisher"
    )
