"""Small annotated types reused by several records."""

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"URL must be http or https, got {value!r}")
    if not parts.hostname:
        raise ValueError(f"URL has no host: {value!r}")
    return value


HttpUrlStr = Annotated[str, AfterValidator(_check_http_url)]
"""An absolute http(s) URL kept exactly as given (pydantic's ``HttpUrl`` rewrites it)."""
