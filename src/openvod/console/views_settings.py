"""Settings: access keys, the event callback, templates."""

from __future__ import annotations

from typing import Any

from openvod.console.auth import Session
from openvod.console.common import PREFIX, NotFound, ViewsBase
from openvod.console.http import Request, Response, redirect
from openvod.errors import VodError


class SettingsViews(ViewsBase):
    # ------------------------------------------------------------------ settings
    def settings(self, req: Request, sess: Session, new_key: Any = None, msg: str = "") -> Response:
        keys = self.rt.accounts.list_keys(sess.account_name)
        cb = self.rt.callbacks.get(sess.account_id)
        rows, _total = self.rt.templates.list(sess.account_id, "AIImage", 1, 100)
        templates = list(rows)
        for tt in ("AIMediaDNA", "AIVideoTag", "AIMediaAudit"):
            try:
                more, _t = self.rt.templates.list(sess.account_id, tt, 1, 100)
            except VodError:
                continue
            templates += list(more)
        return self.app.render(req, "settings.html", sess, keys=keys, cb=cb, templates=templates, new_key=new_key,
                               msg=msg)

    def create_key(self, req: Request, sess: Session) -> Response:
        k = self.rt.accounts.create_key(sess.account_name)
        return self.settings(req, sess, new_key=k)

    def key_status(self, req: Request, sess: Session, key_id: str, action: str) -> Response:
        if key_id not in {k.access_key_id for k in self.rt.accounts.list_keys(sess.account_name)}:
            raise NotFound()
        self.rt.accounts.set_key_status(key_id, "Inactive" if action == "disable" else "Active")
        return redirect(f"{PREFIX}/settings")

    def set_callback(self, req: Request, sess: Session) -> Response:
        url = req.field("callback_url").strip()
        auth_key = req.field("auth_key").strip()
        try:
            self.rt.callbacks.set(sess.account_id, app_id="app-1000000", callback_type="HTTP", callback_url=url,
                                  event_types=req.field("event_types").strip(),
                                  auth_switch="on" if auth_key else "off", auth_key=auth_key)
        except VodError as exc:
            return self.settings(req, sess, msg=f"{exc.code}: {exc.message}")
        return self.settings(req, sess, msg="saved")
