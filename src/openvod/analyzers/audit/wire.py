"""The audit report in the cloud's shapes (spec §10.4): AIMediaAuditResult, the per-frame detail
(GetMediaAuditResultDetail), the timeline (GetMediaAuditResultTimeline) and the audio detail
(GetMediaAuditAudioResultDetail). Frame URLs are given as blob keys; the service signs them."""

from __future__ import annotations

from typing import Any

from openvod.analyzers.audit.engine import AuditReport, Finding, SceneVerdict, label_parts, top_label

RESULT_KEYS = {"porn": "PornResult", "terrorism": "TerrorismResult", "ad": "AdResult", "live": "LiveResult",
               "logo": "LogoResult"}
TIMELINE_KEYS = {"porn": "Porn", "terrorism": "Terrorism", "ad": "Ad", "live": "Live", "logo": "Logo"}
DETAIL_KEYS = {"porn": "Porn", "terrorism": "Terrorism", "ad": "Ad", "live": "Live", "logo": "Logo"}


def score(x: float) -> str:
    """0-100 as a string with 10 decimals, as the cloud writes scores."""
    return f"{max(0.0, min(100.0, x)):.10f}"


def ms(t: float) -> int:
    return max(0, int(round(t * 1000)))


def _nearest(times: list[float], t: float) -> float | None:
    if not times:
        return None
    return min(times, key=lambda x: abs(x - t))


def frame_images(report: AuditReport) -> dict[float, bytes]:
    """The frames worth keeping (every frame with a finding, and every TopList frame): time -> JPEG."""
    by_t = {s.t: s.jpeg for s in report.samples}
    times = [s.t for s in report.samples]
    out: dict[float, bytes] = {}
    for v in report.scenes.values():
        for f in v.findings:
            if f.t in report.dense_jpegs:
                out[f.t] = report.dense_jpegs[f.t]
            else:
                n = _nearest(times, f.t)
                if n is not None:
                    out[n] = by_t[n]
    return out


def frame_time(report: AuditReport, t: float) -> float | None:
    """The time of the stored frame that shows the moment ``t``."""
    if t in report.dense_jpegs:
        return t
    return _nearest([s.t for s in report.samples], t)


def _scene(v: SceneVerdict, report: AuditReport, keys: dict[float, str]) -> dict[str, Any]:
    top = []
    for f in v.top:
        ft = frame_time(report, f.t)
        top.append({"Label": f.label, "Score": score(f.score), "Timestamp": str(ms(f.t)),
                    "Url": keys.get(ft, "") if ft is not None else "", "Source": f.source,
                    **({"Evidence": f.evidence} if f.evidence else {})})
    out: dict[str, Any] = {
        "Suggestion": v.suggestion,
        "Label": v.label,
        "MaxScore": score(v.max_score),
        "AverageScore": score(v.average_score),
        "CounterList": [{"Label": k, "Count": n} for k, n in sorted(v.counters.items())],
        "TopList": top,
    }
    if v.reason:
        out["Reason"] = v.reason
    return out


def build_result(report: AuditReport, keys: dict[float, str], image_result: list[dict[str, Any]] | None = None,
                 analyzer: str = "") -> dict[str, Any]:
    """AIMediaAuditResult. ``keys`` maps stored frame times to blob keys (signed by the service)."""
    video: dict[str, Any] = {"Suggestion": report.video_suggestion, "Label": report.video_label}
    for scene, v in report.scenes.items():
        video[RESULT_KEYS[scene]] = _scene(v, report, keys)
    modules = list(report.abnormal_modules)
    suggestion = report.suggestion
    parts = label_parts(report.scenes, report.audio_verdict, report.texts)
    if image_result:
        for img in image_result:
            if img["Suggestion"] != "pass":
                if "image-cover" not in modules:
                    modules.append("image-cover")
                suggestion = max((suggestion, img["Suggestion"]), key=("pass", "review", "block").index)
            parts += [(r["Scene"], r["Suggestion"], float(r["Score"])) for r in img["Result"]]
    out: dict[str, Any] = {
        "Suggestion": suggestion,
        "Label": top_label(parts),
        "AbnormalModules": ",".join(modules),
        "VideoResult": video,
        "ImageResult": image_result or [],
        "TextResult": [
            {"Type": t.type, "Content": t.content, "Scene": "antispam", "Label": t.verdict.label,
             "Score": score(t.verdict.score), "Suggestion": t.suggestion,
             **({"Evidence": ", ".join(h.evidence for h in t.verdict.hits[:5])} if t.verdict.hits else {})}
            for t in report.texts
        ],
        "AudioResult": [],
    }
    if report.audio or report.audio_reason:
        sug, label, sc = report.audio_verdict
        item: dict[str, Any] = {"Scene": "antispam", "Label": label, "Score": score(sc), "Suggestion": sug}
        if report.audio_reason:
            item["Reason"] = report.audio_reason
        out["AudioResult"] = [item]
    if report.reasons:
        out["Reasons"] = report.reasons  # openvod: what could not be checked, and why
    if analyzer:
        out["Analyzer"] = analyzer
    return out


def _finding(f: Finding) -> dict[str, Any]:
    return {"Timestamp": str(ms(f.t)), "Label": f.label, "Score": score(f.score)}


def build_detail(report: AuditReport, keys: dict[float, str]) -> dict[str, Any]:
    """What the detail, timeline and audio Actions page through (kept in the job's detail)."""
    times = [s.t for s in report.samples]
    per_frame: dict[float, dict[str, tuple[str, float]]] = {t: {} for t in times}
    for s in report.samples:
        if s.porn is not None and "porn" in report.scenes:
            per_frame[s.t]["porn"] = s.porn
    for scene, v in report.scenes.items():
        for f in v.findings:
            n = _nearest(times, f.t)
            if n is None:
                continue
            cur = per_frame[n].get(scene)
            if cur is None or cur[0] == "normal" or f.score > cur[1]:
                per_frame[n][scene] = (f.label, f.score)
    frames = []
    for t in times:
        row: dict[str, Any] = {"Timestamp": str(ms(t)), "Url": keys.get(t, "")}
        for scene in report.scenes:
            lab, sc = per_frame[t].get(scene, ("normal", 0.0))
            if scene == "porn" and lab == "normal" and "porn" not in per_frame[t]:
                sc = 0.0
            row[f"{DETAIL_KEYS[scene]}Label"] = lab
            row[f"{DETAIL_KEYS[scene]}Score"] = score(sc)
        frames.append(row)
    timeline: dict[str, list[dict[str, Any]]] = {TIMELINE_KEYS[s]: [] for s in TIMELINE_KEYS}
    for scene, v in report.scenes.items():
        timeline[TIMELINE_KEYS[scene]] = [_finding(f) for f in v.findings]
    audio = [{"StartTime": int(a.start), "EndTime": int(round(a.end + 0.499)), "Text": a.text,
              "Label": a.verdict.label, "Score": score(a.verdict.score), "Suggestion": a.suggestion,
              "StartTimeMs": ms(a.start), "EndTimeMs": ms(a.end),
              **({"Evidence": ", ".join(h.evidence for h in a.verdict.hits[:5])} if a.verdict.hits else {})}
             for a in report.audio]
    return {
        "Frames": frames,
        "Timeline": timeline,
        "Audio": audio,
        "Reasons": report.reasons,
        "Findings": [{"Scene": f.scene, "Source": f.source, "Evidence": f.evidence, "Confirmed": f.confirmed,
                      **_finding(f)} for v in report.scenes.values() for f in v.findings],
        "Stats": report.stats,
    }
