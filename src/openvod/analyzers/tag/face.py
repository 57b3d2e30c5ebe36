"""Faces: detection, 128-d embeddings, tracking across frames and clustering within a video.

Default backend: dlib (``dlib-bin`` wheel) HOG detector + 5-point shape predictor + ResNet face
descriptor, with the model files from the ``face_recognition_models`` package. Those files are
located without importing that package (its ``__init__`` needs ``pkg_resources``, i.e.
setuptools<81), so neither ``face_recognition`` nor an old setuptools is needed.

Fallback when dlib is missing: OpenCV 4.x Haar cascades (shipped in opencv-python-headless<5) find
frontal faces, and a HOG descriptor of the aligned grey face stands in for an embedding. It tells
people apart far less reliably; the result records which backend ran.

Like OCR, detection runs only where the picture changed (the whole frame at a cut); a face in an
unchanged region is still on screen. Each continuous appearance is a track. A track never carries
on across a shot cut, nor across an abrupt change of the face's look (a cut the sampler did not
flag), unless the new face's embedding agrees with the track's (distance <= ``split_distance``):
two people cut back to back at the same screen position are two tracks. Tracks are clustered into
people by embedding distance (average linkage) over the whole video. Each track keeps its sampled
boxes, so a person's on-screen times can be listed at least once per ``times_step_s``.

Detection and embeddings (options, backends, :class:`FaceModels`) live in
:mod:`openvod.analyzers.tag.face_models`; their names are re-exported here.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

import numpy as np

from openvod.analyzers.tag.face_models import (
    DLIB_FILES,
    FaceModels,
    FaceOptions,
    backend_available,
    choose_backend,
    detector_confidence,
    dlib_model_dir,
)
from openvod.analyzers.tag.regions import Box, area, grow_region, intersects, iou
from openvod.pipeline.sampling import SelectedFrame

__all__ = ["DLIB_FILES", "FaceModels", "FaceOptions", "FaceTrack", "FaceTracker", "PersonCluster",
           "backend_available", "choose_backend", "cluster_tracks", "detector_confidence", "dlib_model_dir",
           "face_crop", "jpeg", "look", "look_similarity"]


@dataclass
class FaceTrack:
    """One continuous appearance of one face."""

    start: float
    box: Box
    shot: int
    score: float
    end: float | None = None
    embedding: np.ndarray | None = None
    crop: np.ndarray | None = None  # RGB, crop_size square
    crop_area: float = 0.0
    frames: int = 1
    person: int = -1
    samples: list[tuple[float, Box]] = field(default_factory=list)  # (time, box) of every detection
    n_embeddings: int = 0  # embeddings averaged into ``embedding``
    look: np.ndarray | None = None  # small normalised grey crop of the last detection

    def timeline(self, step: float) -> list[tuple[float, Box]]:
        """(time, box) at the track's start and then every ``step`` seconds while it is on screen.

        The face is on screen from ``start`` to ``end`` (the tracker ends a track at the first frame
        where it is gone); between detections the box is interpolated linearly.
        """
        end = self.end if self.end is not None else self.start
        samples = sorted(self.samples) or [(self.start, self.box)]
        times = [self.start]
        k = 1
        while self.start + k * step < end - 1e-6:
            times.append(self.start + k * step)
            k += 1
        st = [s[0] for s in samples]
        out: list[tuple[float, Box]] = []
        for t in times:
            i = int(np.searchsorted(st, t, side="right"))
            if i <= 0:
                b = samples[0][1]
            elif i >= len(samples):
                b = samples[-1][1]
            else:
                (t0, b0), (t1, b1) = samples[i - 1], samples[i]
                a = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
                b = tuple(float(u + (v - u) * a) for u, v in zip(b0, b1, strict=True))  # type: ignore[assignment]
            out.append((round(t, 3), b))
        return out


def look(rgb: np.ndarray, box: Box) -> np.ndarray | None:
    """The face's grey crop at 12x12, zero mean and unit norm (a cheap "same look?" signature)."""
    import cv2

    x0, y0, x1, y1 = (int(round(v)) for v in box)
    crop = rgb[max(0, y0):max(0, y1), max(0, x0):max(0, x1)]
    if crop.size == 0:
        return None
    g = cv2.resize(cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY), (12, 12),
                   interpolation=cv2.INTER_AREA).astype(np.float32)
    g -= g.mean()
    n = float(np.linalg.norm(g))
    return g / n if n > 1e-3 else None


def look_similarity(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Correlation of two :func:`look` signatures (1 = same picture; unknown counts as changed)."""
    if a is None or b is None:
        return 0.0
    return float((a * b).sum())


def face_crop(rgb: np.ndarray, box: Box, size: int) -> np.ndarray:
    """A square crop around the face with a margin, ``size`` pixels wide."""
    import cv2

    h, w = rgb.shape[:2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = max(box[2] - box[0], box[3] - box[1]) * 0.8
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
    crop = rgb[y0:y1, x0:x1]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


class FaceTracker:
    """Detects faces where the picture changed and keeps appearance tracks."""

    def __init__(self, models: FaceModels, options: FaceOptions):
        self.m = models
        self.o = options
        self.active: list[FaceTrack] = []
        self.done: list[FaceTrack] = []
        self.prev_t = -1e9
        self.prev_big = False
        self.last_big_t = -1e9
        self.stats = {"frames_detected": 0, "embeddings": 0, "identity_checks": 0, "identity_splits": 0,
                      "frames_skipped": 0, "seconds": 0.0}

    def process(self, frame: SelectedFrame) -> None:
        img = frame.image
        assert img is not None
        h, w = img.shape[:2]
        if frame.new_shot or frame.change_fraction > 0.5:
            region: Box = (0.0, 0.0, float(w), float(h))
        else:
            cb = frame.changed_box(w, h, dilate=1)
            if cb is None:
                return
            region = grow_region(tuple(float(v) for v in cb), [t.box for t in self.active], w, h)  # type: ignore[arg-type]
        big = area(region) / float(w * h) > 0.3
        continuous = big and self.prev_big and frame.t - self.prev_t <= 1.0
        self.prev_t, self.prev_big = frame.t, big and not frame.new_shot
        interval = self.o.motion_interval_s if self.active else max(self.o.motion_interval_s, self.o.idle_motion_interval_s)
        if continuous and not frame.new_shot and frame.t - self.last_big_t < interval \
                and all(look_similarity(look(img, t.box), t.look) >= self.o.look_change for t in self.active):
            # In continuous motion, detect at most every motion_interval_s unless a face being
            # tracked no longer looks the same where it was (a cut the sampler did not flag).
            self.stats["frames_skipped"] += 1
            return
        if big:
            self.last_big_t = frame.t
        t0 = time.monotonic()
        x0, y0, x1, y1 = (int(round(v)) for v in region)
        crop = img[y0:y1, x0:x1]
        found = [] if float(crop.std()) < 3.0 else [
            ((b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0), s) for b, s in self.m.detect(crop)]
        self.stats["frames_detected"] += 1
        self._update(frame, img, region, found)
        self.stats["seconds"] += time.monotonic() - t0

    def _update(self, frame: SelectedFrame, img: np.ndarray, region: Box, found: list[tuple[Box, float]]) -> None:
        affected = [t for t in self.active if frame.new_shot or intersects(t.box, region)]
        matched: set[int] = set()
        for box, score in found:
            best = max((t for t in affected if id(t) not in matched), key=lambda t: iou(t.box, box), default=None)
            if best is not None and iou(best.box, box) >= 0.3:
                sig = look(img, box)
                emb = None
                if frame.new_shot or look_similarity(sig, best.look) < self.o.look_change:
                    # A cut, or the face looks different: the same place is not the same person
                    # unless the embeddings agree.
                    emb = self.m.embed(img, box)
                    self.stats["embeddings"] += 1
                    self.stats["identity_checks"] += 1
                    if best.embedding is not None and float(np.linalg.norm(emb - best.embedding)) > self.m.split_distance:
                        self.stats["identity_splits"] += 1
                        self._start(frame, img, box, score, emb)
                        continue
                matched.add(id(best))
                best.box, best.frames = box, best.frames + 1
                best.samples.append((frame.t, box))
                best.look = sig
                if area(box) > 1.3 * best.crop_area:  # a clearly better view: describe it again
                    self._describe(best, img, box, emb)
                elif emb is not None:
                    self._average(best, emb)
                continue
            self._start(frame, img, box, score, None)
        for t in affected:
            if id(t) not in matched:
                t.end = frame.t
                self.active.remove(t)
                self.done.append(t)

    def _start(self, frame: SelectedFrame, img: np.ndarray, box: Box, score: float, emb: np.ndarray | None) -> None:
        track = FaceTrack(frame.t, box, frame.shot, score, samples=[(frame.t, box)], look=look(img, box))
        self._describe(track, img, box, emb)
        self.active.append(track)

    @staticmethod
    def _average(track: FaceTrack, emb: np.ndarray) -> None:
        if track.embedding is None or track.n_embeddings == 0:
            track.embedding, track.n_embeddings = emb, 1
            return
        n = track.n_embeddings
        track.embedding = ((track.embedding * n + emb) / (n + 1)).astype(np.float32)
        track.n_embeddings = n + 1

    def _describe(self, track: FaceTrack, img: np.ndarray, box: Box, emb: np.ndarray | None = None) -> None:
        if emb is None:
            emb = self.m.embed(img, box)
            self.stats["embeddings"] += 1
        self._average(track, emb)
        track.crop = face_crop(img, box, self.o.crop_size)
        track.crop_area = area(box)

    def finish(self, end_t: float) -> list[FaceTrack]:
        for t in self.active:
            t.end = max(end_t, t.start)
            self.done.append(t)
        self.active = []
        return sorted(self.done, key=lambda t: (t.start, t.box[0]))


@dataclass
class PersonCluster:
    """The tracks of one person within a video."""

    index: int
    tracks: list[FaceTrack] = field(default_factory=list)

    @property
    def centroid(self) -> np.ndarray:
        embs = np.stack([t.embedding for t in self.tracks if t.embedding is not None])
        return embs.mean(axis=0)

    @property
    def best(self) -> FaceTrack:
        return max(self.tracks, key=lambda t: (t.crop_area, -t.start))

    def timeline(self, step: float) -> list[tuple[float, Box]]:
        """(time, box) of every sampled moment the person is on screen, at least one per ``step`` s."""
        return sorted((tb for t in self.tracks for tb in t.timeline(step)), key=lambda x: x[0])

    def times(self, step: float) -> list[float]:
        return sorted({t for t, _ in self.timeline(step)})


def cluster_tracks(tracks: list[FaceTrack], max_distance: float) -> list[PersonCluster]:
    """Average-linkage agglomerative clustering of tracks by embedding distance."""
    items = [t for t in tracks if t.embedding is not None]
    groups: list[list[int]] = [[i] for i in range(len(items))]
    if len(items) > 1:
        e = np.stack([t.embedding for t in items])  # type: ignore[misc]
        d = np.linalg.norm(e[:, None, :] - e[None, :, :], axis=-1)
        while len(groups) > 1:
            best, pair = None, None
            for a in range(len(groups)):
                for b in range(a + 1, len(groups)):
                    link = float(d[np.ix_(groups[a], groups[b])].mean())
                    if best is None or link < best:
                        best, pair = link, (a, b)
            if best is None or pair is None or best > max_distance:
                break
            a, b = pair
            groups[a] = sorted(groups[a] + groups[b])
            del groups[b]
    groups.sort(key=lambda g: min(items[i].start for i in g))
    out = []
    for k, g in enumerate(groups):
        c = PersonCluster(k, [items[i] for i in g])
        for t in c.tracks:
            t.person = k
        out.append(c)
    return out
