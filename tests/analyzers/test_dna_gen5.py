"""The DNA benchmark's generation-5 edits (bench/dna/gen5.py): every combination keeps one frame shape
through the whole query (the copy, the filler around it, a picture-in-picture's background alone)."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bench.dna import gen5
from bench.dna.generate import H, W, frame_level, full_frame, spatial_fn


class _Stub:
    """The parts of a Builder that gen5's spatial drawing uses."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)


def _valid(parts: list[str]) -> bool:
    return sum(p in gen5.REFRAME for p in parts) <= 1 and not {"lowres", "scale"} <= set(parts)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_drawn_combinations_are_three_compatible_edits(seed: int) -> None:
    parts = gen5._combo_parts(np.random.default_rng(seed))
    assert len(set(parts)) == 3 and _valid(parts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(gen5.COMBO), min_size=3, max_size=3, unique=True).filter(_valid), st.integers(0, 2**31 - 1))
@example(["vertical", "rotate", "scale"], 2)  # turned by 90 degrees: a 9:16 frame is wide, its size must be too
def test_every_combination_keeps_one_frame_shape(parts: list[str], seed: int) -> None:
    b = _Stub(seed)
    sp: dict = {"kind": "none"}
    fps, crf = gen5._spatial(b, parts, sp)  # type: ignore[arg-type]
    assert fps > 0 and crf > 0
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    f = spatial_fn(sp)
    bg = rng.integers(0, 255, (H, W, 3), dtype=np.uint8) if sp["kind"] == "pip" else None
    copy = f(frame, 1.0, bg)
    around = frame_level(bg, sp) if bg is not None else f(frame, 0.0, None)
    assert copy.shape == around.shape
    if "size" in sp:
        assert copy.shape[:2] == (sp["size"][1], sp["size"][0])
    tall = (sp["kind"] in ("vertical", "vcrop")) != (sp.get("rotate") in (90, 270))
    if sp["kind"] != "letterbox":  # (a 4:3 letterbox frame is wide either way)
        assert (copy.shape[0] > copy.shape[1]) == tall


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["vertical", "letterbox"]), st.integers(0, 2**31 - 1))
def test_full_frame_filler_fills_the_reframed_copy_s_frame(frame: str, seed: int) -> None:
    # frame_mixed: the copy is reframed, the unrelated footage around it fills the same output frame edge to edge.
    sp: dict = {"kind": "none"}
    gen5._spatial(_Stub(seed), [frame], sp)  # type: ignore[arg-type]
    f = spatial_fn(sp)
    rng = np.random.default_rng(seed)
    copy = f(rng.integers(0, 255, (H, W, 3), dtype=np.uint8), 1.0, None)
    filler = full_frame(copy.shape)(np.full((H, W, 3), 200, np.uint8))
    assert filler.shape == copy.shape
    assert int(filler.min()) == 200  # no border of any other colour
