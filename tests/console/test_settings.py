"""Console settings and the audit word library in-process: AI templates created, edited (a bad config
shows the API's Code and Message), set as default and deleted; words added and removed per label; all
of it account-scoped and CSRF-protected."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from openvod.console.app import ConsoleApp
from tests.console.client import Client, add_user, make_runtime, two_signed_in

AUDIT = json.dumps({"AuditItem": ["porn"], "AuditRange": ["video"], "AuditContent": ["screen"],
                    "AuditAutoBlock": "no"})


def test_ai_templates(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path / "data")
    c, o = two_signed_in(rt)
    acc = rt.accounts.find_account("acme")

    # create: the same checks as AddAITemplate
    r = c.post("/console/settings/templates", {"name": "covers", "type": "AIImage",
                                               "config": '{"Format": "png", "SetDefaultCover": "true"}'})
    assert r.status == 303
    r = c.post("/console/settings/templates", {"name": "audit", "type": "AIMediaAudit", "config": AUDIT})
    assert r.status == 303
    rows = {t.name: t for t in rt.templates.list(acc, "AIImage")[0] + rt.templates.list(acc, "AIMediaAudit")[0]}
    img, aud = rows["covers"], rows["audit"]
    page = c.get("/console/settings")
    assert img.id.encode() in page.body and aud.id.encode() in page.body

    # refused configs show the server's Code and Message, keep what was typed, and create nothing
    bad = '{"Format": "bmp"}'
    r = c.post("/console/settings/templates", {"name": "bad", "type": "AIImage", "config": bad})
    assert r.status == 400 and b'id="template-error">InvalidParameter' in r.body and b"TemplateConfig" in r.body
    assert b"&#34;bmp&#34;" in r.body or b"&quot;bmp&quot;" in r.body
    r = c.post("/console/settings/templates", {"name": "x", "type": "AIVideoTag", "config": "{}"})
    assert r.status == 400 and b"TemplateType" in r.body
    r = c.post("/console/settings/templates", {"name": "", "type": "AIImage", "config": "{}"})
    assert r.status == 400 and b"MissingParameter" in r.body
    assert len(rt.templates.list(acc, "AIImage")[0]) == 1

    # edit: rename and a new config; an invalid one is refused with the reason
    r = c.post(f"/console/settings/templates/{aud.id}", {"name": "strict audit",
                                                         "config": AUDIT.replace('"no"', '"yes"')})
    assert r.status == 303
    got = rt.templates.get(acc, aud.id)
    assert got.name == "strict audit" and json.loads(got.config)["AuditAutoBlock"] == "yes"
    r = c.post(f"/console/settings/templates/{aud.id}", {"name": "strict audit", "config": '{"AuditAutoBlock": 1}'})
    assert r.status == 400 and b"AuditAutoBlock" in r.body
    assert json.loads(rt.templates.get(acc, aud.id).config)["AuditAutoBlock"] == "yes"

    # default: set, then it cannot be deleted (Forbidden.DefaultTemplate), another one can
    assert c.post(f"/console/settings/templates/{img.id}/default").status == 303
    assert rt.templates.get_default(acc, "AIImage").id == img.id
    r = c.post(f"/console/settings/templates/{img.id}/delete")
    assert r.status == 403 and b"Forbidden.DefaultTemplate" in r.body
    assert c.post(f"/console/settings/templates/{aud.id}/delete").status == 303
    assert [t.id for t in rt.templates.list(acc, "AIMediaAudit")[0]] == []

    # another account sees none of it and cannot touch it; writes need the CSRF token
    assert img.id.encode() not in o.get("/console/settings").body
    for path, form in ((f"/console/settings/templates/{img.id}", {"name": "mine", "config": "{}"}),
                       (f"/console/settings/templates/{img.id}/default", {}),
                       (f"/console/settings/templates/{img.id}/delete", {})):
        assert o.post(path, form).status == 404, path
        assert c.post(path, form, csrf=False).status == 403, path
    assert o.post("/console/settings/templates", {"name": "n", "type": "AIImage", "config": "{}"},
                  csrf=False).status == 403
    assert rt.templates.get(acc, img.id).name == "covers"
    rt.close()


def test_audit_words(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path / "data")
    c, o = two_signed_in(rt)
    acc, other = rt.accounts.find_account("acme"), rt.accounts.find_account("other")

    assert c.post("/console/words/add", {"label": "spam", "words": "buy now\n  cheap   pills \n\n"}).status == 303
    assert c.post("/console/words/add", {"label": "ad", "words": "<b>sale</b>"}).status == 303
    assert sorted(rt.audit.custom_words(acc)) == [("<b>sale</b>", "ad"), ("buy now", "spam"), ("cheap pills", "spam")]
    page = c.get("/console/words")
    section = re.search(rb'id="label-spam".*?</section>', page.body, re.S).group(0)
    assert b"buy now" in section and b"cheap pills" in section
    assert b"&lt;b&gt;sale&lt;/b&gt;" in page.body and b"<b>sale" not in page.body

    # refused input: the service's Code and Message, nothing stored
    r = c.post("/console/words/add", {"label": "gossip", "words": "x"})
    assert r.status == 400 and b"InvalidParameter" in r.body and b"Label" in r.body
    r = c.post("/console/words/add", {"label": "spam", "words": "y" * 129})
    assert r.status == 400 and b"1-128" in r.body
    r = c.post("/console/words/add", {"label": "spam", "words": "  \n"})
    assert r.status == 400 and b"MissingParameter" in r.body
    assert len(rt.audit.custom_words(acc)) == 3

    # remove
    assert c.post("/console/words/remove", {"label": "spam", "word": "buy now"}).status == 303
    assert ("buy now", "spam") not in rt.audit.custom_words(acc)

    # scoped and CSRF-protected
    assert b"cheap pills" not in o.get("/console/words").body
    assert o.post("/console/words/remove", {"label": "spam", "word": "cheap pills"}).status == 303
    assert ("cheap pills", "spam") in rt.audit.custom_words(acc) and rt.audit.custom_words(other) == []
    assert c.post("/console/words/remove", {"label": "spam", "word": "cheap pills"}, csrf=False).status == 403
    assert c.post("/console/words/add", {"label": "spam", "words": "z"}, csrf=False).status == 403
    assert len(rt.audit.custom_words(acc)) == 2
    rt.close()


def test_run_audit_and_show_the_result(tmp_path: Path) -> None:
    """The video page's Audit button queues SubmitAIMediaAuditJob; the result (Suggestion, Label, each
    part) appears on the page, and a custom word from the word library is what flags the title."""
    from openvod.engine.runner import run_job
    from tests.media import make_video

    rt = make_runtime(tmp_path / "data")
    if rt.analyzers.available("AIMediaAudit")[0] is None:
        import pytest

        pytest.skip("AIMediaAudit is not available here")
    c, o = two_signed_in(rt)
    assert c.post("/console/words/add", {"label": "ad", "words": "zorblax deals"}).status == 303
    r = c.post("/console/settings/templates", {"name": "audit", "type": "AIMediaAudit", "config": json.dumps({
        "AuditItem": ["porn", "ad"], "AuditRange": ["video", "text-title"], "AuditContent": ["screen"],
        "AuditAutoBlock": "no"})})
    assert r.status == 303
    acc = rt.accounts.find_account("acme")
    tid = rt.templates.list(acc, "AIMediaAudit")[0][0].id
    assert c.post(f"/console/settings/templates/{tid}/default").status == 303
    status, body = c.upload(make_video(tmp_path / "v.mp4", seconds=1.0), "zorblax deals today.mp4")
    assert status == 200, body
    vid = body["VideoId"]
    assert b'id="audit"' not in c.get(f"/console/video/{vid}").body
    assert o.post(f"/console/video/{vid}/run", {"kind": "audit"}).status == 404  # another account's video
    assert c.post(f"/console/video/{vid}/run", {"kind": "audit"}, csrf=False).status == 403
    assert c.post(f"/console/video/{vid}/run", {"kind": "audit"}).status == 303
    _n, rows = rt.jobs.list_account(acc, media_id=vid)
    job = next(r for r in rows if r.type == "AIMediaAudit")
    assert run_job(rt, job.id) == "success"
    page = c.get(f"/console/video/{vid}")
    m = re.search(rb'id="audit-suggestion">(\w+)<', page.body)
    assert m and m.group(1) in (b"review", b"block"), page.body[:200]
    row = re.search(rb'<tr data-scene="text: title">(.*?)</tr>', page.body, re.S).group(1)
    assert b">block<" in row and b">ad<" in row  # the title, flagged by the account's own word
    assert b"text-title" in re.search(rb'id="audit-label">([^<]*)<', page.body).group(1)
    rt.close()


def test_audit_word_cap_per_account(tmp_path: Path) -> None:
    """audit.max_custom_words caps an account's library (all labels): an add that would pass it is
    refused whole with Forbidden.WordLimitExceeded, in the console and the CLI; other accounts unaffected."""
    from openvod.config import Settings
    from openvod.runtime import Runtime
    from openvod.services.audit import WordLimitExceeded
    from tests.conftest import run_cli

    s = Settings(data_dir=tmp_path / "data")
    rt = Runtime(s.model_copy(update={"audit": s.audit.model_copy(update={"max_custom_words": 3})}))
    add_user(rt, "acme", "ann")
    add_user(rt, "other", "otto")
    acc, other = rt.accounts.find_account("acme"), rt.accounts.find_account("other")
    c = Client(ConsoleApp(rt, ThreadPoolExecutor(1)))
    assert c.sign_in("ann").status == 303
    assert c.post("/console/words/add", {"label": "spam", "words": "one\ntwo"}).status == 303
    r = c.post("/console/words/add", {"label": "ad", "words": "three\nfour"})
    assert r.status == 403 and b"Forbidden.WordLimitExceeded" in r.body and b"limit of 3" in r.body
    assert len(rt.audit.custom_words(acc)) == 2  # refused whole
    assert rt.audit.add_words(acc, "spam", ["one", "two", "three"]) == 1  # words already held do not count twice
    try:
        rt.audit.add_words(acc, "ad", ["four"])
        raise AssertionError("the cap was not enforced")
    except WordLimitExceeded as exc:
        assert exc.http_status == 403 and exc.code == "Forbidden.WordLimitExceeded"
    assert rt.audit.add_words(other, "ad", ["four"]) == 1
    assert rt.audit.remove_words(acc, "spam", ["one"]) == 1 and rt.audit.add_words(acc, "ad", ["four"]) == 1
    rt.close()
    # the CLI: the service's Code and Message, exit status 2, nothing added
    cli = run_cli(tmp_path / "data", "audit", "words", "add", "--account", "acme", "--label", "ad", "five",
                  env={"OPENVOD_AUDIT__MAX_CUSTOM_WORDS": "3"})
    assert cli.returncode == 2 and "Forbidden.WordLimitExceeded" in cli.stderr, (cli.stdout, cli.stderr)
    ok = run_cli(tmp_path / "data", "audit", "words", "add", "--account", "other", "--label", "ad", "five",
                 env={"OPENVOD_AUDIT__MAX_CUSTOM_WORDS": "3"})
    assert ok.returncode == 0 and "added 1 word(s)" in ok.stdout, ok.stderr
