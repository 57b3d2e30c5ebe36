"""One AIVideoTag analysis: decode each stream once, fan it out to the analyzers the request needs.

The audio stream is decoded (16 kHz mono) and transcribed in a helper thread while the main thread
decodes the video stream and hands every selected frame to OCR, Face and Annotation; both sides
spend their time in native code that releases the GIL (CTranslate2, ONNX Runtime, dlib, OpenCV), so
on two cores they overlap. Text tagging and categories run on the results.

Pure: a file path and options in, a :class:`TagResult` out. No database, no HTTP.
"""

from __future__ import annotations

import queue
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
from openvod.analyzers.tag.ocr import OcrEngine, OcrOptions, TextTrack, TextTracker
from openvod.analyzers.tag.text import TextAnalyzer, TextOptions, TextSpan, TimedTag
from openvod.domain.options import ANALYSE_TYPES
from openvod.models.cache import ModelCache
from openvod.pipeline.decode import DecodeError, DecodeStats, FrameOptions, decode_audio, iter_frames, probe

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


class _Timer:
    """Wall seconds and CPU seconds of the calling thread, per analyzer."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.lock = threading.Lock()

    def add(self, key: str, dt: float, cpu: float = 0.0) -> None:
        with self.lock:
            self.seconds[key] = self.seconds.get(key, 0.0) + dt
            self.cpu[key] = self.cpu.get(key, 0.0) + cpu

    def timed(self, key: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        t0, c0 = time.monotonic(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            self.add(key, time.monotonic() - t0, time.thread_time() - c0)


class _Stage:
    """Feeds frames to analyzers in a worker thread (inline when not parallel), in order."""

    def __init__(self, name: str, steps: Sequence[tuple[str, Callable[..., None]]], timer: _Timer, parallel: bool):
        self.steps = steps
        self.timer = timer
        self.error: BaseException | None = None
        self.q: queue.Queue[Any] = queue.Queue(maxsize=6)
        self.thread = threading.Thread(target=self._loop, name=f"tag-{name}", daemon=True) if parallel else None
        if self.thread is not None:
            self.thread.start()

    def _apply(self, frame: Any) -> None:
        if self.error is not None:
            return  # after a failure, drain without work; the error is raised at close
        try:
            for key, fn in self.steps:
                self.timer.timed(key, fn, frame)
        except BaseException as exc:
            self.error = exc

    def _loop(self) -> None:
        while True:
            frame = self.q.get()
            if frame is None:
                return
            self._apply(frame)

    def put(self, frame: Any) -> None:
        if self.thread is None:
            self._apply(frame)
        else:
            self.q.put(frame)
        if self.error is not None:
            self.raise_error()

    def close(self) -> None:
        if self.thread is not None:
            self.q.put(None)
            self.thread.join()

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


def analyse(path: Path, requested: list[str], options: TagOptions, cache: ModelCache,
            heartbeat: Callable[[], None] = lambda: None) -> TagResult:
    """Run the requested analyses on one media file."""
    t_start = time.monotonic()
    heartbeat = _throttled(heartbeat, 5.0)
    info = probe(path)
    run = plan(requested)
    skipped: dict[str, str] = {}
    for t, reason in unavailable(run - set(requested), options).items():
        run.discard(t)  # a dependency that cannot run here only weakens what depends on it
        skipped[t] = reason
    if not info.has_audio and "ASR" in run:
        run.discard("ASR")
        skipped["ASR"] = "the file has no audio stream"
    if not info.has_video and run & set(VISUAL):
        for t in VISUAL:
            if t in run:
                run.discard(t)
                skipped[t] = "the file has no video stream"
    requested_running = [t for t in requested if t in run or t == "Category"]
    if "Category" in requested and not run & {"ASR", "OCR", "Annotation"}:
        requested_running.remove("Category")
    if not requested_running:
        if not info.has_audio and not info.has_video:
            raise MissingStreams("InvalidVideo.NoneStream", "The file has neither an audio nor a video stream.")
        if "ASR" in requested and not info.has_audio:
            raise MissingStreams("InvalidVideo.NoAudioStream",
                                 "ASR needs an audio stream and the video has none; nothing else was requested.")
        raise MissingStreams("InvalidVideo.NoVideoStream",
                             f"{', '.join(requested)} need a video stream and the file has none.")

    res = TagResult(analyse_types=list(requested), duration=info.duration, skipped=skipped)
    timer = _Timer()
    audio_err: list[BaseException] = []

    def audio_branch() -> None:
        try:
            st = DecodeStats()
            track = timer.timed("decode_audio", decode_audio, path, 16000, stats=st)
            res.stats["audio"] = {"seconds": round(track.duration, 3), "corrupt_packets": st.corrupt_packets}
            res.transcript = timer.timed("asr", Transcriber(options.asr, cache).transcribe, track.samples, track.sample_rate)
        except BaseException as exc:  # re-raised in the calling thread
            audio_err.append(exc)

    audio_thread = None
    if "ASR" in run:
        if options.parallel and run & set(VISUAL):
            audio_thread = threading.Thread(target=audio_branch, name="tag-audio", daemon=True)
            audio_thread.start()
        else:
            audio_branch()

    ocr_tracker = face_tracker = annotator = None
    if run & set(VISUAL):
        if "OCR" in run:
            ocr_tracker = TextTracker(OcrEngine(options.ocr, cache), options.ocr)
        if "Face" in run:
            fm = FaceModels(options.face, cache)
            res.face_backend = fm.backend
            face_tracker = FaceTracker(fm, options.face)
        if "Annotation" in run:
            annotator = Annotator(options.annotation, cache)
        vstats = DecodeStats()
        stages = []
        if ocr_tracker is not None:
            stages.append(_Stage("ocr", [("ocr", ocr_tracker.process)], timer, options.parallel))
        visual = [(k, fn) for k, fn in (("face", face_tracker.process if face_tracker else None),
                                         ("annotation", annotator.process if annotator else None)) if fn]
        if visual:
            stages.append(_Stage("face", visual, timer, options.parallel))
        t_dec, c_dec = time.monotonic(), time.thread_time()
        busy = busy_cpu = 0.0
        last = 0.0
        try:
            for frame in iter_frames(path, options.frames, stats=vstats):
                t0, c0 = time.monotonic(), time.thread_time()
                assert frame.image is not None
                res.frame_size = (frame.image.shape[1], frame.image.shape[0])
                for st in stages:
                    st.put(frame)
                busy += time.monotonic() - t0
                busy_cpu += time.thread_time() - c0
                last = frame.t
                heartbeat()
        finally:
            for st in stages:
                st.close()
        for st in stages:
            st.raise_error()
        timer.add("decode_video", time.monotonic() - t_dec - busy, time.thread_time() - c_dec - busy_cpu)
        end_t = max(info.duration, vstats.extra.get("last_frame_s", last))
        res.stats["video"] = {"frames_decoded": vstats.frames_decoded, "frames_scanned": vstats.frames_scanned,
                              "frames_selected": vstats.frames_selected, "corrupt_packets": vstats.corrupt_packets,
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

    if audio_thread is not None:
        while audio_thread.is_alive():
            audio_thread.join(5.0)
            heartbeat()
    if audio_err:
        raise audio_err[0]
    if res.transcript is not None:
        res.duration = max(res.duration, res.transcript.duration)

    spans: list[TextSpan] = []
    if res.transcript is not None:
        spans += [TextSpan(s.text, s.start, s.end, "asr", [(w.text, w.start) for w in s.words])
                  for s in res.transcript.sentences]
    spans += [TextSpan(t.text, t.start, t.end or t.start, "ocr") for t in res.text_tracks]
    # Keyword/Location/Time come from the text of the requested ASR and OCR only; Category may use
    # the text of analyzers it ran for its own evidence.
    tagged = [s for s in spans if s.source.upper() in requested]
    if tagged:
        analyzer = TextAnalyzer(options.text, cache)
        res.text_tags = timer.timed("text", analyzer.analyse, tagged)
        res.models += [{"Analyzer": "Keyword/Location/Time", **s.record()} for s in analyzer.specs()]
        if (sem := analyzer.semantic_spec()) is not None:
            res.models.append({"Analyzer": "Keyword ranking", **sem.record()})
    if "Category" in requested:
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

    res.models = _models(res, options, cache) + res.models
    res.seconds = {k: round(v, 3) for k, v in timer.seconds.items()}
    res.stats["cpu_seconds"] = {k: round(v, 3) for k, v in timer.cpu.items()}
    res.seconds["total"] = round(time.monotonic() - t_start, 3)
    return res


def face_labels(tracks: Sequence[FaceTrack]) -> list[LabelInterval]:
    """Annotation ``Person`` intervals from face tracks, with the detector score as a 0-1 confidence."""
    return [LabelInterval("Person", t.start, t.end or t.start, round(detector_confidence(t.score), 3), "face")
            for t in tracks]


def _throttled(fn: Callable[[], None], every_s: float) -> Callable[[], None]:
    """Call ``fn`` at most once per ``every_s`` (a heartbeat is a database write)."""
    last = [time.monotonic()]

    def call() -> None:
        now = time.monotonic()
        if now - last[0] >= every_s:
            last[0] = now
            fn()

    return call


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
