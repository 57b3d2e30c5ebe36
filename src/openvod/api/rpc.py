"""The RPC layer: parse common parameters, authenticate (V1 or V3), dispatch the Action, render JSON/XML.

Everything wire-level that is shared by all Actions lives here once: RequestId, Format negotiation,
the error envelope, list styles (through api.render) and throttling.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from openvod import errors
from openvod.api import signing
from openvod.api.nonces import DurableNonces, MemoryNonceStore, NonceStore
from openvod.api.params import Params
from openvod.api.peek import peek_access_key, peek_action  # noqa: F401  (callers import them from here)
from openvod.api.readers import ReadProcesses, ReaderUnavailable
from openvod.api.render import JSON_TYPE, XML_TYPE, to_json, to_xml
from openvod.storage.health import disk_fault
from openvod.util import parse_utc_iso, request_id

if TYPE_CHECKING:
    from openvod.runtime import Runtime

log = logging.getLogger("openvod.api")
access_log = logging.getLogger("openvod.access")

API_VERSION = "2017-03-21"


# ---------------------------------------------------------------------------------------------- actions
@dataclass
class Ctx:
    """What an Action handler gets: the caller's account, typed params and the runtime."""

    rt: Runtime
    account_id: str
    access_key_id: str
    request_id: str
    base_url: str
    p: Params
    client_ip: str = ""  # the caller's address (audit security IPs); "" in a read process


Handler = Callable[[Ctx], dict[str, Any]]
ACTIONS: dict[str, Handler] = {}
# Actions that only read, quickly: the ASGI layer may run them on the event loop without a thread hop.
READ_ONLY: set[str] = set()
# Actions that may take long (downloads, probing): the ASGI layer runs them on their own thread pool,
# so they never hold the threads every other request needs.
HEAVY: set[str] = set()
# Reads whose answer grows with the account's data: with api.read_processes > 0 their handler runs in
# a read process (api/readers.py), so building a big answer never holds the API process's interpreter
# against other tenants' polling. Authentication, nonce, throttling and the per-key gate stay here.
OFFLOAD: frozenset[str] = frozenset({
    "ListAITemplate", "GetVideoList", "SearchMedia", "GetImageInfos", "ListJobInfo", "DescribeVodAIData",
    "ListAIImageInfo", "GetAIVideoTagDetail", "ListFaceLibrary",
})


def action(name: str, *, read_only: bool = False, heavy: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler under its exact wire name."""

    def deco(fn: Handler) -> Handler:
        if name in ACTIONS:
            raise RuntimeError(f"action {name} registered twice")
        ACTIONS[name] = fn
        if read_only:
            READ_ONLY.add(name)
        if heavy:
            HEAVY.add(name)
        return fn

    return deco


# ---------------------------------------------------------------------------------------------- hosts
# host[:port]: a DNS name or IPv4 address, or a bracketed IPv6 address.
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::[0-9]{1,5})?$")


def clean_host(raw: str) -> str:
    """``host[:port]`` from a Host header, or '' when it is not one.

    Some clients put a whole URL there (an SDK endpoint given as ``http://127.0.0.1:8080`` is sent
    as the Host header verbatim): the scheme and any path are dropped, so URLs built from it never
    read ``http://http://…``."""
    h = raw.strip()
    if "://" in h:
        h = h.split("://", 1)[1]
    h = h.split("/", 1)[0].split("?", 1)[0]
    return h if _HOST.match(h) else ""


# ---------------------------------------------------------------------------------------------- request
@dataclass
class RawRequest:
    """An HTTP request as the ASGI layer hands it over."""

    method: str
    query_string: bytes
    headers: dict[str, list[str]]  # lower-case name -> values
    body: bytes = b""
    path: str = "/"
    client_ip: str = ""  # the TCP peer, or X-Forwarded-For behind a trusted proxy (audit.trusted_proxies)

    def header(self, name: str) -> str:
        v = self.headers.get(name)
        return v[0] if v else ""


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    action: str = ""


@dataclass
class _Parsed:
    pairs: list[tuple[str, str]]  # query and form body, in order
    params: dict[str, str]
    v3: signing.V3Authorization | None
    want_json: bool
    action: str
    version: str


class RateLimiter:
    """Token bucket per AccessKey."""

    def __init__(self, qps: float, burst: int):
        self.qps, self.burst = qps, burst
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if self.qps <= 0:
            return True
        t = time.monotonic()
        with self._lock:
            tokens, last = self._state.get(key, (float(self.burst), t))
            tokens = min(self.burst, tokens + (t - last) * self.qps)
            if tokens < 1:
                self._state[key] = (tokens, t)
                return False
            self._state[key] = (tokens - 1, t)
            return True


class RpcApi:
    """Turns a RawRequest into a RawResponse."""

    def __init__(self, rt: Runtime, nonces: NonceStore | None = None, readers: ReadProcesses | None = None):
        self.rt = rt
        self.readers = readers
        s = rt.settings.api
        self.window = s.timestamp_window_s
        self.nonces: NonceStore = nonces if nonces is not None else MemoryNonceStore()
        self.durable = DurableNonces(rt.engine, self.window) if s.durable_nonces else None
        self.limiter = RateLimiter(s.rate_limit_qps, s.rate_limit_burst)
        self.access_log = rt.settings.log_access
        self.fallback_host = f"{s.host}:{s.port}" if s.host not in ("0.0.0.0", "::", "") else f"127.0.0.1:{s.port}"
        from openvod.api import actions  # noqa: F401  (registers every Action)

    # ------------------------------------------------------------------ entry
    def handle(self, req: RawRequest) -> RawResponse:
        rid = request_id()
        want_json = True
        action_name = ""
        access_key_id = ""
        t0 = time.perf_counter()
        rendered: bytes | None = None  # a body a read process has rendered already
        body: dict[str, Any] = {}
        try:
            parsed = self._parse(req)
            want_json, action_name = parsed.want_json, parsed.action
            access_key_id = parsed.v3.access_key_id if parsed.v3 is not None else parsed.params.get("AccessKeyId", "")
            if not action_name:
                raise errors.MissingParameter("Action")
            key = self._authenticate(req, parsed)
            if parsed.version != API_VERSION:
                raise errors.InvalidVersion()
            handler = ACTIONS.get(parsed.action)
            if handler is None:
                raise errors.InvalidActionNotFound()
            if not self.limiter.allow(key.access_key_id):
                raise errors.ThrottlingUser()
            ctx = Ctx(self.rt, key.account_id, key.access_key_id, rid, self._base_url(req), Params(parsed.params),
                      req.client_ip)
            if self.readers is not None and parsed.action in OFFLOAD:
                rendered = self._offload(ctx, parsed)
            if rendered is None:
                result = handler(ctx)
                body = {"RequestId": rid, **result}
            status = 200
        except errors.VodError as exc:
            status, body = exc.http_status, self._error_body(req, rid, exc)
        except Exception as unexpected:
            fault = disk_fault(unexpected)  # a full or read-only disk is temporary and the operator's: 503
            if fault:
                log.error("storage fault", extra={"request_id": rid, "action": action_name, "error": fault})
                exc2: errors.VodError = errors.ServiceUnavailable()
            else:
                log.exception("unhandled error", extra={"request_id": rid, "action": action_name})
                exc2 = errors.InternalError()
            status, body = exc2.http_status, self._error_body(req, rid, exc2)
        if self.access_log:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info("rpc", extra={
                    "action": action_name, "access_key_id": access_key_id[:64], "status": status,
                    "code": body.get("Code", ""), "ms": round((time.perf_counter() - t0) * 1000, 2),
                    "request_id": rid,
                })
        elif status >= 400 and log.isEnabledFor(logging.INFO):
            log.info("rpc", extra={
                "action": action_name, "access_key_id": access_key_id[:64], "status": status,
                "code": body.get("Code", ""), "ms": round((time.perf_counter() - t0) * 1000, 2),
                "request_id": rid,
            })
        if rendered is not None and status == 200:
            payload, ctype = rendered, JSON_TYPE if want_json else XML_TYPE
        elif want_json:
            payload, ctype = to_json(body), JSON_TYPE
        else:
            root = "Error" if status >= 400 else f"{action_name}Response"
            payload, ctype = to_xml(root, body), XML_TYPE
        return RawResponse(status, [("content-type", ctype), ("x-acs-request-id", rid)], payload, action_name)

    def _offload(self, ctx: Ctx, parsed: _Parsed) -> bytes | None:
        """Run the handler in a read process: its rendered body, or None to run it here instead (no
        read process ready, or it died). Errors come back as the same VodError."""
        assert self.readers is not None
        try:
            out = self.readers.call(parsed.action, ctx.account_id, ctx.access_key_id, ctx.request_id,
                                    ctx.base_url, dict(parsed.params), parsed.want_json)
        except ReaderUnavailable:
            return None
        if out[0] == "ok":
            return bytes(out[1])
        if out[0] == "err":
            raise errors.VodError(out[1], code=out[2], http_status=out[3])
        if out[0] == "fault":
            log.error("storage fault", extra={"request_id": ctx.request_id, "action": parsed.action, "error": out[1]})
            raise errors.ServiceUnavailable()
        log.error("unhandled error in read process\n%s", out[1],
                  extra={"request_id": ctx.request_id, "action": parsed.action})
        raise errors.InternalError()

    def _base_url(self, req: RawRequest) -> str:
        """Where signed blob URLs point: api.public_url, else http:// + the validated Host header."""
        return self.rt.settings.api.public_url or f"http://{clean_host(req.header('host')) or self.fallback_host}"

    def _error_body(self, req: RawRequest, rid: str, exc: errors.VodError) -> dict[str, Any]:
        return {
            "RequestId": rid,
            "HostId": self.rt.settings.api.host_id or clean_host(req.header("host")) or self.fallback_host,
            "Code": exc.code,
            "Message": exc.message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={exc.code}&product=Vod&requestId={rid}",
        }

    # ------------------------------------------------------------------ parsing
    def _parse(self, req: RawRequest) -> _Parsed:
        try:
            query = parse_qsl(req.query_string.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
            form: list[tuple[str, str]] = []
            ctype = req.header("content-type").lower()
            if req.body and ctype.startswith("application/x-www-form-urlencoded"):
                form = parse_qsl(req.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise errors.InvalidParameter("QueryString", "It must be UTF-8.") from None
        params: dict[str, str] = {}
        for k, v in query + form:
            params.setdefault(k, v)
        auth = req.header("authorization")
        v3 = None
        if auth.startswith("ACS3-"):
            v3 = signing.parse_v3_authorization(auth)
            if v3 is None:
                raise errors.IncompleteSignature()
            action_name = req.header("x-acs-action") or params.get("Action", "")
            version = req.header("x-acs-version") or params.get("Version", "")
        else:
            action_name = params.get("Action", "")
            version = params.get("Version", "")
        fmt = params.get("Format", "").lower()
        if fmt:
            want_json = fmt != "xml"
        elif v3 is not None:
            want_json = "xml" not in req.header("accept").lower()
        else:
            want_json = "application/json" in req.header("accept").lower()
        return _Parsed(query + form, params, v3, want_json, action_name, version)

    # ------------------------------------------------------------------ authentication
    def _key(self, access_key_id: str) -> Any:
        key = self.rt.accounts.lookup(access_key_id)
        if key is None:
            raise errors.InvalidAccessKeyIdNotFound()
        if key.status != "Active":
            raise errors.InvalidAccessKeyIdInactive()
        return key

    def _check_time(self, value: str) -> float:
        """The request time; a nonce must be remembered until this time leaves the window."""
        try:
            ts = parse_utc_iso(value)
        except ValueError:
            raise errors.InvalidTimeStampFormat() from None
        if abs(time.time() - ts) > self.window:
            raise errors.InvalidTimeStampExpired()
        return ts + self.window + 1

    def _authenticate(self, req: RawRequest, parsed: _Parsed) -> Any:
        p = parsed.params
        if p.get("SecurityToken") or req.header("x-acs-security-token"):
            raise errors.VodError(
                "openvod does not issue STS tokens; sign with an AccessKey pair.",
                code="InvalidSecurityToken.Malformed",
                http_status=400,
            )
        if parsed.v3 is not None:
            return self._authenticate_v3(req, parsed, parsed.v3)
        for name in ("AccessKeyId", "Signature", "SignatureNonce", "Timestamp", "Version"):
            if not p.get(name):
                raise errors.MissingParameter(name)
        method = p.get("SignatureMethod", "HMAC-SHA1")
        if method.upper() != "HMAC-SHA1":
            raise errors.UnsupportedSignatureMethod()
        if p.get("SignatureVersion", "1.0") != "1.0":
            raise errors.InvalidParameter("SignatureVersion", "Only 1.0 is supported.")
        key = self._key(p["AccessKeyId"])
        remember_until = self._check_time(p["Timestamp"])
        # V1 signs query and form parameters alike: exactly the values the handler will read (first
        # occurrence wins), so a duplicate name added in transit cannot replace a signed value.
        signed = parsed.params
        sts = signing.v1_string_to_sign(req.method, signed)
        if not signing.signatures_equal(signing.v1_sign(key.secret, sts), p["Signature"]):
            raise errors.SignatureDoesNotMatch(sts)
        self._use_nonce(key.access_key_id, p["SignatureNonce"], remember_until, parsed.action)
        return key

    def _authenticate_v3(self, req: RawRequest, parsed: _Parsed, auth: signing.V3Authorization) -> Any:
        if auth.algorithm != signing.V3_ALGORITHM:
            raise errors.UnsupportedSignatureMethod()
        required = ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce")
        for h in required:
            if h not in auth.signed_headers or not req.header(h):
                raise errors.IncompleteSignature(f"The header {h} must be present and signed.")
        unsigned_acs = [h for h in req.headers if h.startswith("x-acs-") and h not in auth.signed_headers]
        if unsigned_acs:
            raise errors.IncompleteSignature(f"Every x-acs-* header must be signed; unsigned: {', '.join(unsigned_acs)}.")
        key = self._key(auth.access_key_id)
        remember_until = self._check_time(req.header("x-acs-date"))
        body_hash = hashlib.sha256(req.body).hexdigest()
        claimed = req.header("x-acs-content-sha256") or body_hash
        if claimed != body_hash:
            raise errors.SignatureDoesNotMatch("x-acs-content-sha256 does not match the request body")
        query = parse_qsl(req.query_string.decode("utf-8"), keep_blank_values=True)
        creq = signing.v3_canonical_request(req.method, query, req.headers, auth.signed_headers, claimed, "/")
        sts = signing.v3_string_to_sign(creq)
        if not signing.signatures_equal(signing.v3_sign(key.secret, sts), auth.signature.lower()):
            raise errors.SignatureDoesNotMatch(sts)
        self._use_nonce(key.access_key_id, req.header("x-acs-signature-nonce"), remember_until, parsed.action)
        return key

    def _use_nonce(self, key_id: str, nonce: str, remember_until: float, action_name: str) -> None:
        """Refuse a nonce seen in this window: memory first, then the database (across restarts)."""
        if not self.nonces.use(key_id, nonce, remember_until):
            raise errors.SignatureNonceUsed()
        if self.durable is not None and not self.durable.use(
            key_id, nonce, remember_until, sync=action_name not in READ_ONLY
        ):
            raise errors.SignatureNonceUsed()

    def close(self) -> None:
        """Write the nonces still batched (on shutdown)."""
        if self.durable is not None:
            self.durable.close()
