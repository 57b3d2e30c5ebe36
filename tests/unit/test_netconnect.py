"""DNS rebinding (issue 10 #11): the address the SSRF guard vetted is the address connected to, for
media downloads (every redirect hop) and callbacks alike.

A fake resolver answers a public address on the first lookup of ``rebind.example`` and an internal
one (127.0.0.2) on every later lookup. The "internet" is simulated: a connection to the public
address is routed to a local server standing in for it. Code that resolves twice reaches the
internal server; pinned code never does.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from openvod.media.fetch import FetchError, _download
from openvod.net import UnsafeTarget
from openvod.netconnect import pinned_client, resolve, vetted_addresses
from tests.conftest import settings_db

PUBLIC = "93.184.216.34"


class Site:
    def __init__(self, host: str, port: int, name: str):
        self.hits: list[tuple[str, str, str]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                outer.hits.append((self.command, self.path, self.headers.get("Host", "")))
                if self.path == "/start":
                    self.send_response(302)
                    self.send_header("Location", f"http://rebind.example:{port}/video")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.command == "POST":
                    self.rfile.read(int(self.headers.get("content-length", 0)))
                body = name.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _answer  # noqa: N815
            do_POST = _answer  # noqa: N815

            def log_message(self, *a: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, port), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    internal = Site("127.0.0.2", 0, "internal-secret")
    port = internal.httpd.server_address[1]
    public = Site("127.0.0.1", port, "public")  # stands in for PUBLIC:port
    lookups: dict[str, int] = {}
    connects: list[tuple[str, int]] = []
    real_gai, real_cc = socket.getaddrinfo, socket.create_connection

    def fake_gai(host: Any, port_: Any, *a: Any, **kw: Any) -> Any:
        h = host.decode() if isinstance(host, bytes) else host
        if h in ("rebind.example", "cdn.example"):
            n = lookups[h] = lookups.get(h, 0) + 1
            addr = PUBLIC if (h == "cdn.example" or n == 1) else "127.0.0.2"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (addr, int(port_ or 80)))]
        return real_gai(host, port_, *a, **kw)

    def fake_cc(address: Any, *a: Any, **kw: Any) -> Any:
        connects.append((str(address[0]), int(address[1])))
        if address[0] == PUBLIC:
            return real_cc(("127.0.0.1", address[1]), *a, **kw)
        return real_cc(address, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake_gai)
    monkeypatch.setattr(socket, "create_connection", fake_cc)
    yield {"port": port, "internal": internal, "public": public, "connects": connects, "lookups": lookups}
    internal.close()
    public.close()


def test_callback_connects_to_the_vetted_address(net: dict[str, Any], tmp_path: Path) -> None:
    from sqlalchemy import insert, select

    from openvod.config import CallbackSettings, Settings
    from openvod.engine.registry import AnalyzerRegistry
    from openvod.notify.delivery import OutboxDeliverer
    from openvod.runtime import Runtime
    from openvod.store.tables import outbox

    rt = Runtime(Settings(data_dir=tmp_path / "d", database_url=settings_db(tmp_path / "d"),
                          callbacks=CallbackSettings(timeout_s=3)), registry=AnalyzerRegistry())
    d = OutboxDeliverer(rt)
    try:
        t = time.time()
        url = f"http://rebind.example:{net['port']}/cb"
        with rt.engine.begin() as conn:
            conn.execute(insert(outbox).values(
                account_id="a", job_id="j", event_type="AIVideoTagComplete", url=url, body=json.dumps({"x": 1}),
                auth_key="", status="pending", attempts=0, next_attempt_at=t, created_at=t))
        d.run_once()
        with rt.engine.connect() as conn:
            row = conn.execute(select(outbox)).one()
        assert net["internal"].hits == []
        assert row.status == "delivered", row.last_error
        assert net["public"].hits == [("POST", "/cb", f"rebind.example:{net['port']}")]
        assert {c[0] for c in net["connects"]} == {PUBLIC}
    finally:
        d.stop()
        rt.close()


def test_download_pins_every_redirect_hop(net: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "v.bin"
    with open(out, "wb") as fh:
        _download(f"http://cdn.example:{net['port']}/start", fh, allow_private=False, max_bytes=10**6, timeout_s=3)
    assert out.read_bytes() == b"public"
    assert net["internal"].hits == []
    assert [h[:2] for h in net["public"].hits] == [("GET", "/start"), ("GET", "/video")]
    assert net["public"].hits[1][2] == f"rebind.example:{net['port']}"  # the Host header keeps the name
    assert {c[0] for c in net["connects"]} == {PUBLIC}


def test_download_refuses_a_hop_that_resolves_private(net: dict[str, Any], tmp_path: Path) -> None:
    net["lookups"]["rebind.example"] = 1  # the next lookup answers 127.0.0.2
    with open(tmp_path / "v.bin", "wb") as fh, pytest.raises(FetchError, match="non-public"):
        _download(f"http://cdn.example:{net['port']}/start", fh, allow_private=False, max_bytes=10**6, timeout_s=3)
    assert net["internal"].hits == []


def test_vetted_addresses_refuse_any_private_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    def gai(host: Any, port: Any, *a: Any, **kw: Any) -> Any:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port))]

    monkeypatch.setattr(socket, "getaddrinfo", gai)
    with pytest.raises(UnsafeTarget):
        vetted_addresses("mixed.example", 80, allow_private=False)
    assert vetted_addresses("mixed.example", 80, allow_private=True) == [PUBLIC, "10.0.0.5"]


def test_resolve_errors_are_unsafe_target() -> None:
    with pytest.raises(UnsafeTarget):
        resolve("a..b", 80)


def test_pinned_client_refuses_private_without_connecting() -> None:
    with pinned_client(False, 2) as c, pytest.raises(UnsafeTarget):
        c.get("http://127.0.0.1:9/x")


def test_https_keeps_sni_and_verifies_the_name_not_the_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Connecting to the vetted IP must still send the host name as SNI and check the certificate against it."""
    import datetime
    import ssl

    import httpx

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from openvod.netconnect import PinnedTransport

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "good.example")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("good.example")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    seen_sni: list[str | None] = []

    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    sctx.sni_callback = lambda _s, n, _c: seen_sni.append(n)  # type: ignore[assignment,misc]
    srv.socket = sctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    real = socket.getaddrinfo

    def gai(host: Any, p: Any, *a: Any, **kw: Any) -> Any:
        if host in ("good.example", "other.example"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", p))]
        return real(host, p, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", gai)
    try:
        verify = ssl.create_default_context(cafile=str(tmp_path / "c.pem"))
        with httpx.Client(transport=PinnedTransport(True, verify=verify), trust_env=False, timeout=5) as c:
            assert c.get(f"https://good.example:{port}/").text == "ok"
            assert seen_sni == ["good.example"]
            with pytest.raises(httpx.ConnectError, match="(?i)hostname|match"):
                c.get(f"https://other.example:{port}/")  # same address, a name the certificate lacks
    finally:
        srv.shutdown()
        srv.server_close()
