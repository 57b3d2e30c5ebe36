"""Video fingerprints: decode once, sample by presentation time, keep small luma pictures and codes.

Decoding goes through the media pipeline (`openvod.pipeline`, one time origin, PTS-only times, rotation
applied) with frame threading and (by default) skips non-reference frames, which nobody
else needs; every kept frame's luma plane is box-filtered straight to a small working picture, so
the cost over a plain decode is a resize per sample. After decoding:

1. the *active box* is found: rows and columns at the edges that stay flat over the whole video
   (letterbox, pillarbox, padding of any colour) are cut away, so padded copies compare equal, and
   so are those of stretches framed on their own (a padded clip between full-frame footage; ``layout``);
2. each sample keeps a 32x32 thumbnail of its active box (used for alignment and for estimating
   crop / picture-in-picture geometry) and its flatness (black and flat frames never match);
3. 64-bit codes for the ANN index, each with a mirrored twin (see ``features``): a global code for
   every informative sample, and once per ``code_interval_s`` local codes around coarse keypoints and,
   in a wide picture, a band code of its middle (``_bands``: what a 9:16 crop keeps).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from openvod.analyzers.dna import features as ft
from openvod.analyzers.dna.layout import Box, active_box, sample_boxes, stretches
from openvod.pipeline import DecodeError, DecodeStats, Media, VideoNeed, open_media

FORMAT_VERSION = 1  # serialisation layout
CODE_THREADS = max(1, min(2, os.cpu_count() or 1))  # threads computing local codes
ALGORITHM_VERSION = 14  # bump when the same options would give different fingerprints
BAND_HEIGHTS = 0.3375  # a band code's width in heights of the picture: the middle 60 % of a 9:16 crop at full height
BAND_MIN_ASPECT = 1.2  # pictures at least this wide (width / height) get band codes
@dataclass(frozen=True)
class FingerprintOptions:
    """What a fingerprint is made of. Changing any field changes the fingerprint (see ``key``)."""

    sample_fps: float = 4.0
    work_size: int = 96
    keypoint_size: int = 96  # side of the square picture keypoints are found on
    thumb_size: int = 32
    code_interval_s: float = 0.5
    max_keypoints: int = 16
    flat_std: float = 6.0  # a thumbnail with a luma std below this is flat (black, fades, slates) ...
    flat_relative: float = 0.5  # ... or below this x the video's typical std if less (features.flat_mask; 0: off)
    skip_nonref: bool = True
    skip_loop_filter: bool = True  # no deblocking: ~25 % faster H.264 decode, invisible at 96 px
    sample_frames: int = 4  # a sample is the mean of up to this many frames spread over its 1/sample_fps slot
    scaler: str = "area"  # frame -> working picture: "area" (swscale, ~6x cheaper) or "box" (exact area average, PIL)
    max_corrupt_ratio: float = 0.2

    def key(self) -> str:
        d = asdict(self)
        d.pop("skip_nonref")  # changes speed, not the fingerprint (sampling is by time)
        d.pop("max_corrupt_ratio")
        d.pop("flat_relative") if not d["flat_relative"] else None  # off: the key (and caches) from before it
        if d["scaler"] == "box":  # the historical scaler: keys (and caches) from before the option stay valid
            d.pop("scaler")
        return json.dumps({"v": FORMAT_VERSION, "algorithm": ALGORITHM_VERSION, **d}, sort_keys=True)


@dataclass
class Fingerprint:
    """One video's fingerprint."""

    times: np.ndarray  # float32[n]: sample times (s, from the media origin: see openvod.pipeline.probe)
    thumbs: np.ndarray  # uint8[n, T, T]: luma of the active box
    flat: np.ndarray  # bool[n]
    code_frame: np.ndarray  # int32[m]: sample each code belongs to
    code_geom: np.ndarray  # float32[m, 4]: window centre x, y, half-width, half-height, in active-box units
    codes: np.ndarray  # uint8[m, 8]
    codes_flip: np.ndarray  # uint8[m, 8]: the same windows mirrored
    duration: float
    width: int
    height: int
    box: tuple[float, float, float, float]  # active box in the source frame: x, y, w, h (0..1)
    options_key: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    _smooth: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        g = np.asarray(self.code_geom, np.float32)
        g = g.reshape(g.shape[0], g.shape[1] if g.ndim == 2 else 4)
        if g.shape[1] == 3:  # square windows (fingerprints and callers from before bands): half-side twice
            g = np.concatenate([g, g[:, 2:3]], axis=1)
        self.code_geom = g

    @property
    def smooth_thumbs(self) -> np.ndarray:
        """Float, lightly blurred thumbnails for region sampling (computed once)."""
        if self._smooth is None:
            self._smooth = ft.smooth(self.thumbs)
        return self._smooth

    def boxes_at(self, times: np.ndarray) -> np.ndarray:
        """float[k, 4]: the active box (x, y, w, h, 0..1) at each of ``times``: its stretch's (``layout``), else ``box``."""
        t = np.asarray(times, np.float64).reshape(-1) + float(self.info.get("t0", 0.0))  # a window (templates.window)
        out = np.tile(np.asarray(self.box, np.float64), (t.size, 1))  # keeps its video's stretch times
        for t0, t1, *b in reversed(self.info.get("stretches", ())):  # the first stretch holding a time wins
            out[(t >= t0) & (t <= t1)] = b
        return out

    def box_at(self, t: float) -> tuple[float, float, float, float]:
        """The active box (x, y, w, h, 0..1) at time ``t`` (``boxes_at``)."""
        x, y, w, h = (float(v) for v in self.boxes_at(np.array([t]))[0])
        return (x, y, w, h)

    @property
    def n(self) -> int:
        return int(self.times.shape[0])

    @property
    def step(self) -> float:
        """Typical time between samples."""
        if self.n < 2:
            return 0.25
        return float(np.median(np.diff(self.times)))

    # ------------------------------------------------------------------ serialisation
    def to_bytes(self) -> bytes:
        meta = {"format": FORMAT_VERSION, "duration": self.duration, "width": self.width, "height": self.height,
                "box": list(self.box), "options_key": self.options_key, "info": self.info}
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
            times=self.times.astype(np.float32),
            thumbs=self.thumbs.astype(np.uint8),
            flat=self.flat.astype(np.bool_),
            code_frame=self.code_frame.astype(np.int32),
            code_geom=self.code_geom.astype(np.float32),
            codes=self.codes.astype(np.uint8),
            codes_flip=self.codes_flip.astype(np.uint8),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"fingerprint format {meta.get('format')} is not {FORMAT_VERSION}")
            return cls(
                times=z["times"],
                thumbs=z["thumbs"],
                flat=z["flat"],
                code_frame=z["code_frame"],
                code_geom=z["code_geom"],
                codes=z["codes"],
                codes_flip=z["codes_flip"],
                duration=float(meta["duration"]),
                width=int(meta["width"]),
                height=int(meta["height"]),
                box=tuple(meta["box"]),  # type: ignore[arg-type]
                options_key=meta.get("options_key", ""),
                info=meta.get("info", {}),
            )


# ----------------------------------------------------------------------------- decoding
@dataclass
class Samples:
    """Decoded, time-sampled working pictures of one video."""

    times: np.ndarray  # float64[n]
    pictures: np.ndarray  # uint8[n, S, S] (whole frame, squashed)
    duration: float
    width: int
    height: int
    frames_decoded: int
    corrupt_packets: int


def decode_samples(
    path: Path, opts: FingerprintOptions, progress: Callable[[], None] | None = None, media: Media | None = None
) -> Samples:
    """Keep one working picture per ``1/sample_fps`` of presentation time (one pipeline decode pass).

    With ``sample_frames`` > 1 the picture of a sample is the mean of the frames of its slot
    (``[k, k+1) / sample_fps``) at the first frame at or after each ``1 / (sample_fps x sample_frames)``
    (a fixed grid: at most that many per slot, whatever the frame rate), timed at the slot's first
    frame: the temporal counterpart of the box filter that makes the working picture. Two videos sampled at instants that differ by a fraction
    of a slot (a copy embedded at any offset, another frame rate) then see mostly the same frames;
    without it, content that changes every frame (cellular automata, noise, flicker) is sampled at
    different frames on the two sides and looks like different pictures.

    Raises ``openvod.pipeline.DecodeError`` (re-exported here) when the video cannot be decoded.
    """
    media = media if media is not None else open_media(path)
    mean = opts.sample_frames > 1
    need = VideoNeed(fps=opts.sample_fps * max(1, opts.sample_frames), skip="NONREF" if opts.skip_nonref else "DEFAULT",
                     loop_filter=not opts.skip_loop_filter)
    stats = DecodeStats()
    times: list[float] = []
    pics: list[np.ndarray] = []
    size: tuple[int, int] | None = None
    width = height = 0
    step = 1.0 / opts.sample_fps
    acc: np.ndarray | None = None  # temporal mean: the sum of the current slot's pictures
    count = 0
    slot_end = -np.inf

    def close_slot() -> None:
        if acc is not None and count:
            pics.append(((acc + count // 2) // count).astype(np.uint8) if count > 1 else acc.astype(np.uint8))

    area = {"box": False, "area": True}[opts.scaler]  # a KeyError for an unknown scaler
    for frame in media.video(need, stats=stats):
        width, height = frame.size
        if size is None:  # portrait video: twice the rows, so a 16:9 band inside it keeps its detail
            ws = opts.work_size
            size = (ws, 2 * ws) if height > 1.2 * width else (ws, ws)
        pic = frame.luma_area(*size) if area else frame.luma_box(*size)
        if not mean:
            times.append(frame.t)
            pics.append(pic)
        elif frame.t + 1e-6 >= slot_end:  # the first frame of a new slot
            close_slot()
            times.append(frame.t)
            acc, count = pic.astype(np.uint32), 1
            slot_end = (np.floor(frame.t / step + 1e-6) + 1) * step
        else:
            assert acc is not None
            acc += pic
            count += 1
        if progress is not None and len(times) % 256 == 0 and (not mean or count == 1):
            progress()
    close_slot()
    if not times:
        raise DecodeError("the video has no decodable frame")
    duration = max(stats.last_t + step, times[-1] + step) if len(times) > 1 else step
    return Samples(
        times=np.asarray(times, np.float64),
        pictures=np.stack(pics),
        duration=float(duration),
        width=width,
        height=height,
        frames_decoded=stats.frames_decoded,
        corrupt_packets=stats.corrupt_packets,
    )


# ----------------------------------------------------------------------------- fingerprint
def _crop_resize(pictures: np.ndarray, boxes: np.ndarray, size: int, resample: Image.Resampling) -> np.ndarray:
    """Each picture's box (``boxes`` int[n, 4]: x0, y0, x1, y1) resized to a ``size`` square."""
    out = np.empty((pictures.shape[0], size, size), np.uint8)
    for i, pic in enumerate(pictures):
        x0, y0, x1, y1 = boxes[i]
        out[i] = np.asarray(Image.fromarray(pic).resize((size, size), resample, box=(float(x0), float(y0), float(x1), float(y1))))
    return out


def code_sample_indices(times: np.ndarray, interval: float) -> np.ndarray:
    """Indices of the samples that carry codes: the first sample at or after each multiple of ``interval``."""
    if times.size == 0:
        return np.zeros(0, np.int64)
    slots = np.floor(times / interval + 1e-6).astype(np.int64)
    first = np.ones(times.size, bool)
    first[1:] = slots[1:] != slots[:-1]
    return np.nonzero(first)[0]


def fingerprint_samples(s: Samples, opts: FingerprintOptions) -> Fingerprint:
    """Turn decoded samples into a fingerprint."""
    aspect = s.width / max(s.height, 1)
    box: Box = active_box(s.pictures, opts.flat_std, frame_aspect=aspect)
    runs = stretches(s.pictures, box, opts.flat_std, aspect)
    boxes = sample_boxes(s.times.size, box, runs)
    thumbs = _crop_resize(s.pictures, boxes, opts.thumb_size, Image.Resampling.BOX)
    flat = ft.flat_mask(thumbs.reshape(thumbs.shape[0], -1).std(axis=1), opts.flat_std, opts.flat_relative)
    # Global codes for every informative sample (cheap, and dense in time so motion between the
    # sampling instants of two copies costs little); local codes once per code interval.
    every = np.nonzero(~flat)[0]
    idx = code_sample_indices(s.times, opts.code_interval_s)
    idx = idx[~flat[idx]]
    codes, codes_flip, frames, geom = _codes(s.pictures, thumbs, every, idx, boxes, opts, aspect)
    ph, pw = s.pictures.shape[1:]
    x0, y0, x1, y1 = box
    return Fingerprint(
        times=s.times.astype(np.float32),
        thumbs=thumbs,
        flat=flat,
        code_frame=frames.astype(np.int32),
        code_geom=geom,
        codes=codes,
        codes_flip=codes_flip,
        duration=s.duration,
        width=s.width,
        height=s.height,
        box=(x0 / pw, y0 / ph, (x1 - x0) / pw, (y1 - y0) / ph),
        options_key=opts.key(),
        info={"frames_decoded": s.frames_decoded, "corrupt_packets": s.corrupt_packets,
              "stretches": [[float(s.times[a]), float(s.times[b - 1]), u0 / pw, v0 / ph, (u1 - u0) / pw, (v1 - v0) / ph]
                            for a, b, (u0, v0, u1, v1) in runs]},
    )


def _codes(
    pictures: np.ndarray, thumbs: np.ndarray, every: np.ndarray, idx: np.ndarray, boxes: np.ndarray,
    opts: FingerprintOptions, frame_aspect: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Codes (and mirrored codes, sample index, window geometry): global ones for the samples
    ``every``, local ones around the keypoints of the samples ``idx``, and on those samples of a wide
    picture one of its middle band (``_bands``); sorted by sample."""
    size = opts.keypoint_size
    if every.size == 0:
        e = np.zeros((0, ft.CODE_BYTES), np.uint8)
        return e, e.copy(), np.zeros(0, np.int64), np.zeros((0, 4), np.float32)
    t = thumbs[every].astype(np.float32)  # the global window is the thumbnail, area-averaged to 16x16
    k = t.shape[-1] // 16
    g_win = t[:, : 16 * k, : 16 * k].reshape(-1, 16, k, 16, k).mean(axis=(2, 4))
    g_geom = np.tile(np.array([[0.5, 0.5, 0.5, 0.5]], np.float32), (every.size, 1))
    wins, frames, geom = [g_win], [every], [g_geom]

    def local(part: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        imgs = _crop_resize(pictures[part], boxes[part], size, Image.Resampling.BILINEAR).astype(np.float32)
        kp, kf = ft.keypoints(imgs, top=opts.max_keypoints)
        g = np.stack([(kp[:, 0] + 0.5) / size, (kp[:, 1] + 0.5) / size, kp[:, 2] / size, kp[:, 2] / size], axis=1)
        return ft.keypoint_windows(imgs, kp, kf), part[kf], g

    # Chunks bound memory on long videos; they run on CODE_THREADS threads (FFTs and resizes release
    # the GIL), which does not change the result: every sample's keypoints are its own.
    n = idx.size if opts.max_keypoints else 0
    chunk = max(32, min(256, -(-n // CODE_THREADS)))
    parts = [idx[start : start + chunk] for start in range(0, n, chunk)]
    if len(parts) > 1:
        with ThreadPoolExecutor(min(CODE_THREADS, len(parts)), thread_name_prefix="dna-codes") as pool:
            done = list(pool.map(local, parts))
    else:
        done = [local(p) for p in parts]
    for w, f, g in [*done, _bands(pictures, idx, boxes, frame_aspect)]:
        wins.append(w)
        frames.append(f)
        geom.append(g)
    w_all = np.concatenate(wins)
    f_all = np.concatenate(frames)
    g_all = np.concatenate(geom).astype(np.float32)
    order = np.argsort(f_all, kind="stable")
    codes, codes_flip = ft.hash_windows(w_all[order])
    band = band_rows(g_all[order])
    codes[band] ^= ft.BAND_MASK
    codes_flip[band] ^= ft.BAND_MASK
    return codes, codes_flip, f_all[order], g_all[order]


def band_rows(geom: np.ndarray) -> np.ndarray:
    """Which codes of a video's fingerprint are band codes (``_bands``): the only windows that are not square."""
    g = np.asarray(geom).reshape(-1, 4)
    return np.asarray(g[:, 2] != g[:, 3])


def _bands(pictures: np.ndarray, idx: np.ndarray, boxes: np.ndarray, frame_aspect: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole-picture windows of the middle band (``BAND_HEIGHTS`` of the height wide, the full height) of
    the samples ``idx`` whose active box is wide: (windows, samples, geometry).

    A 9:16 crop of a 16:9 video keeps a third of the width at full height: squashed to the query's
    square, its picture is the source's stretched 3.2 times across, which no square window of the source
    matches. This band is what such a crop keeps (its middle 60 %, so a crop a little off centre still
    holds it); the query reads the same band of itself (``views.band_view``) and the hit implies the
    transform (``align.ASPECTS``). Read from the working picture: the thumbnail holds 10 pixels of it."""
    if idx.size == 0:
        return np.zeros((0, 16, 16), np.float32), idx, np.zeros((0, 4), np.float32)
    ph, pw = pictures.shape[1:]
    b = boxes[idx].astype(np.float64)
    bw, bh = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    aspect = bw / np.maximum(bh, 1e-9) * (ph / pw) * frame_aspect  # each box's width / height in display pixels
    share = BAND_HEIGHTS / np.maximum(aspect, 1e-9)  # of the box's width
    wide = (aspect >= BAND_MIN_ASPECT) & (bh >= 1.0)  # a box without height has no band
    cx = 0.5 * (b[:, 0] + b[:, 2])
    band = np.stack([cx - 0.5 * share * bw, b[:, 1], cx + 0.5 * share * bw, b[:, 3]], axis=1)[wide]
    wins = _crop_resize(pictures[idx[wide]], band, 16, Image.Resampling.BOX).astype(np.float32)
    geom = np.stack([np.full(band.shape[0], 0.5), np.full(band.shape[0], 0.5), 0.5 * share[wide], np.full(band.shape[0], 0.5)], axis=1)
    return wins, idx[wide], geom.astype(np.float32)


def fingerprint_file(
    path: str | Path, opts: FingerprintOptions | None = None, progress: Callable[[], None] | None = None,
    media: Media | None = None,
) -> Fingerprint:
    """Decode a video file once and fingerprint it; ``media``: the file already opened (its stored probe)."""
    opts = opts or FingerprintOptions()
    return fingerprint_samples(decode_samples(Path(path), opts, progress, media), opts)
