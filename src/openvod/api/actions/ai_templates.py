"""AI template Actions (spec §9)."""

from __future__ import annotations

from typing import Any

from openvod.api.rpc import Ctx, action
from openvod.services.templates import template_wire


@action("AddAITemplate")
def add_ai_template(ctx: Ctx) -> dict[str, Any]:
    """Create a template of type AIImage or AIMediaAudit."""
    tid = ctx.rt.templates.add(
        ctx.account_id,
        ctx.p.str("TemplateName", required=True),
        ctx.p.str("TemplateType", required=True),
        ctx.p.str("TemplateConfig", required=True, max_bytes=4096),
    )
    return {"TemplateId": tid}


@action("GetAITemplate", read_only=True)
def get_ai_template(ctx: Ctx) -> dict[str, Any]:
    """One template."""
    return {"TemplateInfo": template_wire(ctx.rt.templates.get(ctx.account_id, ctx.p.str("TemplateId", required=True)))}


@action("ListAITemplate")
def list_ai_template(ctx: Ctx) -> dict[str, Any]:
    """Templates of one type (plain array), one page: PageNo (from 1) and PageSize (openvod additions;
    default api.list_page_size, at most api.list_max_page_size). Total counts them all. Runs on the
    thread pool, never on the event loop."""
    s = ctx.rt.settings.api
    ttype = ctx.p.str("TemplateType", required=True)
    page_no = ctx.p.int("PageNo", default=1, min_value=1, max_value=1_000_000) or 1
    page_size = ctx.p.int("PageSize", default=s.list_page_size, min_value=1, max_value=s.list_max_page_size)
    rows, total = ctx.rt.templates.list(ctx.account_id, ttype, page_no, page_size)
    return {
        "TemplateInfoList": [template_wire(r) for r in rows],
        "Total": total,
        "PageNo": page_no,
        "PageSize": page_size,
    }


@action("UpdateAITemplate")
def update_ai_template(ctx: Ctx) -> dict[str, Any]:
    """Rename a template and replace its config."""
    tid = ctx.rt.templates.update(
        ctx.account_id,
        ctx.p.str("TemplateId", required=True),
        ctx.p.str("TemplateName", required=True),
        ctx.p.str("TemplateConfig", required=True, max_bytes=4096),
    )
    return {"TemplateId": tid}


@action("DeleteAITemplate")
def delete_ai_template(ctx: Ctx) -> dict[str, Any]:
    """Delete a template (not the default one)."""
    return {"TemplateId": ctx.rt.templates.delete(ctx.account_id, ctx.p.str("TemplateId", required=True))}


@action("SetDefaultAITemplate")
def set_default_ai_template(ctx: Ctx) -> dict[str, Any]:
    """Make a template the default of its type."""
    return {"TemplateId": ctx.rt.templates.set_default(ctx.account_id, ctx.p.str("TemplateId", required=True))}


@action("GetDefaultAITemplate", read_only=True)
def get_default_ai_template(ctx: Ctx) -> dict[str, Any]:
    """The default template of a type."""
    r = ctx.rt.templates.get_default(ctx.account_id, ctx.p.str("TemplateType", required=True))
    return {"TemplateInfo": template_wire(r)}
