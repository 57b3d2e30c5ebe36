"""Audit of one still image (a video's cover)."""

from __future__ import annotations

import numpy as np

from openvod.analyzers.audit.options import MISSING_MODEL, AuditOptions
from openvod.analyzers.audit.suncode import SUN_CODE_REASON, SUN_CODE_SCORE, find_sun_code
from openvod.analyzers.audit.text import TextModerator
from openvod.analyzers.audit.visual import PartDetector, find_qr, flat_kind, is_test_card, luma, porn_label


def audit_image(rgb: np.ndarray | None, options: AuditOptions, detector: PartDetector | None,
                missing: str = "", texts: list[str] | None = None, mod: TextModerator | None = None
                ) -> list[dict[str, str]]:
    """Per-scene results of one still image (a cover): porn (NudeNet), ad (QR code), live (black /
    solid / test card) and, when ``texts`` (the image's OCR lines) are given, the text rules;
    terrorism and logo get review with the reason. ``rgb`` None = the image could not be read
    (``missing`` says why): every scene is review."""
    hits = [h for t in (texts or []) for h in (mod or TextModerator()).classify(t).hits if h.label != "flood"]
    out = []
    for scene in options.scenes():
        th = options.threshold(scene)
        label, score, reason = "normal", 0.0, ""
        if rgb is None:
            reason = missing or "The image could not be read."
        elif scene == "porn":
            if detector is None:
                reason = "The NudeNet model is not installed."
            else:
                label, score = porn_label(detector(rgb))
        elif scene == "ad":
            qr = find_qr(rgb)
            if qr is not None:
                label, score = "qrcode", qr.score
            elif find_sun_code(rgb) is not None:  # a round mini-program code: located, not decodable
                label, score, reason = "programCode", SUN_CODE_SCORE, SUN_CODE_REASON
            ad_hits = [h for h in hits if h.label != "logo"]
            if ad_hits and max(h.score for h in ad_hits) > score:
                best = max(ad_hits, key=lambda h: h.score)
                label, score = best.label, best.score
            if texts is None:
                reason = " ".join(x for x in (reason, "Text in the image was not read (OCR is not available).") if x)
        elif scene == "live":
            kind = flat_kind(luma(rgb), options.live.black_luma, options.live.flat_std) or (
                "testcard" if is_test_card(rgb) else "")
            if kind:
                label, score = "meaningless", 90.0
        else:
            reason = MISSING_MODEL[scene]
            want = "terrorism" if scene == "terrorism" else "logo"
            sh = [h for h in hits if h.label == want]
            if sh:
                label, score = ("others" if scene == "terrorism" else "trademark"), max(h.score for h in sh)
        sug = th.suggestion(score) if label != "normal" else "pass"
        if reason and sug == "pass":
            sug = "review"
        item = {"Scene": scene, "Label": label, "Score": f"{score:.10f}", "Suggestion": sug}
        if reason:
            item["Reason"] = reason
        out.append(item)
    return out
