"""The audit of one video: one decode pass with adaptive sampling (visual checks), then the decision
over frames, on-screen text (OCR), speech (ASR), title and description.

``scan_video`` decodes; ``decide`` is pure aggregation (tested without any video). Every scene
that cannot be decided offline gets a ``Reason`` and at least ``review``; nothing unchecked passes.
The records are in :mod:`.records`, the live rules in :mod:`.live`, still images in :mod:`.image`.
"""

from __future__ import annotations

import io
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from openvod.analyzers.audit.image import audit_image
from openvod.analyzers.audit.live import live_frame, live_runs
from openvod.analyzers.audit.options import MISSING_MODEL, SCENES, AuditOptions
from openvod.analyzers.audit.records import (
    AudioSentence,
    AuditReport,
    DecodeFailed,
    Finding,
    Sample,
    SceneVerdict,
    TextInputs,
    TextItem,
    TimedText,
    VisualScan,
)
from openvod.analyzers.audit.text import TextModerator
from openvod.analyzers.audit.suncode import SUN_CODE_REASON, SUN_CODE_SCORE, code_region, find_sun_code
from openvod.analyzers.audit.visual import PartDetector, find_qr, porn_label

SUGGESTION_RANK = {"pass": 0, "review": 1, "block": 2}
# TV stations whose name on screen is a logo cue (label TV); accounts can add trademarks as custom
# words with the label "logo".
TV_NAMES = ("CCTV", "湖南卫视", "浙江卫视", "东方卫视", "江苏卫视", "凤凰卫视", "BBC", "CNN", "HBO", "NHK", "Fox News",
            "Al Jazeera", "Sky News", "ESPN", "MTV")
__all__ = ["AudioSentence", "AuditReport", "DecodeFailed", "Finding", "Sample", "SceneVerdict", "TextInputs",
           "TextItem", "TimedText", "VisualScan", "audit_image", "decide", "scan_video", "text_findings"]


def _jpeg(rgb: np.ndarray, max_side: int = 480, quality: int = 80) -> bytes:
    from PIL import Image

    img = Image.fromarray(rgb)
    s = max_side / max(img.size)
    if s < 1:
        img = img.resize((max(1, int(img.width * s)), max(1, int(img.height * s))), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _size(w: int, h: int, max_side: int) -> tuple[int, int]:
    s = min(1.0, max_side / max(w, h, 1))
    return max(2, int(round(w * s / 2)) * 2), max(2, int(round(h * s / 2)) * 2)


def scan_video(path: Path, options: AuditOptions, detector: PartDetector | None,
               heartbeat: Callable[[], None] = lambda: None) -> VisualScan:
    """Decode once; run the live and QR checks on every base frame, the porn detector on base frames
    and, around each hit, on frames at ``confirm_fps`` (a ring buffer keeps the second before it)."""
    import av

    t0 = time.process_time()
    so = options.sampling
    scenes = set(options.scenes())
    want_porn = "porn" in scenes and detector is not None
    porn_th = options.threshold("porn")
    try:
        c = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise DecodeFailed(f"The file cannot be opened as media: {exc}") from None
    with c:
        if not c.streams.video:
            raise DecodeFailed("The file has no video stream.")
        st = c.streams.video[0]
        st.thread_type = "AUTO"
        st.codec_context.skip_frame = "NONREF"
        dur = float(st.duration * st.time_base) if st.duration and st.time_base else (
            c.duration / 1e6 if c.duration else 0.0)
        origin = float(c.start_time / 1e6) if c.start_time else 0.0
        base_step = max(1.0 / so.base_fps, (dur / so.max_samples) if dur else 0.0)
        dense_step = 1.0 / so.confirm_fps
        size = _size(st.codec_context.width or 2, st.codec_context.height or 2, so.max_side)
        scan = VisualScan(duration=dur)
        ring: deque[tuple[float, np.ndarray]] = deque()
        next_base, next_dense, dense_until = -math.inf, -math.inf, -math.inf
        done_dense: set[float] = set()
        last_beat = time.monotonic()
        decoded = 0
        last_t = 0.0
        try:
            for frame in c.decode(st):
                decoded += 1
                t = float(frame.pts * frame.time_base) - origin if frame.pts is not None and frame.time_base else last_t
                last_t = t
                is_base = t + 1e-6 >= next_base
                is_dense = t + 1e-6 >= next_dense
                if not (is_base or is_dense):
                    continue
                rgb = frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
                if is_dense:
                    next_dense = t + dense_step
                    if want_porn:
                        ring.append((t, rgb))
                        while ring and ring[0][0] < t - so.confirm_window_s - 1e-6:
                            ring.popleft()
                    if want_porn and t <= dense_until and not is_base:
                        _porn_dense(scan, detector, t, rgb, porn_th.review, done_dense)  # type: ignore[arg-type]
                if not is_base:
                    continue
                next_base = t + base_step
                sample = Sample(t=t, jpeg=_jpeg(rgb))
                if want_porn:
                    lab, score = porn_label(detector(rgb))  # type: ignore[misc]
                    sample.porn = (lab, score)
                    done_dense.add(t)
                    if lab != "normal" and score >= porn_th.review:
                        scan.findings.append(Finding(t, "porn", lab, score, "nudenet", confirmed=False))
                        for bt, bimg in list(ring):  # the second before the hit
                            if bt >= t - so.confirm_window_s and bt < t:
                                _porn_dense(scan, detector, bt, bimg, porn_th.review, done_dense)  # type: ignore[arg-type]
                        dense_until = t + so.confirm_window_s
                if "ad" in scenes:
                    qr = find_qr(rgb)
                    if qr is not None:
                        scan.findings.append(Finding(t, "ad", "qrcode", qr.score, "qr", f"QR code: {qr.decoded}"))
                    elif (sun := find_sun_code(rgb)) is not None:  # located, not decodable: review
                        scan.findings.append(Finding(t, "ad", "programCode", SUN_CODE_SCORE, "suncode",
                                                     f"round code-like pattern at ({sun.x}, {sun.y}), r {sun.radius} px"))
                        sample.codes.append(code_region(sun, rgb.shape[1], rgb.shape[0]))
                scan.samples.append(sample)
                if "live" in scenes:
                    live_frame(scan, sample, rgb, options)
                if time.monotonic() - last_beat > 5:
                    heartbeat()
                    last_beat = time.monotonic()
        except av.FFmpegError as exc:
            if not scan.samples:
                raise DecodeFailed(f"The video cannot be decoded: {exc}") from None
        if not scan.samples:
            raise DecodeFailed("The video stream has no decodable frame.")
    scan.duration = max(dur, last_t)
    if "live" in scenes:
        live_runs(scan, options)
    scan.stats = {"FramesDecoded": decoded, "BaseFrames": len(scan.samples), "DenseFrames": scan.dense_frames,
                  "BaseStepS": round(base_step, 3), "CpuSeconds": round(time.process_time() - t0, 3)}
    return scan


def _porn_dense(scan: VisualScan, detector: PartDetector, t: float, rgb: np.ndarray, review: float,
                done: set[float]) -> None:
    if t in done:
        return
    done.add(t)
    scan.dense_frames += 1
    lab, score = porn_label(detector(rgb))
    if lab != "normal" and score >= review:
        scan.findings.append(Finding(t, "porn", lab, score, "nudenet-confirm", confirmed=False))
        scan.jpegs[t] = _jpeg(rgb)


def worst(*suggestions: str) -> str:
    return max(suggestions, key=lambda s: SUGGESTION_RANK[s], default="pass")


# The cloud's top-level Label categories are the scenes plus ``audio``; a title/description finding
# belongs to the image-and-text violation category (图文违规), i.e. ``ad`` (whose labels are the
# text labels spam, abuse, politics, porn, terrorism, contraband).
TEXT_CATEGORY = "ad"


def top_label(entries: Iterable[tuple[str, str, float]]) -> str:
    """The top-level Label from (category, suggestion, score) of every part: the categories that did
    not pass, most severe first (block before review, then the higher score), or ``normal``. So the
    Label is ``normal`` exactly when the Suggestion is ``pass`` and AbnormalModules is empty."""
    bad = sorted((e for e in entries if e[1] != "pass"), key=lambda e: (-SUGGESTION_RANK[e[1]], -e[2]))
    return ",".join(dict.fromkeys(c for c, _, _ in bad)) or "normal"


def label_parts(verdicts: dict[str, SceneVerdict], audio_verdict: tuple[str, str, float],
                texts: list[TextItem]) -> list[tuple[str, str, float]]:
    """(category, suggestion, score) of the video scenes, the audio and the title/description."""
    parts = [(s, v.suggestion, v.max_score) for s, v in verdicts.items()]
    parts.append(("audio", audio_verdict[0], audio_verdict[2]))
    return parts + [(TEXT_CATEGORY, t.suggestion, t.verdict.score) for t in texts]


def text_findings(inputs: TextInputs, mod: TextModerator, scenes: set[str]) -> list[Finding]:
    """On-screen text hits as frame findings: ad scene (its labels include spam, abuse, politics,
    porn, terrorism, contraband), terrorism scene (label others) and logo scene (TV, trademark)."""
    out: list[Finding] = []
    for line in inputs.ocr:
        v = mod.classify(line.text)
        for h in v.hits:
            if h.label == "flood":
                continue
            ev = f"{line.source}: {line.text} [{h.evidence}]"
            if "ad" in scenes and h.label != "logo":
                out.append(Finding(line.start, "ad", h.label, h.score, line.source, ev))
            if "terrorism" in scenes and h.label == "terrorism":
                out.append(Finding(line.start, "terrorism", "others", h.score, line.source, ev))
            if "logo" in scenes and h.label == "logo":
                out.append(Finding(line.start, "logo", "trademark", h.score, line.source, ev))
        if "logo" in scenes:
            low = line.text.lower()
            for name in TV_NAMES:
                if name.lower() in low:
                    out.append(Finding(line.start, "logo", "TV", 80.0, line.source, f"{line.text} [{name}]"))
                    break
    return out


def _confirm(findings: list[Finding], o: AuditOptions) -> None:
    """A porn hit may block only when confirm_min further frames in its window agree; otherwise its
    score is capped just under the block threshold (review)."""
    th = o.threshold("porn")
    porn = [f for f in findings if f.scene == "porn"]
    w = o.sampling.confirm_window_s
    for f in porn:
        support = sum(1 for g in porn if g is not f and abs(g.t - f.t) <= w + 1e-6)
        f.confirmed = support >= o.sampling.confirm_min
        if not f.confirmed and f.score >= th.block:
            f.score = round(min(f.score, th.block - 0.01), 4)


def decide(scan: VisualScan, inputs: TextInputs, options: AuditOptions, mod: TextModerator) -> AuditReport:
    scenes = set(options.scenes())
    ranges = set(options.ranges)
    reasons: list[str] = []
    findings = list(scan.findings) if "video" in ranges else []
    if "video" in ranges:
        findings += text_findings(inputs, mod, scenes)
    _confirm(findings, options)
    verdicts: dict[str, SceneVerdict] = {}
    for scene in SCENES:
        if scene not in scenes:
            continue
        v = SceneVerdict(scene)
        fs = sorted((f for f in findings if f.scene == scene), key=lambda f: f.t)
        v.findings = fs
        if fs:
            v.max_score = max(f.score for f in fs)
            v.average_score = sum(f.score for f in fs) / len(fs)
            v.counters = dict(Counter(f.label for f in fs))
            best: dict[float, Finding] = {}
            for f in fs:
                if f.t not in best or f.score > best[f.t].score:
                    best[f.t] = f
            v.top = sorted(best.values(), key=lambda f: (-f.score, f.t))[: options.top_n]
            v.suggestion = options.threshold(scene).suggestion(v.max_score)
            if v.suggestion != "pass":
                v.label = Counter(f.label for f in fs if options.threshold(scene).suggestion(f.score) != "pass"
                                  ).most_common(1)[0][0]
        missing = []
        if "video" in ranges and scene in MISSING_MODEL:
            missing.append(MISSING_MODEL[scene])
        if "video" in ranges and scene in ("ad", "terrorism", "logo") and inputs.ocr_missing:
            missing.append(f"On-screen text was not read: {inputs.ocr_missing}")
        if scene == "ad" and any(f.label == "programCode" for f in fs):
            missing.append(SUN_CODE_REASON)
        if "video" in ranges and scene == "porn" and "porn" in scenes and not scan.samples:
            missing.append("No frame was checked.")
        if missing:
            v.reason = " ".join(missing)
            reasons.append(f"{scene}: {v.reason}")
            if v.suggestion == "pass":
                v.suggestion = "review"
        verdicts[scene] = v
    video_sug = worst(*(v.suggestion for v in verdicts.values())) if verdicts else "pass"
    ranked = sorted(verdicts.values(), key=lambda v: (-SUGGESTION_RANK[v.suggestion], -v.max_score))
    video_label = ranked[0].label if ranked and video_sug != "pass" else "normal"

    texts: list[TextItem] = []
    if "text-title" in ranges:
        th = options.threshold("text")
        for typ, content in (("title", inputs.title), ("description", inputs.description)):
            if content:
                tv = mod.classify(content)
                sug = th.suggestion(tv.score) if not tv.normal else "pass"
                texts.append(TextItem(typ, content, tv, sug))

    audio: list[AudioSentence] = []
    audio_verdict = ("pass", "normal", 0.0)
    audio_reason = ""
    if "audio" in options.items:
        th = options.threshold("audio")
        if not inputs.has_audio:
            audio_reason = "The file has no audio track."
        elif inputs.asr_missing:
            audio_reason = f"Speech was not transcribed: {inputs.asr_missing}"
            audio_verdict = ("review", "normal", 0.0)
            reasons.append(f"audio: {audio_reason}")
        for s in inputs.asr:
            tv = mod.classify(s.text)
            sug = th.suggestion(tv.score) if not tv.normal else "pass"
            audio.append(AudioSentence(s.start, s.end, s.text, tv, sug))
        bad = [a for a in audio if a.suggestion != "pass"]
        if bad:
            top = max(bad, key=lambda a: (SUGGESTION_RANK[a.suggestion], a.verdict.score))
            audio_verdict = (worst(top.suggestion, audio_verdict[0]), top.verdict.label, top.verdict.score)

    modules = []
    if video_sug != "pass" or audio_verdict[0] != "pass":
        modules.append("video")
    if any(t.suggestion != "pass" for t in texts):
        modules.append("text-title")
    labels = top_label(label_parts(verdicts, audio_verdict, texts)).split(",")
    overall = worst(video_sug, audio_verdict[0], *(t.suggestion for t in texts))
    return AuditReport(
        suggestion=overall, labels=labels, abnormal_modules=modules, scenes=verdicts,
        video_suggestion=video_sug, video_label=video_label, samples=scan.samples if "video" in ranges else [],
        texts=texts, audio=audio, audio_verdict=audio_verdict, audio_reason=audio_reason, reasons=reasons,
        stats=dict(scan.stats), dense_jpegs=scan.jpegs,
    )


