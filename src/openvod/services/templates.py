"""AI templates (types AIImage and AIMediaAudit), spec §9.

Decisions where the cloud is silent (see docs/decisions.md): no System templates are pre-created;
SetDefaultAITemplate moves the default of that type (at most one per account and type); the
default template cannot be deleted; names need not be unique.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update

from openvod.domain.options import AIImageOptions, parse_options, stored
from openvod.errors import InvalidParameter, TemplateNotFound, VodError
from openvod.store.tables import ai_templates
from openvod.util import dumps, json_problem, loads, new_id, now, utc_iso
from openvod.config import ApiSettings

TEMPLATE_TYPES = ("AIMediaAudit", "AIImage")
AUDIT_ITEMS = {"terrorism", "porn", "ad", "logo", "live", "audio"}
AUDIT_RANGES = {"video", "image-cover", "text-title"}
AUDIT_CONTENT = {"screen"}


class TemplateQuotaExceeded(VodError):
    code = "QuotaExceeded.AITemplate"
    http_status = 400
    message = "The account has reached its limit of AI templates (api.max_templates_per_account)."


class DefaultTemplateProtected(VodError):
    code = "Forbidden.DefaultTemplate"
    http_status = 403
    message = "The default template cannot be deleted. Make another template the default first."


def template_type(value: str, name: str = "TemplateType") -> str:
    canon = next((t for t in TEMPLATE_TYPES if t.lower() == value.lower()), None)
    if canon is None:
        raise InvalidParameter(name, f"Allowed values: {', '.join(TEMPLATE_TYPES)}.")
    return canon


def validate_config(ttype: str, raw: str) -> str:
    """Validate TemplateConfig for its type; returns the normalised JSON string."""
    try:
        cfg = loads(raw)
    except ValueError as exc:
        raise InvalidParameter("TemplateConfig", json_problem(exc, "It must be a JSON object.")) from None
    if not isinstance(cfg, dict):
        raise InvalidParameter("TemplateConfig", "It must be a JSON object.")
    if ttype == "AIImage":
        return dumps(_image_config(cfg))
    return dumps(_audit_config(cfg))


def _image_config(cfg: dict[str, Any]) -> dict[str, Any]:
    return stored(parse_options(AIImageOptions, cfg, param="TemplateConfig", wire=True))


def _str_list(cfg: dict[str, Any], key: str, allowed: set[str]) -> list[str]:
    v = cfg.get(key)
    if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
        raise InvalidParameter("TemplateConfig", f"{key} is required and must be a non-empty list of strings.")
    bad = [x for x in v if x not in allowed]
    if bad:
        raise InvalidParameter("TemplateConfig", f"{key} has unknown value(s) {bad}; allowed: {sorted(allowed)}.")
    return list(dict.fromkeys(v))


def _audit_config(cfg: dict[str, Any]) -> dict[str, Any]:
    block = cfg.get("AuditAutoBlock")
    if block not in ("yes", "no"):
        raise InvalidParameter("TemplateConfig", 'AuditAutoBlock is required and must be "yes" or "no".')
    unknown = sorted(set(cfg) - {"AuditItem", "AuditRange", "AuditContent", "AuditAutoBlock"})
    if unknown:
        raise InvalidParameter("TemplateConfig", f"Unknown key(s) for AIMediaAudit: {', '.join(unknown)}.")
    return {
        "AuditItem": _str_list(cfg, "AuditItem", AUDIT_ITEMS),
        "AuditRange": _str_list(cfg, "AuditRange", AUDIT_RANGES),
        "AuditContent": _str_list(cfg, "AuditContent", AUDIT_CONTENT),
        "AuditAutoBlock": block,
    }


def check_name(name: str) -> str:
    if len(name.encode()) > 128:
        raise InvalidParameter("TemplateName", "It must not exceed 128 bytes.")
    return name


def template_wire(r: Any) -> dict[str, str]:
    return {
        "TemplateId": r.id,
        "TemplateName": r.name,
        "TemplateType": r.type,
        "TemplateConfig": r.config,
        "Source": r.source,
        "IsDefault": "Default" if r.is_default else "NotDefault",
        "CreationTime": utc_iso(r.created_at),
        "ModifyTime": utc_iso(r.modified_at),
    }


class TemplateService:
    """CRUD and defaults for AI templates, scoped to an account."""

    def __init__(self, engine: Engine, settings: ApiSettings):
        self.engine = engine
        self.settings = settings

    def add(self, account_id: str, name: str, ttype: str, config: str) -> str:
        ttype = template_type(ttype)
        cfg = validate_config(ttype, config)
        tid = new_id()
        t = now()
        cap = self.settings.max_templates_per_account
        with self.engine.begin() as conn:
            n = conn.execute(
                select(func.count()).select_from(ai_templates).where(ai_templates.c.account_id == account_id)
            ).scalar_one()
            if n >= cap:
                raise TemplateQuotaExceeded(
                    f"The account has {n} AI templates, the limit (api.max_templates_per_account is {cap})."
                )
            conn.execute(
                insert(ai_templates).values(
                    id=tid, account_id=account_id, name=check_name(name), type=ttype, config=cfg,
                    source="Custom", is_default=0, created_at=t, modified_at=t,
                )
            )
        return tid

    def get(self, account_id: str, template_id: str) -> Any:
        with self.engine.connect() as conn:
            r = conn.execute(
                select(ai_templates).where(ai_templates.c.id == template_id, ai_templates.c.account_id == account_id)
            ).first()
        if r is None:
            raise TemplateNotFound()
        return r

    def list(self, account_id: str, ttype: str, page_no: int = 1, page_size: int | None = None) -> tuple[list[Any], int]:
        """One page of the account's templates of a type (oldest first) and the total count."""
        ttype = template_type(ttype)
        size = page_size or self.settings.list_page_size
        where = (ai_templates.c.account_id == account_id, ai_templates.c.type == ttype)
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(ai_templates).where(*where)).scalar_one()
            rows = list(
                conn.execute(
                    select(ai_templates)
                    .where(*where)
                    .order_by(ai_templates.c.created_at, ai_templates.c.id)
                    .limit(size)
                    .offset((page_no - 1) * size)
                ).all()
            )
        return rows, int(total)

    def update(self, account_id: str, template_id: str, name: str, config: str) -> str:
        r = self.get(account_id, template_id)
        cfg = validate_config(r.type, config)
        with self.engine.begin() as conn:
            conn.execute(
                update(ai_templates)
                .where(ai_templates.c.id == template_id, ai_templates.c.account_id == account_id)
                .values(name=check_name(name), config=cfg, modified_at=now())
            )
        return template_id

    def delete(self, account_id: str, template_id: str) -> str:
        r = self.get(account_id, template_id)
        if r.is_default:
            raise DefaultTemplateProtected()
        with self.engine.begin() as conn:
            conn.execute(
                delete(ai_templates).where(ai_templates.c.id == template_id, ai_templates.c.account_id == account_id)
            )
        return template_id

    def set_default(self, account_id: str, template_id: str) -> str:
        r = self.get(account_id, template_id)
        with self.engine.begin() as conn:
            conn.execute(
                update(ai_templates)
                .where(ai_templates.c.account_id == account_id, ai_templates.c.type == r.type)
                .values(is_default=0)
            )
            conn.execute(
                update(ai_templates)
                .where(ai_templates.c.id == template_id, ai_templates.c.account_id == account_id)
                .values(is_default=1, modified_at=now())
            )
        return template_id

    def get_default(self, account_id: str, ttype: str) -> Any:
        ttype = template_type(ttype)
        with self.engine.connect() as conn:
            r = conn.execute(
                select(ai_templates).where(
                    ai_templates.c.account_id == account_id, ai_templates.c.type == ttype, ai_templates.c.is_default == 1
                )
            ).first()
        if r is None:
            raise TemplateNotFound(f"No default {ttype} template is set.")
        return r
