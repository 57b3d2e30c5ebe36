"""Face detection and embeddings: the dlib and OpenCV backends, loaded through the model cache.

Split off :mod:`openvod.analyzers.tag.face` (which re-exports these names); see its docstring for
how the backends differ and how detections become tracks and people.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from openvod.analyzers.tag.regions import Box
from openvod.models.cache import ModelCache, ModelSpec, ModelUnavailable

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
