"""The audit of one video: one decode pass with adaptive sampling (visual checks), then the decision
over frames, on-screen text (OCR), speech (ASR), title and description.

``scan_video`` decodes; ``decide`` is pure aggregation (tested without any video). Every scene
that cannot be decided offline gets a ``Reason`` and at least ``review``; nothing unchecked passes.
"""

from __future__ import annotations

import io
import math
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from openvod.analyzers.audit.options import SCENES, AuditOptions
from openvod.analyzers.audit.text import TextModerator, TextVerdict
from openvod.analyzers.audit.visual import (
    PartDetector,
    find_qr,
    flat_kind,
    is_test_card,
    luma,
    porn_label,
    rectangles,
    same_box,
)

SUGGESTION_RANK = {"pass": 0, "review": 1, "block": 2}
# TV stations whose name on screen is a logo cue (label TV); accounts can add trademarks as custom
# words with the label "logo".
TV_NAMES = ("CCTV", "湖南卫视", "浙江卫视", "东方卫视", "江苏卫视", "凤凰卫视", "BBC", "CNN", "HBO", "NHK", "Fox News",
            "Al Jazeera", "Sky News", "ESPN", "MTV")
# Scenes no offline model decides, and why (docs/audit.md).
MISSING_MODEL = {
    "terrorism": "No offline model for terror imagery (weapons, flags, blood, explosions, crowds); only on-screen "
                 "and spoken text was checked.",
    "logo": "No offline logo detector; only TV-station names and custom logo words in on-screen text were checked.",
}


class DecodeFailed(Exception):
    """The video cannot be decoded."""


@dataclass(frozen=True)
class TimedText:
    """A line of text seen (OCR) or heard (ASR) from ``start`` to ``end`` seconds."""

    start: float
    end: float
    text: str
    source: str  # ocr | asr


@dataclass
class TextInputs:
    """The text an audit reads, and why a source is missing (None = available)."""

    title: str = ""
    description: str = ""
    ocr: list[TimedText] = field(default_factory=list)
    asr: list[TimedText] = field(default_factory=list)
    ocr_missing: str | None = None
    asr_missing: str | None = None
    has_audio: bool = True
    origin: str = ""  # where OCR/ASR came from (e.g. the AIVideoTag job id)


@dataclass
class Finding:
    """A non-normal label at one moment."""

    t: float
    scene: str
    label: str
    score: float
    source: str  # nudenet | qr | ocr | asr | black | solid | testcard | frozen
    evidence: str = ""
    confirmed: bool = True


@dataclass
class Sample:
    """One base-rate frame: its time, a small JPEG and what the visual checks said."""

    t: float
    jpeg: bytes
    porn: tuple[str, float] | None = None
    live_kind: str = ""  # black | solid | testcard | ""
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # inset candidates (1/1000)
    insides: list[np.ndarray] = field(default_factory=list, repr=False)  # their luma, for change checks
    luma: np.ndarray | None = field(default=None, repr=False)  # small luma image, dropped after the scan


@dataclass
class VisualScan:
    duration: float
    samples: list[Sample] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    dense_frames: int = 0
    jpegs: dict[float, bytes] = field(default_factory=dict)  # dense frames with a porn finding
    stats: dict[str, float] = field(default_factory=dict)


def _jpeg(rgb: np.ndarray, max_side: int = 480, quality: int = 80) -> bytes:
    from PIL import Image

    img = Image.fromarray(rgb)
    s = max_side / max(img.size)
    if s < 1:
        img = img.resize((max(1, int(img.width * s)), max(1, int(img.height * s))), Image.BILINEAR)
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
                scan.samples.append(sample)
                if "live" in scenes:
                    _live_frame(scan, sample, rgb, options)
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
        _live_runs(scan, options)
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


def _live_frame(scan: VisualScan, sample: Sample, rgb: np.ndarray, o: AuditOptions) -> None:
    y = luma(rgb)
    kind = flat_kind(y, o.live.black_luma, o.live.flat_std)
    if not kind and is_test_card(rgb):
        kind = "testcard"
    sample.live_kind = kind
    sample.luma = y[::2, ::2].copy()
    if not kind:
        sample.boxes = rectangles(rgb)
        yh, yw = y.shape
        sample.insides = [y[b[1] * yh // 1000: (b[1] + b[3]) * yh // 1000, b[0] * yw // 1000: (b[0] + b[2]) * yw // 1000]
                          for b in sample.boxes]


def _live_runs(scan: VisualScan, o: AuditOptions) -> None:
    """Runs of black / solid / test-card frames (>= min_run_s) and frozen stretches (>= frozen_min_s)."""
    samples = scan.samples
    dur = max(scan.duration, 1e-3)
    step = (samples[1].t - samples[0].t) if len(samples) > 1 else 1.0

    def emit(run: list[Sample], kind: str, floor: float) -> None:
        length = run[-1].t - run[0].t + step
        if length + 1e-6 < (o.live.frozen_min_s if kind == "frozen" else o.live.min_run_s):
            return
        score = min(100.0, max(floor, 70.0 + 30.0 * length / dur))
        ev = f"{kind} {run[0].t:.1f}-{run[-1].t + step:.1f} s"
        for s in run:
            scan.findings.append(Finding(s.t, "live", "meaningless", round(score, 4), kind, ev))

    run: list[Sample] = []
    kind = ""
    for s in samples + [Sample(t=math.inf, jpeg=b"")]:
        k = s.live_kind
        k = "black" if k == "solid" and kind == "black" else k
        if k and k == kind:
            run.append(s)
            continue
        if run and kind:
            emit(run, kind, 80.0 if kind == "testcard" else 0.0)
        run, kind = ([s], k) if k else ([], "")
    # frozen: identical consecutive samples that are not flat
    run = []
    for a, b in zip(samples, samples[1:] + [None], strict=False):  # type: ignore[list-item]
        ya = a.luma
        yb = b.luma if b is not None else None
        if ya is None:
            continue
        same = yb is not None and float(np.abs(ya - yb).mean()) < o.live.frozen_mad and not a.live_kind
        if same:
            run.append(a)
        else:
            if run:
                run.append(a)
                emit(run, "frozen", 0.0)
            run = []
    _pip_runs(scan, o)
    for s in samples:
        s.luma = None
        s.insides = []


def _pip_runs(scan: VisualScan, o: AuditOptions) -> None:
    """PIP: the same inset rectangle in consecutive samples for >= pip_min_s while the picture inside
    it changes (a static box, e.g. a caption plate or a drawn shape, is not a picture in a picture)."""
    samples = scan.samples
    step = (samples[1].t - samples[0].t) if len(samples) > 1 else 1.0
    tracks: list[dict] = []  # box, samples, changes
    for s in samples:
        nxt = []
        used = set()
        for tr in tracks:
            j = next((k for k, b in enumerate(s.boxes) if k not in used and same_box(b, tr["box"])), None)
            if j is None:
                _pip_emit(scan, tr, step, o)
                continue
            used.add(j)
            prev = tr["inside"]
            cur = s.insides[j]
            if prev.shape == cur.shape and float(np.abs(prev - cur).mean()) > o.live.pip_change:
                tr["changes"] += 1
            tr["inside"], tr["samples"] = cur, tr["samples"] + [s]
            nxt.append(tr)
        for k, b in enumerate(s.boxes):
            if k not in used:
                nxt.append({"box": b, "samples": [s], "inside": s.insides[k], "changes": 0})
        tracks = nxt
    for tr in tracks:
        _pip_emit(scan, tr, step, o)


def _pip_emit(scan: VisualScan, tr: dict, step: float, o: AuditOptions) -> None:
    run = tr["samples"]
    length = run[-1].t - run[0].t + step
    if length + 1e-6 < o.live.pip_min_s or tr["changes"] < max(2, (len(run) - 1) // 2):
        return
    x, y, w, h = tr["box"]
    # a picture in the picture is a cue (re-broadcast, reaction videos), not a violation by itself:
    # at most 85, i.e. review under the default thresholds
    score = 70.0 + 15.0 * min(1.0, length / 10.0)
    seen = {f.t for f in scan.findings if f.scene == "live" and f.label == "PIP"}
    ev = f"inset x={x / 10:.0f}% y={y / 10:.0f}% w={w / 10:.0f}% h={h / 10:.0f}%, {run[0].t:.1f}-{run[-1].t + step:.1f} s"
    for s in run:
        if s.t not in seen:  # overlapping candidate boxes of one inset report it once
            scan.findings.append(Finding(s.t, "live", "PIP", round(score, 4), "pip", ev))


# ------------------------------------------------------------------------------------------- decision
@dataclass
class SceneVerdict:
    scene: str
    suggestion: str = "pass"
    label: str = "normal"
    max_score: float = 0.0
    average_score: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)
    top: list[Finding] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    reason: str = ""


@dataclass
class TextItem:
    type: str  # title | description
    content: str
    verdict: TextVerdict
    suggestion: str


@dataclass
class AudioSentence:
    start: float
    end: float
    text: str
    verdict: TextVerdict
    suggestion: str


@dataclass
class AuditReport:
    suggestion: str
    labels: list[str]
    abnormal_modules: list[str]
    scenes: dict[str, SceneVerdict]
    video_suggestion: str
    video_label: str
    samples: list[Sample]
    texts: list[TextItem]
    audio: list[AudioSentence]
    audio_verdict: tuple[str, str, float]  # suggestion, label, score
    audio_reason: str
    reasons: list[str]
    stats: dict[str, float]
    dense_jpegs: dict[float, bytes] = field(default_factory=dict)


def _worst(*suggestions: str) -> str:
    return max(suggestions, key=lambda s: SUGGESTION_RANK[s], default="pass")


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
        if "video" in ranges and scene == "porn" and "porn" in scenes and not scan.samples:
            missing.append("No frame was checked.")
        if missing:
            v.reason = " ".join(missing)
            reasons.append(f"{scene}: {v.reason}")
            if v.suggestion == "pass":
                v.suggestion = "review"
        verdicts[scene] = v
    video_sug = _worst(*(v.suggestion for v in verdicts.values())) if verdicts else "pass"
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
            worst = max(bad, key=lambda a: (SUGGESTION_RANK[a.suggestion], a.verdict.score))
            audio_verdict = (_worst(worst.suggestion, audio_verdict[0]), worst.verdict.label, worst.verdict.score)

    modules = []
    if video_sug != "pass" or audio_verdict[0] != "pass":
        modules.append("video")
    if any(t.suggestion != "pass" for t in texts):
        modules.append("text-title")
    labels = [s for s in SCENES if s in verdicts and verdicts[s].suggestion != "pass"]
    if audio_verdict[0] != "pass":
        labels.append("audio")
    overall = _worst(video_sug, audio_verdict[0], *(t.suggestion for t in texts))
    return AuditReport(
        suggestion=overall, labels=labels or ["normal"], abnormal_modules=modules, scenes=verdicts,
        video_suggestion=video_sug, video_label=video_label, samples=scan.samples if "video" in ranges else [],
        texts=texts, audio=audio, audio_verdict=audio_verdict, audio_reason=audio_reason, reasons=reasons,
        stats=dict(scan.stats), dense_jpegs=scan.jpegs,
    )


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
            ad_hits = [h for h in hits if h.label != "logo"]
            if ad_hits and max(h.score for h in ad_hits) > score:
                best = max(ad_hits, key=lambda h: h.score)
                label, score = best.label, best.score
            if texts is None:
                reason = "Text in the image was not read (OCR is not available)."
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
