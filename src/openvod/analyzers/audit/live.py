"""Live-scene rules over a scan's samples: meaningless runs (black, solid, test card, frozen) and
pictures in the picture (inset rectangles whose content changes)."""

from __future__ import annotations

import math

import numpy as np

from openvod.analyzers.audit.options import AuditOptions
from openvod.analyzers.audit.records import Finding, Sample, VisualScan
from openvod.analyzers.audit.visual import flat_kind, is_test_card, luma, rectangles, same_box


def live_frame(scan: VisualScan, sample: Sample, rgb: np.ndarray, o: AuditOptions) -> None:
    y = luma(rgb)
    kind = flat_kind(y, o.live.black_luma, o.live.flat_std)
    if not kind and is_test_card(rgb):
        kind = "testcard"
    sample.live_kind = kind
    sample.luma = y[::2, ::2].copy()
    if not kind:
        sample.boxes = rectangles(rgb)
        yh, yw = y.shape
        sample.insides = [y[b[1] * yh // 1000: (b[1] + b[3]) * yh // 1000, b[0] * yw // 1000: (b[0] + b[2]) * yw // 1000]
                          for b in sample.boxes]


def live_runs(scan: VisualScan, o: AuditOptions) -> None:
    """Runs of black / solid / test-card frames (>= min_run_s) and frozen stretches (>= frozen_min_s)."""
    samples = scan.samples
    dur = max(scan.duration, 1e-3)
    step = (samples[1].t - samples[0].t) if len(samples) > 1 else 1.0

    def emit(run: list[Sample], kind: str, floor: float) -> None:
        length = run[-1].t - run[0].t + step
        if length + 1e-6 < (o.live.frozen_min_s if kind == "frozen" else o.live.min_run_s):
            return
        score = min(100.0, max(floor, 70.0 + 30.0 * length / dur))
        ev = f"{kind} {run[0].t:.1f}-{run[-1].t + step:.1f} s"
        for s in run:
            scan.findings.append(Finding(s.t, "live", "meaningless", round(score, 4), kind, ev))

    run: list[Sample] = []
    kind = ""
    for s in samples + [Sample(t=math.inf, jpeg=b"")]:
        k = s.live_kind
        k = "black" if k == "solid" and kind == "black" else k
        if k and k == kind:
            run.append(s)
            continue
        if run and kind:
            emit(run, kind, 80.0 if kind == "testcard" else 0.0)
        run, kind = ([s], k) if k else ([], "")
    # frozen: identical consecutive samples that are not flat
    run = []
    for a, b in zip(samples, samples[1:] + [None], strict=False):  # type: ignore[list-item]
        ya = a.luma
        yb = b.luma if b is not None else None
        if ya is None:
            continue
        same = yb is not None and float(np.abs(ya - yb).mean()) < o.live.frozen_mad and not a.live_kind
        if same:
            run.append(a)
        else:
            if run:
                run.append(a)
                emit(run, "frozen", 0.0)
            run = []
    _pip_runs(scan, o)
    for s in samples:
        s.luma = None
        s.insides = []


def _pip_runs(scan: VisualScan, o: AuditOptions) -> None:
    """PIP: the same inset rectangle in consecutive samples for >= pip_min_s while the picture inside
    it changes (a static box, e.g. a caption plate or a drawn shape, is not a picture in a picture)."""
    samples = scan.samples
    step = (samples[1].t - samples[0].t) if len(samples) > 1 else 1.0
    tracks: list[dict] = []  # box, samples, changes
    for s in samples:
        nxt = []
        used = set()
        for tr in tracks:
            j = next((k for k, b in enumerate(s.boxes) if k not in used and same_box(b, tr["box"])), None)
            if j is None:
                _pip_emit(scan, tr, step, o)
                continue
            used.add(j)
            prev = tr["inside"]
            cur = s.insides[j]
            if prev.shape == cur.shape and float(np.abs(prev - cur).mean()) > o.live.pip_change:
                tr["changes"] += 1
            tr["inside"], tr["samples"] = cur, tr["samples"] + [s]
            tr["code"] = tr["code"] or _within_code(s.boxes[j], s.codes)
            nxt.append(tr)
        for k, b in enumerate(s.boxes):
            if k not in used:
                nxt.append({"box": b, "samples": [s], "inside": s.insides[k], "changes": 0,
                            "code": _within_code(b, s.codes)})
        tracks = nxt
    for tr in tracks:
        _pip_emit(scan, tr, step, o)


def _within_code(box: tuple[int, int, int, int], codes: list[tuple[int, int, int, int]]) -> bool:
    """Whether an inset candidate is a code's plate, or part of it: it lies inside the plate region of a
    code located in the same frame, or has the code in its middle (the white plate of a large code over
    a moving background outlines a box whose border strip changes, like an inset's picture)."""
    x, y, w, h = box
    for cx, cy, cw, ch in codes:
        if x >= cx and y >= cy and x + w <= cx + cw and y + h <= cy + ch:
            return True  # inside the plate region
        # the plate outlined whole: the code sits in the middle of the box (the located radius may be an
        # inner ring's, so the region above can be too small)
        if abs(cx + cw / 2 - (x + w / 2)) <= w / 4 and abs(cy + ch / 2 - (y + h / 2)) <= h / 4:
            return True
    return False


def _pip_emit(scan: VisualScan, tr: dict, step: float, o: AuditOptions) -> None:
    run = tr["samples"]
    length = run[-1].t - run[0].t + step
    if length + 1e-6 < o.live.pip_min_s or tr["changes"] < max(2, (len(run) - 1) // 2):
        return
    if tr["code"]:  # the box is (part of) a code's plate seen in this track: not an inset
        return
    x, y, w, h = tr["box"]
    # a picture in the picture is a cue (re-broadcast, reaction videos), not a violation by itself:
    # at most 85, i.e. review under the default thresholds
    score = 70.0 + 15.0 * min(1.0, length / 10.0)
    seen = {f.t for f in scan.findings if f.scene == "live" and f.label == "PIP"}
    ev = f"inset x={x / 10:.0f}% y={y / 10:.0f}% w={w / 10:.0f}% h={h / 10:.0f}%, {run[0].t:.1f}-{run[-1].t + step:.1f} s"
    for s in run:
        if s.t not in seen:  # overlapping candidate boxes of one inset report it once
            scan.findings.append(Finding(s.t, "live", "PIP", round(score, 4), "pip", ev))
