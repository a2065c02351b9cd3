"""The ``RELEVANCE_*`` settings, parsed once into a typed object."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from relevance.profile import SeedsError, TopicProfile


class RelevanceConfigError(ValueError):
    """A ``RELEVANCE_*`` setting or the seeds folder cannot be used; the message says which and why."""


class RelevanceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    seeds_dir: Path
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    priority_enabled: bool = True
    rejected_list_max: int = Field(default=500, ge=0)

    @field_validator("threshold", mode="before")
    @classmethod
    def _blank_is_derived(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @classmethod
    def from_settings(cls, settings: Any) -> RelevanceConfig:
        """From Scrapy settings (or any mapping with ``.get``); raises :class:`RelevanceConfigError`."""
        from seeds import SEEDS_DIR

        raw = {
            "enabled": settings.get("RELEVANCE_ENABLED", True),
            "seeds_dir": settings.get("RELEVANCE_SEEDS_DIR") or SEEDS_DIR,
            "threshold": settings.get("RELEVANCE_THRESHOLD"),
            "priority_enabled": settings.get("RELEVANCE_PRIORITY_ENABLED", True),
            "rejected_list_max": settings.get("RELEVANCE_REJECTED_LIST_MAX", 500),
        }
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            names = {
                "enabled": "RELEVANCE_ENABLED",
                "seeds_dir": "RELEVANCE_SEEDS_DIR",
                "threshold": "RELEVANCE_THRESHOLD",
                "priority_enabled": "RELEVANCE_PRIORITY_ENABLED",
                "rejected_list_max": "RELEVANCE_REJECTED_LIST_MAX",
            }
            problems = "; ".join(
                f"{names.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'settings'}: {e['msg']}" for e in exc.errors()
            )
            raise RelevanceConfigError(problems) from exc

    def profile(self) -> TopicProfile:
        """The topic profile of the seeds folder; raises :class:`RelevanceConfigError`."""
        try:
            return TopicProfile.from_seeds(self.seeds_dir, threshold=self.threshold)
        except SeedsError as exc:
            raise RelevanceConfigError(str(exc)) from exc
