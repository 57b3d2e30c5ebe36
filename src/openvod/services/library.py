"""The media library around uploads: play info, listing, search (with AI data), updates, images."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from openvod.errors import InvalidParameter, VodError
from openvod.services.media import MediaService
from openvod.services.search import Cond
from openvod.services.uploads import IllegalStatus, ReferenceIdExists
from openvod.storage.blobs import LocalBlobStore
from openvod.storage.urls import UrlSigner
from openvod.store.tables import ai_images, jobs, media, media_refs, uploads
from openvod.util import now, parse_utc_iso, utc_iso


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


# ---------------------------------------------------------------------------------------------- AI data
def _label_id(category: str, name: str) -> str:
    return hashlib.md5(f"{category}\0{name.lower()}".encode()).hexdigest()[:16]


def _occurrences(item: dict[str, Any]) -> list[dict[str, float]]:
    score = float(item.get("Confidence", 1.0) or 1.0)
    spans = item.get("Intervals")
    if isinstance(spans, list) and spans:
        return [{"From": round(int(s["Start"]) / 1000, 3), "To": round(int(s["End"]) / 1000, 3), "Score": score}
                for s in spans if isinstance(s, dict) and "Start" in s and "End" in s]
    out = []
    for t in item.get("Times", []) or []:
        try:
            sec = round(int(t) / 1000, 3)
        except (TypeError, ValueError):
            continue
        out.append({"From": sec, "To": sec, "Score": score})
    return out


def ai_data(tag_data: dict[str, Any]) -> dict[str, Any]:
    """SearchMedia's AiData from an AIVideoTag result: label occurrences and OCR text with From/To."""
    labels = []
    for category in ("Keyword", "Person", "Location", "Time", "Category"):
        for item in tag_data.get(category, []) or []:
            if not isinstance(item, dict) or not item.get("Tag"):
                continue
            name = str(item["Tag"])
            labels.append({"LabelId": _label_id(category, name), "LabelName": name, "Category": category,
                           "Occurrences": _occurrences(item)})
    ocr = []
    for item in tag_data.get("OCR", []) or []:
        if not isinstance(item, dict) or not item.get("Text"):
            continue
        occ = _occurrences(item)
        ocr.append({"Content": str(item["Text"]), "From": occ[0]["From"] if occ else 0.0,
                    "To": max((o["To"] for o in occ), default=0.0)})
    return {"AiLabelInfo": labels, "OcrInfo": ocr}


# ---------------------------------------------------------------------------------------------- listing
def _ts(value: str, name: str) -> float:
    try:
        return parse_utc_iso(value)
    except ValueError:
        raise InvalidParameter(name, "Use yyyy-MM-ddTHH:mm:ssZ (UTC).") from None


def _row_matches(row: dict[str, Any], c: Cond, tag_data: dict[str, Any] | None) -> bool:
    """One Match condition against a media/upload row (and its AI data for AiLabel / AiText)."""
    f, vals = c.field, [v.lower() for v in c.values]
    if c.op == "range":
        col = row["created_at"] if f == "CreationTime" else row["modified_at"]
        lo = _ts(c.values[0], "Match") if c.values[0] else None
        hi = _ts(c.values[1], "Match") if c.values[1] else None
        return (lo is None or col >= lo) and (hi is None or col <= hi)
    if f in ("AiLabel", "AiText"):
        if not tag_data:
            hit = False
        else:
            ai = ai_data(tag_data)
            names = [lab["LabelName"].lower() for lab in ai["AiLabelInfo"]]
            if f == "AiLabel":
                hit = any(v in names for v in vals)
            else:
                texts = names + [o["Content"].lower() for o in ai["OcrInfo"]]
                hit = any(v in t for v in vals for t in texts)
        return hit if c.op != "ne" else not hit
    if f in ("Title", "Description"):
        have = str(row["title" if f == "Title" else "description"] or "").lower()
        hit = any(v in have for v in vals)
    elif f == "Tags":
        tags = {t.strip().lower() for t in str(row["tags"] or "").split(",") if t.strip()}
        hit = any(v in tags for v in vals)
    elif f == "MediaId":
        hit = row["id"].lower() in vals
    elif f == "Status":
        hit = str(row["status"]).lower() in vals
    elif f == "CateId":
        hit = row["cate_id"] is not None and str(row["cate_id"]) in vals
    elif f == "StorageLocation":
        hit = "local" in vals
    elif f == "AppId":
        hit = str(row.get("app_id") or "app-1000000").lower() in vals
    else:  # pragma: no cover - parse_match only yields known fields
        hit = False
    return hit if c.op != "ne" else not hit


def encode_scroll(created_at: float, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at!r}|{row_id}".encode()).decode().rstrip("=")


def decode_scroll(token: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        t, _, rid = raw.partition("|")
        return float(t), rid
    except (ValueError, UnicodeDecodeError):
        raise InvalidParameter("ScrollToken", "It is not a token this server issued.") from None


class _Library:
    """Mixin with the list / search / update / image / job Actions' logic (kept apart from play info)."""

    engine: Engine
    blobs: LocalBlobStore
    urls: UrlSigner
    media: MediaService

    # ---------------------------------------------------------------- GetVideoList
    def video_list(self, account_id: str, *, statuses: list[str], start: str, end: str, cate_id: int | None,
                   page_no: int, page_size: int, ascending: bool) -> tuple[int, list[dict[str, Any]]]:
        q = select(media).where(media.c.account_id == account_id)
        if statuses:
            q = q.where(media.c.status.in_(statuses))
        if start:
            q = q.where(media.c.created_at >= _ts(start, "StartTime"))
        if end:
            q = q.where(media.c.created_at <= _ts(end, "EndTime"))
        if cate_id is not None:
            q = q.where(media.c.cate_id == cate_id)
        order = (media.c.created_at.asc(), media.c.id.asc()) if ascending else (media.c.created_at.desc(),
                                                                                  media.c.id.desc())
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = conn.execute(q.order_by(*order).offset((page_no - 1) * page_size).limit(page_size)).mappings()
            return int(total), [dict(r) for r in rows]

    def references(self, ids: list[str]) -> dict[str, str]:
        if not ids:
            return {}
        with self.engine.connect() as conn:
            return {r.media_id: r.reference_id for r in conn.execute(
                select(media_refs.c.media_id, media_refs.c.reference_id).where(media_refs.c.media_id.in_(ids)))}

    def tag_data(self, account_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The newest successful AIVideoTag result of each media."""
        if not ids:
            return {}
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(jobs.c.media_id, jobs.c.data).where(
                jobs.c.account_id == account_id, jobs.c.media_id.in_(ids), jobs.c.type == "AIVideoTag",
                jobs.c.status == "success").order_by(jobs.c.completed_at.asc()))
            for r in rows:
                try:
                    d = json.loads(r.data or "{}")
                except ValueError:
                    continue
                if isinstance(d, dict):
                    out[r.media_id] = d
        return out

    # ---------------------------------------------------------------- SearchMedia
    def search(self, account_id: str, *, search_type: str, conds: list[Cond], ascending: bool, page_no: int,
               page_size: int, scroll: str | None) -> tuple[int, list[dict[str, Any]], str]:
        """(Total, matching rows of this page, next ScrollToken or '')."""
        if search_type in ("video", "audio"):
            q = select(media).where(media.c.account_id == account_id)
        else:
            q = select(uploads).where(uploads.c.account_id == account_id,
                                      uploads.c.kind == ("image" if search_type == "image" else "attached"))
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        for r in rows:
            r.setdefault("id", r.get("media_id"))
        if search_type == "audio":
            rows = [r for r in rows if media_type(r) == "audio"]
        elif search_type == "video":
            rows = [r for r in rows if media_type(r) == "video"]
        ai_conds = [c for c in conds if c.field in ("AiLabel", "AiText")]
        tags = self.tag_data(account_id, [r["id"] for r in rows]) if ai_conds else {}
        rows = [r for r in rows if all(_row_matches(r, c, tags.get(r["id"])) for c in conds)]
        rows.sort(key=lambda r: (r["created_at"], r["id"]), reverse=not ascending)
        total = len(rows)
        if scroll:
            key = decode_scroll(scroll)
            rows = [r for r in rows if ((r["created_at"], r["id"]) > key if ascending
                                        else (r["created_at"], r["id"]) < key)]
            start = 0
        else:
            start = (page_no - 1) * page_size
        page = rows[start:start + page_size]
        more = len(rows) > start + page_size and search_type in ("video", "audio")
        return total, page, encode_scroll(page[-1]["created_at"], page[-1]["id"]) if more and page else ""

    # ---------------------------------------------------------------- UpdateVideoInfo(s)
    def update_video(self, account_id: str, video_id: str, fields: dict[str, Any], reference_id: str | None) -> bool:
        """Update a video's editable fields; False when it does not exist in this account."""
        values = {k: v for k, v in fields.items() if v is not None}
        try:
            with self.engine.begin() as conn:
                n = conn.execute(update(media).where(media.c.id == video_id, media.c.account_id == account_id)
                                 .values(modified_at=now(), **values)).rowcount
                if not n:
                    return False
                if reference_id is not None:
                    conn.execute(delete(media_refs).where(media_refs.c.media_id == video_id))
                    if reference_id:
                        conn.execute(insert(media_refs).values(account_id=account_id, reference_id=reference_id,
                                                               media_id=video_id))
        except IntegrityError:
            raise ReferenceIdExists() from None
        return True

    # ---------------------------------------------------------------- GetImageInfo(s)
    def image_infos(self, account_id: str, ids: list[str], base_url: str, ttl: int) -> dict[str, dict[str, Any]]:
        """Uploaded images (CreateUploadImage) and AI images (covers, GIFs) of this account by id."""
        if not ids:
            return {}
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            ups = conn.execute(select(uploads).where(uploads.c.media_id.in_(ids), uploads.c.account_id == account_id,
                                                     uploads.c.kind == "image")).mappings().all()
            ais = conn.execute(select(ai_images).where(ai_images.c.id.in_(ids),
                                                       ai_images.c.account_id == account_id)).mappings().all()
        for u in ups:
            done = u["status"] == "Normal"
            url = self.urls.sign(base_url, u["blob_key"], ttl_s=ttl) if done else ""
            out[u["media_id"]] = {
                "ImageId": u["media_id"], "Title": u["title"], "Tags": u["tags"], "ImageType": u["sub_type"],
                "URL": url, "Status": "Normal" if done else "Uploading",
                **({"CateId": int(u["cate_id"])} if u["cate_id"] is not None else {}),
                "Description": u["description"], "StorageLocation": "local", "AppId": u["app_id"],
                "CreationTime": utc_iso(u["created_at"]),
                "Mezzanine": {"FileURL": url, "OriginalFileName": u["file_name"], "FileSize": str(u["size"]),
                              "Width": int(u["width"]), "Height": int(u["height"])},
            }
        for a in ais:
            url = self.urls.sign(base_url, a["blob_key"], ttl_s=ttl)
            path = self.blobs.path(a["blob_key"])
            w = h = 0
            size = path.stat().st_size if path.is_file() else 0
            try:
                from PIL import Image

                with Image.open(path) as im:
                    w, h = im.size
            except Exception:  # a missing or unreadable file: dimensions unknown
                pass
            out[a["id"]] = {
                "ImageId": a["id"], "Title": "", "Tags": "", "ImageType": "cover" if a["format"] != "gif" else "default",
                "URL": url, "Status": "Normal", "Description": "", "StorageLocation": "local",
                "AppId": "app-1000000", "CreationTime": utc_iso(a["created_at"]),
                "Mezzanine": {"FileURL": url, "OriginalFileName": PurePosixPath(a["blob_key"]).name,
                              "FileSize": str(size), "Width": w, "Height": h},
            }
        return out

    # ---------------------------------------------------------------- ListJobInfo / DescribeVodAIData
    def job_infos(self, account_id: str, media_id: str) -> list[dict[str, Any]]:
        self.media.get_row(account_id, media_id)
        with self.engine.connect() as conn:
            rows = conn.execute(select(jobs.c.id, jobs.c.status, jobs.c.created_at, jobs.c.completed_at).where(
                jobs.c.account_id == account_id, jobs.c.media_id == media_id, jobs.c.type != "URLUpload",
                jobs.c.created_at >= now() - 183 * 86400).order_by(jobs.c.created_at.desc())).all()
        return [{"JobId": r.id, "Status": str(r.status), "CreateTime": utc_iso(r.created_at),
                 "CompleteTime": utc_iso(r.completed_at)} for r in rows]

    def ai_usage(self, account_id: str, start: float, end: float, ai_types: list[str]) -> tuple[str, list[Any]]:
        """Seconds of video analysed per AI type, per day (or per hour for ranges up to a day)."""
        interval = 3600 if end - start <= 86400 else 86400
        q = (select(jobs.c.type, jobs.c.completed_at, media.c.duration)
             .select_from(jobs.join(media, media.c.id == jobs.c.media_id, isouter=True))
             .where(jobs.c.account_id == account_id, jobs.c.status == "success",
                    jobs.c.completed_at >= start, jobs.c.completed_at < end))
        q = q.where(jobs.c.type.in_(ai_types)) if ai_types else q.where(jobs.c.type != "URLUpload")
        buckets: dict[int, dict[str, float]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(q):
                b = int((r.completed_at - start) // interval)
                per = buckets.setdefault(b, {})
                per[r.type] = per.get(r.type, 0.0) + float(r.duration or 0.0)
        items = []
        n = int((end - start + interval - 1) // interval)
        for b in range(n):
            per = buckets.get(b, {})
            names = ai_types or sorted(per)
            items.append({"TimeStamp": utc_iso(start + b * interval),
                          "Data": {"DataItem": [{"Name": t, "Value": str(int(round(per.get(t, 0.0))))}
                                                for t in names]}})
        return ("hour" if interval == 3600 else "day"), items


class LibraryService(_Library):
    """Read and update the media library (play info here; list, search, updates, images in _Library)."""

    def __init__(self, engine: Engine, blobs: LocalBlobStore, urls: UrlSigner, media: MediaService):
        self.engine = engine
        self.blobs = blobs
        self.urls = urls
        self.media = media

    def play_info(self, account_id: str, video_id: str, base_url: str, ttl: int, formats: set[str],
                  stream_types: set[str], definitions: set[str], preview: Callable[[], bool] | None = None
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
        row = self.media.get_row(account_id, video_id)
        if row["status"] != "Normal" and not (row["status"] in ("Checking", "Blocked") and preview and preview()):
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
        if not self.blobs.exists(row["blob_key"]):
            raise NoneStream("the source file is missing")
        created, modified = utc_iso(row["created_at"]), utc_iso(row["modified_at"])
        base = {
            "VideoId": row["id"],
            "Title": row["title"],
            "CoverURL": self.media.cover_url(row, base_url),
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
            "PlayURL": self.urls.sign(base_url, row["blob_key"], ttl_s=ttl),
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
