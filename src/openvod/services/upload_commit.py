"""What happens when the object endpoint commits an uploaded object: status Uploading -> UploadSucc ->
Normal after the probe (or UploadFail), and the events FileUploadComplete, VideoAnalysisComplete,
ImageUploadComplete and AttachedMediaUploadComplete through the callback outbox.

:class:`UploadCommit` is a base of :class:`openvod.services.uploads.UploadService`, which sets the
attributes it declares; :func:`probe_audio` is re-exported there too. See docs/upload.md.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from openvod.domain import userdata
from openvod.errors import VodError
from openvod.media.probe import ProbeError, probe
from openvod.services.callbacks import DEFAULT_APP, CallbackService, event_enabled
from openvod.services.upload_rules import Credential
from openvod.storage.blobs import LocalBlobStore
from openvod.store.tables import media, outbox, uploads
from openvod.util import dumps, new_id, now, utc_iso

log = logging.getLogger("openvod.services.uploads")  # the logger these messages always had


class UploadCommit:
    """The commit of uploaded objects and the events it sends (a base of UploadService)."""

    engine: Engine
    blobs: LocalBlobStore
    callbacks: CallbackService

    def row_by_media(self, media_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(uploads).where(uploads.c.media_id == media_id)).mappings().first()
        return dict(r) if r else None

    # ------------------------------------------------------------------ commit (called by the object endpoint)
    def committed(self, cred: Credential, key: str, blob_key: str, size: int, ip: str) -> None:
        """An object was committed at ``key`` (its bytes are at ``blob_key``): move the upload on."""
        up = self.row_by_media(cred.media_id)
        if up is None or key != up["object_key"]:
            return  # an m3u8 slice: stored, nothing else to do
        t = now()
        kind = up["kind"]
        if kind == "video":
            self._video_committed(up, size, ip, t)
        else:
            self._item_committed(up, blob_key, size, ip, t)

    def _video_committed(self, up: dict[str, Any], size: int, ip: str, t: float) -> None:
        mid, acc = up["media_id"], up["account_id"]
        file_url = f"oss://{up['bucket']}/{up['object_key']}"
        with self.engine.begin() as conn:
            conn.execute(update(media).where(media.c.id == mid).values(status="UploadSucc", size=size, modified_at=t))
            conn.execute(update(uploads).where(uploads.c.media_id == mid).values(
                status="UploadSucc", size=size, upload_size=size, upload_ip=ip[:64], completed_at=t, modified_at=t))
            self.enqueue_event(conn, acc, up["app_id"], up["user_data"], "FileUploadComplete", {
                "VideoId": mid, "Status": "success", "Size": size, "FileUrl": file_url})
        path = self.blobs.path(up["blob_key"])
        try:
            info = probe(path)
        except ProbeError as exc:
            audio = probe_audio(path)
            if audio is not None:  # an audio-only upload: playable as audio (MediaType audio)
                self._audio_committed(up, audio)
                return
            log.info("uploaded file is not playable media", extra={"media_id": mid, "reason": str(exc)})
            with self.engine.begin() as conn:
                conn.execute(update(media).where(media.c.id == mid).values(status="UploadFail", modified_at=now()))
                self.enqueue_event(conn, acc, up["app_id"], up["user_data"], "VideoAnalysisComplete", {
                    "VideoId": mid, "Status": "fail", "ErrorCode": "InvalidVideo.Damaged",
                    "ErrorMessage": f"The uploaded file cannot be read as media: {exc}", "Size": size})
            return
        with self.engine.begin() as conn:
            conn.execute(update(media).where(media.c.id == mid).values(
                status="Normal", size=info.size, md5=info.md5, duration=info.duration, width=info.width,
                height=info.height, fps=info.fps, bitrate=info.bitrate_kbps,
                probe=info.probe_json(),
                modified_at=now(),
            ))
            conn.execute(update(uploads).where(uploads.c.media_id == mid).values(status="Normal"))
            self.enqueue_event(conn, acc, up["app_id"], up["user_data"], "VideoAnalysisComplete", {
                "VideoId": mid, "Status": "success", "Size": info.size, "Duration": f"{info.duration:.3f}",
                "Width": str(info.width), "Height": str(info.height), "Bitrate": f"{info.bitrate_kbps:.3f}",
                "Fps": f"{info.fps:g}"})

    def _audio_committed(self, up: dict[str, Any], a: dict[str, Any]) -> None:
        mid = up["media_id"]
        with self.engine.begin() as conn:
            conn.execute(update(media).where(media.c.id == mid).values(
                status="Normal", size=a["size"], md5=a["md5"], duration=a["duration"], bitrate=a["bitrate"],
                probe=dumps({"Format": a["format"], "Video": [], "Audio": a["streams"]}), modified_at=now()))
            conn.execute(update(uploads).where(uploads.c.media_id == mid).values(status="Normal"))
            self.enqueue_event(conn, up["account_id"], up["app_id"], up["user_data"], "VideoAnalysisComplete", {
                "VideoId": mid, "Status": "success", "Size": a["size"], "Duration": f"{a['duration']:.3f}",
                "Bitrate": f"{a['bitrate']:.3f}"})

    def _item_committed(self, up: dict[str, Any], blob_key: str, size: int, ip: str, t: float) -> None:
        width = height = 0
        if up["kind"] == "image":
            try:
                from PIL import Image

                with Image.open(self.blobs.path(blob_key)) as im:
                    width, height = im.size
            except Exception:  # not an image Pillow reads (heic): size unknown, still stored
                width = height = 0
        event = "ImageUploadComplete" if up["kind"] == "image" else "AttachedMediaUploadComplete"
        id_field = "ImageId" if up["kind"] == "image" else "MediaId"
        with self.engine.begin() as conn:
            conn.execute(update(uploads).where(uploads.c.media_id == up["media_id"]).values(
                status="Normal", size=size, upload_size=size, width=width, height=height, upload_ip=ip[:64],
                completed_at=t, modified_at=t))
            self.enqueue_event(conn, up["account_id"], up["app_id"], up["user_data"], event, {
                id_field: up["media_id"], "Status": "success", "Size": size,
                "FileURL": f"oss://{up['bucket']}/{up['object_key']}"})

    def enqueue_event(self, conn: Connection, account_id: str, app_id: str, user_data: str, event: str,
                      fields: dict[str, Any]) -> bool:
        """Put a media event into the callback outbox (inside the caller's transaction)."""
        setting = self.callbacks.get(account_id, app_id or DEFAULT_APP, conn)
        if setting["CallbackURL"] == "" and (app_id or DEFAULT_APP) != DEFAULT_APP:
            setting = self.callbacks.get(account_id, DEFAULT_APP, conn)
        try:
            url = userdata.callback_url(user_data) if user_data else None
        except VodError:
            url = None
        if url is None:
            if not (setting["CallbackURL"] and event_enabled(setting["EventTypeList"], event)):
                return False
            url = setting["CallbackURL"]
        t = now()
        body: dict[str, Any] = {"EventTime": utc_iso(t), "EventType": event, **fields}
        try:
            ext = userdata.extend(user_data) if user_data else None
        except VodError:
            ext = None
        if ext is not None:
            body["Extend"] = ext
        conn.execute(insert(outbox).values(
            account_id=account_id, job_id=new_id(), event_type=event, url=url, body=dumps(body),
            auth_key=setting["AuthKey"] if setting["AuthSwitch"] == "on" else "", status="pending", attempts=0,
            next_attempt_at=t, created_at=t,
        ))
        return True


def probe_audio(path: Path) -> dict[str, Any] | None:
    """Describe an audio-only file (the media probe requires video); None if it has no decodable audio."""
    import hashlib

    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as c:
            if list(c.streams.video) or not list(c.streams.audio):
                return None
            a = c.streams.audio[0]
            got = any(True for _ in c.decode(audio=0))
            if not got:
                return None
            duration = c.duration / 1_000_000 if c.duration else float((a.duration or 0) * (a.time_base or 0))
            size = path.stat().st_size
            streams = [{"Index": str(a.index), "CodecName": a.codec_context.name or "",
                        "SampleRate": str(a.codec_context.sample_rate or ""),
                        "Channels": str(a.codec_context.channels or ""), "Duration": f"{duration:.3f}"}]
            fmt = c.format.name or ""
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError):
        return None
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return {"size": size, "md5": h.hexdigest(), "duration": duration, "format": fmt, "streams": streams,
            "bitrate": (size * 8 / duration / 1000) if duration else 0.0}
