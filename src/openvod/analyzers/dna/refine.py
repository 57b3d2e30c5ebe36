"""Refinement of a transform hypothesis on the thumbnails: the geometry that maximises the mean region
similarity of matched frame pairs, coarse to fine (``refine``), and the DCT detail each side of a pair
still has under a transform (``detail``, ``detail_x``). The hypotheses come from code hits
(``align.hit_transforms``); the region descriptors of the refined transform are ``align.region_descriptors``."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from openvod.analyzers.dna import features as ft
from openvod.analyzers.dna.align import DESC_SIZE, AlignParams, Transform, admissible
from openvod.analyzers.dna.fingerprint import Fingerprint

COARSE = (12, 6, 0.5, 0)  # region samples, DCT size, weight power (, across): a forgiving similarity for the first search


def detail(t: Transform, p: AlignParams) -> int:
    """DCT frequencies per axis the sharp similarity compares under ``t``.

    A copy shrunk by ``s`` spans ``s`` of the query thumbnail's pixels: its frequencies above
    ``s x DESC_K`` are gone (blurred by the shrinking and the thumbnail filter) while the library
    picture keeps them, and the sharp similarity weights them most. Below ``detail_below`` both
    sides are compared on the frequencies the small picture still has (at least 6, the coarse level).
    """
    s = min(t.sx, t.sy) if t.aspect == 1.0 else t.sy
    return ft.DESC_K if s >= p.detail_below else max(COARSE[1], min(ft.DESC_K, round(ft.DESC_K * s)))


def detail_x(t: Transform) -> int:
    """Frequencies across under a band or half-width transform (0: as down): the side squeezed across
    (the query's half of a split screen, or the library's narrow band a 9:16 crop keeps) has detail up to
    ``min(sx, 1 / sx)`` of the other's."""
    if t.aspect == 1.0:
        return 0
    return max(COARSE[1], min(ft.DESC_K, round(ft.DESC_K * min(t.sx, 1.0 / t.sx))))


def _fine(t: Transform) -> tuple[int, int, float, int]:
    return (DESC_SIZE, t.detail or ft.DESC_K, ft.DESC_POW, t.detail_x)


def _scores(q: Fingerprint, r: Fingerprint, cands: list[Transform], qf: np.ndarray, rf: np.ndarray, p: AlignParams,
            level: tuple[int, int, float, int] | None = None) -> np.ndarray:
    """Mean region similarity of the frame pairs (qf, rf) under each candidate transform (one batch)."""
    scores = np.full(len(cands), -1.0)
    qboxes, rboxes, owners = [], [], []
    for k, t in enumerate(cands):
        ov = admissible(t, p)
        if ov is None:
            continue
        qb, rb = ov
        qboxes.append(qb)
        rboxes.append(rb)
        owners.append(k)
    if not owners:
        return scores
    m = qf.size
    flip = cands[owners[0]].flip  # one refinement never changes the flip (nor the detail)
    size, k, power, kx = level or _fine(cands[owners[0]])

    def descriptors(imgs: np.ndarray, boxes: list[np.ndarray], rows: np.ndarray, flipped: bool) -> np.ndarray:
        # Neighbouring candidates often share one side's box (the whole library picture under a
        # picture-in-picture or crop hypothesis): each distinct box is read once.
        index: dict[tuple[float, ...], int] = {}
        which = np.array([index.setdefault(tuple(np.asarray(b, np.float64).tolist()), len(index)) for b in boxes])
        uniq = np.array(list(index), np.float64)
        d = ft.frame_descriptors(ft.sample_boxes(imgs, np.repeat(uniq, m, axis=0), size, flip=flipped, rows=np.tile(rows, len(uniq))),
                                 k, power, kx)
        return d.reshape(len(uniq), m, -1)[which]

    dq = descriptors(q.smooth_thumbs, qboxes, qf, flip)
    dr = descriptors(r.smooth_thumbs, rboxes, rf, False)
    per = np.sum(dq * dr, axis=2)
    scores[owners] = per.mean(axis=1)
    return scores


def _neighbours(t: Transform, step: float) -> list[Transform]:
    out = []
    for name in ("tx", "ty", "sx", "sy", "s"):
        for sign in (-1.0, 1.0):
            c = replace(t, score=0.0)
            if name == "s":  # uniform zoom about the overlap centre
                f = 1.0 + sign * step
                cx, cy = c.tx + c.sx / 2, c.ty + c.sy / 2
                c.sx, c.sy = c.sx * f, c.sy * f
                c.tx, c.ty = cx - c.sx / 2, cy - c.sy / 2
            elif name in ("sx", "sy"):
                setattr(c, name, getattr(c, name) * (1.0 + sign * step))
            else:
                setattr(c, name, getattr(c, name) + sign * step * (c.sx if name == "tx" else c.sy))
            out.append(c)
    return out


def _zoomed(t: Transform, f: float) -> Transform:
    cx, cy = t.tx + t.sx / 2, t.ty + t.sy / 2
    return replace(t, sx=t.sx * f, sy=t.sy * f, tx=cx - t.sx * f / 2, ty=cy - t.sy * f / 2, score=0.0)


def _descend(q: Fingerprint, r: Fingerprint, best: Transform, qf: np.ndarray, rf: np.ndarray, p: AlignParams,
             steps: tuple[float, ...], level: tuple[int, int, float, int] | None) -> Transform:
    for step in steps:
        for _ in range(6):
            cands = _neighbours(best, step)
            sc = _scores(q, r, cands, qf, rf, p, level)
            k = int(np.argmax(sc))
            if sc[k] <= best.score + 1e-4:
                break
            best = cands[k]
            best.score = float(sc[k])
    return best


def refine(q: Fingerprint, r: Fingerprint, t: Transform, pairs: np.ndarray, p: AlignParams) -> Transform:
    """Geometry that maximises the mean similarity of matched frame pairs: coarse to fine.

    A hypothesis close to the identity is tried as the identity first (most copies keep the
    geometry). Otherwise a few zooms of the hypothesis are tried with a forgiving, low-frequency
    similarity, the best is descended on, and the result is polished with the sharp similarity.
    """
    qf, rf = pairs[:, 0], pairs[:, 1]
    start = Transform(t.flip, t.sx, t.sy, t.tx, t.ty, t.support, aspect=t.aspect)
    if t.aspect == 1.0 and abs(math.log(t.sx)) < 0.08 and abs(t.tx) < 0.06 and abs(t.ty) < 0.06:
        ident = Transform(t.flip, 1.0, 1.0, 0.0, 0.0, t.support)
        ident.score = float(_scores(q, r, [ident], qf, rf, p)[0])
        if ident.score >= 0.85:
            return ident
    cands = [start] + [_zoomed(start, f) for f in (0.82, 0.9, 1.1, 1.22)]
    if t.aspect == 1.0 and abs(math.log(t.sx)) < 0.15:
        cands.append(Transform(t.flip, 1.0, 1.0, 0.0, 0.0, t.support))
    sc = _scores(q, r, cands, qf, rf, p, COARSE)
    k = int(np.argmax(sc))
    best = cands[k]
    best.score = float(sc[k])
    if best.score < p.pip_search_below and t.aspect == 1.0:
        # Few, scattered code hits (a small picture-in-picture over busy footage) give a poor
        # geometry but still the right moments: look for the picture on a grid of places and sizes.
        grid = [Transform(t.flip, sz, sz, float(x), float(y), t.support)
                for sz in (0.5, 0.58, 0.67, 0.77, 0.88)
                for y in np.linspace(0.0, 1.0 - sz, 5) for x in np.linspace(0.0, 1.0 - sz, 5)]
        gs = _scores(q, r, grid, qf, rf, p, COARSE)
        g = int(np.argmax(gs))
        if gs[g] > best.score:
            best = grid[g]
            best.score = float(gs[g])
    if best.score < p.refine_floor:
        return best  # nothing like a copy here: do not spend a search on it
    best = _descend(q, r, best, qf, rf, p, (0.06, 0.03), COARSE)
    best.detail, best.detail_x = detail(best, p), detail_x(best)  # fixed from here on: scores stay comparable
    best.score = float(_scores(q, r, [best], qf, rf, p)[0])
    return _descend(q, r, best, qf, rf, p, (0.02, 0.007), None)

