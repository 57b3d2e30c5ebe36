"""Clients for tests: both official SDKs pointed at a test server, and a hand-built V1/V3 signer."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx

from openvod.api import signing


def new_client(endpoint: str, key: Any, v2: bool = False) -> Any:
    """alibabacloud_vod20170321 Client (V3 ACS3-HMAC-SHA256 by default, HMAC-SHA1 with ``v2``)."""
    from alibabacloud_tea_openapi import models as om
    from alibabacloud_vod20170321.client import Client

    cfg = om.Config(
        access_key_id=key.id, access_key_secret=key.secret, region_id="cn-shanghai", endpoint=endpoint, protocol="http"
    )
    if v2:
        cfg.signature_algorithm = "v2"
    return Client(cfg)


class OldClient:
    """aliyun-python-sdk-core AcsClient (V1 HMAC-SHA1), returning parsed JSON."""

    def __init__(self, endpoint: str, key: Any):
        from aliyunsdkcore.client import AcsClient

        self.endpoint = endpoint
        self.client = AcsClient(key.id, key.secret, "cn-shanghai")

    def call(self, request_name: str, **params: Any) -> dict[str, Any]:
        import importlib

        mod = importlib.import_module(f"aliyunsdkvod.request.v20170321.{request_name}Request")
        req = getattr(mod, f"{request_name}Request")()
        req.set_endpoint(self.endpoint)
        req.set_protocol_type("http")
        for k, v in params.items():
            getattr(req, f"set_{k}")(v)
        return json.loads(self.client.do_action_with_exception(req))


def utc_now(offset_s: float = 0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset_s))


def v1_params(key: Any, action: str, params: dict[str, str], *, fmt: str = "JSON", ts_offset: float = 0,
              nonce: str | None = None) -> dict[str, str]:
    """Common V1 parameters plus the operation parameters, unsigned."""
    return {
        "Action": action,
        "Version": "2017-03-21",
        "Format": fmt,
        "AccessKeyId": key.id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "Timestamp": utc_now(ts_offset),
        "SignatureType": "",
        **params,
    }


def v1_request(base_url: str, key: Any, action: str, params: dict[str, str] | None = None, *, method: str = "GET",
               in_body: bool = False, fmt: str = "JSON", ts_offset: float = 0, nonce: str | None = None,
               secret: str | None = None) -> httpx.Response:
    """Send a V1-signed request: GET query, POST query, or POST form body."""
    p = v1_params(key, action, params or {}, fmt=fmt, ts_offset=ts_offset, nonce=nonce)
    p["Signature"] = signing.v1_sign(secret or key.secret, signing.v1_string_to_sign(method, p))
    if method == "GET":
        return httpx.get(base_url + "/?" + urlencode(p), timeout=30)
    if in_body:
        return httpx.post(base_url + "/", content=urlencode(p).encode(),
                          headers={"content-type": "application/x-www-form-urlencoded"}, timeout=30)
    return httpx.post(base_url + "/?" + urlencode(p), timeout=30)


def v3_request(base_url: str, key: Any, action: str, params: dict[str, str] | None = None, *,
               accept: str = "application/json", date: str | None = None, nonce: str | None = None,
               secret: str | None = None) -> httpx.Response:
    """Send a V3-signed POST with operation parameters in the query (as the Tea SDK does)."""
    host = base_url.split("://", 1)[1]
    query = sorted((params or {}).items())
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": "2017-03-21",
        "x-acs-date": date or utc_now(),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
        "accept": accept,
    }
    signed = sorted(headers)
    creq = signing.v3_canonical_request("POST", query, {k: [v] for k, v in headers.items()}, signed,
                                        headers["x-acs-content-sha256"])
    sig = signing.v3_sign(secret or key.secret, signing.v3_string_to_sign(creq))
    headers["authorization"] = f"ACS3-HMAC-SHA256 Credential={key.id},SignedHeaders={';'.join(signed)},Signature={sig}"
    qs = "&".join(f"{signing.percent_encode(k)}={signing.percent_encode(v)}" for k, v in query)
    return httpx.post(base_url + "/" + (("?" + qs) if qs else ""), headers=headers, timeout=30)
