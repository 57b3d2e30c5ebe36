"""Callback settings Actions (spec §13.1)."""

from __future__ import annotations

from typing import Any

from openvod.api.rpc import Ctx, action
from openvod.services.callbacks import DEFAULT_APP


@action("SetMessageCallback")
def set_message_callback(ctx: Ctx) -> dict[str, Any]:
    """Configure HTTP event callbacks for an app."""
    ctx.rt.callbacks.set(
        ctx.account_id,
        app_id=ctx.p.str("AppId", default=DEFAULT_APP, max_bytes=64),
        callback_type=ctx.p.str("CallbackType", default="HTTP"),
        callback_url=ctx.p.str("CallbackURL", max_bytes=256),
        event_types=ctx.p.str("EventTypeList", max_bytes=1024),
        auth_switch=ctx.p.str("AuthSwitch", default="off"),
        auth_key=ctx.p.str("AuthKey", max_bytes=32),
    )
    return {}


@action("GetMessageCallback", read_only=True)
def get_message_callback(ctx: Ctx) -> dict[str, Any]:
    """The app's callback configuration."""
    return {"MessageCallback": ctx.rt.callbacks.get(ctx.account_id, ctx.p.str("AppId", default=DEFAULT_APP))}
