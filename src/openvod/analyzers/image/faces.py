"""Faces and open eyes with the Haar cascades that ship inside opencv-python-headless (4.x).

No download is needed: the cascade XML files are part of the wheel (``cv2.data.haarcascades``).
Frontal faces come from ``haarcascade_frontalface_alt2`` (fewer false positives than the default
cascade); eyes from ``haarcascade_eye`` searched in the upper part of each face. That eye cascade
was trained on open eyes and rarely fires on closed ones, so "two eyes found" is our open-eyes
signal; it is only trusted on faces large enough for the eye detector (``min_eye_face`` pixels).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None  # type: ignore[assignment]  # optional: the analyzer reports itself unavailable

FACE_CASCADE = "haarcascade_frontalface_alt2.xml"
EYE_CASCADE = "haarcascade_eye.xml"


@dataclass(frozen=True)
class Face:
    """A detected frontal face, in pixels of the image it was found in."""

    x: int
    y: int
    w: int
    h: int
    eyes: int  # 0, 1 or 2 open eyes found
    eyes_checked: bool  # False when the face is too small to look for eyes

    def as_dict(self, scale_w: float, scale_h: float) -> dict[str, float | int | bool]:
        """Box as fractions of the image (so it is resolution independent) plus the eye count."""
        return {
            "X": round(self.x / scale_w, 4),
            "Y": round(self.y / scale_h, 4),
            "W": round(self.w / scale_w, 4),
            "H": round(self.h / scale_h, 4),
            "Eyes": self.eyes,
            "EyesChecked": self.eyes_checked,
        }


class _Cascades:
    """Cascades load lazily, once per process (CascadeClassifier is not shared across threads)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self) -> tuple[cv2.CascadeClassifier, cv2.CascadeClassifier]:
        pair = getattr(self._local, "pair", None)
        if pair is None:
            root = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]  # missing from the cv2 stubs
            face = cv2.CascadeClassifier(str(root / FACE_CASCADE))
            eye = cv2.CascadeClassifier(str(root / EYE_CASCADE))
            if face.empty() or eye.empty():
                raise RuntimeError(f"cannot load the Haar cascades from {root}")
            pair = (face, eye)
            self._local.pair = pair
        return pair


_CASCADES = _Cascades()


def available() -> str | None:
    """None when face detection can run; otherwise why not."""
    if cv2 is None:
        return "opencv-python-headless (<5) is not installed"
    root = Path(getattr(getattr(cv2, "data", None), "haarcascades", "") or "")
    if not (root / FACE_CASCADE).is_file():
        return f"the Haar cascades are missing from {root} (OpenCV 5 dropped them; install opencv-python-headless<5)"
    return None


def detect(
    grey: np.ndarray,
    *,
    eye_image: np.ndarray | None = None,
    min_face_frac: float = 0.09,
    min_eye_face: int = 64,
) -> list[Face]:
    """Frontal faces (largest first, in ``grey`` pixels) with their open-eye counts.

    Faces are searched in ``grey`` (keep it small: the cascade's cost grows with the pixel count);
    eyes in the same region of ``eye_image`` when given (a larger copy of the same frame).
    """
    face_cc, eye_cc = _CASCADES.get()
    h, w = grey.shape
    eq = cv2.equalizeHist(grey)
    min_side = max(20, int(h * min_face_frac))
    found = face_cc.detectMultiScale(eq, scaleFactor=1.2, minNeighbors=4, minSize=(min_side, min_side))
    big = eq if eye_image is None else cv2.equalizeHist(eye_image)
    k = big.shape[1] / float(w)
    faces = []
    for x, y, fw, fh in sorted((tuple(int(v) for v in f) for f in found), key=lambda b: -b[2] * b[3]):
        bx, by, bw = int(x * k), int(y * k), int(fw * k)
        if bw < min_eye_face:
            faces.append(Face(x, y, fw, fh, 0, False))
            continue
        # Eyes sit in the upper ~60% of a frontal face box.
        roi = big[by : by + int(fh * k * 0.6), bx : bx + bw]
        eyes = eye_cc.detectMultiScale(roi, scaleFactor=1.1, minNeighbors=6,
                                       minSize=(max(8, bw // 8), max(8, bw // 8)), maxSize=(bw // 2, bw // 2))
        # Keep at most one eye per half of the face (left / right), so a double hit counts once.
        halves = {int((ex + ew / 2) >= bw / 2) for ex, ey, ew, eh in eyes}
        faces.append(Face(x, y, fw, fh, len(halves), True))
    return faces
