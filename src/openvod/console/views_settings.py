"""Settings: access keys, the event callback, and the account's AI templates (create, edit, delete,
set default: the same service calls and parameter checks as AddAITemplate, UpdateAITemplate,
DeleteAITemplate and SetDefaultAITemplate, so a refused config shows the API's Code and Message)."""

from __future__ import annotations

from typing import Any

from openvod.api.params import Params
from openvod.console.auth import Session
from openvod.console.common import PREFIX, NotFound, ViewsBase
from openvod.console.http import Request, Response, redirect
from openvod.errors import TemplateNotFound, VodError
from openvod.services.templates import TEMPLATE_TYPES

# What a new template of each type starts from (valid as it is; the page fills it in when the type changes).
EXAMPLES = {
    "AIImage": '{"Format": "png", "SetDefaultCover": "false", "Count": 3}',
    "AIMediaAudit": '{"AuditItem": ["terrorism", "porn", "ad"], "AuditRange": ["video", "image-cover", "text-title"], '
                    '"AuditContent": ["screen"], "AuditAutoBlock": "no"}',
}


class SettingsViews(ViewsBase):
    # ------------------------------------------------------------------ settings
    def settings(self, req: Request, sess: Session, new_key: Any = None, msg: str = "", status: int = 200,
                 tpl_error: str = "", draft: dict[str, str] | None = None) -> Response:
        keys = self.rt.accounts.list_keys(sess.account_name)
        cb = self.rt.callbacks.get(sess.account_id)
        templates: list[Any] = []
        for tt in TEMPLATE_TYPES:
            rows, _t = self.rt.templates.list(sess.account_id, tt, 1, self.rt.settings.api.max_templates_per_account)
            templates += list(rows)
        return self.app.render(req, "settings.html", sess, status=status, keys=keys, cb=cb, templates=templates,
                               new_key=new_key, msg=msg, tpl_error=tpl_error, draft=draft or {},
                               template_types=TEMPLATE_TYPES, examples=EXAMPLES)

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

    # ------------------------------------------------------------------ AI templates
    def _params(self, req: Request) -> Params:
        return Params({"TemplateName": req.field("name").strip(), "TemplateType": req.field("type"),
                       "TemplateConfig": req.field("config")})

    def _refused(self, req: Request, sess: Session, exc: VodError, draft: dict[str, str]) -> Response:
        if isinstance(exc, TemplateNotFound):
            raise NotFound()  # another account's template looks like a missing one
        return self.settings(req, sess, status=exc.http_status, tpl_error=f"{exc.code}: {exc.message}", draft=draft)

    def add_template(self, req: Request, sess: Session) -> Response:
        draft = {"id": "", "name": req.field("name"), "type": req.field("type"), "config": req.field("config")}
        try:
            p = self._params(req)
            self.rt.templates.add(sess.account_id, p.str("TemplateName", required=True),
                                  p.str("TemplateType", required=True),
                                  p.str("TemplateConfig", required=True, max_bytes=4096))
        except VodError as exc:
            return self._refused(req, sess, exc, draft)
        return redirect(f"{PREFIX}/settings#templates")

    def update_template(self, req: Request, sess: Session, template_id: str) -> Response:
        draft = {"id": template_id, "name": req.field("name"), "config": req.field("config")}
        try:
            p = self._params(req)
            self.rt.templates.update(sess.account_id, template_id, p.str("TemplateName", required=True),
                                     p.str("TemplateConfig", required=True, max_bytes=4096))
        except VodError as exc:
            return self._refused(req, sess, exc, draft)
        return redirect(f"{PREFIX}/settings#templates")

    def template_action(self, req: Request, sess: Session, template_id: str, action: str) -> Response:
        try:
            if action == "delete":
                self.rt.templates.delete(sess.account_id, template_id)
            else:
                self.rt.templates.set_default(sess.account_id, template_id)
        except VodError as exc:
            return self._refused(req, sess, exc, {})
        return redirect(f"{PREFIX}/settings#templates")
