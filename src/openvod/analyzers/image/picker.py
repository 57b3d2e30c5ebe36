"""Pick the moments of a video that make the best covers: decode once, cut into shots, score, pick.

1. One decode pass (``samples.iter_samples``, on the media pipeline) gives samples at ``fps``; each gets the cheap metrics,
   a shot signature and a dHash. Per time bucket only the best ``keep_per_bucket`` usable samples
   keep their pixels, so memory stays bounded on long videos.
2. Shot detection marks cuts and gradual transitions (``shots``); samples inside a transition are
   rejected.
3. Per shot the best few retained samples become candidates; only they get the dear measures
   (noise, text coverage, faces) and a full assessment (``scoring``).
4. Picks are taken best score first, skipping rejected frames and near-duplicates of earlier picks
   (``dedup``) and, for GIFs, moments closer than ``min_separation_s``. Between near-duplicates (the
   same content) a clearly cleaner frame (less noise, blocking, bad exposure, blur:
   ``scoring.degradation``) always ranks first, so a degraded copy is never picked over its clean
   original.
5. A GIF job (``avoid_count`` > 0) first works out the moments a PNG job would pick and takes its
   highlights elsewhere: cover and GIF show different moments unless the video has only one.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from openvod.analyzers.image import faces as faces_mod
from openvod.analyzers.image import scoring
from openvod.analyzers.image.dedup import dhash, near_duplicate, same_scene
from openvod.analyzers.image.metrics import measure
from openvod.analyzers.image.records import Analysis, AnalysisOptions, Candidate, NoUsableFrame, SampleRecord
from openvod.analyzers.image.samples import iter_samples
from openvod.analyzers.image.shots import Shot, ShotDetector, ShotResult, signature
from openvod.analyzers.image.text import text_coverage
from openvod.pipeline import DecodeStats, Media, open_media

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None  # type: ignore[assignment]  # optional: the analyzer reports itself unavailable


@dataclass(order=True)
class _Kept:
    quality: float
    index: int
    grey: np.ndarray = field(compare=False)


class _Throttle:
    def __init__(self, fn: Callable[[], None] | None, every_s: float = 5.0):
        self.fn, self.every_s, self.last = fn, every_s, time.monotonic()

    def __call__(self, force: bool = False) -> None:
        if self.fn and (force or time.monotonic() - self.last >= self.every_s):
            self.last = time.monotonic()
            self.fn()


def analyze(
    path: str | Path | Media,
    count: int,
    options: AnalysisOptions | None = None,
    *,
    min_separation_s: float = 0.0,
    heartbeat: Callable[[], None] | None = None,
    avoid_count: int = 0,
) -> Analysis:
    """Analyse a video and pick up to ``count`` distinct best moments (best first).

    ``avoid_count``: first pick that many cover moments (as a PNG job would) and pick away from them
    (same shot, near-duplicate or within ``min_separation_s``), falling back to fewer avoided
    moments, and to none, when nothing else is usable.
    """
    opts = options or AnalysisOptions()
    beat = _Throttle(heartbeat)
    t_start = time.perf_counter()
    media = path if isinstance(path, Media) else open_media(path)
    info = media.probe
    fps = opts.fps
    if info.duration > 0:
        fps = min(fps, opts.max_samples / info.duration)
    fps = max(fps, 0.05)
    bucket_s = max(opts.bucket_s, info.duration / opts.max_buckets if info.duration > 0 else 0.0)

    detector = ShotDetector()
    records: list[SampleRecord] = []
    buckets: dict[int, list[_Kept]] = {}
    provisional = scoring.VideoContext()
    dstats = DecodeStats()
    for sample in iter_samples(media, fps, mid_width=opts.mid_width, small_width=opts.small_width,
                               skip=opts.skip_frames, stats=dstats):
        m = measure(sample.luma, sample.grey, sample.small)
        sig = signature(sample.small)
        detector.add(sample.t, sig)
        pre = scoring.pre_assess(m, provisional)
        idx = len(records)
        records.append(SampleRecord(sample.t, m, sig, dhash(sample.grey), pre))
        if not pre.rejected:
            heap = buckets.setdefault(int(sample.t // bucket_s), [])
            item = _Kept(pre.quality, idx, sample.grey if sample.grey.base is None else sample.grey.copy())
            if len(heap) < opts.keep_per_bucket:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)
        beat()
    t_decode = time.perf_counter()

    shots = detector.finish()
    in_transition = [s == -1 for s in shots.shot_of]
    for tr in shots.transitions:
        # A fade's first and last steps are too small to detect: the samples at either end of a
        # transition are treated as part of it.
        in_transition[tr.first] = in_transition[tr.last] = True
    usable = [i for i, r in enumerate(records) if not r.pre.rejected and not in_transition[i]]
    ctx = scoring.VideoContext()
    if usable:
        ctx.sharp_ref = float(np.percentile([1.0 - records[i].metrics.blur for i in usable], 90))
    for i, r in enumerate(records):
        r.pre = scoring.pre_assess(r.metrics, ctx, in_transition=in_transition[i])

    kept = {k.index: k.grey for heap in buckets.values() for k in heap}
    candidates = _candidates(records, shots, kept, max(count, count + avoid_count), opts, ctx)
    candidates = _cleaner_first(candidates, records, opts)
    beat(force=True)
    avoided: list[Candidate] = []
    picks: list[Candidate] = []
    if avoid_count > 0:
        # Avoid as many of the cover moments as still leaves ``count`` picks (the top cover first).
        covers = _pick(candidates, records, avoid_count, opts, 0.0)
        for k in range(len(covers), 0, -1):
            got = _pick(candidates, records, count, opts, min_separation_s, avoid=covers[:k])
            if len(got) > len(picks):
                picks, avoided = got, covers[:k]
            if len(picks) >= count:
                break
    if not picks:
        picks = _pick(candidates, records, count, opts, min_separation_s)
    t_end = time.perf_counter()
    analysis = Analysis(
        info,
        shots,
        records,
        candidates,
        picks,
        {
            "DecodedFrames": dstats.frames_decoded,
            "Samples": dstats.frames_served,
            "CorruptPackets": dstats.corrupt_packets,
            "SkipFrame": dstats.skip,
            "SampleFps": round(fps, 4),
            "Shots": len(shots.shots),
            "Candidates": len(candidates),
            "AvoidedCoverTimes": [round(c.t, 3) for c in avoided],
            "DecodeSeconds": round(t_decode - t_start, 3),
            "ScoreSeconds": round(t_end - t_decode, 3),
        },
    )
    if not picks:
        counts = analysis.rejected_counts()  # a frame may have several reasons
        what = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "none usable"
        raise NoUsableFrame(
            f"No usable frame for a cover: all {len(records)} sampled frames were rejected ({what}).", counts
        )
    return analysis


def _candidates(
    records: list[SampleRecord],
    shots: ShotResult,
    kept: dict[int, np.ndarray],
    count: int,
    opts: AnalysisOptions,
    ctx: scoring.VideoContext,
) -> list[Candidate]:
    per_shot = max(opts.per_shot, count)
    chosen: list[tuple[float, int, Shot]] = []
    for shot in shots.shots:
        pool = [i for i in range(shot.first, shot.last + 1) if i in kept and not records[i].pre.rejected]
        if not pool:
            continue
        # Spread the shot's candidates over its length (one per equal part), so that a long shot
        # whose look changes (a subtitle appears, someone turns round) is seen in each of its parts.
        parts = max(1, min(per_shot, int((shot.end - shot.start) / opts.min_gap_s) + 1))
        span = (shot.end - shot.start) / parts or 1.0
        best: dict[int, int] = {}
        for i in pool:
            part = min(parts - 1, int((records[i].t - shot.start) / span))
            if part not in best or records[i].pre.quality > records[best[part]].pre.quality:
                best[part] = i
        chosen.extend((records[i].pre.quality, i, shot) for i in best.values())
    chosen.sort(key=lambda c: -c[0])
    chosen = chosen[: max(opts.max_candidates, 3 * count)]
    use_faces = opts.faces and faces_mod.available() is None
    # The dear measures can raise a frame's score by at most this much over its cheap estimate
    # (Text is estimated at its best, Faces at "no face"): once the best estimates left
    # cannot reach the score that enough clean candidates already have, the rest are not assessed.
    headroom = 10.0 * scoring.WEIGHTS["Faces"] * (1.0 - scoring.NO_FACE)
    enough = 3 * count
    out: list[Candidate] = []
    for q_pre, i, shot in chosen:
        clean = sorted((c.score for c in out if not c.assessment.rejected and not c.assessment.defects), reverse=True)
        if len(clean) >= enough and 10.0 * q_pre + headroom < clean[enough - 1]:
            break
        grey = kept[i]
        found: list[faces_mod.Face] = []
        fsize = (grey.shape[1], grey.shape[0])
        if use_faces:
            if grey.shape[1] > opts.face_width:
                fw = opts.face_width
                fh = max(2, int(round(grey.shape[0] * fw / grey.shape[1])))
                small = cv2.resize(grey, (fw, fh), interpolation=cv2.INTER_AREA)
                found = _scale_faces(faces_mod.detect(small, eye_image=grey), grey.shape[1] / fw)
            else:
                found = faces_mod.detect(grey)
        a = scoring.assess(
            records[i].metrics,
            ctx,
            text_coverage=text_coverage(grey).coverage,
            found_faces=found,
            face_image_size=fsize,
        )
        if not use_faces:
            a.measures["Faces"] = -1  # not looked for
        out.append(Candidate(i, records[i].t, shot, a, found, fsize, grey))
    out.sort(key=lambda c: (-c.score, c.t))
    return out


def _scale_faces(found: list[faces_mod.Face], k: float) -> list[faces_mod.Face]:
    return [
        faces_mod.Face(int(round(f.x * k)), int(round(f.y * k)), int(round(f.w * k)), int(round(f.h * k)),
                       f.eyes, f.eyes_checked)
        for f in found
    ]


def _same_content(c: Candidate, p: Candidate, records: list[SampleRecord], opts: AnalysisOptions, k: float = 1.0) -> bool:
    r, q = records[c.sample], records[p.sample]
    if near_duplicate(r.hash, r.sig, q.hash, q.sig, max_hamming=int(opts.dedup_hamming * k),
                      max_distance=opts.dedup_distance * k):
        return True
    ka, kb = c.keypoints(), p.keypoints()
    return ka is not None and kb is not None and same_scene(ka, kb)


def _cleaner_first(candidates: list[Candidate], records: list[SampleRecord], opts: AnalysisOptions) -> list[Candidate]:
    """Move every candidate ahead of the better-scored near-duplicates it is clearly cleaner than.

    Noise and grain read as detail and contrast, so a degraded copy can out-score its clean original
    on the per-frame criteria; between two frames of the same content, the cleaner one wins.
    """
    order = list(candidates)
    deg = {id(c): scoring.degradation(c.assessment) for c in order}
    moved = True
    guard = 0
    while moved and guard < 4 * len(order):
        moved, guard = False, guard + 1
        for i in range(len(order)):
            for j in range(i + 1, len(order)):
                a, b = order[i], order[j]
                if b.assessment.rejected or deg[id(a)] - deg[id(b)] < scoring.CLEANER_BY:
                    continue
                if _same_content(a, b, records, opts, 1.5):
                    order.insert(i, order.pop(j))
                    moved = True
                    break
            if moved:
                break
    return order


def _pick(
    candidates: list[Candidate],
    records: list[SampleRecord],
    count: int,
    opts: AnalysisOptions,
    min_separation_s: float,
    avoid: list[Candidate] | None = None,
) -> list[Candidate]:
    """In candidate order (best first), in passes: one per shot, then more per shot when clearly
    different, and frames with defects (blurry, text-covered...) only when no frame without one
    exists. ``avoid``: moments taken elsewhere (a PNG job's covers) that picks keep away from."""
    picks: list[Candidate] = []
    avoid = avoid or []

    def fits(c: Candidate, *, one_per_shot: bool, allow_defects: bool) -> bool:
        a = c.assessment
        if a.rejected or (a.defects and not allow_defects) or c in picks or c in avoid:
            return False
        r = records[c.sample]
        for p in picks + avoid:
            q = records[p.sample]
            same_shot = c.shot is not None and p.shot is not None and c.shot.index == p.shot.index
            if same_shot and one_per_shot:
                return False
            # Inside one shot frames drift slowly: demand 1.5x the usual difference.
            k = 1.5 if same_shot else 1.0
            if near_duplicate(r.hash, r.sig, q.hash, q.sig, max_hamming=int(opts.dedup_hamming * k),
                              max_distance=opts.dedup_distance * k):
                return False
            ka, kb = c.keypoints(), p.keypoints()
            if ka is not None and kb is not None and same_scene(ka, kb):
                return False
            if abs(c.t - p.t) < min_separation_s:
                return False
        return True

    for one_per_shot, allow_defects in ((True, False), (False, False), (True, True), (False, True)):
        if allow_defects and (picks or avoid):
            # Frames with defects are a last resort; to keep away from covers, a clean moment near
            # fewer covers (the caller retries with fewer avoided) beats a defective one.
            break
        for c in candidates:
            if len(picks) >= count:
                break
            if fits(c, one_per_shot=one_per_shot, allow_defects=allow_defects):
                picks.append(c)
    rank = {id(c): i for i, c in enumerate(candidates)}
    picks.sort(key=lambda c: rank[id(c)])
    return picks


def shot_window(analysis: Analysis, pick: Candidate, duration: float) -> tuple[float, float]:
    """A ``duration``-long window around a pick that stays inside its shot (and the video)."""
    if pick.shot is not None:
        # From the shot's first to its last sample: nothing of a neighbouring transition gets in.
        lo, hi = pick.shot.start, pick.shot.end
    else:
        lo, hi = 0.0, analysis.info.duration or pick.t + duration
    if analysis.info.duration > 0:
        hi = min(hi, analysis.info.duration)
    if hi - lo <= duration:
        return lo, hi
    start = min(max(lo, pick.t - duration / 2.0), hi - duration)
    return start, start + duration


def pick_detail(analysis: Analysis, c: Candidate) -> dict[str, object]:
    """The extra keys an image carries on the wire: time, shot, breakdown and why."""
    a = c.assessment
    w, h = c.face_size
    detail: dict[str, object] = {
        "Time": f"{c.t:.3f}",
        "Shot": (
            {"Index": c.shot.index, "Start": f"{c.shot.start:.3f}", "End": f"{c.shot.end:.3f}",
             "StartsWith": c.shot.starts_with}
            if c.shot is not None else None
        ),
        "Breakdown": {k: round(v, 4) for k, v in a.criteria.items()},
        "Weights": dict(scoring.WEIGHTS),
        "Measures": a.measures,
        "Why": _why(a, c),
    }
    if c.faces and w and h:
        detail["FaceBoxes"] = [f.as_dict(w, h) for f in c.faces[:5]]
    return detail


def _why(a: scoring.Assessment, c: Candidate) -> str:
    text = scoring.explain(a)
    if c.faces:
        f = c.faces[0]
        eyes = (f"{f.eyes} open eye{'s' if f.eyes != 1 else ''} found" if f.eyes_checked else "eyes not checked (small face)")
        text += f"; {len(c.faces)} face{'s' if len(c.faces) > 1 else ''}, {eyes}"
    return text

