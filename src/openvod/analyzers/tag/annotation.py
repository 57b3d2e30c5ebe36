"""Annotation: visual labels with their intervals, and the video's shot boundaries.

Default backend (everything ships in PyPI wheels, runs offline on CPU). It can say:

* ``Person`` — a face is visible (from the Face analyzer's tracks);
* ``Text`` — on-screen text is visible (from the OCR analyzer's tracks);
* ``Cat`` — a frontal cat face (OpenCV's ``haarcascade_frontalcatface_extended``; close-ups and
  side views are missed);
* ``Black screen`` / ``Solid colour`` — a flat picture;
* shot boundaries (cuts) from the frame sampler.

It cannot recognise objects, animals other than frontal cat faces, scenes or activities. For
open-vocabulary labels set ``TagSettings.clip_model`` to a local CLIP-style ONNX model folder
(:mod:`openvod.analyzers.tag.clip`); its labels are added with their probability.

Labels are decided on the first frame of each shot and on frames where most of the picture
changed (at most one per ``interval_s`` in continuous motion); a label lasts until the next
analysed frame that lacks it, or the end of the shot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from openvod.models.cache import ModelCache, ModelSpec
from openvod.pipeline.sampling import SelectedFrame


@dataclass(frozen=True)
class AnnotationOptions:
    """Which frames are labelled and how."""

    interval_s: float = 2.0
    big_change: float = 0.3
    clip_model: str = ""
    clip_labels: tuple[str, ...] = ()
    clip_min_probability: float = 0.2
    clip_top_k: int = 3
    threads: int = 1
    cat_faces: bool = True


@dataclass
class LabelInterval:
    """A label over one interval."""

    label: str
    start: float
    end: float
    confidence: float
    source: str


@dataclass
class _Open:
    start: float
    conf: list[float] = field(default_factory=list)
    source: str = ""


class Annotator:
    """Labels analysed frames; merges labels into intervals."""

    def __init__(self, options: AnnotationOptions, cache: ModelCache):
        self.o = options
        self.cache = cache
        self.open: dict[str, _Open] = {}
        self.done: list[LabelInterval] = []
        self.last_t = -1e9
        self.shot = -1
        self.cuts: list[float] = []
        self.stats = {"frames_labelled": 0}
        self._clip: Any = None
        if options.clip_model:
            from openvod.analyzers.tag.clip import ClipLabeler

            self._clip = ClipLabeler(options.clip_model, options.clip_labels, cache, options.threads)

    def specs(self) -> list[ModelSpec]:
        import cv2

        out = [ModelSpec.of("opencv haarcascade_frontalcatface_extended", f"opencv=={cv2.__version__}")]
        if self._clip is not None:
            out.append(self._clip.spec())
        return out

    def _cat(self) -> Any:
        import cv2

        return self.cache.get(self.specs()[0], lambda: cv2.CascadeClassifier(
            cv2.data.haarcascades + "haarcascade_frontalcatface_extended.xml"))  # type: ignore[attr-defined]

    def labels(self, rgb: np.ndarray) -> list[tuple[str, float, str]]:
        """(label, confidence, source) for one frame."""
        import cv2

        out: list[tuple[str, float, str]] = []
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if float(grey.std()) < 6.0:
            out.append(("Black screen" if float(grey.mean()) < 24 else "Solid colour", 1.0, "pixels"))
            return out
        if self.o.cat_faces:
            s = min(1.0, 640 / max(grey.shape))
            small = cv2.resize(grey, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else grey
            if len(self._cat().detectMultiScale(small, 1.1, 4, minSize=(32, 32))):
                out.append(("Cat", 0.6, "haarcascade_frontalcatface_extended"))
        if self._clip is not None:
            for label, p in self._clip.score(rgb)[: self.o.clip_top_k]:
                if p >= self.o.clip_min_probability:
                    out.append((label, p, "clip"))
        return out

    def process(self, frame: SelectedFrame) -> None:
        assert frame.image is not None
        if frame.new_shot:
            if frame.reason == "cut":
                self.cuts.append(frame.t)
            self._close_all(frame.t)
        elif frame.change_fraction < self.o.big_change or frame.t - self.last_t < self.o.interval_s:
            return
        self.last_t = frame.t
        self.stats["frames_labelled"] += 1
        present: dict[str, tuple[float, str]] = {}
        for label, conf, source in self.labels(frame.image):
            if label not in present or conf > present[label][0]:
                present[label] = (conf, source)
        for label in list(self.open):
            if label not in present:
                self._close(label, frame.t)
        for label, (conf, source) in present.items():
            o = self.open.setdefault(label, _Open(frame.t, [], source))
            o.conf.append(conf)

    def _close(self, label: str, t: float) -> None:
        o = self.open.pop(label)
        self.done.append(LabelInterval(label, o.start, max(t, o.start), float(np.mean(o.conf)), o.source))

    def _close_all(self, t: float) -> None:
        for label in list(self.open):
            self._close(label, t)

    def finish(self, end_t: float, extra: list[LabelInterval] | None = None) -> list[LabelInterval]:
        """All label intervals (including ``extra`` from other analyzers), in start order."""
        self._close_all(end_t)
        return sorted(self.done + list(extra or []), key=lambda i: (i.start, i.label))


def shots(cuts: list[float], end_t: float) -> list[tuple[float, float]]:
    """Shot intervals from the cut times."""
    bounds = [0.0] + sorted(c for c in cuts if 0.0 < c < end_t) + [end_t]
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
