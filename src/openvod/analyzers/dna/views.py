"""Other readings of a query, searched at query time: rotations, picture-in-picture boxes, bands and halves.

Each returns a ``Fingerprint`` that shares the query's samples and thumbnails (so verification runs
on the query itself) but carries other *codes*:

* ``rotated``: the thumbnails read rotated back by 90/180/270 degrees, with whole-picture codes.
* ``pip_view``: whole-picture codes of one box of the query frame, when the query looks like a
  picture over other footage. The library's whole-picture code of a frame is the code of that
  frame's thumbnail; a copy shrunk into a box of the query frame has the same picture inside the
  box. The box is found from the thumbnails alone (``pip_box``): two independent videos change at
  independent moments (their own cuts and motion), so neighbouring pixels on either side of the
  box edge stop changing together, while inside either picture they do. The codes' geometry is
  the box's, in query units, so a hit implies the picture-in-picture transform directly.
* ``band_view`` (a portrait or square query) and ``halves_view`` (a wide one): whole-picture codes of
  windows that are not square in the picture (``window_view``), for copies whose zoom differs across and
  down: a 9:16 crop of a wide video (matched to the library's band codes, ``fingerprint._bands``) and a
  picture squeezed into one half of a split screen (matched to the library's whole-picture codes).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from openvod.analyzers.dna import features as ft
from openvod.analyzers.dna.align import Transform
from openvod.analyzers.dna.fingerprint import BAND_HEIGHTS, BAND_MIN_ASPECT, Fingerprint

ROTATIONS = (90, 180, 270)


def _global_windows(thumbs: np.ndarray) -> np.ndarray:
    """The 16x16 window a whole-picture code hashes: the thumbnail area-averaged (as ``fingerprint._codes``)."""
    t = thumbs.astype(np.float32)
    if t.shape[0] == 0:
        return np.zeros((0, 16, 16), np.float32)
    f = t.shape[-1] // 16
    return t[:, : 16 * f, : 16 * f].reshape(-1, 16, f, 16, f).mean(axis=(2, 4))


def rotated(q: Fingerprint, degrees: int) -> Fingerprint:
    """The query read rotated back by ``degrees`` (clockwise), with global codes only.

    Thumbnails are squashed to a square, so the thumbnail of a rotated video is the rotated
    thumbnail of the original: a copy rotated by 90/180/270 degrees (counter-clockwise) reads like
    the original through this view. Local codes need the working pictures (not kept), so only the
    whole-picture codes are searched; with the mirrored twins this covers all eight flips and
    rotations (a vertical flip is a mirrored copy rotated by 180)."""
    k = (degrees // 90) % 4
    thumbs = np.ascontiguousarray(np.rot90(q.thumbs, k=-k, axes=(1, 2)))
    every = np.nonzero(~q.flat)[0]
    codes, codes_flip = ft.hash_windows(_global_windows(thumbs[every]))
    w, h = (q.height, q.width) if k % 2 else (q.width, q.height)
    return Fingerprint(times=q.times, thumbs=thumbs, flat=q.flat, code_frame=every.astype(np.int32),
                       code_geom=np.tile(np.array([[0.5, 0.5, 0.5]], np.float32), (every.size, 1)),
                       codes=codes, codes_flip=codes_flip, duration=q.duration, width=w, height=h, box=(0.0, 0.0, 1.0, 1.0),
                       options_key=q.options_key, info={**q.info, "rotation": 90 * k})


# ----------------------------------------------------------------------------- picture in picture
PIP_MIN_SIDE = 0.44  # box side (share of the frame side): picture-in-picture down to ~20 % of the area
PIP_MAX_SIDE = 0.82  # larger boxes are crops or padding, found by the other codes
PIP_MAX_ASPECT_PX = 2  # |width - height| in thumbnail pixels: a copy keeps its shape
PIP_MIN_SCORE = 0.3  # edge strength of the box over the strength inside and outside it
PIP_MIN_CHANGES = 6  # sample-to-sample changes needed to tell two pictures apart
PIP_CONTRAST = 1.0  # default weight of the difference between the decorrelation inside and outside a box (see pip_box)


def _neighbour_decorrelation(thumbs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1 - correlation over time of the changes of horizontally (``[S, S-1]``) and vertically
    (``[S-1, S]``) neighbouring pixels. Near 0 inside one picture, near 1 between two videos."""
    d = np.diff(thumbs.astype(np.float32), axis=0)
    d -= d.mean(axis=0, keepdims=True)
    e = np.sqrt((d * d).sum(axis=0)) + 1e-3

    def dec(a: np.ndarray, b: np.ndarray, ea: np.ndarray, eb: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 - (a * b).sum(axis=0) / (ea * eb), np.float32)

    return dec(d[:, :, :-1], d[:, :, 1:], e[:, :-1], e[:, 1:]), dec(d[:, :-1, :], d[:, 1:, :], e[:-1, :], e[1:, :])


class _BoxGrid(NamedTuple):
    x0: np.ndarray
    y0: np.ndarray
    w: np.ndarray
    h: np.ndarray
    starts: np.ndarray  # first entry of each size (width, height)
    sizes: np.ndarray  # entries of each size


@lru_cache(maxsize=8)
def _box_grid(s: int) -> _BoxGrid:
    """Every candidate box of an ``s`` x ``s`` thumbnail: sizes by width then height, each size's
    positions row-major (top-left corner y, then x)."""
    lo, hi = int(np.ceil(PIP_MIN_SIDE * s)), int(np.floor(PIP_MAX_SIDE * s))
    parts = []
    for w in range(lo, hi + 1):
        for h in range(max(lo, w - PIP_MAX_ASPECT_PX), min(hi, w + PIP_MAX_ASPECT_PX) + 1):
            yy, xx = np.meshgrid(np.arange(0, s - h + 1), np.arange(0, s - w + 1), indexing="ij")
            parts.append((xx.ravel(), yy.ravel(), np.full(xx.size, w), np.full(xx.size, h)))
    x0, y0, w_, h_ = (np.concatenate([p[i] for p in parts]).astype(np.int64) for i in range(4))
    sizes = np.array([p[0].size for p in parts], np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return _BoxGrid(x0, y0, w_, h_, starts, sizes)


def pip_box(thumbs: np.ndarray, valid: np.ndarray, contrast: float = PIP_CONTRAST) -> tuple[float, float, float, float, float] | None:
    """The box (x, y, w, h as fractions of the thumbnail, and its score) whose edges separate two
    independently changing pictures, or None when no box stands out.

    Score of a box: the mean decorrelation along its edges (an edge on the frame border does not
    count; at least two edges must be inside the frame) minus the larger of the mean decorrelation
    strictly inside and outside it, plus ``contrast`` times their difference. The edges alone miss a
    copy over busy footage (automata, foliage, a fast pan: its neighbouring pixels decorrelate about as
    much as the two pictures across the edge), and a busy copy over calm footage; the two pictures
    still differ in how much their neighbouring pixels change together, over the whole box. Total on any input.
    """
    t = np.asarray(thumbs)
    if t.ndim != 3 or t.shape[1] != t.shape[2] or t.shape[1] < 8:
        return None
    keep = np.nonzero(np.asarray(valid, bool))[0]
    if keep.size < PIP_MIN_CHANGES + 1:
        return None
    s = t.shape[1]
    hx, vy = _neighbour_decorrelation(t[keep])  # hx[y, x]: between (x, y) and (x+1, y); vy[y, x]: (x, y)-(x, y+1)
    # Prefix sums: column sums of hx along y, row sums of vy along x, and 2-D sums for the areas.
    cx = np.concatenate([np.zeros((1, s - 1), np.float64), np.cumsum(hx, axis=0)])  # [s+1, s-1]
    ry = np.concatenate([np.zeros((s - 1, 1), np.float64), np.cumsum(vy, axis=1)], axis=1)  # [s-1, s+1]
    both = np.zeros((s, s), np.float64)
    both[:, :-1] += hx
    both[:-1, :] += vy
    area = np.zeros((s + 1, s + 1), np.float64)
    area[1:, 1:] = np.cumsum(np.cumsum(both, axis=0), axis=1)
    total_both = float(area[-1, -1])
    g = _box_grid(s)
    x0, y0, w, h = g.x0, g.y0, g.w, g.h
    x1, y1 = x0 + w, y0 + h
    edges = np.zeros(x0.size)
    count = np.zeros(x0.size)
    xl, xr = np.clip(x0 - 1, 0, s - 2), np.clip(x1 - 1, 0, s - 2)
    yt, yb = np.clip(y0 - 1, 0, s - 2), np.clip(y1 - 1, 0, s - 2)
    for inside, val in (
        (x0 > 0, (cx[y1, xl] - cx[y0, xl]) / h),  # left edge: between columns x0-1 and x0
        (x1 < s, (cx[y1, xr] - cx[y0, xr]) / h),  # right edge
        (y0 > 0, (ry[yt, x1] - ry[yt, x0]) / w),  # top edge
        (y1 < s, (ry[yb, x1] - ry[yb, x0]) / w),  # bottom edge
    ):
        edges += np.where(inside, val, 0.0)
        count += inside
    inner = (area[y1 - 1, x1 - 1] - area[y0, x1 - 1] - area[y1 - 1, x0] + area[y0, x0]) / np.maximum(2 * (w - 1) * (h - 1), 1)
    box_all = area[y1, x1] - area[y0, x1] - area[y1, x0] + area[y0, x0]
    outer = (total_both - box_all) / np.maximum(2 * (s * s - w * h), 1)
    score = np.where(count >= 2, edges / np.maximum(count, 1) - np.maximum(inner, outer) + contrast * np.abs(inner - outer), -np.inf)
    # Sizes in order (width, then height), each size's first best position (row-major); a later size
    # replaces the best only when it scores more than 1e-9 higher.
    top = np.maximum.reduceat(score, g.starts)
    first = np.flatnonzero(score == np.repeat(top, g.sizes))
    first = first[np.searchsorted(first, g.starts)]
    best: tuple[float, float, float, float, float] | None = None
    for k, v in zip(first.tolist(), top.tolist(), strict=True):
        if best is None or v > best[4] + 1e-9:
            best = (int(x0[k]) / s, int(y0[k]) / s, int(w[k]) / s, int(h[k]) / s, v)
    if best is None or not best[4] >= PIP_MIN_SCORE:
        return None
    return best


PIP_WINDOW = 32  # samples (8 s at 4/s): a copy inside unrelated full-frame footage is a box only while it lasts
PIP_SAME_BOX = 0.6  # boxes overlapping more than this (intersection over union) are one


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / max(a[2] * a[3] + b[2] * b[3] - inter, 1e-9)


Region = tuple[tuple[float, float, float, float, float], int, int]  # (box, first sample, end sample)


def pip_regions(thumbs: np.ndarray, valid: np.ndarray, most: int = 1, contrast: float = PIP_CONTRAST) -> list[Region]:
    """Up to ``most`` distinct picture-in-picture boxes, best first, each with the samples it is searched
    on: the whole video's box (``pip_box``) on every sample, then, when ``most`` > 1, the boxes of windows
    of ``PIP_WINDOW`` samples (half overlapping) on the windows that found them, widened by half a window
    on either side: a copy embedded between full-frame footage is a box for a part of the video only, and
    over the whole video its edges are diluted by the footage around it. Total on any input."""
    t, v = np.asarray(thumbs), np.asarray(valid, bool)
    n = t.shape[0] if t.ndim == 3 else 0
    first = pip_box(t, v, contrast)
    found = [(first, 0, n)] if first is not None else []
    if most > 1 and n > PIP_WINDOW * 3 // 2:
        for a in range(0, n - PIP_WINDOW // 2, PIP_WINDOW // 2):
            b = pip_box(t[a : a + PIP_WINDOW], v[a : a + PIP_WINDOW], contrast)
            if b is not None:
                found.append((b, max(0, a - PIP_WINDOW // 2), min(n, a + PIP_WINDOW + PIP_WINDOW // 2)))
    out: list[Region] = []
    for b, lo, hi in sorted(found, key=lambda f: -f[0][4]) if most > 1 else found:
        same = [k for k, o in enumerate(out) if _iou(b, o[0]) > PIP_SAME_BOX]
        if not same:
            out.append((b, lo, hi))
        elif same[0] < most:  # the same box seen in another window: searched there too
            o = out[same[0]]
            out[same[0]] = (o[0], min(o[1], lo), max(o[2], hi))
    return out[:most]


def pip_boxes(thumbs: np.ndarray, valid: np.ndarray, most: int = 1,
              contrast: float = PIP_CONTRAST) -> list[tuple[float, float, float, float, float]]:
    """The boxes of ``pip_regions``."""
    return [r[0] for r in pip_regions(thumbs, valid, most, contrast)]


PIP_MATCH_SCALE = 0.9  # a match found through a box must be a copy shrunk into it: smaller than this ...
PIP_MATCH_IOU = 0.25  # ... and overlapping the box at least this much (intersection over union)


Boxes = list[tuple[float, float, float, float]]


def window_view(q: Fingerprint, groups: list[tuple[np.ndarray, Boxes]], info: dict[str, Any]) -> Fingerprint:
    """The query with the whole-picture codes of each box of a group (x, y, w, h in query units) on the
    group's samples, read sharp from the thumbnails (as ``pip_view``); each code's geometry is its box's."""
    raw = np.ascontiguousarray(q.thumbs, np.float32)
    s = q.thumbs.shape[-1]
    rows = np.concatenate([np.tile(r, len(b)) for r, b in groups] or [np.zeros(0, np.int64)]).astype(np.int64)
    per = [np.repeat(np.array(b, np.float64).reshape(-1, 4), r.size, axis=0) for r, b in groups]
    boxes = np.concatenate(per or [np.zeros((0, 4))])
    c, cf = ft.hash_windows(_global_windows(ft.sample_boxes(raw, boxes, s, rows=rows) if rows.size else np.zeros((0, s, s))))
    if info.get("band_view"):  # searched among the library's band codes only
        c, cf = c ^ ft.BAND_MASK, cf ^ ft.BAND_MASK
    geom = np.stack([boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2, boxes[:, 2] / 2, boxes[:, 3] / 2], axis=1).astype(np.float32)
    order = np.argsort(rows, kind="stable")
    return Fingerprint(times=q.times, thumbs=q.thumbs, flat=q.flat, code_frame=rows[order].astype(np.int32), code_geom=geom[order],
                       codes=c[order], codes_flip=cf[order], duration=q.duration, width=q.width, height=q.height, box=q.box,
                       options_key=q.options_key, info={**q.info, **info})


BAND_VIEW_MAX_ASPECT = 1.0  # queries at most this wide (width / height) are read as crops of a wide video
BAND_SHIFT = 5  # ... at the middle and up to this many thumbnail pixels either side (a crop a little off centre)


def _by_aspect(q: Fingerprint) -> list[tuple[float, np.ndarray]]:
    """The informative samples grouped by the width / height (display pixels) of their box: the video's, or
    a stretch's (``Fingerprint.boxes_at``; a 9:16 crop pillarboxed between wide footage is a portrait
    picture while it lasts)."""
    every = np.nonzero(~q.flat)[0]
    b = q.boxes_at(q.times[every])
    aspect = b[:, 2] * q.width / np.maximum(b[:, 3] * q.height, 1e-9)
    return [(float(a), every[aspect == a]) for a in np.unique(aspect)]


def band_view(q: Fingerprint) -> Fingerprint | None:
    """The samples of a portrait or square picture read as a crop of a wide video at full height: the band
    of it that is the library's middle band (``BAND_HEIGHTS`` of the height wide), at several offsets."""
    s = q.thumbs.shape[-1]
    groups = [(rows, [(0.5 - share / 2 + j / s, 0.0, share, 1.0) for j in range(-BAND_SHIFT, BAND_SHIFT + 1)])
              for a, rows in _by_aspect(q) if a <= BAND_VIEW_MAX_ASPECT and (share := BAND_HEIGHTS / max(a, 1e-9)) <= 0.9]
    return window_view(q, groups, {"band_view": True}) if groups else None


def halves_view(q: Fingerprint) -> Fingerprint | None:
    """The samples of a wide picture read as a split screen: each half's whole picture (a video squeezed to
    half the width)."""
    rows = [r for a, r in _by_aspect(q) if a >= BAND_MIN_ASPECT]
    if not rows:
        return None
    return window_view(q, [(np.concatenate(rows), [(0.0, 0.0, 0.5, 1.0), (0.5, 0.0, 0.5, 1.0)])], {"halves_view": True})


def view_fits(info: dict[str, Any], t: Transform) -> bool:
    """Whether a match found through a query view (``info``: the view's) is what the view stands for.

    A picture-in-picture view searches one box of the query: a match it leads to is a copy shrunk into
    that box. Verification refines the geometry freely, and a hit of look-alike footage can end on a
    zoomed or shifted reading (two zooms into one fractal) that the box never suggested: not its copy.
    A band or halves view leads to matches of its own aspect family (``align.ASPECTS``) only.
    Plain and rotated readings fit any transform."""
    if info.get("band_view"):
        return t.aspect > 1.0
    if info.get("halves_view"):
        return t.aspect < 1.0
    box = info.get("pip_box")
    if box is None:
        return True
    return max(t.sx, t.sy) < PIP_MATCH_SCALE and _iou((t.tx, t.ty, t.sx, t.sy), tuple(box)) >= PIP_MATCH_IOU


def pip_view(q: Fingerprint, box: tuple[float, float, float, float, float] | None = None, jitter: int = 0,
             samples: tuple[int, int] | None = None) -> Fingerprint | None:
    """The query with the whole-picture codes of a picture-in-picture box (default: its ``pip_box``, if any),
    on the samples ``samples`` (first, end; default: all).

    ``jitter`` > 0: also the codes of the box moved by up to that many thumbnail pixels and one pixel
    smaller. The box is found to the pixel at best and a whole-picture code of a copy a quarter of the
    frame in size hangs on every pixel of it (a screen recording's text lines are a pixel or two tall).
    A code read again at the same sample (smooth content reads the same a pixel away) is kept once.
    """
    box = box if box is not None else pip_box(q.thumbs, ~q.flat)
    if box is None:
        return None
    x, y, w, h, score = box
    every = np.nonzero(~q.flat)[0]
    if samples is not None:
        every = every[(every >= samples[0]) & (every < samples[1])]
    s = q.thumbs.shape[-1]
    j = sorted(range(-jitter, jitter + 1), key=abs)  # the box as found first: its codes are the ones kept
    boxes = [(x + dx / s, y + dy / s, w - dw / s, h - dw / s) for dw in (0, 1)[: 1 + bool(jitter)] for dy in j for dx in j]
    # Read from the thumbnails as they are: a box of half the side holds 16 thumbnail pixels, each the
    # average of what a library thumbnail pixel averages over, so a 16-pixel read matches the library's
    # whole-picture window as it is; blurring first (``smooth_thumbs``) loses the detail the code's
    # highest frequencies carry (PiP harness seed A: 19 -> 21 boxes with 4+ hits of their copy, mean hits
    # 10 -> 15). The box as found is read blurred too: text a pixel tall aliases in a sharp read (a
    # screen recording's copy got fewer hits and its start was lost). Reading every other sample, or
    # without the one-pixel-smaller boxes, lost copies on seed A (0.84 -> 0.81 / 0.76).
    raw = np.ascontiguousarray(q.thumbs, np.float32)
    n = every.size
    # Every sharp read in one batch (box-major), then the blurred read of the box as found.
    sharp = ft.sample_boxes(raw, np.repeat(np.array(boxes, np.float64), n, axis=0), s, rows=np.tile(every, len(boxes)))
    blurred = ft.sample_boxes(q.smooth_thumbs, np.array([boxes[0]]), s, rows=every)
    c, cf = ft.hash_windows(_global_windows(np.concatenate([sharp, blurred])))
    fr = np.tile(every, len(boxes) + 1)
    geoms = [np.tile(np.array([[b[0] + 0.5 * b[2], b[1] + 0.5 * b[3], 0.25 * (b[2] + b[3])]], np.float32), (n, 1))
             for b in [*boxes, boxes[0]]]
    _, first = np.unique(np.stack([fr.astype(np.uint64), ft.as_u64(c), ft.as_u64(cf)], axis=1), axis=0, return_index=True)
    keep = np.sort(first)
    order = keep[np.argsort(fr[keep], kind="stable")]
    return Fingerprint(times=q.times, thumbs=q.thumbs, flat=q.flat, code_frame=fr[order].astype(np.int32),
                       code_geom=np.concatenate(geoms)[order], codes=c[order], codes_flip=cf[order], duration=q.duration,
                       width=q.width, height=q.height, box=q.box, options_key=q.options_key,
                       info={**q.info, "pip_box": [x, y, w, h], "pip_score": score})


def query_views(q: Fingerprint, boxes: int, jitter: int, contrast: float = PIP_CONTRAST) -> list[tuple[Fingerprint, int]]:
    """Other readings of the query searched after the plain one: (view, rotation in degrees): the three
    rotations, up to ``boxes`` picture-in-picture boxes (``pip_regions``, ``pip_view``), then the band or
    the halves."""
    out = [(rotated(q, deg), deg) for deg in ROTATIONS]
    pips = (pip_view(q, box, jitter, (lo, hi)) for box, lo, hi in pip_regions(q.thumbs, ~q.flat, boxes, contrast))
    return out + [(v, 0) for v in [*pips, band_view(q), halves_view(q)] if v is not None]
