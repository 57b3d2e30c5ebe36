"""Upload rules: the file extensions each upload accepts, the errors, the credential row and the checks of
ReferenceId and Tags. Split off :mod:`openvod.services.uploads`, which re-exports these names.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from openvod.errors import InvalidParameter, VodError
from openvod.util import dumps

VIDEO_EXTS = frozenset(
    "mp4 ts 3gp mpg mpeg mpe dat vob asf avi wmv asx mkv mov qt m4v flv f4v webm rm rmvb m2ts mts mxf dv "
    "m3u8 mp3 wav wma m4a aac ac3 amr ape flac mka ogg opus caf aiff".split()
)
AUDIO_EXTS = frozenset("mp3 wav wma m4a aac ac3 amr ape flac mka ogg opus caf aiff".split())
IMAGE_EXTS = ("png", "jpg", "jpeg", "gif", "heic", "webp")
ATTACHED_EXTS = {
    "watermark": ("png", "gif", "apng", "mov"),
    "subtitle": ("srt", "ase", "stl", "ttml", "vtt", "ass"),
    "material": ("jpg", "gif", "png", "mp4", "mat", "zip", "apk"),
}
_REFERENCE_ID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class ReferenceIdExists(VodError):
    code = "InvalidReferenceId.Duplicate"
    http_status = 400
    message = "The ReferenceId already exists in this account."


class IllegalStatus(VodError):
    code = "Forbidden.IllegalStatus"
    http_status = 403

    def __init__(self, status: str):
        super().__init__(f"Status of the video is illegal. Current Status is {status}.")


class InvalidFileNameExtension(VodError):
    code = "InvalidFileName.Extension"
    http_status = 400
    message = "The specified FileName's extension is illegal."


class ImageNotFound(VodError):
    code = "InvalidImage.NotFound"
    http_status = 404
    message = "The image does not exist."


@dataclass
class Credential:
    """A row of upload_credentials."""

    access_key_id: str
    secret: str
    token: str
    account_id: str
    media_id: str
    bucket: str
    object_key: str
    object_prefix: str
    expires_at: float

    def covers(self, bucket: str, key: str) -> bool:
        """True if this credential may touch ``bucket/key`` (its one object, or under its prefix)."""
        if bucket != self.bucket or not key:
            return False
        return key == self.object_key or bool(self.object_prefix and key.startswith(self.object_prefix))


def b64json(obj: dict[str, Any]) -> str:
    return base64.b64encode(dumps(obj).encode()).decode()


def _ext(name: str) -> str:
    suffix = PurePosixPath(name.replace("\\", "/").split("?")[0]).suffix
    return suffix[1:].lower() if suffix else ""


def check_reference_id(ref: str) -> str:
    if ref and not _REFERENCE_ID.match(ref):
        raise InvalidParameter("ReferenceId", "It must be 6-64 characters of A-Z, a-z, 0-9, '-' and '_'.")
    return ref


def check_tags(tags: str, name: str = "Tags") -> str:
    tag_list = [t.strip() for t in tags.split(",") if t.strip()]
    if len(tag_list) > 16 or any(len(t.encode()) > 32 for t in tag_list):
        raise InvalidParameter(name, "At most 16 tags of at most 32 bytes each.")
    return ",".join(tag_list)
