"""AIMediaAudit glue: submit and read audit jobs, reuse AIVideoTag's OCR/ASR, sign frame URLs, custom
word libraries, the manual review (CreateAudit / GetAuditHistory, Blocked media stop playing) and
the review-console IP allow-lists. The moderation itself is in analyzers/audit (pure)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import delete, func, insert, select, update

from openvod.domain import userdata
from openvod.domain.jobs import JobStatus
from openvod.errors import InvalidParameter, TemplateNotFound, VideoNotFound, VodError
from openvod.services.audit_image import IMAGE_AUDIT_TYPE, image_row, resource_config
from openvod.services.audit_ips import REVIEW_STATUSES, client_address, ip_allowed, list_security_ips, set_security_ips
from openvod.store.tables import accounts, audit_history, audit_words, jobs, media
from openvod.util import dumps, json_problem, loads, new_id, now, utc_iso

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from openvod.analyzers.audit.engine import TextInputs
    from openvod.config import AuditSettings
    from openvod.services.ai_jobs import JobService
    from openvod.services.media import MediaService
    from openvod.services.templates import TemplateService
    from openvod.storage.urls import UrlSigner

AUDIT_TYPE = "AIMediaAudit"
WORD_LABELS = ("spam", "ad", "abuse", "politics", "contraband", "porn", "terrorism", "logo")
DETAIL_PAGE = 20
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class AuditJobNotFound(VodError):
    code = "InvalidAIJob.NotFound"
    http_status = 404
    message = "The audit job does not exist."


class WordLimitExceeded(VodError):
    """openvod's code (the cloud names none): the account's custom word library is full."""

    code = "Forbidden.WordLimitExceeded"
    http_status = 403


class AuditResultNotFound(VodError):
    code = "InvalidAIJob.NotFound"
    http_status = 404
    message = "No successful AIMediaAudit job exists for the media."


def audit_job_wire(r: Any, data: Any) -> dict[str, Any]:
    return {
        "JobId": r.id,
        "MediaId": r.media_id,
        "Type": AUDIT_TYPE,
        "Status": r.status,
        "Code": r.code or "",
        "Message": r.message or "",
        "CreationTime": utc_iso(r.created_at),
        "CompleteTime": utc_iso(r.completed_at),
        "Data": data if data is not None else {},
    }


class AuditService:
    """Audit jobs and their results, word libraries, manual review and IP allow-lists."""

    def __init__(self, engine: Engine, settings: AuditSettings, urls: UrlSigner, media: MediaService,
                 templates: TemplateService, jobs: JobService, public_base_url: Callable[[], str]):
        self.engine = engine
        self.settings = settings
        self.urls = urls
        self.media = media
        self.templates = templates
        self.jobs = jobs
        self.public_base_url = public_base_url

    # ------------------------------------------------------------------ submit
    def submit(self, account_id: str, media_id: str, template_id: str, media_type: str, config_raw: str,
               user_data: str, extra: dict[str, str]) -> str:
        if media_type and media_type.lower() != "video":
            raise InvalidParameter("MediaType", "Only video is supported.")
        cfg = resource_config(config_raw)
        userdata.parse(user_data)
        tpl = self.audit_template(account_id, template_id)
        self.jobs.check_type_available(AUDIT_TYPE, "MediaId")
        row = self.media.get_row(account_id, media_id)
        if row["status"] in ("Uploading", "UploadFail"):
            from openvod.services.uploads import IllegalStatus

            raise IllegalStatus(row["status"])
        # The newer service selectors are accepted and recorded; openvod has one offline provider.
        config = {"MediaAuditConfiguration": cfg, **{k: v for k, v in extra.items() if v}}
        spec = {"type": AUDIT_TYPE, "config": dumps(config), "user_data": user_data,
                "template_id": tpl.id if tpl is not None else "", "template_config": tpl.config if tpl is not None else ""}
        return self.jobs.create_jobs(account_id, media_id, [spec])[0]

    def audit_template(self, account_id: str, template_id: str) -> Any:
        """The named AIMediaAudit template, else the account's default one, else None (defaults)."""
        if template_id:
            tpl = self.templates.get(account_id, template_id)
            if tpl.type != AUDIT_TYPE:
                raise InvalidParameter("TemplateId", "The template is not of type AIMediaAudit.")
            return tpl
        try:
            return self.templates.get_default(account_id, AUDIT_TYPE)
        except TemplateNotFound:
            return None

    # ------------------------------------------------------------------ read
    def job(self, account_id: str, job_id: str) -> dict[str, Any]:
        found, _ = self.jobs.list(account_id, [job_id], (AUDIT_TYPE, IMAGE_AUDIT_TYPE))
        if not found:
            raise AuditJobNotFound()
        r = found[0]
        data = self.resign(json.loads(r.data)) if r.data else {}
        return audit_job_wire(r, data)

    def _latest(self, account_id: str, media_id: str) -> Any:
        """The latest successful audit of a video or (SubmitAIImageAuditJob) of an image."""
        try:
            self.media.get_row(account_id, media_id)
        except VideoNotFound:
            if image_row(self.engine, account_id, media_id) is None:
                raise
        with self.engine.connect() as conn:
            row = conn.execute(
                select(jobs.c.id, jobs.c.data, jobs.c.detail).where(
                    jobs.c.account_id == account_id, jobs.c.media_id == media_id,
                    jobs.c.type.in_((AUDIT_TYPE, IMAGE_AUDIT_TYPE)),
                    jobs.c.status == JobStatus.SUCCESS,
                ).order_by(jobs.c.completed_at.desc()).limit(1)
            ).first()
        if row is None:
            raise AuditResultNotFound()
        return row

    def result(self, account_id: str, media_id: str) -> dict[str, Any]:
        return self.resign(json.loads(self._latest(account_id, media_id).data or "{}"))

    def _detail(self, account_id: str, media_id: str) -> dict[str, Any]:
        d = json.loads(self._latest(account_id, media_id).detail or "{}")
        return d if isinstance(d, dict) else {}

    def result_detail(self, account_id: str, media_id: str, page_no: int) -> dict[str, Any]:
        frames = self._detail(account_id, media_id).get("Frames", [])
        page = frames[(page_no - 1) * DETAIL_PAGE: page_no * DETAIL_PAGE]
        return {"Total": len(frames), "List": self.resign(page)}

    def timeline(self, account_id: str, media_id: str) -> dict[str, Any]:
        t = self._detail(account_id, media_id).get("Timeline", {})
        return {k: t.get(k, []) for k in ("Porn", "Terrorism", "Ad", "Live", "Logo")}

    def audio_detail(self, account_id: str, media_id: str, page_no: int | None) -> dict[str, Any]:
        items = self._detail(account_id, media_id).get("Audio", [])
        pages = (len(items) + DETAIL_PAGE - 1) // DETAIL_PAGE
        page = items[(page_no - 1) * DETAIL_PAGE: page_no * DETAIL_PAGE] if page_no else items
        return {"Total": len(items), "PageTotal": pages, "List": page}

    # ------------------------------------------------------------------ frame URLs
    def frame_url(self, key: str) -> str:
        return self.urls.sign(self.public_base_url(), key, ttl_s=self.settings.frame_url_ttl_s)

    def resign(self, obj: Any) -> Any:
        """Every ``Url`` that points at one of openvod's blobs gets a fresh signature."""
        if isinstance(obj, list):
            return [self.resign(x) for x in obj]
        if isinstance(obj, dict):
            out = {}
            for k, v in obj.items():
                if k == "Url" and isinstance(v, str) and "/blobs/" in v:
                    key = unquote(urlsplit(v).path.split("/blobs/", 1)[1])
                    out[k] = self.frame_url(key)
                else:
                    out[k] = self.resign(v)
            return out
        return obj

    # ------------------------------------------------------------------ reuse of AIVideoTag text
    def text_inputs(self, account_id: str, media_row: dict[str, Any]) -> TextInputs:
        """Title, description, and the OCR lines / ASR sentences of the media's latest AIVideoTag job
        that ran them (``ocr_missing`` / ``asr_missing`` say when none did)."""
        from openvod.analyzers.audit.engine import TextInputs, TimedText

        probe = json.loads(media_row.get("probe") or "{}")
        has_audio = bool(probe.get("Audio")) if isinstance(probe, dict) and "Audio" in probe else True
        ti = TextInputs(title=media_row.get("title") or "", description=media_row.get("description") or "",
                        has_audio=has_audio, ocr_missing="no AIVideoTag result with OCR",
                        asr_missing="no AIVideoTag result with ASR")
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(jobs.c.id, jobs.c.detail).where(
                    jobs.c.account_id == account_id, jobs.c.media_id == media_row["id"], jobs.c.type == "AIVideoTag",
                    jobs.c.status == JobStatus.SUCCESS,
                ).order_by(jobs.c.completed_at.desc()).limit(5)
            ).all()
        origins = []
        for r in rows:
            try:
                d = json.loads(r.detail or "{}")
            except ValueError:
                continue
            types = d.get("AnalyseTypes") or []
            if ti.ocr_missing and "OCR" in types and isinstance(d.get("OCR"), list):
                ti.ocr = [TimedText(x["StartTime"] / 1000, x.get("EndTime", x["StartTime"]) / 1000, x["Text"], "ocr")
                          for x in d["OCR"] if x.get("Text")]
                ti.ocr_missing = None
                origins.append(f"OCR from AIVideoTag job {r.id}")
            if ti.asr_missing and "ASR" in types and isinstance(d.get("ASR"), dict):
                ti.asr = [TimedText(x["StartTime"] / 1000, x["EndTime"] / 1000, x["Text"], "asr")
                          for x in d["ASR"].get("Sentences", []) if x.get("Text")]
                ti.asr_missing = None
                origins.append(f"ASR from AIVideoTag job {r.id}")
        ti.origin = "; ".join(origins)
        return ti

    # ------------------------------------------------------------------ word libraries
    def custom_words(self, account_id: str) -> list[tuple[str, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(audit_words.c.word, audit_words.c.label)
                                .where(audit_words.c.account_id == account_id)
                                .order_by(audit_words.c.label, audit_words.c.word)).all()
        return [(r.word, r.label) for r in rows]

    def add_words(self, account_id: str, label: str, words: list[str]) -> int:
        label = _word_label(label)
        clean = _clean_words(words)
        t = now()
        cap = self.settings.max_custom_words
        with self.engine.begin() as conn:
            # the account row, locked (PostgreSQL), serialises concurrent adds against the cap
            conn.execute(select(accounts.c.id).where(accounts.c.id == account_id).with_for_update()).all()
            have = {r.word for r in conn.execute(select(audit_words.c.word).where(
                audit_words.c.account_id == account_id, audit_words.c.label == label)).all()}
            new = [w for w in clean if w not in have]
            total = conn.execute(select(func.count()).select_from(audit_words)
                                 .where(audit_words.c.account_id == account_id)).scalar_one()
            if new and total + len(new) > cap:
                raise WordLimitExceeded(
                    f"The account has {total} custom audit words; adding {len(new)} would exceed the limit of "
                    f"{cap} (audit.max_custom_words). Remove words first.")
            if new:
                conn.execute(insert(audit_words), [{"account_id": account_id, "label": label, "word": w, "created_at": t}
                                                   for w in new])
        return len(new)

    def remove_words(self, account_id: str, label: str, words: list[str]) -> int:
        label = _word_label(label)
        with self.engine.begin() as conn:
            return int(conn.execute(delete(audit_words).where(
                audit_words.c.account_id == account_id, audit_words.c.label == label,
                audit_words.c.word.in_(_clean_words(words)))).rowcount or 0)

    # ------------------------------------------------------------------ manual review
    def set_status(self, account_id: str, video_id: str, status: str, reason: str, comment: str, auditor: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(media).where(media.c.id == video_id, media.c.account_id == account_id)
                         .values(status=status, modified_at=now()))
            conn.execute(insert(audit_history).values(
                id=new_id(), account_id=account_id, video_id=video_id, status=status, reason=reason[:512],
                comment=comment[:1024], auditor=auditor[:128], created_at=now()))

    def create_audit(self, account_id: str, raw: str, auditor: str) -> None:
        try:
            items = loads(raw)
        except ValueError as exc:
            raise InvalidParameter("AuditContent", json_problem(exc, "It must be a JSON array.")) from None
        if not isinstance(items, list) or not items:
            raise InvalidParameter("AuditContent", "It must be a non-empty JSON array.")
        if len(items) > 100:
            raise InvalidParameter("AuditContent", "At most 100 entries.")
        checked = []
        for i, it in enumerate(items):
            if not isinstance(it, dict) or not isinstance(it.get("VideoId"), str):
                raise InvalidParameter("AuditContent", f"Entry {i} needs a VideoId string.")
            status = it.get("Status")
            if status not in ("Normal", "Blocked"):
                raise InvalidParameter("AuditContent", f"Entry {i}: Status must be Normal or Blocked.")
            reason, comment = it.get("Reason", ""), it.get("Comment", "")
            if not isinstance(reason, str) or not isinstance(comment, str) or len(reason) > 512 or len(comment) > 1024:
                raise InvalidParameter("AuditContent", f"Entry {i}: Reason (<=512) and Comment (<=1024) are strings.")
            if _UNSTORABLE.search(reason + comment + it["VideoId"]):
                # NUL and lone surrogates (JSON "\u0000", "\ud800") cannot be stored (PostgreSQL text, UTF-8).
                raise InvalidParameter("AuditContent", f"Entry {i}: VideoId, Reason and Comment must not contain NUL "
                                                       "characters or unpaired surrogates.")
            row = self.media.get_row(account_id, it["VideoId"])
            if status == "Normal" and row["status"] in ("Uploading", "UploadFail"):
                from openvod.services.uploads import IllegalStatus

                raise IllegalStatus(row["status"])
            checked.append((it["VideoId"], status, reason, comment))
        for vid, status, reason, comment in checked:
            self.set_status(account_id, vid, status, reason, comment, auditor)

    def history(self, account_id: str, video_id: str, page_no: int, page_size: int, desc: bool) -> dict[str, Any]:
        row = self.media.get_row(account_id, video_id)
        where = (audit_history.c.account_id == account_id, audit_history.c.video_id == video_id)
        order = audit_history.c.created_at.desc() if desc else audit_history.c.created_at.asc()
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(audit_history).where(*where)).scalar_one()
            rows = conn.execute(select(audit_history).where(*where).order_by(order)
                                .limit(page_size).offset((page_no - 1) * page_size)).all()
        return {"Status": row["status"], "Total": int(total),
                "Histories": [{"CreationTime": utc_iso(r.created_at), "Status": r.status, "Reason": r.reason,
                               "Comment": r.comment, "Auditor": r.auditor} for r in rows]}

    def media_blocked(self, blob_key: str, client_ip: str = "") -> bool:
        """Whether a blob is the file of a video under review (``Checking``) or ``Blocked``
        (``media/<account>/<media id>/…``) and ``client_ip`` is not in the account's audit security
        IP lists (SetAuditSecurityIp): such files are served to those addresses only."""
        parts = blob_key.split("/")
        if len(parts) < 3 or parts[0] != "media":
            return False
        with self.engine.connect() as conn:
            st = conn.execute(select(media.c.status).where(media.c.id == parts[2], media.c.account_id == parts[1])).scalar()
        return st in REVIEW_STATUSES and not ip_allowed(self.engine, parts[1], client_ip)

    def review_preview(self, account_id: str, client_ip: str) -> bool:
        """Whether ``client_ip`` may get play URLs of the account's Checking / Blocked videos."""
        return ip_allowed(self.engine, account_id, client_ip)

    def client_ip(self, peer: str, forwarded_for: list[str]) -> str:
        """The caller's address: the TCP peer, or X-Forwarded-For when the peer is a trusted proxy."""
        return client_address(peer, forwarded_for, self.settings.trusted_proxies)

    # ------------------------------------------------------------------ IP allow-lists
    def set_security_ips(self, account_id: str, ips_raw: str, group: str, mode: str) -> None:
        set_security_ips(self.engine, account_id, ips_raw, group, mode)

    def list_security_ips(self, account_id: str) -> list[dict[str, str]]:
        return list_security_ips(self.engine, account_id)


def _word_label(label: str) -> str:
    if label not in WORD_LABELS:
        raise InvalidParameter("Label", f"Allowed labels: {', '.join(WORD_LABELS)}.")
    return label


def _clean_words(words: list[str]) -> list[str]:
    out = []
    for w in words:
        w = " ".join(w.split())
        if not w or len(w) > 128:
            raise InvalidParameter("Words", "Each word is 1-128 characters.")
        if _UNSTORABLE.search(w):  # NUL / lone surrogates: PostgreSQL text cannot hold them
            raise InvalidParameter("Words", "A word must not contain NUL or unpaired surrogate characters.")
        out.append(w)
    return list(dict.fromkeys(out))
