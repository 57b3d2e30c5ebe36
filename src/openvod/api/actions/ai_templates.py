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


@action("ListAITemplate", read_only=True)
def list_ai_template(ctx: Ctx) -> dict[str, Any]:
    """Templates of one type (plain array)."""
    rows = ctx.rt.templates.list(ctx.account_id, ctx.p.str("TemplateType", required=True))
    return {"TemplateInfoList": [template_wire(r) for r in rows]}


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
