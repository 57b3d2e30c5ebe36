"""``openvod upload --endpoint …``: upload local files to a running openvod (or VOD-compatible) server the
way the SDKs do: CreateUploadVideo, then the OSS dialect with the temporary credential (PutObject for small
files, multipart with a progress bar for large ones). An interrupted multipart upload resumes: a checkpoint
per file (path, size, mtime) keeps the VideoId, the address and the UploadId; the next run takes a fresh
credential with RefreshUploadVideo, asks ListParts what arrived and sends only the rest.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from openvod.api import signing
from openvod.oss import auth as oss_auth

PART_SIZE = 8 * 1024 * 1024
PUT_LIMIT = 16 * 1024 * 1024


class UploadError(Exception):
    """A refusal from the server (RPC error envelope or OSS XML error)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", help="upload through a server's API (host:port or URL) instead of registering locally")
    p.add_argument("--access-key-id", default=os.environ.get("OPENVOD_ACCESS_KEY_ID", ""),
                   help="AccessKeyId for --endpoint (default: $OPENVOD_ACCESS_KEY_ID)")
    p.add_argument("--access-key-secret", default=os.environ.get("OPENVOD_ACCESS_KEY_SECRET", ""),
                   help="AccessKeySecret for --endpoint (default: $OPENVOD_ACCESS_KEY_SECRET)")
    p.add_argument("--part-size", type=int, default=PART_SIZE, help="multipart part size in bytes")
    p.add_argument("--checkpoint-dir", default=str(Path.home() / ".openvod" / "uploads"),
                   help="where resumable-upload checkpoints are kept (default: ~/.openvod/uploads)")
    p.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")


class Rpc:
    """A V1-signed RPC client (the old core SDK's signature)."""

    def __init__(self, endpoint: str, ak: str, secret: str, http: httpx.Client):
        self.base = endpoint if "://" in endpoint else "http://" + endpoint
        self.ak, self.secret, self.http = ak, secret, http

    def call(self, action: str, **params: str) -> dict[str, Any]:
        p = {"Action": action, "Version": "2017-03-21", "Format": "JSON", "AccessKeyId": self.ak,
             "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex,
             "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **params}
        p["Signature"] = signing.v1_sign(self.secret, signing.v1_string_to_sign("POST", p))
        r = self.http.post(self.base + "/?" + urlencode(p))
        body = r.json()
        if r.status_code != 200:
            raise UploadError(f"{action}: {body.get('Code')}: {body.get('Message')}")
        return dict(body)


class Oss:
    """The OSS V1 requests an upload needs, signed with a temporary credential."""

    def __init__(self, address: dict[str, Any], auth: dict[str, Any], http: httpx.Client):
        self.addr, self.auth, self.http = address, auth, http
        self.key = address["FileName"]

    def request(self, method: str, query: dict[str, str], content: Any = None, headers: dict[str, str] | None = None,
                ) -> httpx.Response:
        h = {"date": formatdate(usegmt=True), "x-oss-security-token": self.auth["SecurityToken"], **(headers or {})}
        sts = oss_auth.string_to_sign(method, {k: [v] for k, v in h.items()}, self.addr["Bucket"], self.key,
                                      list(query.items()))
        h["authorization"] = f"OSS {self.auth['AccessKeyId']}:{oss_auth.sign(self.auth['AccessKeySecret'], sts)}"
        qs = "&".join(f"{k}={quote(v, safe='')}" if v else k for k, v in query.items())
        url = f"{self.addr['Endpoint'].rstrip('/')}/{self.addr['Bucket']}/{quote(self.key)}" + (f"?{qs}" if qs else "")
        r = self.http.request(method, url, content=content, headers=h)
        if r.status_code >= 300:
            code = ""
            try:
                code = ET.fromstring(r.content).findtext("Code") or ""
            except ET.ParseError:
                pass
            raise UploadError(f"{method} {self.key}: HTTP {r.status_code} {code}")
        return r


def _file_chunks(path: Path, offset: int, length: int, progress: Any) -> Any:
    with open(path, "rb") as fh:
        fh.seek(offset)
        left = length
        while left > 0:
            chunk = fh.read(min(1024 * 1024, left))
            if not chunk:
                break
            left -= len(chunk)
            progress(len(chunk))
            yield chunk


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, total: int, name: str, enabled: bool):
        self.total, self.name, self.enabled = max(total, 1), name, enabled
        self.done, self.t0, self.last = 0, time.monotonic(), 0.0

    def start_at(self, done: int) -> None:
        self.done = done

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self.last > 0.2 or self.done >= self.total):
            self.last = now
            frac = min(1.0, self.done / self.total)
            rate = self.done / max(now - self.t0, 1e-6) / 1e6
            bar = "#" * int(frac * 30)
            sys.stderr.write(f"\r{self.name[:30]:30} [{bar:30}] {frac * 100:5.1f}% {rate:7.1f} MB/s")
            sys.stderr.flush()

    def end(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _checkpoint_path(root: Path, f: Path) -> Path:
    st = f.stat()
    key = hashlib.sha1(f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
    return root / f"{key}.json"


def upload_file(rpc: Rpc, http: httpx.Client, f: Path, title: str, part_size: int, ckpt_root: Path,
                show: bool) -> dict[str, Any]:
    size = f.stat().st_size
    ckpt = _checkpoint_path(ckpt_root, f)
    state: dict[str, Any] = json.loads(ckpt.read_text()) if ckpt.exists() else {}
    if state:
        r = rpc.call("RefreshUploadVideo", VideoId=state["VideoId"])
    else:
        r = rpc.call("CreateUploadVideo", Title=title, FileName=f.name, FileSize=str(size))
    vid = r["VideoId"]
    addr = json.loads(base64.b64decode(r["UploadAddress"]))
    oss = Oss(addr, json.loads(base64.b64decode(r["UploadAuth"])), http)
    bar = Progress(size, f.name, show)
    if size <= min(PUT_LIMIT, part_size) and not state:
        oss.request("PUT", {}, _file_chunks(f, 0, size, bar), {"content-length": str(size)})
        bar.end()
        return {"File": str(f), "VideoId": vid, "Resumed": False}
    if not state.get("UploadId"):
        x = oss.request("POST", {"uploads": ""})
        state = {"VideoId": vid, "UploadId": ET.fromstring(x.content).findtext("UploadId"), "PartSize": part_size}
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        ckpt.write_text(json.dumps(state))
    upload_id, psize = state["UploadId"], int(state["PartSize"])
    done: dict[int, str] = {}
    marker = "0"
    while True:
        page = ET.fromstring(oss.request("GET", {"uploadId": upload_id, "part-number-marker": marker}).content)
        for p in page.findall("Part"):
            done[int(p.findtext("PartNumber") or 0)] = p.findtext("ETag") or ""
        if page.findtext("IsTruncated") != "true":
            break
        marker = page.findtext("NextPartNumberMarker") or "0"
    n_parts = max(1, (size + psize - 1) // psize)
    bar.start_at(sum(min(psize, size - (n - 1) * psize) for n in done if n <= n_parts))
    resumed = bool(done)
    for n in range(1, n_parts + 1):
        if n in done:
            continue
        off = (n - 1) * psize
        length = min(psize, size - off)
        resp = oss.request("PUT", {"partNumber": str(n), "uploadId": upload_id}, _file_chunks(f, off, length, bar),
                           {"content-length": str(length)})
        done[n] = resp.headers["etag"]
    body = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{done[n]}</ETag></Part>" for n in range(1, n_parts + 1)
    ) + "</CompleteMultipartUpload>"
    oss.request("POST", {"uploadId": upload_id}, body.encode(), {"content-type": "application/xml"})
    bar.end()
    ckpt.unlink(missing_ok=True)
    return {"File": str(f), "VideoId": vid, "Resumed": resumed}


def run(args: argparse.Namespace) -> int:
    if not (args.access_key_id and args.access_key_secret):
        print("openvod upload --endpoint needs --access-key-id and --access-key-secret "
              "(or OPENVOD_ACCESS_KEY_ID / OPENVOD_ACCESS_KEY_SECRET)", file=sys.stderr)
        return 2
    out, rc = [], 0
    show = not args.no_progress and sys.stderr.isatty()
    with httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0)) as http:
        rpc = Rpc(args.endpoint, args.access_key_id, args.access_key_secret, http)
        for name in args.files:
            f = Path(name).expanduser()
            try:
                out.append(upload_file(rpc, http, f, args.title or f.stem, args.part_size, Path(args.checkpoint_dir),
                                       show))
            except (UploadError, OSError, httpx.HTTPError) as exc:
                out.append({"File": name, "Error": str(exc)})
                rc = 1
    if args.json:
        print(json.dumps(out))
    else:
        for o in out:
            print(f"{o['File']}\t{o.get('VideoId') or 'FAILED: ' + o['Error']}")
    return rc
