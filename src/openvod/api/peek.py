"""Reading a request's Action and AccessKeyId before it is parsed (for per-key fairness and routing),
exactly the way :class:`openvod.api.rpc.RpcApi` will read them."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from openvod.api import signing

_ACTION_IN_QUERY = re.compile(rb"(?:^|&)Action=([A-Za-z0-9]+)(?:&|$)")


def peek_action(query_string: bytes, headers: dict[str, list[str]]) -> str:
    """The Action name without parsing the whole request ('' when it is not in the header or query)."""
    v = headers.get("x-acs-action")
    if v:
        return v[0]
    m = _ACTION_IN_QUERY.search(query_string)
    return m.group(1).decode() if m else ""


def peek_access_key(query_string: bytes, headers: dict[str, list[str]], body: bytes) -> str:
    """The AccessKeyId that :meth:`RpcApi.handle` will authenticate, read the same way ('' when none).

    V3: the ``Credential`` of an ``ACS3-`` Authorization header; V1: the first ``AccessKeyId`` of the
    query, else of a form body (``params.setdefault`` order in ``_parse``). Decoded exactly as
    ``_parse`` decodes, so a request cannot be counted under one key and run under another."""
    auth = headers.get("authorization")
    if auth and auth[0].startswith("ACS3-"):
        v3 = signing.parse_v3_authorization(auth[0])
        return v3.access_key_id if v3 is not None else ""
    try:
        if b"AccessKeyId" in query_string or b"%" in query_string:
            for k, v in parse_qsl(query_string.decode("utf-8"), keep_blank_values=True):
                if k == "AccessKeyId":
                    return v
        ctype = headers.get("content-type")
        if body and ctype and ctype[0].lower().startswith("application/x-www-form-urlencoded"):
            for k, v in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
                if k == "AccessKeyId":
                    return v
    except UnicodeDecodeError:
        pass
    return ""
