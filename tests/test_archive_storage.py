"""The storage protocol: one suite, run against the local backend and against S3 (a real
SeaweedFS server on loopback)."""

import pytest

from archive.storage import FileStorage, StorageError, local_root, open_storage, read_range


@pytest.fixture
def storage(archive_uri):
    uri, options = archive_uri
    return open_storage(uri, **options)


def test_backend_publishes_lists_reads_and_deletes(storage, tmp_path):
    storage.check()
    local = tmp_path / "batch.bin"
    local.write_bytes(b"data")
    storage.put_file(local, "articles/date=2024-05-01/a.jsonl.gz")
    storage.put_bytes("manifests/run1.json", b"{}")
    assert local.read_bytes() == b"data"  # the local file is left alone
    assert list(storage.list("articles/")) == ["articles/date=2024-05-01/a.jsonl.gz"]
    assert list(storage.list()) == ["articles/date=2024-05-01/a.jsonl.gz", "manifests/run1.json"]
    assert storage.get_bytes("manifests/run1.json") == b"{}"
    with storage.open_read("articles/date=2024-05-01/a.jsonl.gz") as f:
        assert f.read() == b"data"
    assert storage.exists("manifests/run1.json")
    storage.delete("manifests/run1.json")
    storage.delete("manifests/run1.json")
    assert not storage.exists("manifests/run1.json")
    assert list(storage.list("missing/")) == []


def test_put_replaces_a_key_whole(storage, tmp_path):
    storage.put_bytes("manifests/run1.json", b"old")
    storage.put_bytes("manifests/run1.json", b"new content")
    assert storage.get_bytes("manifests/run1.json") == b"new content"
    local = tmp_path / "b"
    local.write_bytes(b"second")
    storage.put_bytes("articles/x.gz", b"first")
    storage.put_file(local, "articles/x.gz")
    assert storage.get_bytes("articles/x.gz") == b"second"
    assert list(storage.list()) == ["articles/x.gz", "manifests/run1.json"]


def test_a_large_file_is_published_whole(storage, tmp_path):
    # above the S3 backend's multipart threshold when it is lowered to 5 MiB (S3's minimum part)
    if hasattr(storage, "multipart_threshold"):
        storage.multipart_threshold = storage.multipart_chunksize = 5 * 1024 * 1024
    data = bytes(range(256)) * (12 * 1024 * 1024 // 256 + 7)
    local = tmp_path / "big"
    local.write_bytes(data)
    storage.put_file(local, "articles/big.bin")
    assert storage.get_bytes("articles/big.bin") == data
    if hasattr(storage, "multipart_threshold"):  # uploaded in 3 parts: a multipart ETag
        etag = storage.client.head_object(Bucket=storage.bucket, Key=storage._key("articles/big.bin"))["ETag"]
        assert etag.strip('"').endswith("-3")


def test_a_range_of_a_key_is_read_without_the_rest(storage):
    data = bytes(range(256)) * 64
    storage.put_bytes("warc/w.warc.gz", data)
    assert hasattr(storage, "read_range")  # each backend reads ranges itself (S3: one ranged GET)
    assert read_range(storage, "warc/w.warc.gz", 1000, 300) == data[1000:1300]
    assert read_range(storage, "warc/w.warc.gz", 0, 1) == data[:1]
    assert read_range(storage, "warc/w.warc.gz", len(data) - 5, 5) == data[-5:]
    with pytest.raises(FileNotFoundError):
        read_range(storage, "warc/none.warc.gz", 0, 10)


def test_missing_keys_are_file_not_found(storage):
    with pytest.raises(FileNotFoundError):
        storage.get_bytes("manifests/none.json")
    with pytest.raises(FileNotFoundError):
        storage.open_read("manifests/none.json")
    assert not storage.exists("manifests/none.json")


@pytest.mark.parametrize("key", ["/etc/passwd", "../outside", "a/../../b"])
def test_keys_cannot_leave_the_archive(storage, key):
    with pytest.raises(ValueError, match="relative path inside the archive"):
        storage.get_bytes(key)


def test_plain_paths_are_file_storage(tmp_path):
    assert isinstance(open_storage(str(tmp_path)), FileStorage)
    assert isinstance(open_storage(tmp_path.as_uri()), FileStorage)


def test_unknown_scheme_is_named(tmp_path):
    with pytest.raises(ValueError, match="unsupported scheme 'ftp'"):
        open_storage("ftp://host/x")


def test_s3_uri_needs_a_bucket():
    with pytest.raises(ValueError, match="expected s3://bucket/prefix"):
        open_storage("s3:///prefix")


def test_remote_archives_have_a_local_folder_per_uri(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSARCHIVE_CACHE_DIR", str(tmp_path))
    assert local_root("s3://news/a/b") == tmp_path / "s3" / "news" / "a" / "b"
    assert local_root("s3://news") == tmp_path / "s3" / "news"
    monkeypatch.delenv("NEWSARCHIVE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert local_root("s3://news/a") == tmp_path / "xdg" / "newsarchive" / "s3" / "news" / "a"
    assert local_root(str(tmp_path / "arch")) == tmp_path / "arch"


def test_unwritable_local_archive_fails_the_check(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="cannot be written"):
        FileStorage(blocker / "archive").check()


def test_s3_missing_bucket_is_found_by_the_check(s3server):
    storage = open_storage("s3://no-such-bucket-here/x", **s3server.storage_options)
    with pytest.raises(StorageError, match="bucket 'no-such-bucket-here' does not exist"):
        storage.check()


def test_s3_wrong_credentials_are_found_by_the_check(s3server, s3_bucket):
    options = {**s3server.storage_options, "secret_access_key": "wrong"}
    storage = open_storage(f"s3://{s3_bucket}/x", **options)
    with pytest.raises(StorageError, match=r"access denied \(.*\); check AWS_ACCESS_KEY_ID"):
        storage.check()


def test_s3_unreachable_endpoint_is_a_storage_error(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    storage = open_storage(
        "s3://bucket/x",
        endpoint_url=f"http://127.0.0.1:{port}",
        access_key_id="a",
        secret_access_key="b",
        region_name="us-east-1",
        max_attempts=1,
    )
    with pytest.raises(StorageError, match=f"s3://bucket/x \\(endpoint http://127.0.0.1:{port}\\): Could not connect"):
        storage.check()


def test_s3_options_come_from_scrapy_aws_settings():
    from scrapy.settings import Settings

    from archive.s3 import s3_options

    settings = Settings()  # Scrapy's defaults: every AWS_* unset
    assert s3_options(settings) == {}
    settings.setdict(
        {
            "AWS_ACCESS_KEY_ID": "key",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
            "AWS_REGION_NAME": "eu-west-1",
            "AWS_USE_SSL": "false",
            "AWS_VERIFY": "/etc/ca.pem",
        }
    )
    assert s3_options(settings) == {
        "access_key_id": "key",
        "secret_access_key": "secret",
        "endpoint_url": "http://127.0.0.1:9000",
        "region_name": "eu-west-1",
        "use_ssl": False,
        "verify": "/etc/ca.pem",
    }
