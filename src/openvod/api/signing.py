"""Request signatures, pure functions: V1 (RPC HMAC-SHA1) and V3 (ACS3-HMAC-SHA256).

Nothing here touches the network, the clock or storage: callers pass the request parts and the secret,
and compare with :func:`hmac.compare_digest` through :func:`signatures_equal`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
V3_ALGORITHM = "ACS3-HMAC-SHA256"


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~\-]*")
_UNSAFE = re.compile(rb"[^A-Za-z0-9_.~\-]")
_ESCAPES = [b"%%%02X" % i for i in range(256)]


def percent_encode(value: str) -> str:
    """RFC 3986 encoding used by both signature versions: only A-Z a-z 0-9 - _ . ~ stay literal."""
    if _UNRESERVED.fullmatch(value):  # the common case (ids, names) needs no work
        return value
    return _UNSAFE.sub(lambda m: _ESCAPES[m.group()[0]], value.encode()).decode("ascii")


# ---------------------------------------------------------------------------------------------- V1
def v1_canonical_query(params: Mapping[str, str]) -> str:
    """Sorted, percent-encoded ``name=value`` pairs of every parameter except Signature."""
    pairs = sorted((percent_encode(k), percent_encode(v)) for k, v in params.items() if k != "Signature")
    return "&".join(f"{k}={v}" for k, v in pairs)


def v1_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(v1_canonical_query(params))}"


def v1_sign(secret: str, string_to_sign: str) -> str:
    digest = hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# ---------------------------------------------------------------------------------------------- V3
@dataclass(frozen=True)
class V3Authorization:
    """The parsed ``Authorization: ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`` header."""

    algorithm: str
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_v3_authorization(header: str) -> V3Authorization | None:
    """Parse the header; None when it is malformed (the caller answers IncompleteSignature)."""
    algorithm, _, rest = header.strip().partition(" ")
    if not algorithm.startswith("ACS3-") or not rest:
        return None
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            return None
        fields[name.strip()] = value.strip()
    cred, signed, sig = fields.get("Credential"), fields.get("SignedHeaders"), fields.get("Signature")
    if not cred or not signed or not sig:
        return None
    names = tuple(h.strip().lower() for h in signed.split(";") if h.strip())
    return V3Authorization(algorithm, cred, names, sig)


def v3_canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Decoded query pairs, sorted by name, values re-encoded; empty values render as ``name=``."""
    items = sorted(pairs, key=lambda kv: kv[0])
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in items)


def v3_canonical_request(
    method: str,
    query_pairs: Iterable[tuple[str, str]],
    headers: Mapping[str, list[str]],
    signed_headers: Iterable[str],
    payload_hash: str,
    path: str = "/",
) -> str:
    """Rebuild the canonical request from exactly the headers the client listed as signed.

    ``headers`` maps lower-case names to every value received for that name.
    """
    names = sorted(signed_headers)
    canon_headers = "".join(
        f"{n}:{','.join(sorted(v.strip() for v in headers.get(n, [])))}\n" for n in names
    )
    return "\n".join(
        [method.upper(), path or "/", v3_canonical_query(query_pairs), canon_headers, ";".join(names), payload_hash]
    )


def v3_string_to_sign(canonical_request: str, algorithm: str = V3_ALGORITHM) -> str:
    return algorithm + "\n" + hashlib.sha256(canonical_request.encode()).hexdigest()


def v3_sign(secret: str, string_to_sign: str) -> str:
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def signatures_equal(expected: str, received: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(expected.encode(), received.encode())
