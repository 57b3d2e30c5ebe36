"""RegisterMedia fetches http(s) FileURLs (the README's quick start is run by tests/e2e/test_readme.py)."""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from alibabacloud_vod20170321 import models as m

from tests.media import make_video
from tests.sdk import new_client


def test_register_http_url(server, key, media_dir) -> None:  # type: ignore[no-untyped-def]
    video = make_video(media_dir / "served.mp4", seconds=1.0, seed=5)
    handler = partial(SimpleHTTPRequestHandler, directory=str(media_dir))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        c = new_client(server.endpoint, key)
        body = c.register_media(m.RegisterMediaRequest(register_metadatas=json.dumps([
            {"FileURL": f"{base}/served.mp4", "Title": "served"},
            {"FileURL": f"{base}/missing.mp4", "Title": "missing"},
        ]))).body
        assert body.failed_file_urls == [f"{base}/missing.mp4"]
        mid = body.registered_media_list[0].media_id
        v = c.get_video_info(m.GetVideoInfoRequest(video_id=mid)).body.video
        assert v.size == video.stat().st_size
        blob = next(Path(server.data_dir / "blobs" / "media").glob(f"*/{mid}/source.mp4"))
        assert blob.read_bytes() == video.read_bytes()
    finally:
        httpd.shutdown()


def test_ssrf_guard_on_a_default_server(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With the defaults, loopback/private targets are refused for media downloads and callbacks,
    and a redirect from a public-looking hop cannot smuggle one in."""
    import pytest

    from tests.conftest import Server, free_port

    srv = Server(tmp_path / "data", free_port(), env={
        "OPENVOD_MEDIA__ALLOW_PRIVATE_URLS": "false", "OPENVOD_CALLBACKS__ALLOW_PRIVATE_TARGETS": "false"}).start()
    try:
        c = new_client(srv.endpoint, srv.key("acme"))
        urls = ["http://127.0.0.1:1/x.mp4", "http://10.0.0.1/x.mp4", "http://169.254.169.254/latest/meta-data",
                "http://[::1]:8080/x.mp4", "ftp://example.com/x.mp4"]
        body = c.register_media(m.RegisterMediaRequest(register_metadatas=json.dumps(
            [{"FileURL": u, "Title": "t"} for u in urls]))).body
        assert body.failed_file_urls == urls and body.registered_media_list == []
        with pytest.raises(Exception) as ei:
            c.set_message_callback(m.SetMessageCallbackRequest(callback_type="HTTP", callback_url="http://127.0.0.1:9/cb",
                                                               event_type_list="AIComplete"))
        assert "InvalidParameter" in str(ei.value) and "CallbackURL" in str(ei.value)
    finally:
        srv.stop()
