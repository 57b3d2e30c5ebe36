"""The media library around uploads: play info, listing, search (with AI data), updates, images."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from openvod.errors import VodError
from openvod.util import utc_iso

if TYPE_CHECKING:
    from openvod.runtime import Runtime


class NoneStream(VodError):
    code = "InvalidVideo.NoneStream"
    http_status = 404

    def __init__(self, detail: str):
        super().__init__(f"The video has no stream to play for the request parameter: {detail}.")


def media_type(row: dict[str, Any]) -> str:
    """video when the source has a video stream, audio when it only has audio."""
    probe = json.loads(row.get("probe") or "{}")
    if probe.get("Video"):
        return "video"
    return "audio" if probe.get("Audio") else "video"


def source_format(row: dict[str, Any]) -> str:
    ext = PurePosixPath(row["blob_key"]).suffix.lstrip(".").lower()
    return {"mov": "mp4", "m4a": "m4a", "m4v": "mp4"}.get(ext, ext or "mp4")


class LibraryService:
    """Read and update the media library."""

    def __init__(self, rt: Runtime):
        self.rt = rt

    def play_info(self, account_id: str, video_id: str, base_url: str, ttl: int, formats: set[str],
                  stream_types: set[str], definitions: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        from openvod.services.uploads import IllegalStatus

        row = self.rt.media.get_row(account_id, video_id)
        if row["status"] != "Normal":
            raise IllegalStatus(row["status"])
        kind = media_type(row)
        if kind not in (stream_types or {"video"}):
            raise NoneStream(f"the source has no {', '.join(sorted(stream_types or {'video'}))} stream "
                             f"(MediaType {kind})")
        fmt = source_format(row)
        if formats and fmt not in formats:
            raise NoneStream(f"Formats (the only stream is the {fmt} source)")
        if definitions and not definitions & {"OD", "AUTO"}:
            raise NoneStream("Definition (the only stream is OD, the original)")
        if not self.rt.blobs.exists(row["blob_key"]):
            raise NoneStream("the source file is missing")
        created, modified = utc_iso(row["created_at"]), utc_iso(row["modified_at"])
        base = {
            "VideoId": row["id"],
            "Title": row["title"],
            "CoverURL": self.rt.media.cover_url(row, base_url),
            "Duration": f"{row['duration']:.3f}",
            "Status": row["status"],
            "MediaType": kind,
            "CreationTime": created,
            "StorageClass": "Standard",
        }
        codec = ""
        probe = json.loads(row.get("probe") or "{}")
        streams = probe.get("Video" if kind == "video" else "Audio") or []
        if streams:
            codec = str(streams[0].get("CodecName", ""))
        info = {
            "PlayURL": self.rt.urls.sign(base_url, row["blob_key"], ttl_s=ttl),
            "Definition": "OD",
            "Format": fmt,
            "Bitrate": f"{row['bitrate']:.3f}",
            "Duration": f"{row['duration']:.3f}",
            "Fps": f"{row['fps']:g}",
            "Width": int(row["width"]),
            "Height": int(row["height"]),
            "Size": int(row["size"]),
            "Encrypt": 0,
            "StreamType": kind,
            "JobId": "",
            "JobType": 1,
            "Specification": "Original",
            "NarrowBandType": "0",
            "HDRType": "SDR",
            "BitDepth": 8,
            "CodecName": codec,
            "Status": "Normal",
            "CreationTime": created,
            "ModificationTime": modified,
        }
        return base, info
