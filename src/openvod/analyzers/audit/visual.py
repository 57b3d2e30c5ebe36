"""Per-frame visual checks: NudeNet's ONNX detector (porn / sexy), OpenCV's QR code detector (ad),
black / solid / test-card frames (live). Frames are RGB uint8 arrays."""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

# ------------------------------------------------------------------------------------------- porn
NUDENET_LABELS = (
    "FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED", "BELLY_COVERED",
    "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED", "FACE_MALE", "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED", "BUTTOCKS_COVERED",
)
# Body-part class -> (label, weight): score = 100 * detector confidence * weight.
PORN_PARTS = {
    "FEMALE_GENITALIA_EXPOSED": ("porn", 1.0), "MALE_GENITALIA_EXPOSED": ("porn", 1.0),
    "ANUS_EXPOSED": ("porn", 1.0), "FEMALE_BREAST_EXPOSED": ("porn", 0.95), "BUTTOCKS_EXPOSED": ("porn", 0.85),
    "FEMALE_BREAST_COVERED": ("sexy", 0.9), "FEMALE_GENITALIA_COVERED": ("sexy", 0.9),
    "BUTTOCKS_COVERED": ("sexy", 0.8), "ANUS_COVERED": ("sexy", 0.8), "BELLY_EXPOSED": ("sexy", 0.6),
}


@dataclass(frozen=True)
class Detection:
    label: str  # a NudeNet class
    score: float  # 0-1
    box: tuple[int, int, int, int]  # x, y, w, h in frame pixels


class PartDetector(Protocol):
    """Anything that finds body parts in an RGB frame (NudeNet, or a fake in tests)."""

    name: str

    def __call__(self, rgb: np.ndarray) -> list[Detection]: ...


def porn_label(dets: list[Detection], min_score: float = 50.0) -> tuple[str, float]:
    """(porn|sexy|normal, score 0-100). porn wins over sexy when both reach ``min_score``; normal's
    score is how sure the frame is clean (100 minus the strongest non-normal cue)."""
    best = {"porn": 0.0, "sexy": 0.0}
    for d in dets:
        m = PORN_PARTS.get(d.label)
        if m:
            best[m[0]] = max(best[m[0]], 100.0 * d.score * m[1])
    if best["porn"] >= min_score:
        return "porn", round(best["porn"], 4)
    if best["sexy"] >= min_score:
        return "sexy", round(best["sexy"], 4)
    return "normal", round(100.0 - max(best.values()), 4)


def nudenet_model_path() -> Path | None:
    """320n.onnx inside the nudenet wheel (the package itself is never imported: its module pulls
    nothing we need and the wheel is used only as a model carrier)."""
    spec = importlib.util.find_spec("nudenet")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "320n.onnx"
    return p if p.is_file() else None


class NudeNetDetector:
    """NudeNet 3.4 detector (YOLOv8n, 320x320) run directly on onnxruntime, one thread."""

    name = "nudenet-320n"

    def __init__(self, model_path: Path, threads: int = 1, min_confidence: float = 0.2):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.size = 320
        self.min_confidence = min_confidence
        self._lock = threading.Lock()

    def __call__(self, rgb: np.ndarray) -> list[Detection]:
        import cv2

        h, w = rgb.shape[:2]
        side = max(h, w)
        pad = np.zeros((side, side, 3), np.uint8)
        pad[:h, :w] = rgb
        blob = cv2.resize(pad, (self.size, self.size), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
        blob = np.ascontiguousarray(blob.transpose(2, 0, 1)[None])
        with self._lock:
            out = self.session.run(None, {self.input: blob})[0]
        rows = np.squeeze(out, 0).T  # (N, 4 + classes)
        scores = rows[:, 4:]
        cls = scores.argmax(1)
        conf = scores[np.arange(len(rows)), cls]
        keep = conf >= self.min_confidence
        if not keep.any():
            return []
        rows, cls, conf = rows[keep], cls[keep], conf[keep]
        s = side / self.size
        boxes = []
        for cx, cy, bw, bh in rows[:, :4]:
            x, y = max(0.0, (cx - bw / 2) * s), max(0.0, (cy - bh / 2) * s)
            boxes.append([int(x), int(y), int(min(bw * s, w - x)), int(min(bh * s, h - y))])
        idx = cv2.dnn.NMSBoxes(boxes, conf.astype(float).tolist(), 0.25, 0.45)
        return [Detection(NUDENET_LABELS[int(cls[i])], float(conf[i]), tuple(boxes[i]))  # type: ignore[arg-type]
                for i in np.array(idx).reshape(-1)]


# ------------------------------------------------------------------------------------------- QR
@dataclass(frozen=True)
class QRFinding:
    decoded: str  # "" when a code was located but could not be read
    score: float


QR_DECODED_SCORE = 97.0
# A code that is located but cannot be read is not reported: on the benchmark corpus every such
# location was photo texture (a false positive), while real codes small enough to be unreadable
# (under ~2 px per module) were not located either.


def find_qr(rgb: np.ndarray, detector: object | None = None) -> QRFinding | None:
    """A readable QR code in the frame, or None: zxing-cpp when installed (about 0.5 ms a frame; on
    the benchmark it read every code down to 0.14 of the frame height), else OpenCV's QRCodeDetector."""
    try:
        import zxingcpp
    except ImportError:
        pass
    else:
        found = zxingcpp.read_barcodes(np.ascontiguousarray(rgb),
                                       formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
        texts = [b.text for b in found if b.valid and b.text]
        return QRFinding(texts[0], QR_DECODED_SCORE) if texts else None
    import cv2

    det = detector or cv2.QRCodeDetector()
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    try:
        text, pts, _ = det.detectAndDecode(gray)  # type: ignore[attr-defined]
    except cv2.error:
        return None
    if pts is None or not text:
        return None
    quad = np.asarray(pts, np.float32).reshape(-1, 2)
    if len(quad) < 4 or cv2.contourArea(quad) < 400:  # tiny quads are texture, not codes
        return None
    return QRFinding(text, QR_DECODED_SCORE)


# ------------------------------------------------------------------------------------------- live
def luma(rgb: np.ndarray) -> np.ndarray:
    """Luma of 4x4 block means: sensor grain and compression noise average out, texture stays."""
    h, w = (rgb.shape[0] // 4) * 4, (rgb.shape[1] // 4) * 4
    y = rgb[:h, :w].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return y.reshape(h // 4, 4, w // 4, 4).mean(axis=(1, 3))


def flat_kind(y: np.ndarray, black_luma: float, flat_std: float) -> str:
    """'black', 'solid' or '' for a luma image."""
    if float(y.std()) >= flat_std:
        return ""
    return "black" if float(y.mean()) < black_luma else "solid"


def is_test_card(rgb: np.ndarray) -> bool:
    """Colour bars (SMPTE / EBU style): the upper two thirds split into 7 vertical bands, each nearly
    uniform, mostly saturated, with distinct neighbours."""
    h, w = rgb.shape[:2]
    if w < 70 or h < 30:
        return False
    top = rgb[: int(h * 0.6)].astype(np.float32)
    bands = np.array_split(top, 7, axis=1)
    means, uniform = [], 0
    for b in bands:
        core = b[:, b.shape[1] // 6 : b.shape[1] - b.shape[1] // 6]
        if float(core.std(axis=(0, 1)).max()) < 14.0:
            uniform += 1
        means.append(core.mean(axis=(0, 1)))
    if uniform < 6:
        return False
    m = np.array(means)
    distinct = sum(float(np.abs(m[i] - m[i + 1]).max()) > 40.0 for i in range(6))
    saturated = sum(float(x.max() - x.min()) > 60.0 for x in m)
    return distinct >= 5 and saturated >= 4


# ------------------------------------------------------------------------------------------- PIP
def _runs(mask: np.ndarray, min_len: int) -> list[tuple[int, int, int]]:
    """(row, start, end) of every run of True at least ``min_len`` long, row by row."""
    out = []
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    for r in np.flatnonzero(mask.sum(axis=1) >= min_len):
        starts, ends = np.flatnonzero(d[r] == 1), np.flatnonzero(d[r] == -1)
        out += [(int(r), int(a), int(b)) for a, b in zip(starts, ends, strict=True) if b - a >= min_len]
    return out


def rectangles(rgb: np.ndarray, min_area: float = 0.03, max_area: float = 0.5, width: int = 320,
               edge: float = 12.0) -> list[tuple[int, int, int, int]]:
    """Axis-aligned rectangles outlined by straight edges on all four sides (candidate picture-in-
    picture insets), as x, y, w, h in 1/1000 of the frame; boxes touching the frame border are not
    candidates. Two long horizontal edges with matching ends, joined by vertical edges at both ends."""
    import cv2

    h0, w0 = rgb.shape[:2]
    s = width / w0
    gray: np.ndarray = cv2.cvtColor(cv2.resize(rgb, (width, max(2, int(h0 * s))), interpolation=cv2.INTER_AREA),
                        cv2.COLOR_RGB2GRAY).astype(np.float32)
    gray = cv2.GaussianBlur(gray, (3, 3), 0)
    h, w = gray.shape
    # edges of a luma step >= ``edge``; short gaps along a line (low local contrast) are closed
    eh = cv2.dilate((np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)) > edge * 4).astype(np.uint8),
                    np.ones((1, 7), np.uint8)) > 0
    ev = cv2.dilate((np.abs(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)) > edge * 4).astype(np.uint8),
                    np.ones((7, 1), np.uint8)) > 0
    min_w = max(8, int(0.12 * w))
    runs = _runs(eh, min_w)
    tol = 6
    out: list[tuple[int, int, int, int]] = []
    for i, (y1, a1, b1) in enumerate(runs):
        for y2, a2, b2 in runs[i + 1:]:
            if y2 - y1 < 0.12 * h or abs(a1 - a2) > tol or abs(b1 - b2) > tol:
                continue
            x0, x1 = (a1 + a2) // 2, (b1 + b2) // 2 - 1
            if x0 <= 2 or y1 <= 2 or x1 >= w - 3 or y2 >= h - 3:
                continue
            area = (x1 - x0) * (y2 - y1) / (w * h)
            aspect = (x1 - x0) / max(1, y2 - y1)
            # a video inset is 9:16 to 21:9-ish; wide flat boxes are caption plates and banners
            if not min_area <= area <= max_area or not 0.4 <= aspect <= 2.6:
                continue
            left = ev[y1:y2, max(0, x0 - 2): x0 + 3].any(axis=1).mean()
            right = ev[y1:y2, max(0, x1 - 2): x1 + 3].any(axis=1).mean()
            if left < 0.85 or right < 0.85:
                continue
            box = (int(1000 * x0 / w), int(1000 * y1 / h), int(1000 * (x1 - x0) / w), int(1000 * (y2 - y1) / h))
            if not any(same_box(box, b, 10) for b in out):
                out.append(box)
    return out


def same_box(a: tuple[int, int, int, int], b: tuple[int, int, int, int], tol: int = 20) -> bool:
    return all(abs(p - q) <= tol for p, q in zip(a, b, strict=True))
