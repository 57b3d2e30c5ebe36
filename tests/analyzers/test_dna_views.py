"""The picture-in-picture box detector (``views.pip_box``, ``pip_boxes``) on synthetic thumbnails: total on any
input, finds a box of independently changing content (also one shown for a part of the video only), and
finds nothing in one picture; and the active box of title cards in a coloured pillarbox."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvod.analyzers.dna.layout import active_box
from openvod.analyzers.dna.views import pip_box, pip_boxes, pip_regions

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
S = 32


def _video(rng: np.random.Generator, n: int, cut_every: int) -> np.ndarray:
    """Smooth random pictures that drift and change completely at cuts: ``[n, S, S]``."""
    out = np.empty((n, S, S), np.float32)
    base = np.zeros((S, S), np.float32)
    shift = np.zeros(2)
    for i in range(n):
        if i % cut_every == 0:
            small = Image.fromarray(rng.normal(0, 1, (6, 6)).astype(np.float32), mode="F")
            base = np.asarray(small.resize((3 * S, 3 * S), Image.Resampling.BICUBIC))
            shift = rng.uniform(-1.0, 1.0, 2)
        k = i % cut_every
        y0, x0 = int(S + shift[0] * k), int(S + shift[1] * k)  # a slow pan over the picture
        out[i] = base[y0 : y0 + S, x0 : x0 + S]
    return np.clip(128 + 60 * out, 0, 255).astype(np.uint8)


def _pip(seed: int, x: int, y: int, side: int, n: int = 60) -> np.ndarray:
    rng = np.random.default_rng(seed)
    bg = _video(rng, n, 9)
    fg = _video(rng, n, 13)
    out = bg.copy()
    out[:, y : y + side, x : x + side] = fg[:, :side, :side]  # other footage inside the box
    return out


@SETTINGS
@given(st.integers(0, 2**31), st.integers(0, 40), st.integers(1, 40), st.sampled_from(["noise", "constant", "tiny", "flat"]))
def test_pip_box_is_total(seed: int, n: int, size: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    if kind == "noise":
        t = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
    elif kind == "constant":
        t = np.full((n, size, size), int(rng.integers(0, 256)), np.uint8)
    elif kind == "tiny":
        t = rng.integers(0, 256, (n, 2, 2), dtype=np.uint8)
    else:
        t = np.zeros((n, size, size), np.uint8)
    valid = rng.random(n) < 0.8
    box = pip_box(t, valid)
    if box is not None:
        x, y, w, h, score = box
        assert 0.0 <= x and 0.0 <= y and x + w <= 1.0 + 1e-9 and y + h <= 1.0 + 1e-9
        assert w > 0 and h > 0 and np.isfinite(score)


@SETTINGS
@given(st.integers(0, 2**31), st.integers(0, 14), st.integers(0, 14), st.integers(15, 22))
def test_pip_box_finds_a_box_of_other_footage(seed: int, x: int, y: int, side: int) -> None:
    x, y = min(x, S - side), min(y, S - side)
    t = _pip(seed, x, y, side)
    box = pip_box(t, np.ones(t.shape[0], bool))
    assert box is not None
    bx, by, bw, bh, _ = box
    assert abs(bx * S - x) <= 2 and abs(by * S - y) <= 2, (box, x, y, side)
    assert abs(bw * S - side) <= 2 and abs(bh * S - side) <= 2, (box, x, y, side)


def _reference_pip_box(t: np.ndarray, valid: np.ndarray, contrast: float) -> tuple[float, ...] | None:
    """``pip_box`` as first written: one size at a time, scores of every position of that size."""
    from openvod.analyzers.dna import views as v

    if t.ndim != 3 or t.shape[1] != t.shape[2] or t.shape[1] < 8:
        return None
    keep = np.nonzero(valid)[0]
    if keep.size < v.PIP_MIN_CHANGES + 1:
        return None
    s = t.shape[1]
    hx, vy = v._neighbour_decorrelation(t[keep])
    cx = np.concatenate([np.zeros((1, s - 1)), np.cumsum(hx, axis=0)])
    ry = np.concatenate([np.zeros((s - 1, 1)), np.cumsum(vy, axis=1)], axis=1)
    both = np.zeros((s, s))
    both[:, :-1] += hx
    both[:-1, :] += vy
    area = np.zeros((s + 1, s + 1))
    area[1:, 1:] = np.cumsum(np.cumsum(both, axis=0), axis=1)
    best: tuple[float, ...] | None = None
    lo, hi = int(np.ceil(v.PIP_MIN_SIDE * s)), int(np.floor(v.PIP_MAX_SIDE * s))
    for w in range(lo, hi + 1):
        for h in range(max(lo, w - v.PIP_MAX_ASPECT_PX), min(hi, w + v.PIP_MAX_ASPECT_PX) + 1):
            x0, y0 = np.arange(0, s - w + 1)[None, :], np.arange(0, s - h + 1)[:, None]
            x1, y1 = x0 + w, y0 + h
            edges, count = np.zeros((y0.size, x0.size)), np.zeros((y0.size, x0.size))
            xl, xr, yt, yb = (np.clip(a - 1, 0, s - 2) for a in (x0, x1, y0, y1))
            for inside, val in ((x0 > 0, (cx[y1, xl] - cx[y0, xl]) / h), (x1 < s, (cx[y1, xr] - cx[y0, xr]) / h),
                                (y0 > 0, (ry[yt, x1] - ry[yt, x0]) / w), (y1 < s, (ry[yb, x1] - ry[yb, x0]) / w)):
                m = np.broadcast_to(inside, edges.shape)
                edges += np.where(m, val, 0.0)
                count += m
            inner = (area[y1 - 1, x1 - 1] - area[y0, x1 - 1] - area[y1 - 1, x0] + area[y0, x0]) / max(2 * (w - 1) * (h - 1), 1)
            outer = (area[-1, -1] - (area[y1, x1] - area[y0, x1] - area[y1, x0] + area[y0, x0])) / max(2 * (s * s - w * h), 1)
            score = np.where(count >= 2, edges / np.maximum(count, 1) - np.maximum(inner, outer) + contrast * np.abs(inner - outer), -np.inf)
            k = int(np.argmax(score))
            if best is None or float(score.reshape(-1)[k]) > best[4] + 1e-9:
                yy, xx = divmod(k, score.shape[1])
                best = (xx / s, yy / s, w / s, h / s, float(score.reshape(-1)[k]))
    return None if best is None or not best[4] >= v.PIP_MIN_SCORE else best


@SETTINGS
@given(st.integers(0, 2**31), st.integers(0, 50), st.sampled_from([8, 13, 16, 32]), st.sampled_from([0.0, 1.0, 2.5]),
       st.booleans(), st.booleans())
def test_pip_box_scores_every_box_as_the_per_size_reference(seed: int, n: int, size: int, contrast: float, embed: bool,
                                                             still: bool) -> None:
    """The vectorised box scan (all sizes at once) picks exactly the box, and score, of the per-size loop."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
    if embed and n:
        side = int(rng.integers(size // 2, size))
        x, y = int(rng.integers(0, size - side + 1)), int(rng.integers(0, size - side + 1))
        t = np.repeat(t[:1], n, axis=0)
        t[:, y : y + side, x : x + side] = rng.integers(0, 256, (n, side, side), dtype=np.uint8)
    if still:
        t[:] = t[:1]
    valid = rng.random(n) < 0.9
    assert pip_box(t, valid, contrast) == _reference_pip_box(t, valid, contrast)


@SETTINGS
@given(st.integers(0, 2**31))
def test_one_picture_has_no_box(seed: int) -> None:
    t = _video(np.random.default_rng(seed), 60, 9)
    assert pip_box(t, np.ones(t.shape[0], bool)) is None


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31), st.integers(0, 12), st.integers(0, 12))
def test_pip_boxes_finds_a_box_shown_for_a_part_of_the_video(seed: int, x: int, y: int) -> None:
    """A copy embedded between full-frame footage is a box for a third of the video only: the boxes
    of windows find it, at most ``most`` distinct boxes come back, and ``most=1`` is ``pip_box``."""
    rng = np.random.default_rng(seed)
    t = _video(rng, 150, 11)
    t[50:100] = _pip(seed + 1, x, y, 18, n=50)
    boxes = pip_boxes(t, np.ones(t.shape[0], bool), most=4)
    assert 1 <= len(boxes) <= 4
    assert any(abs(b[0] * S - x) <= 2 and abs(b[1] * S - y) <= 2 and abs(b[2] * S - 18) <= 2 for b in boxes), (boxes, x, y)
    one = pip_box(t, np.ones(t.shape[0], bool))
    assert pip_boxes(t, np.ones(t.shape[0], bool), most=1) == ([] if one is None else [one])


def _busy(rng: np.random.Generator, n: int) -> np.ndarray:
    """Footage whose neighbouring pixels change independently (a cellular automaton at thumbnail size): ``[n, S, S]``."""
    cells = rng.random((S, S)) < 0.5
    out = np.empty((n, S, S), np.uint8)
    for i in range(n):
        cells ^= rng.random((S, S)) < 0.3
        out[i] = np.where(cells, 200, 40)
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31), st.sampled_from(["tl", "tr", "bl", "br"]), st.integers(16, 18), st.integers(0, 1))
def test_pip_box_finds_a_small_box_in_a_corner_over_busy_footage(seed: int, corner: str, side: int, margin: int) -> None:
    """A copy at about half the frame side (a quarter of the area) in a corner over an automaton: across
    the box edge the pixels decorrelate no more than inside the background, but the two pictures differ
    in how much their neighbouring pixels change together (the ``contrast`` term)."""
    rng = np.random.default_rng(seed)
    t = _busy(rng, 40)
    x = margin if corner[1] == "l" else S - side - margin
    y = margin if corner[0] == "t" else S - side - margin
    t[:, y : y + side, x : x + side] = _video(rng, 40, 13)[:, :side, :side]
    box = pip_box(t, np.ones(t.shape[0], bool))
    assert box is not None
    # Seeds 0-59 x corners x sides x margins (1,440 cases): 1,339 exact, 100 one pixel off, 1 two pixels
    # off (seed 1, top left, side 16: an 18 x 17 box); the search reads each box +-1 pixel (pip_jitter).
    assert abs(box[0] * S - x) <= 1 and abs(box[1] * S - y) <= 1 and abs(box[2] * S - side) <= 2, (box, x, y, side)


def test_pip_regions_search_a_window_box_around_its_windows_only() -> None:
    """A box found in windows of the video is searched on those windows (widened by half a window), the
    whole video's box on every sample; ``pip_boxes`` are the regions' boxes."""
    rng = np.random.default_rng(5)
    t = _video(rng, 200, 11)
    t[80:130] = _pip(6, 4, 6, 18, n=50)
    regions = pip_regions(t, np.ones(t.shape[0], bool), most=4)
    hit = [(lo, hi) for b, lo, hi in regions if abs(b[0] * S - 4) <= 2 and abs(b[1] * S - 6) <= 2]
    assert hit and all(lo <= 80 and hi >= 130 and hi - lo < 200 for lo, hi in hit), regions
    assert pip_boxes(t, np.ones(t.shape[0], bool), most=4) == [b for b, _, _ in regions]


def test_pip_boxes_is_total_on_short_and_blank_input() -> None:
    for n in (0, 1, 5, 40):
        assert pip_boxes(np.zeros((n, S, S), np.uint8), np.ones(n, bool), most=4) == []


def _title_cards(n: int, pad: tuple[int, int]) -> np.ndarray:
    """Title cards (two lines of text over a vertical gradient, a new card every 12 samples, drawn at 4x
    and box-filtered like a working picture) in a pillarbox of constant luma ``pad[0]``, ``pad[1]``
    columns wide each side: ``[n, 96, 96]``."""
    level, side = pad
    big, small = (ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", k) for k in (72, 48))
    out = np.full((n, 96, 96), level, np.uint8)
    rng = np.random.default_rng(3)
    w = 96 - 2 * side
    for i in range(n):
        if i % 12 == 0:
            top, bottom = rng.integers(20, 235, 2)
            card = Image.fromarray(np.linspace(top, bottom, 384)[:, None].repeat(4 * w, 1).astype(np.uint8))
            d = ImageDraw.Draw(card)
            d.text((8, 110), "".join(rng.choice(list("ABCDEFGHKLMN"), 5)), fill=int(255 - top), font=big)
            d.text((24, 166), "".join(rng.choice(list("abcdefghk "), 9)), fill=int(255 - top), font=small)
            pic = np.asarray(card.resize((w, 96), Image.Resampling.BOX))
        out[i, :, side : 96 - side] = pic
    return out


def test_title_cards_in_a_coloured_pillarbox_keep_their_height() -> None:
    """Smooth content above and below a centred line of text is no blurred surround: cutting it would
    leave a 4:1 band (what ``sharp_band`` alone does); the padding columns are still cut."""
    pics = _title_cards(48, (150, 12))
    x0, y0, x1, y1 = active_box(pics, frame_aspect=16 / 9)
    assert (y0, y1) == (0, 96) and abs(x0 - 12) <= 1 and abs(x1 - 84) <= 1, (x0, y0, x1, y1)
