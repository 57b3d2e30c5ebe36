"""AIVideoTag extras beyond the cloud's API: the full detail of a tagging job and the face library.

``GetAIVideoTagDetail`` (MediaId or JobId; OutputFormat = json | srt | vtt) returns what the cloud's
result leaves out: word timings, text and face tracks with boxes, category evidence, per-analyzer
seconds — or the transcript as subtitles. ``ListFaceLibrary`` lists the account's named and unknown
people. Both are openvod additions (see docs/tag.md); the official SDKs can call them through their
generic ``call_api``.
"""

from __future__ import annotations

from typing import Any

from openvod.api.rpc import Ctx, action
from openvod.services.faces import person_record


def detail_format(ctx: Ctx) -> str:
    """OutputFormat (json | srt | vtt); ``Format`` is the RPC response format that SDKs set themselves
    (the old SDK's CommonRequest overwrites it with JSON), so it is only read as a fallback when it
    names a subtitle format."""
    out = ctx.p.str("OutputFormat", max_bytes=8)
    if out:
        return out
    legacy = ctx.p.str("Format").lower()
    return legacy if legacy in ("srt", "vtt") else "json"


@action("GetAIVideoTagDetail")  # results can be large: on the thread pool, off the event loop
def get_ai_video_tag_detail(ctx: Ctx) -> dict[str, Any]:
    """The detail of the video's latest successful AIVideoTag job (or of JobId), or its transcript as
    subtitles.

    `OutputFormat` = json (default: `Detail`) | srt | vtt (`Subtitle`). `Format` is the common
    response-format parameter, which SDKs set themselves (the old SDK's CommonRequest always sends
    `Format=JSON`), so use `OutputFormat`; `Format=srt|vtt` is still honoured when a client can send
    it. The response is JSON either way.
    """
    return ctx.rt.tag_export.export(ctx.account_id, ctx.p.str("MediaId", max_bytes=128),
                                    ctx.p.str("JobId", max_bytes=128), detail_format(ctx), param="OutputFormat")


@action("ListFaceLibrary")  # results can be large: on the thread pool, off the event loop
def list_face_library(ctx: Ctx) -> dict[str, Any]:
    """The account's face library: named people and unknown people seen in its videos."""
    people = ctx.rt.faces.library(ctx.account_id).people()
    return {"PersonList": {"Person": [person_record(p) for p in people]}}
