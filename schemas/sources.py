"""The sources file: which outlets to crawl and where their feeds and sitemaps are."""

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from schemas._types import HttpUrlStr


class SourcesFileError(ValueError):
    """A sources file that cannot be used; the message names the file, the key and why."""


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    feeds: list[HttpUrlStr] = Field(default_factory=list)
    sitemaps: list[HttpUrlStr] = Field(default_factory=list)


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[Source] = Field(min_length=1)

    @field_validator("sources")
    @classmethod
    def _unique_and_reachable(cls, sources: list[Source]) -> list[Source]:
        seen: set[str] = set()
        for s in sources:
            if s.name in seen:
                raise ValueError(f"duplicate source name {s.name!r}")
            seen.add(s.name)
            if not s.feeds and not s.sitemaps:
                raise ValueError(f"source {s.name!r} has neither feeds nor sitemaps")
        return sources


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
