"""The console's pages and actions, and the route table that maps URLs to them. Each takes the request
and the signed-in session; every read and write goes through a service call scoped by
``sess.account_id``. The views are grouped by page area (``views_auth``, ``views_library``,
``views_upload``, ``views_video``, ``views_jobs``, ``views_faces``, ``views_words``, ``views_settings``);
they know the application only through ``openvod.console.common.ConsoleHost``."""

from __future__ import annotations

from openvod.console.common import MEDIA_ID, ConsoleHost, Route
from openvod.console.views_auth import AuthViews
from openvod.console.views_faces import FaceViews
from openvod.console.views_jobs import JobViews
from openvod.console.views_library import LibraryViews
from openvod.console.views_settings import SettingsViews
from openvod.console.views_upload import UploadViews
from openvod.console.views_video import VideoViews
from openvod.console.views_words import WordViews

_ID = MEDIA_ID
_TPL = r"(?P<template_id>[0-9a-f]{32})"


def routes(app: ConsoleHost) -> list[Route]:
    a, lib, vid = AuthViews(app), LibraryViews(app), VideoViews(app)
    jobs, faces, st, up = JobViews(app), FaceViews(app), SettingsViews(app), UploadViews(app)
    words = WordViews(app)
    return [
        ("GET", "/login", a.login_page, False),
        ("POST", "/login", a.login, False),
        ("GET", "/lang", a.set_lang, False),
        ("POST", "/logout", a.logout, True),
        ("GET", "/library", lib.library, True),
        ("GET", "/upload", up.upload_page, True),
        ("POST", "/upload/address", up.upload_address, True),
        ("GET", f"/upload/{_ID}\\.json", up.upload_state, True),
        ("GET", f"/video/{_ID}", vid.video, True),
        ("GET", f"/video/{_ID}/state.json", vid.video_state, True),
        ("GET", f"/video/{_ID}/frame.jpg", vid.frame, True),
        ("GET", f"/video/{_ID}/subtitles\\.(?P<fmt>srt|vtt)", vid.subtitles, True),
        ("POST", f"/video/{_ID}/run", vid.run_job, True),
        ("POST", f"/video/{_ID}/delete", vid.delete, True),
        ("POST", f"/video/{_ID}/cover", vid.set_cover, True),
        ("GET", "/jobs", jobs.jobs, True),
        ("POST", "/jobs/(?P<job_id>[0-9a-f]{32})/retry", jobs.retry, True),
        ("GET", "/faces", faces.faces, True),
        ("POST", "/faces/(?P<person_id>[0-9a-f]{32})/name", faces.name_face, True),
        ("POST", "/faces/(?P<person_id>[0-9a-f]{32})/remove", faces.remove_face, True),
        ("POST", "/faces/(?P<person_id>[0-9a-f]{32})/merge", faces.merge_face, True),
        ("GET", "/duplicates", lib.duplicates, True),
        ("GET", "/words", words.words, True),
        ("POST", "/words/add", words.add, True),
        ("POST", "/words/remove", words.remove, True),
        ("GET", "/settings", st.settings, True),
        ("POST", "/settings/keys", st.create_key, True),
        ("POST", "/settings/keys/(?P<key_id>[A-Za-z0-9.]{1,64})/(?P<action>disable|enable)", st.key_status, True),
        ("POST", "/settings/callback", st.set_callback, True),
        ("POST", "/settings/templates", st.add_template, True),
        ("POST", f"/settings/templates/{_TPL}", st.update_template, True),
        ("POST", f"/settings/templates/{_TPL}/(?P<action>delete|default)", st.template_action, True),
    ]
