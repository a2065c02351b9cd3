"""A page that could not become a valid Article, kept with the reason why."""

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas._types import HttpUrlStr


class QuarantineRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    url: HttpUrlStr
    source: str
    stage: Literal["extract", "validate"]
    reason: str = Field(min_length=1)
    fetched_at: AwareDatetime
    quarantined_at: AwareDatetime
    data: dict[str, Any] = Field(
        default_factory=dict, description="What was extracted so far (JSON-safe), for inspection"
    )
