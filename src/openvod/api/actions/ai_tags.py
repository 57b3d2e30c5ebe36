"""AIVideoTag extras beyond the cloud's API: the full detail of a tagging job and the face library.

``GetAIVideoTagDetail`` (MediaId or JobId; Format = json | srt | vtt) returns what the cloud's
result leaves out: word timings, text and face tracks with boxes, category evidence, per-analyzer
seconds — or the transcript as subtitles. ``ListFaceLibrary`` lists the account's named and unknown
people. Both are openvod additions (see docs/tag.md); the official SDKs can call them through their
generic ``call_api``.
"""

from __future__ import annotations

from typing import Any

from openvod.api.rpc import Ctx, action


@action("GetAIVideoTagDetail")  # results can be large: on the thread pool, off the event loop
def get_ai_video_tag_detail(ctx: Ctx) -> dict[str, Any]:
    """The detail of the video's latest successful AIVideoTag job (or of JobId)."""
    from openvod.analyzers.tag.export import export

    return export(ctx.rt, ctx.account_id, ctx.p.str("MediaId", max_bytes=128), ctx.p.str("JobId", max_bytes=128),
                  ctx.p.str("Format", default="json"))


@action("ListFaceLibrary")  # results can be large: on the thread pool, off the event loop
def list_face_library(ctx: Ctx) -> dict[str, Any]:
    """The account's face library: named people and unknown people seen in its videos."""
    from openvod.analyzers.tag.library import FaceLibrary, person_record

    people = FaceLibrary(ctx.rt.engine, ctx.account_id, "").people()
    return {"PersonList": {"Person": [person_record(p) for p in people]}}
