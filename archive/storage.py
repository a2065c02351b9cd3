"""Where archive files live: a small protocol, one backend per URI scheme.

Keys are '/'-separated paths relative to the archive root (``articles/date=…/x.jsonl.gz``,
``manifests/<run_id>.json``). A backend publishes whole files only: a reader sees a key
either absent or complete, never partly written.

    storage = open_storage("file:///data/news")      # or a plain path
    storage = open_storage("s3://bucket/prefix", endpoint_url=…)  # S3 or S3-compatible

Every archive also has a local folder (:func:`local_root`): the archive root itself for a
local archive; for a remote one, a folder on this machine (``$NEWSARCHIVE_CACHE_DIR``, else
``$XDG_CACHE_HOME/newsarchive``, else ``~/.cache/newsarchive``, then ``s3/<bucket>/<prefix>``).
It holds what must stay local: ``state/`` (the dedup index and other crawl state), ``tmp/``
(batches being written) and ``spool/`` (closed batches not yet uploaded).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol
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
    def check(self) -> None:
        """Raise StorageError with a clear reason unless files can be published here
        (called at start-up, before crawling)."""


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a small file so that readers see the old content or the new, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


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
        if final.exists() and os.path.samefile(local, final):
            fsync_dir(final.parent)  # published before from this very file (a hard link to it)
            return
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        try:
            # same file system (the writer's spool lives in the archive): no copy needed
            os.link(local, tmp)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            shutil.copyfile(local, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
        fsync_dir(final.parent)

    def put_bytes(self, key: str, data: bytes) -> None:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(final, data)

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

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=self.root, prefix=".write-test-")  # noqa: SIM115
            probe.close()
        except OSError as exc:
            raise StorageError(f"archive {self.uri} cannot be written: {exc}") from exc

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


def _file_path(uri: str) -> Path:
    parts = urlsplit(uri)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"archive URI {uri!r}: file URIs must name a local path (file:///path)")
        return Path(unquote(parts.path))
    return Path(uri)


def _file_storage(uri: str, **options: Any) -> FileStorage:
    # options are for remote backends (the AWS_* settings); a local folder needs none
    return FileStorage(_file_path(uri))


def _s3_storage(uri: str, **options: Any) -> Storage:
    from archive.s3 import S3Storage

    return S3Storage(uri, **options)


BACKENDS: dict[str, Callable[..., Storage]] = {"": _file_storage, "file": _file_storage, "s3": _s3_storage}
"""Storage backend factory by URI scheme: ``factory(uri, **options)``."""

LOCAL_BACKENDS = {"", "file"}
"""Schemes whose archive root is a local folder."""


def _scheme(uri: str) -> str:
    scheme = urlsplit(uri).scheme
    if len(scheme) == 1:  # a Windows drive letter, not a scheme
        scheme = ""
    if scheme not in BACKENDS:
        raise ValueError(
            f"archive URI {uri!r}: unsupported scheme {scheme!r}; use a path, file:///path or one of "
            + ", ".join(f"{s}://" for s in BACKENDS if s)
        )
    return scheme


def open_storage(uri: str, **options: Any) -> Storage:
    """The backend for an archive URI: a plain path, ``file:///path`` or a registered scheme
    (``s3://bucket/prefix``). ``options`` go to remote backends (see ``archive.s3.s3_options``)."""
    return BACKENDS[_scheme(uri)](uri, **options)


def cache_dir() -> Path:
    """Where remote archives keep their local folders on this machine."""
    if explicit := os.environ.get("NEWSARCHIVE_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "newsarchive"


def local_root(uri: str) -> Path:
    """The local folder of an archive (``state/``, ``tmp/``, ``spool/``): the root itself for
    a path or ``file:///path``; for a remote archive a folder named after its URI under
    :func:`cache_dir`, the same on every run on this machine."""
    scheme = _scheme(uri)
    if scheme in LOCAL_BACKENDS:
        return _file_path(uri)
    parts = urlsplit(uri)
    names = [parts.netloc, *(p for p in parts.path.split("/") if p)]
    safe = [re.sub(r"[^A-Za-z0-9._=-]", "_", n) for n in names]
    if not parts.netloc or any(n in ("", ".", "..") for n in safe):
        raise ValueError(f"archive URI {uri!r}: expected {scheme}://bucket/prefix")
    return cache_dir().joinpath(scheme, *safe)
