"""``Action=ReportUploadProgress``: the telemetry that the VOD upload SDKs (voduploadsdk and others)
POST unsigned to a fixed host after every part. The SDK fails the whole upload when the call fails, so
openvod accepts it without a signature (it carries only an md5 of a constant key) and answers
``{"RequestId"}``. It can only move the counters of an existing, unfinished upload, which
GetUploadDetails reports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from openvod.api.render import JSON_TYPE, XML_TYPE, to_json, to_xml
from openvod.api.rpc import RawRequest, RawResponse
from openvod.util import request_id

if TYPE_CHECKING:
    from openvod.runtime import Runtime

ACTION = "ReportUploadProgress"


def _params(req: RawRequest) -> dict[str, str]:
    pairs = parse_qsl(req.query_string.decode("utf-8", "replace"), keep_blank_values=True)
    if req.body and req.header("content-type").lower().startswith("application/x-www-form-urlencoded"):
        pairs += parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    out: dict[str, str] = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


def wanted(req: RawRequest) -> bool:
    """True for a ReportUploadProgress call (the full parse only runs when the name appears at all)."""
    if ACTION.encode() not in req.query_string and ACTION.encode() not in req.body[:65536]:
        return False
    return _params(req).get("Action") == ACTION


def handle(rt: Runtime, req: RawRequest, scope: dict[str, Any]) -> RawResponse:
    p = _params(req)
    rid = request_id()
    client = scope.get("client")
    rt.uploads.report_progress(p, str(client[0]) if client else "")
    body = {"RequestId": rid}
    if p.get("Format", "JSON").lower() == "xml":
        return RawResponse(200, [("content-type", XML_TYPE), ("x-acs-request-id", rid)],
                           to_xml(f"{ACTION}Response", body), ACTION)
    return RawResponse(200, [("content-type", JSON_TYPE), ("x-acs-request-id", rid)], to_json(body), ACTION)
