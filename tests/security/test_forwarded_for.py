"""X-Forwarded-For is believed only from ``audit.trusted_proxies``: with none configured (the session
server), a client cannot claim an audit security IP by sending the header itself — not even from
127.0.0.1, which uvicorn's own proxy-header handling would trust by default."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx

from tests.conftest import Server
from tests.security.test_api_security import call, ok, register


def test_forwarded_for_is_not_trusted_without_trusted_proxies(server: Server, media_dir: Path, video: Path) -> None:
    other_key = server.key("xff")  # an account of its own: the Blocked video and the group touch nobody else
    src = media_dir / "xff.mp4"
    shutil.copy(video, src)
    mid = ok(register(server, other_key, str(src)))["RegisteredMediaList"][0]["MediaId"]
    url = ok(call(server, other_key, "GetMezzanineInfo", {"VideoId": mid}))["Mezzanine"]["FileURL"]
    ok(call(server, other_key, "CreateAudit", {"AuditContent": json.dumps(
        [{"VideoId": mid, "Status": "Blocked", "Reason": "xff", "Comment": "test"}])}))
    ok(call(server, other_key, "SetAuditSecurityIp", {"Ips": "10.9.9.9", "SecurityGroupName": "Xff"}))
    try:
        assert httpx.get(url, timeout=10).status_code == 403
        spoofed = httpx.get(url, headers={"X-Forwarded-For": "10.9.9.9"}, timeout=10)
        assert spoofed.status_code == 403, "a client-sent X-Forwarded-For was believed"
        r = call(server, other_key, "GetPlayInfo", {"VideoId": mid})
        assert r.status_code == 403, r.text
    finally:
        ok(call(server, other_key, "SetAuditSecurityIp",
                {"Ips": "10.9.9.9", "SecurityGroupName": "Xff", "OperateMode": "Delete"}))
