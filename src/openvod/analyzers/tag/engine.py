"""One AIVideoTag analysis: decode each stream once, fan it out to the analyzers the request needs.

The file is opened once with the media pipeline (``openvod.pipeline.open_media``, reusing the probe
stored at RegisterMedia). The audio stream is decoded (16 kHz mono) and transcribed in a helper thread while the main thread
decodes the video stream and hands every selected frame to OCR, Face and Annotation; both sides
spend their time in native code that releases the GIL (CTranslate2, ONNX Runtime, dlib, OpenCV), so
on two cores they overlap. Text tagging and categories run on the results.

Pure: a file path and options in, a :class:`TagResult` out. No database, no HTTP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openvod.analyzers.tag import asr as asr_mod
from openvod.analyzers.tag import ocr as ocr_mod
from openvod.analyzers.tag import text as text_mod
from openvod.analyzers.tag.annotation import AnnotationOptions, Annotator, LabelInterval, shots
from openvod.analyzers.tag.asr import AsrOptions, Transcriber, Transcript
from openvod.analyzers.tag.category import (
    CategoryOptions,
    CategoryScore,
    categorise,
    semantic_scorer,
    top_categories,
)
from openvod.analyzers.tag.face import (
    FaceModels,
    FaceOptions,
    FaceTrack,
    FaceTracker,
    PersonCluster,
    cluster_tracks,
    detector_confidence,
)
from openvod.analyzers.tag.frames import FrameOptions, selected_frames
from openvod.analyzers.tag.ocr import OcrEngine, OcrOptions, TextTrack, TextTracker
from openvod.analyzers.tag.stages import Stage, Timer, throttled
from openvod.analyzers.tag.text import TextAnalyzer, TextOptions, TextSpan, TimedTag
from openvod.domain.options import ANALYSE_TYPES
from openvod.models.cache import ModelCache
from openvod.pipeline import DecodeError, DecodeStats, Media, MediaProbe, open_media

VISUAL = ("Face", "OCR", "Annotation")


class MissingStreams(Exception):
    """Every requested type needs a stream the file does not have."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class TagOptions:
    """Options of every analyzer of one job."""

    frames: FrameOptions = field(default_factory=FrameOptions)
    asr: AsrOptions = field(default_factory=AsrOptions)
    ocr: OcrOptions = field(default_factory=OcrOptions)
    face: FaceOptions = field(default_factory=FaceOptions)
    annotation: AnnotationOptions = field(default_factory=AnnotationOptions)
    text: TextOptions = field(default_factory=TextOptions)
    category: CategoryOptions = field(default_factory=CategoryOptions)
    parallel: bool = True


@dataclass
class TagResult:
    """Everything one analysis found (times in seconds, boxes in analysis-frame pixels)."""

    analyse_types: list[str]
    duration: float
    frame_size: tuple[int, int] = (0, 0)
    transcript: Transcript | None = None
    text_tracks: list[TextTrack] = field(default_factory=list)
    face_tracks: list[FaceTrack] = field(default_factory=list)
    persons: list[PersonCluster] = field(default_factory=list)
    labels: list[LabelInterval] = field(default_factory=list)
    shots: list[tuple[float, float]] = field(default_factory=list)
    text_tags: dict[str, list[TimedTag]] = field(default_factory=dict)
    category_scores: list[CategoryScore] = field(default_factory=list)
    categories: list[CategoryScore] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    face_backend: str = ""
    face_step: float = 1.0  # seconds between a person's listed on-screen times


def plan(requested: list[str]) -> set[str]:
    """The analyzers that must run: the requested ones and what they depend on."""
    run = set(requested)
    if "Annotation" in run:
        run |= {"Face", "OCR"}  # person and text presence
    if "Category" in run:
        run |= {"ASR", "OCR", "Annotation", "Face"}
    return run


def unavailable(types: set[str], options: TagOptions) -> dict[str, str]:
    """type -> why it cannot run here (missing optional dependency or model)."""
    out: dict[str, str] = {}
    if "ASR" in types:
        reason = asr_mod.missing_dependency()
        if reason is None:
            reason = asr_mod.missing_model(options.asr)
        if reason:
            out["ASR"] = reason
    if "OCR" in types and (reason := ocr_mod.missing_dependency()):
        out["OCR"] = reason
    if "Face" in types:
        from openvod.analyzers.tag.face import backend_available

        name = options.face.backend
        reasons = [backend_available(n) for n in (("dlib", "opencv") if name == "auto" else (name,))]
        if all(reasons):
            out["Face"] = "; ".join(r for r in reasons if r)
    if types & {"ASR", "OCR"} and (reason := text_mod.missing_dependency()):
        out.setdefault("ASR" if "ASR" in types else "OCR", reason)
    if "Annotation" in types:
        try:
            import cv2

            if not hasattr(cv2, "CascadeClassifier"):
                out["Annotation"] = "Annotation needs opencv-python-headless<5 (OpenCV 5 has no cascades)"
        except ImportError:
            out["Annotation"] = "Annotation needs opencv-python-headless<5"
    return out


def _runnable(info: MediaProbe, requested: list[str], options: TagOptions) -> tuple[set[str], dict[str, str]]:
    """The analyzers that will run and why the others are skipped; MissingStreams when nothing can."""
    run = plan(requested)
    skipped: dict[str, str] = {}
    for t, reason in unavailable(run - set(requested), options).items():
        run.discard(t)  # a dependency that cannot run here only weakens what depends on it
        skipped[t] = reason
    if not info.has_audio and "ASR" in run:
        run.discard("ASR")
        skipped["ASR"] = "the file has no audio stream"
    if not info.has_video:
        for t in sorted(run & set(VISUAL)):
            run.discard(t)
            skipped[t] = "the file has no video stream"
    running = [t for t in requested if t in run or t == "Category"]
    if "Category" in requested and not run & {"ASR", "OCR", "Annotation"}:
        running.remove("Category")
    if running:
        return run, skipped
    if not info.has_audio and not info.has_video:
        raise MissingStreams("InvalidVideo.NoneStream", "The file has neither an audio nor a video stream.")
    if "ASR" in requested and not info.has_audio:
        raise MissingStreams("InvalidVideo.NoAudioStream",
                             "ASR needs an audio stream and the video has none; nothing else was requested.")
    raise MissingStreams("InvalidVideo.NoVideoStream", f"{', '.join(requested)} need a video stream and the file has none.")


class _AudioBranch:
    """Decode the audio (16 kHz mono) and transcribe it, in a helper thread when video runs too."""

    def __init__(self, media: Media, res: TagResult, options: TagOptions, cache: ModelCache, timer: Timer):
        self.media, self.res, self.options, self.cache, self.timer = media, res, options, cache, timer
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def _run(self) -> None:
        try:
            st = DecodeStats()
            track = self.timer.timed("decode_audio", self.media.audio, 16000, stats=st)
            self.res.stats["audio"] = {"seconds": round(track.duration, 3), "corrupt_packets": st.corrupt_packets}
            transcribe = Transcriber(self.options.asr, self.cache).transcribe
            self.res.transcript = self.timer.timed("asr", transcribe, track.samples, track.sample_rate)
        except BaseException as exc:  # re-raised in the calling thread
            self.error = exc

    def start(self, background: bool) -> None:
        if background:
            self.thread = threading.Thread(target=self._run, name="tag-audio", daemon=True)
            self.thread.start()
        else:
            self._run()

    def join(self, heartbeat: Callable[[], None]) -> None:
        while self.thread is not None and self.thread.is_alive():
            self.thread.join(5.0)
            heartbeat()
        if self.error is not None:
            raise self.error


def _video_branch(media: Media, run: set[str], res: TagResult, options: TagOptions, cache: ModelCache,
                  timer: Timer, heartbeat: Callable[[], None],
                  progress: Callable[[float], None] = lambda fraction: None) -> None:
    """One video decode pass; every selected frame goes to OCR, Face and Annotation (each in order)."""
    ocr_tracker = TextTracker(OcrEngine(options.ocr, cache), options.ocr) if "OCR" in run else None
    face_tracker = None
    if "Face" in run:
        fm = FaceModels(options.face, cache)
        res.face_backend = fm.backend
        face_tracker = FaceTracker(fm, options.face)
    annotator = Annotator(options.annotation, cache) if "Annotation" in run else None
    stages = []
    if ocr_tracker is not None:
        stages.append(Stage("ocr", [("ocr", ocr_tracker.process)], timer, options.parallel))
    visual = [(k, fn) for k, fn in (("face", face_tracker.process if face_tracker else None),
                                     ("annotation", annotator.process if annotator else None)) if fn]
    if visual:
        stages.append(Stage("face", visual, timer, options.parallel))
    vstats = DecodeStats()
    t_dec, c_dec = time.monotonic(), time.thread_time()
    busy = busy_cpu = 0.0
    try:
        for frame in selected_frames(media, options.frames, stats=vstats):
            t0, c0 = time.monotonic(), time.thread_time()
            assert frame.image is not None
            res.frame_size = (frame.image.shape[1], frame.image.shape[0])
            for st in stages:
                st.put(frame)
            busy += time.monotonic() - t0
            busy_cpu += time.thread_time() - c0
            heartbeat()
            if media.probe.duration > 0:
                progress(0.9 * min(1.0, frame.t / media.probe.duration))
    finally:
        for st in stages:
            st.close()
    for st in stages:
        st.raise_error()
    timer.add("decode_video", time.monotonic() - t_dec - busy, time.thread_time() - c_dec - busy_cpu)
    end_t = max(res.duration, vstats.last_t)
    res.stats["video"] = {"frames_decoded": vstats.frames_decoded, "frames_scanned": vstats.frames_scanned,
                          "frames_selected": vstats.frames_served, "corrupt_packets": vstats.corrupt_packets,
                          "shots": int(vstats.extra.get("shots", 1))}
    if ocr_tracker is not None:
        res.text_tracks = ocr_tracker.finish(end_t)
        res.stats["ocr"] = ocr_tracker.stats
    if face_tracker is not None:
        res.face_tracks = face_tracker.finish(end_t)
        res.face_step = options.face.times_step_s
        res.persons = timer.timed("face", cluster_tracks, res.face_tracks, face_tracker.m.cluster_distance)
        res.stats["face"] = face_tracker.stats
    if annotator is not None:
        extra = face_labels(res.face_tracks)
        extra += [LabelInterval("Text", t.start, t.end or t.start, round(t.confidence, 3), "ocr")
                  for t in res.text_tracks]
        res.labels = _merge_intervals(annotator.finish(end_t, extra))
        res.shots = shots(annotator.cuts, end_t)
        res.stats["annotation"] = annotator.stats
    res.duration = max(res.duration, end_t)


def _text_branch(res: TagResult, requested: list[str], options: TagOptions, cache: ModelCache, timer: Timer) -> None:
    """Keyword/Location/Time tags from the text of the requested ASR and OCR; categories from all evidence."""
    spans: list[TextSpan] = []
    if res.transcript is not None:
        spans += [TextSpan(s.text, s.start, s.end, "asr", [(w.text, w.start) for w in s.words])
                  for s in res.transcript.sentences]
    spans += [TextSpan(t.text, t.start, t.end or t.start, "ocr") for t in res.text_tracks]
    # Category may use the text of analyzers it ran for its own evidence.
    tagged = [s for s in spans if s.source.upper() in requested]
    if tagged:
        analyzer = TextAnalyzer(options.text, cache)
        res.text_tags = timer.timed("text", analyzer.analyse, tagged)
        res.models += [{"Analyzer": "Keyword/Location/Time", **s.record()} for s in analyzer.specs()]
        if (sem := analyzer.semantic_spec()) is not None:
            res.models.append({"Analyzer": "Keyword ranking", **sem.record()})
    if "Category" not in requested:
        return
    visual_seconds: dict[str, float] = {}
    for li in res.labels:
        visual_seconds[li.label] = visual_seconds.get(li.label, 0.0) + (li.end - li.start)
    scorer = timer.timed("category_model", semantic_scorer, cache, options.category)
    res.category_scores = timer.timed("category", categorise, [s.text for s in spans], visual_seconds,
                                      options.category, scorer)
    res.categories = top_categories(res.category_scores, options.category)
    if scorer is not None:
        from openvod.models import minilm

        res.models.append({"Analyzer": "Category", **minilm.spec().record()})


def analyse(path: str | Path | Media, requested: list[str], options: TagOptions, cache: ModelCache,
            heartbeat: Callable[[], None] = lambda: None,
            progress: Callable[[float], None] = lambda fraction: None) -> TagResult:
    """Run the requested analyses on one media file (a path, or a file opened with its stored probe);
    ``progress`` gets the fraction done, by video position."""
    t_start = time.monotonic()
    heartbeat = throttled(heartbeat, 5.0)
    media = path if isinstance(path, Media) else open_media(path)
    run, skipped = _runnable(media.probe, requested, options)
    res = TagResult(analyse_types=list(requested), duration=media.probe.duration, skipped=skipped)
    timer = Timer()
    audio = _AudioBranch(media, res, options, cache, timer)
    if "ASR" in run:
        audio.start(background=options.parallel and bool(run & set(VISUAL)))
    if run & set(VISUAL):
        _video_branch(media, run, res, options, cache, timer, heartbeat, progress)
    audio.join(heartbeat)
    if res.transcript is not None:
        res.duration = max(res.duration, res.transcript.duration)
    _text_branch(res, requested, options, cache, timer)
    res.models = _models(res, options, cache) + res.models
    res.seconds = {k: round(v, 3) for k, v in timer.seconds.items()}
    res.stats["cpu_seconds"] = {k: round(v, 3) for k, v in timer.cpu.items()}
    res.seconds["total"] = round(time.monotonic() - t_start, 3)
    return res


def face_labels(tracks: Sequence[FaceTrack]) -> list[LabelInterval]:
    """Annotation ``Person`` intervals from face tracks, with the detector score as a 0-1 confidence."""
    return [LabelInterval("Person", t.start, t.end or t.start, round(detector_confidence(t.score), 3), "face")
            for t in tracks]


def _merge_intervals(items: list[LabelInterval]) -> list[LabelInterval]:
    """Join overlapping or touching intervals of the same label."""
    out: list[LabelInterval] = []
    for li in sorted(items, key=lambda i: (i.label, i.start)):
        prev = out[-1] if out and out[-1].label == li.label else None
        if prev is not None and li.start <= prev.end + 1e-6:
            prev.end = max(prev.end, li.end)
            prev.confidence = max(prev.confidence, li.confidence)
        else:
            out.append(LabelInterval(li.label, li.start, li.end, li.confidence, li.source))
    return sorted(out, key=lambda i: (i.start, i.label))


def _models(res: TagResult, options: TagOptions, cache: ModelCache) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if res.transcript is not None:
        out.append({"Analyzer": "ASR", **res.transcript.model})
        out.append({"Analyzer": "ASR", "Name": "silero-vad (faster-whisper assets)", "Version": "v6"})
    if res.text_tracks or res.stats.get("ocr"):
        out.append({"Analyzer": "OCR", **OcrEngine(options.ocr, cache).spec().record()})
    if res.stats.get("face"):
        out.append({"Analyzer": "Face", **FaceModels(options.face, cache).spec().record()})
    if res.stats.get("annotation"):
        out += [{"Analyzer": "Annotation", **s.record()} for s in Annotator(options.annotation, cache).specs()]
    return out


__all__ = ["ANALYSE_TYPES", "DecodeError", "MissingStreams", "TagOptions", "TagResult", "analyse", "plan", "unavailable"]
