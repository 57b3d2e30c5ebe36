"""Still frames of a video for the console (thumbnails, copy evidence): decoded with PyAV, cached as JPEG blobs
under the video's ``derived/`` prefix (deleted with the video)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import av
from PIL import Image

if TYPE_CHECKING:
    from openvod.runtime import Runtime

WIDTH = 320


def frame_key(account_id: str, media_id: str, t: float) -> str:
    return f"derived/{account_id}/{media_id}/console/frame-{int(round(t * 10))}.jpg"


def grab(path: Path, t: float, width: int = WIDTH) -> bytes | None:
    """A JPEG of the frame shown at ``t`` seconds (the first frame at or after it), or None."""
    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                return None
            s = c.streams.video[0]
            s.thread_type = "AUTO"
            if t > 0 and s.time_base:
                c.seek(int(t / s.time_base), stream=s, backward=True, any_frame=False)
            img = None
            for f in c.decode(s):
                ft = float(f.pts * s.time_base) if f.pts is not None and s.time_base else 0.0
                img = f
                if ft + 0.02 >= t:
                    break
            if img is None:
                return None
            h = max(2, int(round(img.height * width / max(1, img.width))))
            pic = img.to_image().convert("RGB").resize((width, h), Image.Resampling.BILINEAR)
    except (av.FFmpegError, OSError, ValueError):
        return None
    buf = io.BytesIO()
    pic.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def frame_blob(rt: Runtime, row: dict, t: float) -> str | None:
    """The blob key of the cached frame at ``t`` of a media row (made on first use), or None."""
    t = max(0.0, min(float(t), float(row.get("duration") or 0.0)))
    key = frame_key(row["account_id"], row["id"], t)
    if rt.blobs.exists(key):
        return key
    src = rt.media.local_path(row)
    if not src.is_file():
        return None
    data = grab(src, t)
    if data is None:
        return None
    rt.blobs.put_bytes(key, data)
    return key
