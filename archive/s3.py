"""The S3 storage backend: ``s3://bucket/prefix`` on AWS or any S3-compatible store.

Publishing is atomic on S3 itself: a PutObject, or the completion of a multipart upload,
makes the whole object visible at once, and a key is never seen half-written. Large files
go up in parts (boto3's managed transfer); every request is retried by botocore.

boto3 is imported when the first request is made, so a crawl into a local archive never
loads it. Credentials and endpoint come from keyword arguments (Scrapy's ``AWS_*``
settings, see :func:`s3_options`), else from boto3's usual chain (environment variables,
``~/.aws``, instance roles).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from archive.storage import StorageError

# Error codes that mean "these credentials cannot be used here"
_CREDENTIAL_ERRORS = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "InvalidToken",
    "ExpiredToken",
    "AuthorizationHeaderMalformed",
    "403",
}
_MISSING_BUCKET = {"NoSuchBucket", "404"}
_MISSING_KEY = {"NoSuchKey", "404", "NotFound"}


def s3_options(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of :class:`S3Storage` from Scrapy's ``AWS_*`` settings (unset ones
    are left to boto3's defaults)."""
    names = {
        "AWS_ACCESS_KEY_ID": "access_key_id",
        "AWS_SECRET_ACCESS_KEY": "secret_access_key",
        "AWS_SESSION_TOKEN": "session_token",
        "AWS_ENDPOINT_URL": "endpoint_url",
        "AWS_REGION_NAME": "region_name",
        "AWS_USE_SSL": "use_ssl",
        "AWS_VERIFY": "verify",
    }
    options = {kwarg: settings.get(name) for name, kwarg in names.items() if settings.get(name) not in (None, "")}
    for flag in ("use_ssl", "verify"):  # "-s AWS_VERIFY=false" arrives as a string
        value = options.get(flag)
        if isinstance(value, str) and value.lower() in _BOOLEANS:
            options[flag] = _BOOLEANS[value.lower()]
    return options


_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


class S3Storage:
    """Objects under ``prefix/`` in one bucket. Thread-safe: one boto3 client, shared."""

    def __init__(
        self,
        uri: str,
        *,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        use_ssl: bool | None = None,
        verify: bool | str | None = None,
        max_attempts: int = 5,
        connect_timeout: float = 10,
        read_timeout: float = 60,
        multipart_threshold: int = 16 * 1024 * 1024,
        multipart_chunksize: int = 16 * 1024 * 1024,
    ) -> None:
        parts = urlsplit(uri)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"archive URI {uri!r}: expected s3://bucket/prefix")
        if parts.query or parts.fragment:
            raise ValueError(f"archive URI {uri!r}: s3 URIs take no query or fragment")
        self.uri = uri
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self._client_kwargs: dict[str, Any] = {
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
            "aws_session_token": session_token,
            "endpoint_url": endpoint_url,
            "region_name": region_name,
        }
        if use_ssl is not None:
            self._client_kwargs["use_ssl"] = use_ssl
        if verify is not None:
            self._client_kwargs["verify"] = verify
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.multipart_threshold = multipart_threshold
        self.multipart_chunksize = multipart_chunksize
        self._client: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Storage({self.uri!r}, endpoint_url={self.endpoint_url!r})"

    # -- the client ---------------------------------------------------------------------

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                config = Config(
                    retries={"max_attempts": self.max_attempts, "mode": "standard"},
                    connect_timeout=self.connect_timeout,
                    read_timeout=self.read_timeout,
                )
                session = boto3.session.Session()
                self._client = session.client(
                    "s3", config=config, **{k: v for k, v in self._client_kwargs.items() if v is not None}
                )
            return self._client

    def _key(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"archive key {key!r} must be a relative path inside the archive")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _where(self, key: str | None = None) -> str:
        where = f"s3://{self.bucket}/{self._key(key)}" if key else self.uri
        return f"{where} (endpoint {self.endpoint_url})" if self.endpoint_url else where

    def _error(self, exc: Exception, key: str | None, doing: str) -> StorageError:
        """A StorageError naming the archive, the key and the reason in plain words."""
        from botocore.exceptions import ClientError, NoCredentialsError

        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING_BUCKET and key is None:
                return StorageError(f"{doing} {self._where()}: bucket {self.bucket!r} does not exist")
            if code == "NoSuchBucket":
                return StorageError(f"{doing} {self._where(key)}: bucket {self.bucket!r} does not exist")
            if code in _CREDENTIAL_ERRORS:
                return StorageError(
                    f"{doing} {self._where(key)}: access denied ({code}); check AWS_ACCESS_KEY_ID, "
                    "AWS_SECRET_ACCESS_KEY and the bucket's permissions"
                )
            return StorageError(f"{doing} {self._where(key)}: {exc}")
        if isinstance(exc, NoCredentialsError):
            return StorageError(
                f"{doing} {self._where(key)}: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
            )
        return StorageError(f"{doing} {self._where(key)}: {exc}")

    @staticmethod
    def _is_missing(exc: Exception) -> bool:
        from botocore.exceptions import ClientError

        return isinstance(exc, ClientError) and str(exc.response.get("Error", {}).get("Code", "")) in _MISSING_KEY

    # -- the protocol -------------------------------------------------------------------

    def check(self) -> None:
        """Raise StorageError, saying why, unless the bucket exists and these credentials can
        write to it (a probe object is written and deleted)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc, None, "cannot use") from exc
        probe = f".write-test-{os.getpid()}-{os.urandom(4).hex()}"
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(probe), Body=b"")
            self.client.delete_object(Bucket=self.bucket, Key=self._key(probe))
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc, probe, "cannot write") from exc

    def put_file(self, local: Path, key: str) -> None:
        from boto3.exceptions import S3UploadFailedError
        from boto3.s3.transfer import TransferConfig
        from botocore.exceptions import BotoCoreError, ClientError

        config = TransferConfig(
            multipart_threshold=self.multipart_threshold, multipart_chunksize=self.multipart_chunksize
        )
        try:
            self.client.upload_file(str(local), self.bucket, self._key(key), Config=config)
        except (BotoCoreError, ClientError, S3UploadFailedError) as exc:
            cause = exc.__context__ if isinstance(exc.__context__, ClientError) else exc
            raise self._error(cause, key, "cannot upload to") from exc

    def put_bytes(self, key: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc, key, "cannot write") from exc

    def get_bytes(self, key: str) -> bytes:
        with self.open_read(key) as f:
            return f.read()

    def open_read(self, key: str) -> IO[bytes]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            if self._is_missing(exc):
                raise FileNotFoundError(f"{self._where(key)} does not exist") from exc
            raise self._error(exc, key, "cannot read") from exc
        return response["Body"]  # a botocore StreamingBody: read(), iteration, context manager

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        """One ranged GET (a WARC record without downloading its whole file)."""
        from botocore.exceptions import BotoCoreError, ClientError

        if length <= 0:
            return b""
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), Range=f"bytes={offset}-{offset + length - 1}"
            )
            with response["Body"] as body:
                return body.read()
        except (BotoCoreError, ClientError) as exc:
            if self._is_missing(exc):
                raise FileNotFoundError(f"{self._where(key)} does not exist") from exc
            raise self._error(exc, key, "cannot read") from exc

    def list(self, prefix: str = "") -> Iterator[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        base = f"{self.prefix}/" if self.prefix else ""
        keys = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base + prefix)
            for page in pages:
                for obj in page.get("Contents", ()):
                    key = obj["Key"][len(base) :]
                    if key and not key.rsplit("/", 1)[-1].startswith("."):
                        keys.append(key)
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc, prefix or None, "cannot list") from exc
        return iter(sorted(keys))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            if self._is_missing(exc):
                return False
            raise self._error(exc, key, "cannot read") from exc
        return True

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc, key, "cannot delete") from exc


def open_s3_storage(uri: str, **options: Any) -> S3Storage:
    return S3Storage(uri, **options)
