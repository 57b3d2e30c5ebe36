"""bench/upload: upload throughput through openvod's object endpoint vs a plain local copy of the same file,
and the server's resident memory during the upload.

    .venv/bin/python -m bench.upload.run [--mb 1024] [--part-mb 16] [--put]

Starts ``openvod serve`` on a temporary data folder (same disk as the source file), creates a key,
writes a file of random bytes, then:
- ``copy``: shutil.copyfile of the file next to itself (the floor: one read + one write);
- ``upload``: CreateUploadVideo + multipart upload over HTTP with ``openvod upload``'s client
  (``--put``: one PutObject, which is limited to upload.max_put_bytes), until CompleteMultipartUpload
  answers (the object is committed and probed by then).
It samples the server process's VmRSS every 50 ms and prints the ratio upload/copy and the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from openvod import cli_upload

REPO = Path(__file__).resolve().parents[2]


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _write_random(path: Path, size: int) -> None:
    block = os.urandom(8 * 1024 * 1024)
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(left, len(block))
            fh.write(block[:n])
            left -= n
            block = block[1:] + block[:1]  # vary the content a little without paying for urandom again


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--part-mb", type=int, default=16)
    ap.add_argument("--put", action="store_true", help="one PutObject instead of a multipart upload")
    ap.add_argument("--port", type=int, default=18377)
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-upload-", dir=os.environ.get("BENCH_TMP")))
    data = root / "data"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")]),
           "OPENVOD_ENGINE__WORKERS": "1", "OPENVOD_LOG_LEVEL": "WARNING",
           "OPENVOD_UPLOAD__MAX_PUT_BYTES": str(max(a.mb, 5120) * 1024 * 1024)}
    srv = subprocess.Popen([sys.executable, "-m", "openvod.cli", "serve", "--data-dir", str(data), "--port",
                            str(a.port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        url = f"http://127.0.0.1:{a.port}"
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        key = json.loads(subprocess.run([sys.executable, "-m", "openvod.cli", "keys", "create", "--account", "bench",
                                         "--json", "--data-dir", str(data)], env=env, capture_output=True, text=True,
                                        cwd=REPO, check=True).stdout)
        src = root / "source.mp4"  # random bytes: stored, then the probe marks it UploadFail
        size = a.mb * 1024 * 1024
        _write_random(src, size)
        os.sync()
        t = time.perf_counter()
        shutil.copyfile(src, root / "copy.mp4")
        os.sync()
        copy_s = time.perf_counter() - t
        (root / "copy.mp4").unlink()

        base_rss = _rss_mb(srv.pid)
        peak = {"rss": base_rss}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak["rss"] = max(peak["rss"], _rss_mb(srv.pid))
                time.sleep(0.05)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        t = time.perf_counter()
        with httpx.Client(timeout=httpx.Timeout(600.0)) as http:
            rpc = cli_upload.Rpc(f"127.0.0.1:{a.port}", key["AccessKeyId"], key["AccessKeySecret"], http)
            part = size + 1 if a.put else a.part_mb * 1024 * 1024
            if a.put:
                cli_upload.PUT_LIMIT = size + 1
            res = cli_upload.upload_file(rpc, http, src, "bench", part, root / "ckpt", show=False)
        os.sync()
        up_s = time.perf_counter() - t
        stop.set()
        th.join()
        print(f"file {a.mb} MiB, {'PutObject' if a.put else f'multipart, {a.part_mb} MiB parts'}; video {res['VideoId']}")
        print(f"copy    {copy_s:7.2f} s  {a.mb / copy_s:8.1f} MiB/s")
        print(f"upload  {up_s:7.2f} s  {a.mb / up_s:8.1f} MiB/s")
        print(f"ratio upload/copy: {up_s / copy_s:.2f}")
        print(f"server RSS: {base_rss:.0f} MB before, peak {peak['rss']:.0f} MB during the upload")
        return 0
    finally:
        srv.terminate()
        try:
            srv.wait(30)
        except subprocess.TimeoutExpired:
            srv.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
