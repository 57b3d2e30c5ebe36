"""OCR: on-screen text read with RapidOCR (PP-OCRv6 ONNX models shipped inside the ``rapidocr`` wheel)
and tracked across frames into intervals.

Reading a 720p frame costs seconds of CPU, so the tracker reads as little as it can: only frames the
sampler selected (the picture changed), and on those only the changed region (grown to cover any
text it touches), the whole frame only at a cut. While a region is unchanged its text stays on
screen, so a caption is read once and its interval ends when its region changes again. In
continuous motion whole-frame reads are throttled to one per ``motion_interval_s``.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np

from openvod.analyzers.tag.regions import Box, area, content_box, grow_region, intersects, iou
from openvod.models.cache import ModelCache, ModelSpec, ModelUnavailable
from openvod.pipeline.sampling import SelectedFrame


@dataclass(frozen=True)
class OcrOptions:
    """How text is read and tracked."""

    det_max_side: int = 800  # whole frames: the detector sees at most this many pixels on the longer side
    min_score: float = 0.75  # recognition confidence below this is dropped
    min_score_short: float = 0.9  # ... and below this for one-character readings (shapes read as "1", "I")
    full_frame_fraction: float = 0.5  # a change over this share of the frame reads the whole frame
    big_region_fraction: float = 0.3  # in continuous motion, reads larger than this ...
    motion_interval_s: float = 2.0  # ... happen at most once per interval (cuts are always read)
    continuous_gap_s: float = 1.0  # selected frames this close together are continuous motion
    min_region_px: int = 24
    flat_std: float = 3.0  # a region whose pixel standard deviation is below this is not read
    threads: int = 1
    same_text_ratio: float = 0.8  # two readings with this similarity are the same text
    # A changed region smaller than a whole frame is read without shrinking it, and a strip (caption
    # band) is enlarged up to region_upscale while it stays within the whole-frame pixel budget:
    # 12 px captions of a 720p video are ~9 px in the 960 px analysis frame, under the detector's reach.
    region_upscale: float = 1.0
    strip_fraction: float = 0.25  # changed blocks at most this share of the height are a band: read full width
    # Camera pans: in continuous motion a frame that is the last read frame shifted as a whole
    # (phase correlation) has no new text except where the shifted picture does not explain it
    # (a caption that appeared, the strip the pan revealed, the text already tracked and where it
    # was): only those parts are read. Anything else (zoom, moving objects) reads the whole frame.
    pan_reads: bool = True
    content_crop: bool = True  # detect only the part of a read region that is not flat (regions.content_box)
    pan_min_response: float = 0.15  # phase-correlation peak below this: not one global shift
    pan_pixel_diff: int = 14  # grey levels a pixel must differ from its shifted self (best of +-1 px)
    pan_block: int = 16  # analysis-frame pixels per block of the residual map ...
    pan_block_pixels: int = 8  # ... flagged when this many of its pixels differ
    pan_max_fraction: float = 0.6  # parts to read above this share of the frame: read it whole


@dataclass
class TextTrack:
    """One piece of on-screen text over one interval."""

    text: str
    start: float
    box: Box
    shot: int
    end: float | None = None
    scores: list[float] = field(default_factory=list)
    readings: int = 0

    @property
    def confidence(self) -> float:
        return float(np.mean(self.scores)) if self.scores else 0.0


def normalise(text: str) -> str:
    """Case-, width- and space-insensitive form used to compare readings."""
    t = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\s+", "", t)


def missing_dependency() -> str | None:
    if importlib.util.find_spec("rapidocr") is None or importlib.util.find_spec("onnxruntime") is None:
        return "OCR needs the rapidocr and onnxruntime packages (pip install 'openvod[tag]')."
    return None


class OcrEngine:
    """RapidOCR behind the model cache."""

    def __init__(self, options: OcrOptions, cache: ModelCache):
        self.o = options
        self.cache = cache

    def spec(self) -> ModelSpec:
        try:
            ver = metadata.version("rapidocr")
        except metadata.PackageNotFoundError:
            raise ModelUnavailable(missing_dependency() or "rapidocr is not installed") from None
        return ModelSpec.of("rapidocr PP-OCRv6 small (det+rec)", f"rapidocr=={ver}",
                            det_max_side=self.o.det_max_side, threads=self.o.threads, min_score=self.o.min_score)

    def _load(self) -> Any:
        reason = missing_dependency()
        if reason:
            raise ModelUnavailable(reason)
        from rapidocr import RapidOCR

        engine = RapidOCR(params={
            "Global.log_level": "error",
            "Global.text_score": self.o.min_score,
            "Det.limit_type": "max",
            "Det.limit_side_len": self.o.det_max_side,
            "EngineConfig.onnxruntime.intra_op_num_threads": self.o.threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        })
        engine.openvod_lock = threading.Lock()  # type: ignore[attr-defined]  # the detector's input limit is switched per call
        return engine

    def read(self, rgb: np.ndarray, frame_size: tuple[int, int] | None = None) -> list[tuple[str, Box, float]]:
        """(text, box, score) for each line of text in an RGB image.

        ``frame_size`` (w, h): the image is a region of a frame that size. A region whose pixels fit
        the whole-frame budget (``det_max_side`` on the frame's longer side) is detected at its own
        resolution, not shrunk, and a band (at most 40 % of the frame high) is enlarged up to
        ``region_upscale`` within that budget.
        """
        import cv2

        h, w = rgb.shape[:2]
        limit, k = self.o.det_max_side, 1.0
        if frame_size is not None and (w, h) != tuple(frame_size):
            fw, fh = frame_size
            s = min(1.0, self.o.det_max_side / max(fw, fh))
            budget = fw * fh * s * s
            if w * h <= budget:
                if h <= 0.4 * fh:  # a band (its changed blocks, grown by one block each way)
                    k = max(1.0, min(self.o.region_upscale, (budget / (w * h)) ** 0.5))
                limit = max(limit, int(max(w, h) * k) + 32)
        if k <= 1.05:
            k, img = 1.0, rgb
        else:
            img = cv2.resize(rgb, (int(round(w * k)), int(round(h * k))), interpolation=cv2.INTER_CUBIC)
        engine = self.cache.get(self.spec(), self._load)
        with engine.openvod_lock:
            load_det = getattr(engine, "_load_det_model", None)  # rapidocr 3.x
            det = load_det() if load_det is not None else None
            if det is not None and hasattr(det, "limit_side_len"):
                det.limit_side_len = limit
            try:
                out = engine(np.ascontiguousarray(img[..., ::-1]), use_cls=False)
            finally:
                if det is not None and hasattr(det, "limit_side_len"):
                    det.limit_side_len = self.o.det_max_side
        if out is None or out.boxes is None or out.txts is None:
            return []
        res = []
        for poly, txt, score in zip(out.boxes, out.txts, out.scores, strict=False):
            text = str(txt).strip()
            if not text or not re.search(r"\w", text) or float(score) < self.o.min_score:
                continue
            if len(text) == 1 and float(score) < self.o.min_score_short:
                continue
            p = np.asarray(poly, dtype=np.float32).reshape(-1, 2) / k
            res.append((text, (float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())),
                        float(score)))
        return res


class TextTracker:
    """Feeds changed regions of selected frames to the OCR engine and keeps text intervals."""

    def __init__(self, engine: OcrEngine, options: OcrOptions):
        self.engine = engine
        self.o = options
        self.active: list[TextTrack] = []
        self.done: list[TextTrack] = []
        self.last_big_t = -1e9
        self.band = False
        self.prev_t = -1e9
        self.prev_big = False
        self.ref: np.ndarray | None = None  # grey picture of the last frame whose text is all known
        self.stats = {"frames_read": 0, "full_frame_reads": 0, "pixels_read": 0, "frames_skipped": 0,
                      "pan_reads": 0, "seconds": 0.0}

    def _region(self, frame: SelectedFrame, w: int, h: int) -> Box | None:
        self.band = False
        if frame.new_shot or frame.change_fraction > self.o.full_frame_fraction:
            return 0.0, 0.0, float(w), float(h)
        cb = frame.changed_box(w, h, dilate=1)
        if cb is None:
            return None
        x0, y0, x1, y1 = (float(v) for v in cb)
        core = frame.changed_box(w, h, dilate=0)
        if core is not None and core[3] - core[1] <= self.o.strip_fraction * h:
            # A caption band: the ends of a faint line change its blocks too little to be flagged,
            # so the band is read across the whole width rather than cutting words off.
            x0, x1 = 0.0, float(w)
            self.band = True
        return grow_region((x0, y0, x1, y1), [t.box for t in self.active], w, h)

    def process(self, frame: SelectedFrame) -> None:
        img = frame.image
        assert img is not None
        h, w = img.shape[:2]
        region = self._region(frame, w, h)
        if region is None:
            return
        frac = area(region) / float(w * h)
        big = frac > self.o.big_region_fraction and not self.band  # a caption band is not motion
        continuous = big and self.prev_big and frame.t - self.prev_t <= self.o.continuous_gap_s
        self.prev_t, self.prev_big = frame.t, big and not frame.new_shot
        if continuous and not frame.new_shot and frame.t - self.last_big_t < self.o.motion_interval_s:
            self.stats["frames_skipped"] += 1
            return
        if big:
            self.last_big_t = frame.t
        grey = self._grey(img) if self.o.pan_reads else None
        parts = None
        if continuous and not frame.new_shot and grey is not None and self.ref is not None \
                and self.ref.shape == grey.shape:
            parts = self._pan_parts(grey, w, h)
        self.ref = grey
        if parts is not None:
            self.stats["pan_reads"] += 1
            for part in parts:
                self._read(frame, img, part, w, h)
            return
        self._read(frame, img, region, w, h)

    def _read(self, frame: SelectedFrame, img: np.ndarray, region: Box, w: int, h: int) -> None:
        x0, y0, x1, y1 = (int(round(v)) for v in region)
        if x1 - x0 < self.o.min_region_px or y1 - y0 < self.o.min_region_px:
            return
        crop = img[y0:y1, x0:x1]
        # Only the part that is not flat is detected (a slide's plain colour, a gradient, black
        # bars hold no text): the detector's cost is proportional to the pixels it sees.
        cb = content_box(self._grey(crop), self.o.flat_std) if self.o.content_crop else \
            (None if float(crop.std()) < self.o.flat_std else (0.0, 0.0, float(x1 - x0), float(y1 - y0)))
        if cb is None:  # a flat picture (black, one colour) holds no text
            self._update(frame, region, [])
            return
        if area(cb) < 0.9 * (x1 - x0) * (y1 - y0):
            cx0, cy0, cx1, cy1 = (int(v) for v in cb)
            crop, x0, y0, x1, y1 = crop[cy0:cy1, cx0:cx1], x0 + cx0, y0 + cy0, x0 + cx1, y0 + cy1
        t0 = time.monotonic()
        found = [(txt, (b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0), s)
                 for txt, b, s in self.engine.read(crop, (w, h))]
        self.stats["seconds"] += time.monotonic() - t0
        self.stats["frames_read"] += 1
        self.stats["full_frame_reads"] += int((x1 - x0) * (y1 - y0) >= 0.999 * w * h)
        self.stats["pixels_read"] += (x1 - x0) * (y1 - y0)
        self._update(frame, region, found)

    @staticmethod
    def _grey(img: np.ndarray) -> np.ndarray:
        import cv2

        return cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)

    def _pan_parts(self, grey: np.ndarray, w: int, h: int) -> list[Box] | None:
        """The parts of a panned frame that may hold text not read before, or None (not a pan, or
        too much of the frame: read it whole)."""
        import cv2

        ref = self.ref
        assert ref is not None
        a = cv2.resize(ref, (w // 2, h // 2), interpolation=cv2.INTER_AREA).astype(np.float32)
        b = cv2.resize(grey, (w // 2, h // 2), interpolation=cv2.INTER_AREA).astype(np.float32)
        (dx, dy), resp = cv2.phaseCorrelate(a, b, cv2.createHanningWindow((w // 2, h // 2), cv2.CV_32F))
        if not np.isfinite(resp) or resp < self.o.pan_min_response:
            return None
        dx, dy = int(round(dx * 2)), int(round(dy * 2))
        if abs(dx) >= w // 2 or abs(dy) >= h // 2:
            return None
        cur = grey.astype(np.int16)
        best = np.full((h, w), 255, np.int16)  # grey levels from the best-matching shifted pixel
        for ey in (-1, 0, 1):
            for ex in (-1, 0, 1):
                sx, sy = dx + ex, dy + ey
                # cur[y, x] against ref[y - sy, x - sx] where that pixel exists (elsewhere: revealed)
                ys, yd = (slice(0, h - sy), slice(sy, h)) if sy >= 0 else (slice(-sy, h), slice(0, h + sy))
                xs, xd = (slice(0, w - sx), slice(sx, w)) if sx >= 0 else (slice(-sx, w), slice(0, w + sx))
                d = np.abs(cur[yd, xd] - ref[ys, xs].astype(np.int16))
                np.minimum(best[yd, xd], d, out=best[yd, xd])
        k = self.o.pan_block
        gh, gw = -(-h // k), -(-w // k)
        flags = np.zeros((gh * k, gw * k), np.uint8)
        flags[:h, :w] = best > self.o.pan_pixel_diff
        blocks = flags.reshape(gh, k, gw, k).sum(axis=(1, 3)) >= self.o.pan_block_pixels
        for t in self.active:  # text already tracked, where it is now and where it was carried to
            for ox, oy in ((0, 0), (dx, dy)):
                x0, y0 = int(max(0, (t.box[0] + ox) // k)), int(max(0, (t.box[1] + oy) // k))
                x1, y1 = int(min(gw, (t.box[2] + ox) // k + 1)), int(min(gh, (t.box[3] + oy) // k + 1))
                if x1 > x0 and y1 > y0:
                    blocks[y0:y1, x0:x1] = True
        if not blocks.any():
            return []
        grown = cv2.dilate(blocks.astype(np.uint8), np.ones((3, 3), np.uint8))
        n, _, st, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
        parts: list[Box] = []
        for i in range(1, n):
            bx, by, bw, bh = (int(v) for v in st[i, :4])
            parts.append((float(bx * k), float(by * k), float(min(w, (bx + bw) * k)), float(min(h, (by + bh) * k))))
        parts = [grow_region(p, [t.box for t in self.active], w, h) for p in parts]
        merged = True
        while merged:  # parts that overlap after growing are read as one (a track is judged once)
            merged = False
            for i in range(len(parts)):
                for j in range(i + 1, len(parts)):
                    if intersects(parts[i], parts[j]):
                        pa, pb = parts[i], parts.pop(j)
                        parts[i] = (min(pa[0], pb[0]), min(pa[1], pb[1]), max(pa[2], pb[2]), max(pa[3], pb[3]))
                        merged = True
                        break
                if merged:
                    break
        if sum(area(p) for p in parts) > self.o.pan_max_fraction * w * h:
            return None
        return parts

    def _same(self, track: TextTrack, text: str, box: Box) -> bool:
        a, b = normalise(track.text), normalise(text)
        similar = a == b or difflib.SequenceMatcher(None, a, b).ratio() >= self.o.same_text_ratio
        return similar and iou(track.box, box) >= 0.3

    def _update(self, frame: SelectedFrame, region: Box, found: list[tuple[str, Box, float]]) -> None:
        affected = [t for t in self.active if intersects(t.box, region) or frame.new_shot]
        matched: set[int] = set()
        for text, box, score in found:
            best = next((t for t in affected if id(t) not in matched and self._same(t, text, box)), None)
            if best is None:
                self.active.append(TextTrack(text, frame.t, box, frame.shot, scores=[score], readings=1))
                continue
            matched.add(id(best))
            if score > max(best.scores, default=0.0):
                best.text = text  # keep the most confident reading
            best.box, best.readings = box, best.readings + 1
            best.scores.append(score)
        for t in affected:
            if id(t) not in matched:
                t.end = frame.t
                self.active.remove(t)
                self.done.append(t)

    def finish(self, end_t: float) -> list[TextTrack]:
        """Close what is still on screen at the end; all intervals in start order."""
        for t in self.active:
            t.end = max(end_t, t.start)
            self.done.append(t)
        self.active = []
        return sorted(self.done, key=lambda t: (t.start, t.box[1], t.box[0]))
