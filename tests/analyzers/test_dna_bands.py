"""Copies whose zoom differs across and down (a 9:16 crop of a wide video, a picture squeezed into half of a
split screen): the library's band codes (``fingerprint._bands``), the query's band and halves views
(``views.band_view``, ``halves_view``), their separate key space (``features.BAND_MASK``) and the
hypotheses they give (``align.aspect_family``, ``hit_transforms``). End-to-end tests are in
``test_dna_transforms.py`` (``test_vertical_9_16_centre_crop``, ``test_split_screen_squeezed``)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from openvod.analyzers.dna import features as ft
from openvod.analyzers.dna.align import ASPECTS, AlignParams, aspect_family, hit_transforms
from openvod.analyzers.dna.fingerprint import Fingerprint, _bands, band_rows
from openvod.analyzers.dna.refine import refine
from openvod.analyzers.dna.search import query_codes
from openvod.analyzers.dna.views import BAND_SHIFT, band_view, halves_view, view_fits

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
W, H = 1280, 720  # the library's frame
WORK = 96


def _scene(rng: np.random.Generator) -> np.ndarray:
    """A smooth random picture with some structure at every scale, W x H, uint8."""
    out = np.zeros((H, W), np.float32)
    for cells, weight in ((4, 1.0), (9, 0.6), (20, 0.35)):
        small = Image.fromarray(rng.normal(0, 1, (cells, cells * 16 // 9)).astype(np.float32), mode="F")
        out += weight * np.asarray(small.resize((W, H), Image.Resampling.BICUBIC))
    return np.clip(128 + 40 * out, 0, 255).astype(np.uint8)


def _fp(thumbs: np.ndarray, width: int, height: int, codes: int = 0) -> Fingerprint:
    n = thumbs.shape[0]
    return Fingerprint(times=np.arange(n, dtype=np.float32) * 0.25, thumbs=thumbs, flat=np.zeros(n, bool),
                       code_frame=np.zeros(codes, np.int32), code_geom=np.zeros((codes, 4), np.float32),
                       codes=np.zeros((codes, 8), np.uint8), codes_flip=np.zeros((codes, 8), np.uint8),
                       duration=0.25 * n, width=width, height=height, box=(0.0, 0.0, 1.0, 1.0))


@SETTINGS
@given(st.integers(0, 2**31), st.integers(-40, 40))
def test_a_crop_reads_its_source_band_within_the_code_radius(seed: int, offset: int) -> None:
    """The library's band code of a picture and the query's band view of a 9:16 crop of it (full height,
    up to 40 of 1280 pixels off centre) hit: one of the view's offsets is within the code radius."""
    scene = _scene(np.random.default_rng(seed))
    work = np.asarray(Image.fromarray(scene).resize((WORK, WORK), Image.Resampling.BOX))[None]
    wins, rows, geom = _bands(work, np.array([0]), np.array([[0, 0, WORK, WORK]]), W / H)
    assert rows.tolist() == [0] and abs(geom[0, 2] - 0.5 * 0.3375 * H / W) < 1e-6 and geom[0, 3] == 0.5
    lib, _ = ft.hash_windows(wins)
    cw = round(H * 9 / 16)
    x0 = (W - cw) // 2 + offset
    crop = Image.fromarray(scene[:, x0 : x0 + cw]).resize((270, 480), Image.Resampling.BILINEAR)
    thumb = np.asarray(crop.resize((32, 32), Image.Resampling.BOX))[None]
    view = band_view(_fp(thumb, 270, 480))
    assert view is not None and view.codes.shape[0] == 2 * BAND_SHIFT + 1
    d = ft.hamming(view.codes, lib ^ ft.BAND_MASK)
    assert int(d.min()) <= 10, d


def test_band_codes_and_ordinary_codes_never_hit() -> None:
    """The mask puts band codes 32 bits from the ordinary code of the same window, and the query searches a
    video's own band codes only through its band view."""
    rng = np.random.default_rng(0)
    c, _ = ft.hash_windows(rng.normal(0, 1, (50, 16, 16)).astype(np.float32))
    assert (ft.hamming(c, c ^ ft.BAND_MASK).diagonal() == 32).all()
    geom = np.array([[0.5, 0.5, 0.5, 0.5], [0.3, 0.4, 0.1, 0.1], [0.5, 0.5, 0.095, 0.5]], np.float32)
    fp = _fp(np.zeros((1, 32, 32), np.uint8), W, H, codes=3)
    fp.code_geom = geom
    assert band_rows(geom).tolist() == [False, False, True]
    _, _, rows = query_codes(fp)
    assert sorted(set(rows.tolist())) == [0, 1]


def test_old_three_column_geometry_is_read_as_square_windows() -> None:
    fp = Fingerprint(times=np.zeros(1, np.float32), thumbs=np.zeros((1, 32, 32), np.uint8), flat=np.zeros(1, bool),
                     code_frame=np.zeros(2, np.int32), code_geom=np.array([[0.5, 0.5, 0.5], [0.2, 0.3, 0.1]], np.float32),
                     codes=np.zeros((2, 8), np.uint8), codes_flip=np.zeros((2, 8), np.uint8), duration=0.25, width=W, height=H,
                     box=(0.0, 0.0, 1.0, 1.0))
    assert fp.code_geom.shape == (2, 4) and (fp.code_geom[:, 2] == fp.code_geom[:, 3]).all()
    assert not band_rows(fp.code_geom).any()


@given(st.floats(0.01, 100.0))
def test_aspect_family_names_one_family_or_none(ratio: float) -> None:
    fam = float(aspect_family(np.array([ratio]))[0])
    inside = [lo <= ratio <= hi for lo, hi in ASPECTS[1:]]
    if abs(np.log(ratio)) < 1e-3:
        assert fam == 1.0
    elif any(inside):
        assert fam == ratio
    else:
        assert fam == 0.0


def test_views_only_where_their_shape_can_be() -> None:
    wide, tall = _fp(np.full((8, 32, 32), 100, np.uint8), W, H), _fp(np.full((8, 32, 32), 100, np.uint8), 270, 480)
    assert band_view(wide) is None and halves_view(tall) is None
    assert band_view(tall) is not None and halves_view(wide) is not None
    empty = _fp(np.zeros((0, 32, 32), np.uint8), 270, 480)
    assert band_view(empty) is None and halves_view(empty) is None
    framed = _fp(np.full((8, 32, 32), 100, np.uint8), W, H)  # a 9:16 stretch (pillarboxed) in a wide video
    framed.info["stretches"] = [[0.5, 1.0, 0.34, 0.0, 0.32, 1.0]]
    v, h = band_view(framed), halves_view(framed)
    assert v is not None and sorted(set(v.code_frame.tolist())) == [2, 3, 4]
    assert h is not None and sorted(set(h.code_frame.tolist())) == [0, 1, 5, 6, 7]


def test_a_band_hit_gives_the_crop_transform_and_refinement_keeps_its_aspect() -> None:
    """Hits between the query's band view and the library's band codes imply sx ~ 3.16, sy ~ 1 (the crop of
    16:9 to 9:16 at full height); refinement on the thumbnails keeps that family; a band view accepts it and
    a plain transform only from another family."""
    rng = np.random.default_rng(3)
    scenes = [_scene(rng) for _ in range(6)]
    cw = round(H * 9 / 16)
    x0 = (W - cw) // 2
    lib_thumbs = np.stack([np.asarray(Image.fromarray(s).resize((32, 32), Image.Resampling.BOX)) for s in scenes])
    q_thumbs = np.stack([np.asarray(Image.fromarray(s[:, x0 : x0 + cw]).resize((32, 32), Image.Resampling.BOX)) for s in scenes])
    share = 0.3375 * H / W
    r = _fp(lib_thumbs, W, H, codes=6)
    r.code_frame = np.arange(6, dtype=np.int32)
    r.code_geom = np.tile(np.array([[0.5, 0.5, share / 2, 0.5]], np.float32), (6, 1))
    q = _fp(q_thumbs, 270, 480, codes=6)
    q.code_frame = np.arange(6, dtype=np.int32)
    q.code_geom = np.tile(np.array([[0.5, 0.5, 0.3, 0.5]], np.float32), (6, 1))
    hits = np.stack([np.arange(6), np.zeros(6, np.int64), np.arange(6)], axis=1)
    p = AlignParams()
    ((t, members),) = hit_transforms(q, r, hits, p)
    assert members.size == 6 and abs(t.sx - 0.3 / (share / 2)) < 1e-3 and t.sy == 1.0 and t.aspect == t.sx
    fine = refine(q, r, t, np.stack([np.arange(6), np.arange(6)], axis=1), p)
    assert 1 / 1.25 <= fine.sx / (fine.sy * t.aspect) <= 1.25 and fine.score > 0.8, fine
    assert abs(fine.sx * H / W * 9 / 16 - 1.0) < 0.1 and abs(fine.tx + (fine.sx - 1) / 2) < 0.05, fine  # keeps 9/16 of the height, in the middle
    assert view_fits({"band_view": True}, fine) and not view_fits({"halves_view": True}, fine)


@SETTINGS
@given(st.integers(0, 2**31), st.integers(0, 12), st.floats(0.2, 5.0))
def test_bands_and_views_are_total(seed: int, n: int, frame_aspect: float) -> None:
    """Any boxes (empty, a line, the whole picture), any frame shape, any stretches: well-formed band codes and
    views, or none."""
    rng = np.random.default_rng(seed)
    pics = rng.integers(0, 256, (n, 96, 96)).astype(np.uint8)
    x0, y0 = rng.integers(0, 96, (2, n))
    boxes = np.stack([x0, y0, np.minimum(96, x0 + rng.integers(0, 97, n)), np.minimum(96, y0 + rng.integers(0, 97, n))], axis=1)
    idx = np.sort(rng.choice(n, int(rng.integers(0, n + 1)), replace=False)) if n else np.zeros(0, np.int64)
    wins, rows, geom = _bands(pics, idx, boxes, frame_aspect)
    assert wins.shape == (rows.size, 16, 16) and geom.shape == (rows.size, 4) and set(rows.tolist()) <= set(idx.tolist())
    assert ((geom[:, 2] > 0) & (geom[:, 2] <= 0.5) & (geom[:, 3] == 0.5)).all()
    fp = _fp(rng.integers(0, 256, (n, 32, 32)).astype(np.uint8), int(96 * frame_aspect) + 1, 96)
    fp.flat = rng.random(n) < 0.3
    fp.info["stretches"] = [[float(a), float(a + rng.uniform(0, 2)), *rng.uniform(0.0, 1.0, 4).tolist()] for a in rng.uniform(0, 3, 2)]
    for view in (band_view(fp), halves_view(fp)):
        if view is not None:
            m = view.codes.shape[0]
            assert view.codes_flip.shape == (m, 8) and view.code_geom.shape == (m, 4) and view.code_frame.shape == (m,)
            assert set(view.code_frame.tolist()) <= set(np.nonzero(~fp.flat)[0].tolist())
