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
"""

from __future__ import annotations

import importlib.util
import io
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from openvod.analyzers.tag.regions import Box, area, grow_region, intersects, iou
from openvod.models.cache import ModelCache, ModelSpec, ModelUnavailable
from openvod.pipeline.sampling import SelectedFrame

DLIB_FILES = ("shape_predictor_5_face_landmarks.dat", "dlib_face_recognition_resnet_model_v1.dat")


@dataclass(frozen=True)
class FaceOptions:
    """How faces are found, tracked and grouped."""

    backend: str = "auto"  # auto | dlib | opencv
    det_max_side: int = 640  # detection runs on frames scaled to at most this
    upsample: int = 1  # dlib HOG upsampling (1 finds faces down to ~40 px at det_max_side)
    min_score: float = 0.3  # dlib HOG score below this is dropped
    min_size: int = 36  # pixels at det_max_side
    cluster_distance: float = 0.55  # embedding distance that still means the same person (dlib)
    opencv_cluster_distance: float = 0.45
    motion_interval_s: float = 1.0  # in continuous motion, detect at most once per interval ...
    idle_motion_interval_s: float = 2.0  # ... or once per this interval while no face is on screen
    crop_size: int = 160
    split_distance: float = 0.5  # a matched box whose face is further than this from the track's is a new track
    opencv_split_distance: float = 0.4
    look_change: float = 0.8  # grey-crop correlation below this = the face's look changed: check the embedding
    times_step_s: float = 1.0  # Person Times / sampled boxes: at least one per this many seconds on screen


def detector_confidence(score: float) -> float:
    """A face detector score as a confidence in [0, 1].

    dlib's HOG detector returns an SVM margin (0 at the decision boundary, often 1-3 for a clear
    face, unbounded above), so it cannot be reported as a Confidence as it is: it is mapped by
    1 - exp(-score), which is monotonic, 0 at the boundary and approaches 1 (score 0.3 -> 0.26,
    1 -> 0.63, 2 -> 0.86). The OpenCV cascade reports no score (1.0, hence 0.63); the raw
    score is kept in the detail as DetectorScore."""
    import math

    if not math.isfinite(score):
        return 1.0 if score > 0 else 0.0
    return min(1.0, max(0.0, 1.0 - math.exp(-max(0.0, score))))


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


def dlib_model_dir() -> Path | None:
    """The models folder of face_recognition_models, found without importing it."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "models"
    return p if all((p / f).is_file() for f in DLIB_FILES) else None


def backend_available(name: str) -> str | None:
    """None when the backend can run here, else why not."""
    if name == "dlib":
        if importlib.util.find_spec("dlib") is None:
            return "the dlib package (dlib-bin) is not installed"
        if dlib_model_dir() is None:
            return "the face_recognition_models package is not installed"
        return None
    if name == "opencv":
        try:
            import cv2
        except ImportError:
            return "OpenCV (opencv-python-headless<5) is not installed"
        if not hasattr(cv2, "CascadeClassifier"):
            return "this OpenCV has no CascadeClassifier (OpenCV 5 removed it; install opencv-python-headless<5)"
        return None
    return f"unknown face backend {name!r}"


def choose_backend(requested: str) -> str:
    if requested != "auto":
        reason = backend_available(requested)
        if reason:
            raise ModelUnavailable(f"Face backend {requested} cannot run: {reason}.")
        return requested
    for name in ("dlib", "opencv"):
        if backend_available(name) is None:
            return name
    raise ModelUnavailable("Face analysis needs dlib-bin + face_recognition_models (or opencv-python-headless<5).")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


class FaceModels:
    """Detector and embedder of one backend, loaded through the model cache."""

    def __init__(self, options: FaceOptions, cache: ModelCache):
        self.o = options
        self.cache = cache
        self.backend = choose_backend(options.backend)

    def spec(self) -> ModelSpec:
        if self.backend == "dlib":
            return ModelSpec.of("dlib HOG face detector + resnet face descriptor v1",
                                f"dlib-bin=={_version('dlib-bin')}; face_recognition_models=={_version('face_recognition_models')}",
                                str(dlib_model_dir()))
        import cv2

        return ModelSpec.of("opencv haarcascade_frontalface_default + HOG face descriptor", f"opencv=={cv2.__version__}")

    def _load(self) -> dict[str, Any]:
        if self.backend == "dlib":
            import dlib

            d = dlib_model_dir()
            assert d is not None
            return {
                "detector": dlib.get_frontal_face_detector(),
                "shape": dlib.shape_predictor(str(d / DLIB_FILES[0])),
                "embed": dlib.face_recognition_model_v1(str(d / DLIB_FILES[1])),
            }
        import cv2

        return {
            "cascade": cv2.CascadeClassifier(
                cv2.data.haarcascades + "haarcascade_frontalface_default.xml"),  # type: ignore[attr-defined]
            "hog": cv2.HOGDescriptor((64, 64), (16, 16), (8, 8), (8, 8), 9),
        }

    def models(self) -> dict[str, Any]:
        spec = self.spec()
        return self.cache.get(spec, self._load)

    def detect(self, rgb: np.ndarray) -> list[tuple[Box, float]]:
        """Faces in an RGB image: (box in the image's pixels, score)."""
        h, w = rgb.shape[:2]
        s = min(1.0, self.o.det_max_side / max(h, w))
        import cv2

        small = cv2.resize(rgb, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else rgb
        m = self.models()
        out: list[tuple[Box, float]] = []
        if self.backend == "dlib":
            # On the grey picture: dlib's HOG takes the strongest gradient of the three colour
            # channels, which costs ~30 % more than the luminance gradient and finds the same faces.
            grey = cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2GRAY)
            rects, scores, _ = m["detector"].run(grey, self.o.upsample, 0.0)
            for r, sc in zip(rects, scores, strict=False):
                if sc < self.o.min_score or min(r.width(), r.height()) < self.o.min_size:
                    continue
                out.append(((max(0, r.left()) / s, max(0, r.top()) / s, min(small.shape[1], r.right()) / s,
                             min(small.shape[0], r.bottom()) / s), float(sc)))
        else:
            grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
            found = m["cascade"].detectMultiScale(grey, 1.1, 6, minSize=(self.o.min_size, self.o.min_size))
            for x, y, bw, bh in (found if len(found) else []):
                out.append(((x / s, y / s, (x + bw) / s, (y + bh) / s), 1.0))
        return out

    def embed(self, rgb: np.ndarray, box: Box) -> np.ndarray:
        """A descriptor of the face in ``box`` (128-d for dlib)."""
        m = self.models()
        if self.backend == "dlib":
            import dlib

            rect = dlib.rectangle(int(box[0]), int(box[1]), int(box[2]), int(box[3]))
            img = np.ascontiguousarray(rgb)
            shape = m["shape"](img, rect)
            return np.asarray(m["embed"].compute_face_descriptor(img, shape, 0), dtype=np.float32)
        import cv2

        x0, y0, x1, y1 = (int(v) for v in box)
        face = cv2.cvtColor(rgb[max(0, y0):y1, max(0, x0):x1], cv2.COLOR_RGB2GRAY)
        face = cv2.equalizeHist(cv2.resize(face, (64, 64), interpolation=cv2.INTER_AREA))
        # Mirror-symmetric, so a flipped shot of the same face describes alike.
        v = (m["hog"].compute(face).reshape(-1) + m["hog"].compute(np.ascontiguousarray(face[:, ::-1])).reshape(-1))
        v = v.astype(np.float32)
        return v / (np.linalg.norm(v) + 1e-6)

    @property
    def cluster_distance(self) -> float:
        return self.o.cluster_distance if self.backend == "dlib" else self.o.opencv_cluster_distance

    @property
    def split_distance(self) -> float:
        return self.o.split_distance if self.backend == "dlib" else self.o.opencv_split_distance


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
