"""The per-run manifest: the only way a file becomes visible to archive readers."""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class ManifestFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Path relative to the archive root, '/'-separated")
    kind: Literal["articles", "quarantine", "sightings", "warc"]
    records: int = Field(ge=0)
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    run_id: str
    started_at: AwareDatetime
    updated_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    status: Literal["running", "finished", "interrupted"]
    files: list[ManifestFile] = Field(default_factory=list)
