"""Generation 5 of the DNA benchmark: the edits a second blind suite found weak, made on the tuning side.

Queries of these classes are drawn from their own random stream (``[seed, 5]``) after every generation-4
query and negative, so adding them leaves generation 4's library, queries and ground truth unchanged
(a rerun into an existing folder renders only the new files).

| class | what the copy goes through |
|---|---|
| vcrop | a 9:16 **centre crop** (32 % of the width, up to 4 % of the width off the middle, 270x480): the whole query is reframed |
| lowres | 160x90 at CRF 42 |
| short_offspeed | a 3-5 s copy at 0.7-0.85x or 1.2-1.5x, with a crop, photometric change, overlay, mirror or nothing, between 10-25 s of unrelated footage on each side |
| combo_embed | three edits (reframing, rotation, mirror, crop, colour, overlay, blur, speed, reversal, frame rate, size) together, always between unrelated footage |
| frame_mixed | letterbox, pillarbox, coloured padding or a 9:16 frame over a blurred copy, between unrelated footage that fills the whole frame (the framing changes at the cuts: a compilation) |
| tight_crop | 58-72 % of the width and height at any offset, mirrored half the time, bare or between unrelated footage |
| rotate_crop | turned by 90, 180 or 270 degrees and cropped to 75-92 % of each side, bare or between unrelated footage |
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from bench.dna.generate import Builder, QuerySpec

CLASSES = ["vcrop", "lowres", "short_offspeed", "combo_embed", "frame_mixed", "tight_crop", "rotate_crop"]
# At most one of the reframing edits (each sets the frame's layout) goes into a combination.
REFRAME = ("pip", "vertical", "letterbox", "vcrop")
COMBO = ["crop", "flip", "vflip", "rotate", "photometric", "grayscale", "overlay", "blur", "speed", "reverse",
         "framerate", "scale", "lowres", *REFRAME]


def seed_stream(b: Builder, seed: int) -> None:
    """Point the builder and its content pools at generation 5's own random stream."""
    rng = np.random.default_rng([seed, 5])
    b.rng = b.lib_pool.rng = b.fill_pool.rng = rng


def _combo_parts(r: np.random.Generator) -> list[str]:
    while True:
        parts = [str(x) for x in r.choice(COMBO, 3, replace=False)]
        if sum(p in REFRAME for p in parts) <= 1 and not {"lowres", "scale"} <= set(parts):
            return parts


def _spatial(b: Builder, parts: list[str], sp: dict[str, Any]) -> tuple[float, int]:
    """Fill ``sp`` for the named edits; returns (fps, crf)."""
    from bench.dna.generate import draw_overlay, draw_photometric, draw_vertical

    r = b.rng
    fps, crf = float(r.choice([25.0, 30.0])), 30
    frame = next((p for p in parts if p in REFRAME), "none")
    sp["kind"] = {"pip": "pip", "vertical": "vertical", "letterbox": "letterbox", "vcrop": "vcrop"}.get(frame, "combined")
    if "crop" in parts:
        kw, kh = r.uniform(0.75, 0.92), r.uniform(0.75, 0.92)
        sp["crop"] = [float(r.uniform(0, 1 - kw)), float(r.uniform(0, 1 - kh)), float(kw), float(kh)]
    if "flip" in parts:
        sp["flip"] = True
    if "vflip" in parts:
        sp["vflip"] = True
    if "photometric" in parts:
        sp["photometric"] = draw_photometric(r)
    if "grayscale" in parts:
        sp["gray"] = True
    if "blur" in parts:
        sp["blur"] = float(r.uniform(1.0, 2.0))
    if "overlay" in parts:
        sp.update(draw_overlay(r))
    if "rotate" in parts:  # a turned picture-in-picture turns its background too: keep the frame's shape
        sp["rotate"] = 180 if frame == "pip" else int(r.choice([90, 180, 270]))
    if frame == "pip":
        sc = float(np.sqrt(r.uniform(0.3, 0.55)))
        sp.update(pip=[float(r.uniform(0, 1 - sc)), float(r.uniform(0, 1 - sc)), sc, sc], border=bool(r.random() < 0.5))
    elif frame == "vertical":
        sp.update(draw_vertical(r))
    elif frame == "letterbox":
        sp.update(mode=str(r.choice(["letterbox", "pillarbox", "padding"])), scale=float(r.uniform(0.7, 0.9)),
                  color=[int(c) for c in r.integers(0, 255, 3)])
    width = None
    if "framerate" in parts:
        fps = float(r.choice([12.0, 15.0, 50.0, 60.0]))
    if "scale" in parts:
        width = int(r.choice([320, 640, 854]))
    if "lowres" in parts:
        width, crf = 160, 40
    if width is not None:  # keep the frame's shape (a 9:16 frame stays 9:16)
        tall = (frame in ("vertical", "vcrop")) != (sp.get("rotate") in (90, 270))
        sp["size"] = [int(width * 9 / 16) // 2 * 2, width] if tall else [width, int(width * 9 / 16) // 2 * 2]
        if frame == "letterbox" and sp["mode"] == "letterbox":  # a 4:3 frame
            sp["size"] = [width, int(width * 3 / 4) // 2 * 2]
    return fps, crf


def spec(b: Builder, cls: str, k: int) -> QuerySpec:
    """Query k of a generation-5 class (even k embedded, odd k bare, except where the class says)."""
    from bench.dna.generate import QuerySpec

    r = b.rng
    qid = f"q_{cls}_{k}"
    embedded = k % 2 == 0 or cls in ("short_offspeed", "combo_embed", "frame_mixed")
    lib = b.pick()[0]
    sp: dict[str, Any] = {"kind": "none", "gen": 5}
    fps, crf, speed, reverse = float(r.choice([25.0, 30.0])), 26, 1.0, False
    length = float(r.uniform(8, 15))
    pad = (2.0, 6.0)
    if cls == "vcrop":
        sp["kind"] = "vcrop"
        # Reposts are rarely cut at the exact middle: up to 4 % of the width to either side, drawn from a
        # stream of its own so that no other query changes.
        sp["x_shift"] = float(np.random.default_rng([5, k, *map(ord, str(lib["id"]))]).uniform(-0.04, 0.04))
    elif cls == "lowres":
        sp["size"], crf = [160, 90], 42
    elif cls == "short_offspeed":
        speed = float(r.choice([r.uniform(0.7, 0.85), r.uniform(1.2, 1.5)]))
        length = float(r.uniform(3, 5)) * speed  # 3-5 s in the query
        edit = str(r.choice(["crop", "photometric", "overlay", "flip", "none"]))
        sp["parts"] = [edit]
        fps, crf = _spatial(b, [edit], sp)
        if edit == "none":
            sp["kind"] = "none"
        pad = (10.0, 25.0)
    elif cls == "tight_crop":  # 58-72 % of the picture at any offset, mirrored half the time (a repost zoomed in)
        fps, crf = _spatial(b, ["crop", "flip"] if r.random() < 0.5 else ["crop"], sp)
        kw = float(r.uniform(0.58, 0.72))
        sp["crop"] = [float(r.uniform(0, 1 - kw)), float(r.uniform(0, 1 - kw)), kw, kw]
    elif cls == "rotate_crop":  # turned by 90/180/270 and cropped to 75-90 % (a phone clip turned and zoomed)
        fps, crf = _spatial(b, ["rotate", "crop"], sp)
    elif cls == "frame_mixed":
        fps, crf = _spatial(b, [str(r.choice(["vertical", "letterbox"]))], sp)
        sp["fill_frame"] = True
    else:  # combo_embed
        parts = _combo_parts(r)
        sp["parts"] = parts
        fps, crf = _spatial(b, parts, sp)
        if "speed" in parts:
            speed = float(r.choice([r.uniform(0.6, 0.85), r.uniform(1.2, 1.8)]))
        reverse = "reverse" in parts
    copy = b.copy_piece(lib, length, speed)
    copy.reverse = reverse
    pieces = [b.filler(float(r.uniform(*pad))), copy, b.filler(float(r.uniform(*pad)))] if embedded else [copy]
    for p in pieces:  # pieces start on the query's frame grid so ground truth is exact
        p.duration = max(1.0 / fps, round(p.duration * fps) / fps)
    bg = b.fill_pool.program(sum(p.duration for p in pieces) + 1.0, photos=1) if sp["kind"] == "pip" else None
    return QuerySpec(qid, cls, pieces, fps, crf, sp, bg, embedded)
