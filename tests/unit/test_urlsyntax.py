"""Properties of the one URL check (openvod.urlsyntax) and of the JSON caps (openvod.util.loads)."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvod.urlsyntax import BadUrl, parse_http_url
from openvod.util import JSON_MAX_DEPTH, JsonLimitError, json_depth, loads

url_text = st.one_of(
    st.text(max_size=60),
    st.builds(lambda s, h, p, rest: f"{s}://{h}{p}{rest}",
              st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
              st.one_of(st.text(max_size=20), st.sampled_from(["[::1", "[::1]", "a..b", ".a", "a.", "xn--", "bücher.de",
                                                               "1.2.3.4", "[fe80::1%25eth0]", "u:p@h", "-a", "a" * 64])),
              st.one_of(st.just(""), st.text(max_size=6).map(lambda p: ":" + p),
                        st.integers(-99999, 999999).map(lambda p: f":{p}")),
              st.text(max_size=10)),
)


@settings(max_examples=500, derandomize=True, database=None)
@given(url_text)
def test_parse_http_url_raises_only_bad_url(url: str) -> None:
    try:
        u = parse_http_url(url)
    except BadUrl:
        return
    # What passes can be used without further surprises: split, port, IDNA host.
    parts = urlsplit(u.url)
    assert parts.scheme.lower() in ("http", "https")
    assert 1 <= u.port <= 65535 and (parts.port is None or parts.port == u.port)
    if u.ip is None:
        u.host.encode("idna")
        assert all(0 < len(label) < 64 for label in u.host.rstrip(".").split("."))
        try:
            socket.getaddrinfo(u.host, u.port, proto=socket.IPPROTO_TCP, flags=socket.AI_NUMERICHOST)
        except socket.gaierror:
            pass  # not numeric: fine; what matters is no UnicodeError / ValueError


@pytest.mark.parametrize("url", ["http://h:99999/", "http://h:abc/", "http://h:-1/", "http://[::1", "http://a..b/",
                                 "http://" + "a" * 64 + ".com/", "http:///x", "ftp://h/", "http://h:0/", "http://a b/"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(BadUrl):
        parse_http_url(url)


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
                           lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=3), kids,
                                                                                               max_size=3)),
                           max_leaves=30)


def _depth(v: Any) -> int:
    if isinstance(v, list):
        return 1 + max((_depth(x) for x in v), default=0)
    if isinstance(v, dict):
        return 1 + max((_depth(x) for x in v.values()), default=0)
    return 0


@settings(max_examples=300, derandomize=True, database=None)
@given(json_values)
def test_json_depth_matches_structure(v: Any) -> None:
    raw = json.dumps(v)
    assert json_depth(raw) == _depth(v)
    if _depth(v) <= JSON_MAX_DEPTH:
        assert loads(raw) == v


@pytest.mark.parametrize("n", [JSON_MAX_DEPTH + 1, 2000, 100_000])
def test_deep_json_refused_before_parsing(n: int) -> None:
    with pytest.raises(JsonLimitError):
        loads("[" * n + "]" * n, max_bytes=10**6)
    # Brackets inside strings do not count.
    assert loads(json.dumps(["[" * 100, {"k": "{" * 100}])) == ["[" * 100, {"k": "{" * 100}]
