"""The storage protocol's local backend (the S3 backend runs the same checks against a real server)."""

import pytest

from archive.storage import FileStorage, open_storage


def test_file_backend_publishes_lists_reads_and_deletes(tmp_path):
    storage = open_storage((tmp_path / "arch").as_uri())
    assert isinstance(storage, FileStorage)
    local = tmp_path / "batch.bin"
    local.write_bytes(b"data")
    storage.put_file(local, "articles/date=2024-05-01/a.jsonl.gz")
    storage.put_bytes("manifests/run1.json", b"{}")
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


def test_plain_paths_are_file_storage(tmp_path):
    assert isinstance(open_storage(str(tmp_path)), FileStorage)


@pytest.mark.parametrize("key", ["/etc/passwd", "../outside", "a/../../b"])
def test_keys_cannot_leave_the_archive(tmp_path, key):
    with pytest.raises(ValueError, match="relative path inside the archive"):
        FileStorage(tmp_path).get_bytes(key)


def test_unknown_scheme_is_named(tmp_path):
    with pytest.raises(ValueError, match="unsupported scheme 'ftp'"):
        open_storage("ftp://host/x")
