"""Where archive files live: a small protocol, one backend per URI scheme.

Keys are '/'-separated paths relative to the archive root (``articles/date=…/x.jsonl.gz``,
``manifests/<run_id>.json``). A backend publishes whole files only: a reader sees a key
either absent or complete, never partly written.

    storage = open_storage("file:///data/news")      # or a plain path
    storage = open_storage("s3://bucket/prefix")     # S3 or any S3-compatible store
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import unquote, urlsplit


class StorageError(OSError):
    """A storage operation failed; the message names the archive and the key."""


class Storage(Protocol):
    """What the archive needs of a place to keep files."""

    uri: str

    def put_file(self, local: Path, key: str) -> None:
        """Publish a closed local file under ``key`` (atomically; replaces an existing key)."""

    def put_bytes(self, key: str, data: bytes) -> None:
        """Publish a small file (a manifest, a cursor) atomically."""

    def get_bytes(self, key: str) -> bytes:
        """The whole content of ``key``; FileNotFoundError if absent."""

    def open_read(self, key: str) -> IO[bytes]:
        """A binary stream of ``key``; FileNotFoundError if absent."""

    def list(self, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix`` (a folder-like prefix such as ``manifests/``), sorted."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove ``key``; no error if it is already gone."""

    # Optional: ``read_range(key, offset, length) -> bytes`` (S3: one ranged GET). Readers
    # call the module function :func:`read_range`, which falls back to ``open_read``.


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileStorage:
    """Files under a local folder. Publishing is write-to-temp, fsync, rename."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.uri = self.root.as_uri() if self.root.is_absolute() else str(self.root)

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"archive key {key!r} must be a relative path inside the archive")
        return self.root / key

    def put_file(self, local: Path, key: str) -> None:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        shutil.copyfile(local, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
        _fsync_dir(final.parent)

    def put_bytes(self, key: str, data: bytes) -> None:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        _fsync_dir(final.parent)

    def get_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def open_read(self, key: str) -> IO[bytes]:
        return open(self._path(key), "rb")  # noqa: SIM115 - the caller closes it

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        with open(self._path(key), "rb") as f:
            f.seek(offset)
            return f.read(length)

    def list(self, prefix: str = "") -> Iterator[str]:
        base = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if not base.is_dir():
            return iter(())
        keys = (
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )
        return iter(sorted(keys))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def read_range(storage: Storage, key: str, offset: int, length: int) -> bytes:
    """``length`` bytes of ``key`` from ``offset`` (one WARC record, say).

    A backend may offer ``read_range(key, offset, length)`` (S3: a ranged GET); otherwise
    the key is opened with ``open_read`` and read up to the range.
    """
    own = getattr(storage, "read_range", None)
    if own is not None:
        return own(key, offset, length)
    with storage.open_read(key) as f:
        try:
            f.seek(offset)
        except (OSError, ValueError):  # not seekable: read and discard up to the range
            remaining = offset
            while remaining and (skipped := f.read(min(remaining, 1 << 20))):
                remaining -= len(skipped)
        return f.read(length)


def _file_storage(uri: str) -> FileStorage:
    parts = urlsplit(uri)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"archive URI {uri!r}: file URIs must name a local path (file:///path)")
        return FileStorage(unquote(parts.path))
    return FileStorage(uri)


BACKENDS: dict[str, Callable[[str], Storage]] = {"": _file_storage, "file": _file_storage}
"""Storage backend factory by URI scheme (``s3`` is added by the S3 backend)."""


def open_storage(uri: str) -> Storage:
    """The backend for an archive URI: a plain path, ``file:///path`` or a registered scheme."""
    scheme = urlsplit(uri).scheme
    if len(scheme) == 1:  # a Windows drive letter, not a scheme
        scheme = ""
    try:
        factory = BACKENDS[scheme]
    except KeyError:
        raise ValueError(
            f"archive URI {uri!r}: unsupported scheme {scheme!r}; use a path, file:///path or one of "
            + ", ".join(f"{s}://" for s in BACKENDS if s)
        ) from None
    return factory(uri)
