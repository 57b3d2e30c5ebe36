"""Web console security: inert markup, account isolation, CSRF, session expiry (in-process, no browser)."""

from __future__ import annotations

import base64
import json
import re
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from openvod.console import auth as auth_mod
from openvod.console.app import ConsoleApp
from openvod.store.tables import jobs
from tests.console.client import Client, add_user, make_runtime
from tests.media import make_video

EVIL_TITLE = 'x<script>alert(1)</script>"onerror=alert(2) y'
EVIL_WORD = '<script>alert(3)</script>"onerror=alert(4)'


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("console")
    rt = make_runtime(d / "data", session_ttl_s=600)
    add_user(rt, "alice", "alice")
    add_user(rt, "bob", "bob")
    app = ConsoleApp(rt, ThreadPoolExecutor(2))
    a, b = Client(app), Client(app)
    assert a.sign_in("alice").status == 303
    assert b.sign_in("bob").status == 303
    clip = make_video(d / "clip.mp4", seconds=1.0, audio=False)
    status, body = a.upload(clip, EVIL_TITLE + ".mp4")
    assert status == 200, body
    vid = body["VideoId"]
    # A finished AIVideoTag job whose transcript carries markup (as if someone said it).
    jid = rt.jobs.submit(rt.accounts.find_account("alice"), vid, "AIMediaDNA", "{}", "")[0]["JobId"]
    data = {"Keyword": [{"Tag": EVIL_WORD, "Times": ["100"]}], "Person": [], "Location": [], "Time": [],
            "Category": []}
    detail = {"ASR": {"Sentences": [{"StartTime": 0, "EndTime": 900, "Text": EVIL_WORD,
                                     "Words": [{"Word": EVIL_WORD, "StartTime": 0, "EndTime": 900}]}]}}
    with rt.engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == jid).values(
            type="AIVideoTag", status="success", data=json.dumps(data), detail=json.dumps(detail), completed_at=1.0))
    failed = rt.jobs.submit(rt.accounts.find_account("alice"), vid, "AIMediaDNA", "{}", "")[0]["JobId"]
    with rt.engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == failed).values(status="fail", code="X", message="boom"))
    return {"rt": rt, "app": app, "a": a, "b": b, "vid": vid, "tag_job": jid, "failed_job": failed, "dir": d}


class _Tags(HTMLParser):
    """Every element and attribute the browser would build from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def _inert(body: bytes) -> None:
    """No script but the console's own file (and its JSON data), no event-handler attribute, no injected element."""
    p = _Tags()
    p.feed(body.decode())
    for tag, attrs in p.elements:
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
        if tag == "script":
            assert attrs.get("src") == "/console/static/console.js" or attrs.get("type") == "application/json", attrs
        assert not (tag == "img" and attrs.get("src") == "x"), attrs
    text = body.decode()
    assert "alert(1)</script>" not in text and "alert(3)</script>" not in text


def test_markup_in_titles_and_transcripts_is_inert(env: dict[str, Any]) -> None:
    a, vid = env["a"], env["vid"]
    lib = a.get("/console/library")
    assert lib.status == 200 and b"&lt;script&gt;alert(1)" in lib.body
    _inert(lib.body)
    page = a.get(f"/console/video/{vid}")
    assert page.status == 200
    assert b"&lt;script&gt;alert(3)" in page.body  # the transcript word, shown as text
    _inert(page.body)
    # The inline JSON state is data, and cannot close its <script> element either.
    state = re.search(rb'<script type="application/json" id="state">(.*?)</script>', page.body, re.S).group(1)
    assert b"<" not in state
    # Pages forbid inline script outright.
    csp = dict(page.all_headers())["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    srt = a.get(f"/console/video/{vid}/subtitles.srt")
    assert srt.status == 200 and srt.ctype.startswith("application/x-subrip")
    search = a.get("/console/library?q=" + "%3Cscript%3E")
    _inert(search.body)


def test_other_account_cannot_open_video_media_or_results(env: dict[str, Any]) -> None:
    a, b, vid = env["a"], env["b"], env["vid"]
    page = a.get(f"/console/video/{vid}")
    media_urls = re.findall(rb'src="(/blobs/[^"]+)"', page.body)
    assert media_urls, "the owner's page plays a signed URL"
    for path in (f"/console/video/{vid}", f"/console/video/{vid}/state.json", f"/console/video/{vid}/frame.jpg?t=0",
                 f"/console/video/{vid}/subtitles.srt", f"/console/video/{vid}/subtitles.vtt"):
        r = b.get(path)
        assert r.status == 404, (path, r.status)
        assert b"/blobs/" not in r.body and b"alert" not in r.body
        # A foreign video looks exactly like one that does not exist.
        unknown = "f" * 32
        r2 = b.get(path.replace(vid, unknown))
        assert r2.status == 404 and r2.body.replace(unknown.encode(), b"ID") == r.body.replace(vid.encode(), b"ID")
    for path, form in ((f"/console/video/{vid}/run", {"kind": "dna"}), (f"/console/video/{vid}/delete", {}),
                       (f"/console/video/{vid}/cover", {"image_id": "0" * 32}),
                       (f"/console/jobs/{env['failed_job']}/retry", {})):
        r = b.post(path, form)
        assert r.status in (400, 404), (path, r.status)
        assert b"Only a failed" not in r.body
    lib = b.get("/console/library")
    assert vid.encode() not in lib.body
    jobs_page = b.get("/console/jobs")
    assert env["tag_job"].encode() not in jobs_page.body and vid.encode() not in jobs_page.body
    assert a.get(f"/console/video/{vid}").status == 200  # still there for its owner


def test_writes_without_csrf_are_refused(env: dict[str, Any]) -> None:
    a, vid = env["a"], env["vid"]
    before = len(env["rt"].jobs.list_account(env["rt"].accounts.find_account("alice"), media_id=vid)[1])
    for path, form in ((f"/console/video/{vid}/run", {"kind": "dna"}), (f"/console/video/{vid}/delete", {}),
                       ("/console/settings/keys", {}), ("/console/logout", {})):
        for token in (None, "wrong"):
            f = dict(form)
            if token:
                f["csrf"] = token
            r = a.post(path, f, csrf=False)
            assert r.status == 403, (path, token, r.status)
    for tok in (None, "wrong"):  # the upload address (CreateUploadVideo) is a write too
        r = a.request("POST", "/console/upload/address", form={"name": "a.mp4", "size": 10},
                      headers={"X-CSRF-Token": tok} if tok else {})
        assert r.status == 403, tok
    # Sign-in itself needs the login form's token (login CSRF).
    r = Client(env["app"]).request("POST", "/console/login", form={"username": "alice", "password": "correct horse"})
    assert r.status == 403
    assert a.get(f"/console/video/{vid}").status == 200  # nothing was deleted
    after = len(env["rt"].jobs.list_account(env["rt"].accounts.find_account("alice"), media_id=vid)[1])
    assert after == before


def test_session_cookie_flags_and_wrong_password(env: dict[str, Any]) -> None:
    c = Client(env["app"])
    page = c.get("/console/login")
    tok = re.search(rb'name="csrf" value="([^"]+)"', page.body).group(1).decode()
    r = c.request("POST", "/console/login", form={"csrf": tok, "username": "alice", "password": "wrong password"})
    assert r.status == 401 and "ovc_session" not in c.cookies
    r = c.sign_in("alice")
    cookie = next(v for k, v in r.all_headers() if k == "set-cookie" and v.startswith("ovc_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=600" in cookie
    assert c.post("/console/logout").status == 303
    assert c.get("/console/library").status == 303  # signed out: back to the login page


def test_sessions_expire(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    c = Client(env["app"])
    c.sign_in("bob")
    assert c.get("/console/library").status == 200
    real = auth_mod.now
    monkeypatch.setattr(auth_mod, "now", lambda: real() + 601)
    r = c.get("/console/library")
    assert r.status == 303 and "expired=1" in dict(r.headers)["location"]
    assert c.get("/console/video/" + env["vid"] + "/state.json").status == 401
    assert c.post("/console/settings/keys").status == 401


def test_password_is_hashed(env: dict[str, Any]) -> None:
    from sqlalchemy import select

    from openvod.store.tables import console_users

    with env["rt"].engine.connect() as conn:
        hashes = [r.password_hash for r in conn.execute(select(console_users.c.password_hash))]
    assert hashes and all(h.startswith("$argon2id$") and "correct horse" not in h for h in hashes)


def test_upload_failure_says_why(env: dict[str, Any], tmp_path: Path) -> None:
    a = env["a"]
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all" * 50)
    status, body = a.upload(bad)
    assert status == 422 and body["Code"] == "InvalidVideo.Damaged"
    assert "broken.mp4" in body["Message"] and str(env["rt"].settings.blob_dir) not in body["Message"]
    status, body = a.upload(bad, "notes.txt")
    assert status == 400 and body["Code"] == "InvalidFileName.Extension"


def test_faces_name_merge_remove_are_scoped(env: dict[str, Any]) -> None:
    import numpy as np

    from openvod.services.faces import FaceLibrary

    rt, a, b = env["rt"], env["a"], env["b"]
    alice = FaceLibrary(rt.engine, rt.accounts.find_account("alice"), "dlib")
    p1 = alice.identify([np.zeros(128, np.float32)], 0.1)[0].person_id
    p2 = alice.identify([np.ones(128, np.float32)], 0.1)[0].person_id
    page = a.get("/console/faces")
    assert p1.encode() in page.body and p2.encode() in page.body
    assert p1.encode() not in b.get("/console/faces").body
    # Another account can neither name, merge nor remove alice's people.
    assert b.post(f"/console/faces/{p1}/name", {"name": "<b>x</b>"}).status == 404
    assert b.post(f"/console/faces/{p1}/merge", {"other": p2}).status == 404
    assert b.post(f"/console/faces/{p1}/remove").status == 404
    assert a.post(f"/console/faces/{p1}/name", {"name": 'Ann <img src=x onerror=alert(5)>'}).status == 303
    page = a.get("/console/faces")
    assert b"Ann &lt;img" in page.body
    _inert(page.body)
    assert a.post(f"/console/faces/{p1}/merge", {"other": p2}).status == 303
    people = {p.id: p for p in alice.people()}
    assert p2 not in people and people[p1].samples == 2 and people[p1].examples == 1
    # The merged look is matched as the kept person from now on.
    assert alice.identify([np.ones(128, np.float32)], 0.1)[0].person_id == p1
    assert a.post(f"/console/faces/{p1}/remove").status == 303
    assert not alice.people()


def test_object_endpoint_refuses_forged_or_foreign_uploads(env: dict[str, Any], tmp_path: Path) -> None:
    """The console's signed PostObject form is good for one object, one size range, one account: a changed
    key, a forged signature, a body over the limit or another account's state are refused (OSS XML Code)."""
    from sqlalchemy import select

    from openvod.store.tables import oss_objects
    from tests.console.client import oss_error, post_object

    rt, a, b = env["rt"], env["a"], env["b"]
    addr_a = json.loads(a.upload_address("mine.mp4", 1000).body)
    addr_b = json.loads(b.upload_address("theirs.mp4", 1000).body)
    url, fields = addr_a["Post"]["URL"], addr_a["Post"]["Fields"]
    data = b"x" * 1000
    cases = [
        ({**fields, "key": addr_b["Post"]["Fields"]["key"]}, data, 403, "AccessDenied"),  # bob's object
        ({**fields, "Signature": fields["Signature"][:-4] + "AAA="}, data, 403, "SignatureDoesNotMatch"),
        ({**fields, "x-oss-security-token": addr_b["Post"]["Fields"]["x-oss-security-token"]}, data, 403,
         "InvalidSecurityToken"),
    ]
    for form, body, status, code in cases:
        resp = post_object(rt, url, form, body, "f.mp4")
        assert resp.status == status and oss_error(resp.body)["Code"] == code, (resp.status, resp.body)
    with rt.engine.connect() as conn:
        keys = [r.object_key for r in conn.execute(select(oss_objects.c.object_key))]
    assert addr_b["Post"]["Fields"]["key"] not in keys and fields["key"] not in keys  # nothing was stored
    # Bob cannot see how alice's upload went, nor get her object.
    assert b.get(f"/console/upload/{addr_a['VideoId']}.json").status == 404
    assert a.get(f"/console/upload/{addr_a['VideoId']}.json").status == 200
    # Over the size limit: refused by the console before a video exists, and by the policy's
    # content-length-range at the object endpoint.
    r = a.upload_address("big.mp4", rt.settings.console.max_upload_bytes + 1)
    assert r.status == 400 and json.loads(r.body)["Code"] == "FileTooLarge"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1, rt.settings.console.max_upload_bytes] in policy["conditions"]
    resp = post_object(rt, url, fields, b"", "empty.mp4")
    assert resp.status == 400 and oss_error(resp.body)["Code"] == "EntityTooSmall"


def test_password_guessing_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = make_runtime(tmp_path / "data")
    add_user(rt, "acme", "carol")
    app = ConsoleApp(rt, ThreadPoolExecutor(1))
    monkeypatch.setattr(auth_mod, "MAX_FAILURES", 3)
    c = Client(app)
    for _ in range(3):
        assert c.sign_in("carol", "wrong-password").status == 401
    r = c.sign_in("carol")  # the right password, too late
    assert r.status == 429 and b"Too many" in r.body
    real = auth_mod.now
    monkeypatch.setattr(auth_mod, "now", lambda: real() + auth_mod.FAILURE_WINDOW_S + 1)
    assert c.sign_in("carol").status == 303
    rt.close()


def test_nul_in_console_text_is_a_400_not_stored(env: dict[str, Any]) -> None:
    """A NUL in an upload's file name or an audit word: 400 InvalidParameter, as the API's parameter check
    gives (PostgreSQL text cannot hold NUL: it was a 500 there, and SQLite stored it)."""
    rt, a = env["rt"], env["a"]
    r = a.upload_address("a\x00b.mp4", 10)
    assert r.status == 400 and json.loads(r.body)["Code"] == "InvalidParameter", r.body
    before = rt.audit.custom_words(rt.accounts.find_account("alice"))
    r = a.post("/console/words/add", {"label": "ad", "words": "bad\x00word"})
    assert r.status == 400 and b"InvalidParameter" in r.body
    assert rt.audit.custom_words(rt.accounts.find_account("alice")) == before


def test_console_size_limit_is_the_pages_not_the_servers(tmp_path: Path) -> None:
    """docs/console.md *Upload*: the page refuses files over console.max_upload_bytes and signs its policy
    with that range, but it hands the user the upload credential (UploadAuth, as CreateUploadVideo does),
    so a policy signed by the user goes up to the object endpoint's own limit, upload.max_put_bytes, and
    no further."""
    from openvod.config import Settings
    from openvod.oss import auth as oss_auth
    from openvod.runtime import Runtime
    from tests.console.client import oss_error, post_object

    s = Settings(data_dir=tmp_path / "data")
    rt = Runtime(s.model_copy(update={"console": s.console.model_copy(update={"max_upload_bytes": 1024}),
                                      "upload": s.upload.model_copy(update={"max_put_bytes": 4096})}))
    add_user(rt, "acme", "ann")
    c = Client(ConsoleApp(rt, ThreadPoolExecutor(1)))
    assert c.sign_in("ann").status == 303
    assert json.loads(c.upload_address("big.mp4", 2000).body)["Code"] == "FileTooLarge"  # the page's limit
    addr = json.loads(c.upload_address("a.mp4", 1000).body)
    cred = json.loads(base64.b64decode(addr["UploadAuth"]))
    fields = dict(addr["Post"]["Fields"])
    assert post_object(rt, addr["Post"]["URL"], fields, b"x" * 2000, "a.mp4").status == 400  # the page's policy

    def own(limit: int) -> dict[str, str]:
        pol = json.loads(base64.b64decode(fields["policy"]))
        pol["conditions"] = [x for x in pol["conditions"] if not (isinstance(x, list) and x[0] == "content-length-range")]
        pol["conditions"].append(["content-length-range", 1, limit])
        b64 = base64.b64encode(json.dumps(pol).encode()).decode()
        return {**fields, "policy": b64, "Signature": oss_auth.sign(cred["AccessKeySecret"], b64)}

    r = post_object(rt, addr["Post"]["URL"], own(10_000), b"x" * 5000, "a.mp4")
    assert r.status == 400 and oss_error(r.body)["Code"] == "EntityTooLarge", r.body  # the server's limit
    r = post_object(rt, addr["Post"]["URL"], own(4096), b"x" * 2000, "a.mp4")
    assert r.status < 300, r.body  # over the console's limit, within the server's: stored
    rt.close()
