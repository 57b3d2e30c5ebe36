"""Pairwise verification: the geometric relation between two videos, then every copied segment.

A pair arrives with code hits (a window of the query that looks like a window of the library video).
Each hit implies a geometric transform ``q = s * r + t`` (per axis, in active-box units, after an
optional horizontal flip of the query) because code windows scale and move with the content. The
best-supported transforms are refined on the thumbnails, then every sample of both videos is
described *on the overlapping region only* (so a crop, a letterbox or a picture-in-picture frame
compares like for like), giving a frame-similarity matrix. Copied segments are straight lines in
that matrix (slope = speed ratio): they are found by Hough voting over (slope, offset), followed
along the line with gap tolerance, bounded, scored, and removed before the next is looked for, so
one pair can yield several segments in any order.

This module holds the geometry hypotheses and the region descriptors; their refinement is in
``refine.py``, the temporal part in ``temporal.py`` (lines in the matrix) and ``segments.py`` (a pair's
segments).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from openvod.analyzers.dna import features as ft
from openvod.analyzers.dna.fingerprint import Fingerprint

DESC_SIZE = 24


@dataclass(frozen=True)
class AlignParams:
    """Thresholds of pairwise verification (all documented in docs/dna.md)."""

    hit_similarity: float = 0.55  # frame pairs at least this similar vote for a line
    walk_similarity: float = 0.45  # along a line, a frame this similar counts as copied
    best_match_margin: float = 0.1  # ... if no other moment of the reference matches it better by more than this
    segment_similarity: float = 0.6  # a segment's mean frame similarity must reach this
    min_segment_s: float = 2.5
    max_gap_s: float = 2.0
    min_slope: float = 0.45
    max_slope: float = 2.2
    unit_speed_snap: float = 0.04  # a line this close to speed 1 takes speed 1 if that explains the copy as well
    max_segments: int = 32
    min_query_area: float = 0.2  # the shared region covers at least this share of the query picture (PiP at 25 %)
    min_reference_area: float = 0.3  # ... and of the library picture
    min_cover: float = 0.6  # ... and of one of them at least this share: a copy is shrunk into the query or cropped from the library
    min_scale: float = 0.45  # picture-in-picture down to 0.5 of the frame (25 % of its area), with margin
    max_scale: float = 1.8  # crops down to ~0.58 of the frame, with margin
    max_transforms: int = 3
    pip_search_below: float = 0.75  # a coarse geometry score below this also tries a grid of picture-in-picture boxes
    refine_floor: float = 0.5  # hypotheses whose best coarse similarity is below this are dropped unrefined
    flat_std: float = 4.0  # a shared region with less luma variation is uninformative (bridged, never matched)
    flat_relative: float = 0.5  # ... or less than this x its typical variation over the video (features.flat_mask)
    detail_below: float = 0.8  # a copy shrunk below this scale is compared on fewer frequencies (see ``detail``)


@dataclass
class Transform:
    """``q = s * r + t`` per axis, in active-box units; ``flip``: the query is mirrored first."""

    flip: bool = False
    sx: float = 1.0
    sy: float = 1.0
    tx: float = 0.0
    ty: float = 0.0
    support: float = 0.0
    score: float = 0.0
    detail: int = 0  # DCT frequencies per axis of the sharp similarity (0: ``features.DESC_K``); see ``detail``
    detail_x: int = 0  # ... across, when it differs (0: ``detail``)
    aspect: float = 1.0  # sx / sy of the hypothesis: 1, or a band or half of the picture (``ASPECTS``); kept within ASPECT_SLACK

    def overlap(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The shared region as boxes (x, y, w, h) in query and in reference units, or None."""
        qx0, qy0 = max(0.0, self.tx), max(0.0, self.ty)
        qx1, qy1 = min(1.0, self.tx + self.sx), min(1.0, self.ty + self.sy)
        if qx1 - qx0 <= 0.02 or qy1 - qy0 <= 0.02:
            return None
        q = np.array([qx0, qy0, qx1 - qx0, qy1 - qy0])
        r = np.array([(qx0 - self.tx) / self.sx, (qy0 - self.ty) / self.sy, q[2] / self.sx, q[3] / self.sy])
        return q, r


@dataclass
class Segment:
    """One copied segment: query [q0, q1) matches reference [r0, r1)."""

    q0: float
    q1: float
    r0: float
    r1: float
    similarity: float
    slope: float
    evidence: list[tuple[float, float, float]] = field(default_factory=list)  # (q time, r time, similarity)
    transform: Transform | None = None
    reversed: bool = False  # the query plays the reference backwards: q0 shows r1, q1 shows r0
    motion: float = -1.0  # evidence measures (search.segment_evidence); -1: not measured
    correlation: float = -1.0
    symmetry: float = -1.0  # share of the segment's library samples whose best query match is on the line

    @property
    def speed(self) -> float:
        """Reference seconds per query second; negative for reversed playback."""
        return -self.slope if self.reversed else self.slope

    @property
    def duration(self) -> float:
        return self.q1 - self.q0


# ----------------------------------------------------------------------------- geometry
def hit_transforms(
    q: Fingerprint, r: Fingerprint, hits: np.ndarray, p: AlignParams | None = None
) -> list[tuple[Transform, np.ndarray]]:
    """Transform hypotheses from code hits ``[h, 3]`` (query code, flipped 0/1, reference code).

    Returns (transform, indices of the supporting hits), best supported first. Hits implying a
    zoom outside [min_scale, max_scale] are ignored: such copies are out of scope, and allowing
    them lets a tiny, smooth corner of one picture "match" any smooth picture.
    """
    p = p or AlignParams()
    if hits.shape[0] == 0:
        return []
    qi, fl, ri = hits[:, 0], hits[:, 1].astype(bool), hits[:, 2]
    qg, rg = q.code_geom[qi].astype(np.float64), r.code_geom[ri].astype(np.float64)
    qx = np.where(fl, 1.0 - qg[:, 0], qg[:, 0])
    s = qg[:, 2] / np.maximum(rg[:, 2], 1e-6)  # across
    sy = qg[:, 3] / np.maximum(rg[:, 3], 1e-6)
    tx = qx - s * rg[:, 0]
    ty = qg[:, 1] - sy * rg[:, 1]
    ls, lsy = np.log(s), np.log(sy)
    qf = q.code_frame[qi]
    out: list[tuple[Transform, np.ndarray]] = []
    aspect = aspect_family(s / sy)
    alive = (sy >= p.min_scale * 0.95) & (sy <= p.max_scale * 1.05) & (aspect > 0)
    for _ in range(3):
        idx = np.nonzero(alive)[0]
        if idx.size == 0:
            break
        same = (
            (fl[idx][:, None] == fl[idx][None, :])
            & (np.abs(ls[idx][:, None] - ls[idx][None, :]) < 0.15)
            & (np.abs(lsy[idx][:, None] - lsy[idx][None, :]) < 0.15)
            & (np.abs(tx[idx][:, None] - tx[idx][None, :]) < 0.1)
            & (np.abs(ty[idx][:, None] - ty[idx][None, :]) < 0.1)
        )
        # Support = distinct query samples agreeing (many codes of one frame count once).
        _, fcol = np.unique(qf[idx], return_inverse=True)
        onehot = np.zeros((idx.size, int(fcol.max()) + 1), np.float32)
        onehot[np.arange(idx.size), fcol] = 1.0
        support = ((same.astype(np.float32) @ onehot) > 0).sum(axis=1)
        best = int(np.argmax(support))
        members = idx[same[best]]
        members = members[_on_a_line(q.times[qf[members]], r.times[r.code_frame[ri[members]]], qf[members], p)]
        if members.size == 0:
            alive[idx[same[best]]] = False
            continue
        t = Transform(
            flip=bool(fl[idx[best]]),
            sx=float(np.exp(np.median(ls[members]))),
            sy=float(np.exp(np.median(lsy[members]))),
            tx=float(np.median(tx[members])),
            ty=float(np.median(ty[members])),
            support=float(np.unique(qf[members]).size),
            aspect=float(aspect[idx[best]]),
        )
        if t.aspect == 1.0:
            t.sy = t.sx
        out.append((t, members))
        alive[idx[same[best]]] = False
    out.sort(key=lambda x: -x[0].support)
    return out


ASPECTS = ((1.0, 1.0), (1.6, 4.6), (0.42, 0.6))  # sx / sy ranges: same zoom, a vertical band (a 9:16 crop of 16:9
# is 3.16), half the width (a picture squeezed into one side of a split screen); the first value names the family
ASPECT_SLACK = 1.25  # refinement keeps sx / sy within this factor of the hypothesis'


def aspect_family(ratio: np.ndarray) -> np.ndarray:
    """The family of each hit's ``sx / sy`` (its hypothesis' ``Transform.aspect``): 1 for one zoom on both
    axes, the ratio itself in a band or half-width family, 0 for none. Codes of square windows give 1 exactly."""
    r = np.asarray(ratio, np.float64)
    out = np.where(np.abs(np.log(np.maximum(r, 1e-9))) < 1e-3, 1.0, 0.0)
    for lo, hi in ASPECTS[1:]:
        out = np.where((out == 0) & (r >= lo) & (r <= hi), r, out)
    return out


def _on_a_line(tq: np.ndarray, tr: np.ndarray, qframe: np.ndarray, p: AlignParams) -> np.ndarray:
    """Hits that lie on the best-supported line ``tr = a tq + b`` (a in the speed range, 1.5 s bins)."""
    if tq.size <= 1:
        return np.ones(tq.size, bool)
    best, keep = -1, np.ones(tq.size, bool)
    _, fidx = np.unique(qframe, return_inverse=True)
    slopes = np.exp(np.linspace(math.log(p.min_slope), math.log(p.max_slope), 25))
    for a in np.concatenate([slopes, -slopes]):  # negative: reversed playback
        off = tr - a * tq
        for shift in (0.0, 0.75):
            bins = np.floor((off + shift) / 1.5).astype(np.int64)
            bins -= bins.min()
            pairs = np.unique(bins * (fidx.max() + 1) + fidx)  # distinct (bin, query sample)
            counts = np.bincount(pairs // (fidx.max() + 1))
            k = int(np.argmax(counts))
            if counts[k] > best:
                best, keep = int(counts[k]), bins == k
    return keep


def _region_desc(fp: Fingerprint, box: np.ndarray, flip: bool, flat_std: float, k: int,
                 relative: float = 0.0, kx: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Descriptors of one region of every sample, and which samples have structure there."""
    pix = ft.sample_boxes(fp.smooth_thumbs, box[None, :], DESC_SIZE, flip=flip)
    valid = ~ft.flat_mask(pix.reshape(pix.shape[0], -1).std(axis=1), flat_std, relative)
    return ft.frame_descriptors(pix, k, kx=kx), valid


def admissible(t: Transform, p: AlignParams) -> tuple[np.ndarray, np.ndarray] | None:
    """The transform's shared region, if the transform is within the supported range."""
    a = t.aspect
    if not (p.min_scale <= t.sx / a <= p.max_scale and p.min_scale <= t.sy <= p.max_scale):
        return None
    if not (1 / ASPECT_SLACK <= t.sx / (t.sy * a) <= ASPECT_SLACK):  # other aspect changes are not copies we look for
        return None
    ov = t.overlap()
    if ov is None:
        return None
    qb, rb = ov
    q_area, r_area = qb[2] * qb[3], rb[2] * rb[3]
    # A band is narrow. A region that leaves out much of both pictures (``min_cover``) is a picture shifted against
    # another at about the same scale: no edit makes that, but a translating pattern (lavfi sierpinski) matches itself shifted.
    if q_area < p.min_query_area or r_area < p.min_reference_area / max(a, 1.0) or max(q_area, r_area) < p.min_cover:
        return None
    return ov


@dataclass
class RegionDescriptors:
    """Per-sample descriptors of the shared region of both videos; ``*_valid``: the region has structure."""

    q: np.ndarray
    r: np.ndarray
    q_valid: np.ndarray
    r_valid: np.ndarray

    def similarity(self) -> np.ndarray:
        sim = self.q @ self.r.T
        sim[~self.q_valid, :] = 0.0
        sim[:, ~self.r_valid] = 0.0
        return sim


def region_descriptors(q: Fingerprint, r: Fingerprint, t: Transform, p: AlignParams) -> RegionDescriptors | None:
    """Descriptors of every sample of both videos over the transform's shared region."""
    ov = admissible(t, p)
    if ov is None:
        return None
    qb, rb = ov
    k = t.detail or ft.DESC_K
    dq, vq = _region_desc(q, qb, t.flip, p.flat_std, k, p.flat_relative, t.detail_x)
    dr, vr = _region_desc(r, rb, False, p.flat_std, k, p.flat_relative, t.detail_x)
    return RegionDescriptors(dq, dr, vq & ~q.flat, vr & ~r.flat)

