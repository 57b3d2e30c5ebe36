"""Property tests: alignment, verification and search are total functions with well-formed results.

Random similarity matrices, timelines (including duplicate timestamps and single samples), validity
masks and random fingerprints (random or constant thumbnails, random codes and code geometry) must
never raise, and every result must be a consistent set of segments.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvod.analyzers.dna import temporal
from openvod.analyzers.dna.align import AlignParams, RegionDescriptors, Segment, Transform, hit_transforms
from openvod.analyzers.dna.refine import COARSE, _neighbours, _scores
from openvod.analyzers.dna.segments import find_all_segments
from openvod.analyzers.dna.temporal import find_segments
from openvod.analyzers.dna.fingerprint import Fingerprint
from openvod.analyzers.dna.index import CodeIndex
from openvod.analyzers.dna.search import MatchParams, compare, search, segment_symmetry, verify

P = AlignParams()
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def timeline(draw: st.DrawFn, max_n: int = 80) -> np.ndarray:
    n = draw(st.integers(0, max_n))
    kind = draw(st.sampled_from(["regular", "jitter", "dups"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    if kind == "regular":
        steps = np.full(n, 0.25)
    elif kind == "jitter":  # variable frame rate
        steps = rng.uniform(0.05, 1.5, n)
    else:  # duplicate and near-duplicate timestamps
        steps = rng.choice([0.0, 1e-3, 0.25], n)
    t = np.cumsum(steps) - (steps[0] if n else 0.0)
    return t.astype(np.float32)


@st.composite
def matrices(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tq, tr = draw(timeline()), draw(timeline())
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    kind = draw(st.sampled_from(["noise", "constant", "lines", "nan", "extreme"]))
    nq, nr = tq.size, tr.size
    if kind == "constant":
        sim = np.full((nq, nr), draw(st.sampled_from([0.0, 0.5, 0.99, 1.0, -1.0])), np.float32)
    elif kind == "extreme":
        sim = rng.choice(np.array([-1.0, 0.0, 1.0], np.float32), (nq, nr))
    else:
        sim = rng.uniform(-0.3, 0.5, (nq, nr)).astype(np.float32)
    if kind in ("lines", "nan") and nq and nr:
        for _ in range(int(rng.integers(1, 4))):  # copied pieces: straight lines of high similarity
            a = float(np.exp(rng.uniform(-0.8, 0.8)))
            b = float(rng.uniform(-10, 10))
            expect = a * tq + b
            j = np.clip(np.searchsorted(tr, expect), 0, nr - 1)
            rows = np.nonzero((expect >= 0) & (expect <= (tr[-1] if nr else 0)) & (rng.random(nq) < 0.9))[0]
            sim[rows, j[rows]] = rng.uniform(0.6, 1.0, rows.size)
    if kind == "nan" and sim.size:
        sim[rng.random(sim.shape) < 0.05] = np.nan
    qv = rng.random(nq) < draw(st.sampled_from([0.0, 0.5, 1.0]))
    rv = rng.random(nr) < draw(st.sampled_from([0.5, 1.0]))
    return sim, tq, tr, qv, rv


def check_segments(segs: list[Segment], q_dur: float, r_dur: float, p: AlignParams = P) -> None:
    assert isinstance(segs, list)
    assert len(segs) <= p.max_segments
    for s in segs:
        for v in (s.q0, s.q1, s.r0, s.r1, s.similarity, s.slope):
            assert math.isfinite(v), s
        assert -1e-6 <= s.q0 < s.q1 <= q_dur + 1e-4, s
        assert -1e-6 <= s.r0 <= s.r1 <= r_dur + 1e-4, s
        assert s.q1 - s.q0 >= p.min_segment_s - 1e-6
        assert p.min_slope - 1e-9 <= s.slope <= p.max_slope + 1e-9
        assert -1.0 - 1e-5 <= s.similarity <= 1.0 + 1e-5
    spans = sorted((s.q0, s.q1) for s in segs)  # one library moment per query moment
    for (a0, a1), (b0, b1) in zip(spans, spans[1:], strict=False):
        assert b0 >= a1 - 1e-6


@SETTINGS
@given(matrices())
def test_find_segments_is_total(m: tuple[np.ndarray, ...]) -> None:
    sim, tq, tr, qv, rv = m
    q_dur = float(tq[-1]) + 0.25 if tq.size else 0.25
    r_dur = float(tr[-1]) + 0.25 if tr.size else 0.25
    segs = find_segments(sim, tq, tr, q_dur, r_dur, P, qv, rv)
    check_segments(segs, q_dur, r_dur)
    both = find_all_segments(sim, tq, tr, q_dur, r_dur, P, qv, rv)  # forwards, backwards, joined
    check_segments(both, q_dur, r_dur)
    assert all(s.speed < 0 for s in both if s.reversed) and all(s.speed > 0 for s in both if not s.reversed)


@SETTINGS
@given(st.integers(0, 2**31), st.floats(0.5, 2.0), st.booleans())
def test_a_planted_line_is_found_with_its_speed_and_direction(seed: int, speed: float, backwards: bool) -> None:
    """A clean copy (a line of high similarity over a noisy matrix) comes back as one segment."""
    rng = np.random.default_rng(seed)
    tq = np.arange(0, 12, 0.25)
    tr = np.arange(0, 40, 0.25)
    sim = rng.uniform(-0.2, 0.3, (tq.size, tr.size)).astype(np.float32)
    r0 = float(rng.uniform(0, 40 - 12 * speed - 0.5))
    for i, t in enumerate(tq):
        rt = r0 + ((tq[-1] - t) if backwards else t) * speed
        sim[i, int(np.argmin(np.abs(tr - rt)))] = 0.95
    segs = find_all_segments(sim, tq, tr, 12.0, 40.0, P)
    check_segments(segs, 12.0, 40.0)
    assert len(segs) == 1, segs
    s = segs[0]
    assert s.reversed == backwards and abs(abs(s.speed) / speed - 1) < 0.05, s
    assert s.q1 - s.q0 > 10.5 and abs(s.r0 - r0) < 1.0, s


@SETTINGS
@given(matrices(), st.data())
def test_pieces_is_total(m: tuple[np.ndarray, ...], data: st.DataObject) -> None:
    """The run splitter on any run, including runs where no sample has a distinctive match."""
    sim, tq, tr, _, _ = m
    sim = np.nan_to_num(sim)
    nq = tq.size
    if nq == 0 or tr.size == 0:
        return
    idx = np.array(sorted(data.draw(st.sets(st.integers(0, nq - 1), max_size=nq))), np.int64)
    a = data.draw(st.floats(P.min_slope, P.max_slope))
    b = data.draw(st.floats(-20, 20))
    pieces = temporal._pieces(sim, tq.astype(np.float64), tr.astype(np.float64), idx, a, b, P)
    seen = np.concatenate([pc for pc, _, _ in pieces]) if pieces else np.zeros(0, np.int64)
    assert np.array_equal(np.sort(seen), idx)  # every sample of the run lands in exactly one piece
    for _, pa, pb in pieces:
        assert math.isfinite(pa) and math.isfinite(pb)


def test_pieces_with_no_distinctive_sample() -> None:
    """The reported crash: a long run over a still shot (every row flat), no sample distinctive."""
    tq = np.arange(60, dtype=np.float64) * 0.25
    tr = np.arange(80, dtype=np.float64) * 0.25
    sim = np.full((60, 80), 0.9, np.float32)
    pieces = temporal._pieces(sim, tq, tr, np.arange(60), 1.0, 2.0, P)
    assert len(pieces) == 1 and pieces[0][0].size == 60


# ----------------------------------------------------------------------------- fingerprints and search
def random_fp(rng: np.random.Generator, n: int, kind: str, codes_per: int = 4) -> Fingerprint:
    t = np.cumsum(rng.choice([0.25, 0.25, 0.2, 0.5], n)).astype(np.float32) - 0.25
    if kind == "flat":
        thumbs = np.full((n, 32, 32), int(rng.integers(0, 256)), np.uint8)
    elif kind == "noise":
        thumbs = rng.integers(0, 256, (n, 32, 32)).astype(np.uint8)
    else:  # smooth, structured pictures that drift slowly (a pan)
        base = rng.integers(0, 256, (6, 6)).astype(np.float32)
        yy, xx = np.mgrid[0:32, 0:32] / 32.0
        thumbs = np.empty((n, 32, 32), np.uint8)
        for i in range(n):
            u = (xx * 5 + i * 0.05) % 5
            v = (yy * 5) % 5
            thumbs[i] = np.clip(base[v.astype(int), u.astype(int)], 0, 255).astype(np.uint8)
    flat = thumbs.reshape(n, -1).std(axis=1) < 6.0
    m = int(rng.integers(0, codes_per * n + 1)) if kind != "flat" else 0
    code_frame = np.sort(rng.integers(0, max(n, 1), m)).astype(np.int32)
    r = rng.uniform(0.05, 0.5, m)
    hw = np.where(rng.random(m) < 0.3, r * rng.uniform(0.15, 2.5, m), r)  # some windows not square: bands, halves
    geom = np.stack([rng.uniform(r, 1 - r), rng.uniform(r, 1 - r), hw, r], axis=1).astype(np.float32) if m else np.zeros((0, 4), np.float32)
    codes = rng.integers(0, 256, (m, 8)).astype(np.uint8)
    return Fingerprint(times=t, thumbs=thumbs, flat=flat, code_frame=code_frame, code_geom=geom, codes=codes,
                       codes_flip=codes[:, ::-1].copy(), duration=float(t[-1]) + 0.25 if n else 0.25,
                       width=320, height=180, box=(0.0, 0.0, 1.0, 1.0))


def related(rng: np.random.Generator, r: Fingerprint, start: int, length: int) -> Fingerprint:
    """A query that shares a piece of ``r``'s samples (and their codes), so the real paths are exercised."""
    end = min(r.n, start + max(1, length))
    sel = np.arange(start, end)
    keep = (r.code_frame >= start) & (r.code_frame < end)
    t = (r.times[sel] - r.times[start]).astype(np.float32)
    thumbs = np.clip(r.thumbs[sel].astype(np.int16) + rng.integers(-3, 4, r.thumbs[sel].shape), 0, 255).astype(np.uint8)
    return Fingerprint(times=t, thumbs=thumbs, flat=r.flat[sel].copy(), code_frame=(r.code_frame[keep] - start).astype(np.int32),
                       code_geom=r.code_geom[keep].copy(), codes=r.codes[keep].copy(), codes_flip=r.codes_flip[keep].copy(),
                       duration=float(t[-1]) + 0.25, width=r.width, height=r.height, box=r.box)


def check_match(m: object, q: Fingerprint, r: Fingerprint) -> None:
    if m is None:
        return
    assert 0.0 <= m.similarity <= 1.0  # type: ignore[attr-defined]
    assert m.segments  # type: ignore[attr-defined]
    check_segments(m.segments, q.duration, r.duration)  # type: ignore[attr-defined]


@SETTINGS
@given(st.integers(0, 2**31), st.integers(1, 60), st.integers(1, 60),
       st.sampled_from(["flat", "noise", "smooth"]), st.sampled_from(["flat", "noise", "smooth", "related"]))
def test_compare_is_total(seed: int, nq: int, nr: int, rk: str, qk: str) -> None:
    rng = np.random.default_rng(seed)
    r = random_fp(rng, nr, rk)
    q = related(rng, r, int(rng.integers(0, nr)), nq) if qk == "related" else random_fp(rng, nq, qk)
    check_match(compare(q, r), q, r)
    check_match(compare(r, q), r, q)


@SETTINGS
@given(st.integers(0, 2**31), st.integers(1, 40), st.integers(1, 40))
def test_verify_with_random_hits_is_total(seed: int, nq: int, nr: int) -> None:
    """Hits that are pure noise (any query code against any library code, flipped or not)."""
    rng = np.random.default_rng(seed)
    q, r = random_fp(rng, nq, "smooth"), random_fp(rng, nr, "smooth")
    h = int(rng.integers(0, 200))
    if q.codes.shape[0] == 0 or r.codes.shape[0] == 0:
        h = 0
    hits = np.stack([rng.integers(0, max(q.codes.shape[0], 1), h), rng.integers(0, 2, h),
                     rng.integers(0, max(r.codes.shape[0], 1), h)], axis=1).astype(np.int64).reshape(-1, 3)
    for t, members in hit_transforms(q, r, hits, P):
        assert t.sx > 0 and members.size > 0 and math.isfinite(t.tx)
    check_match(verify(q, r, hits, MatchParams()), q, r)


@SETTINGS
@given(st.integers(0, 2**31), st.integers(0, 3), st.integers(1, 50))
def test_search_is_total_for_libraries_of_any_size(seed: int, n_lib: int, nq: int) -> None:
    """Libraries of 0, 1 and a few videos (some flat, some without codes); queries related or not."""
    rng = np.random.default_rng(seed)
    lib = {i: (f"v{i}", random_fp(rng, int(rng.integers(1, 60)), str(rng.choice(["flat", "noise", "smooth"])))) for i in range(n_lib)}
    index = CodeIndex()
    for i, (_, fp) in lib.items():
        index.add(i, fp.codes)
    if lib and rng.random() < 0.6:
        r = lib[int(rng.integers(0, n_lib))][1]
        q = related(rng, r, int(rng.integers(0, r.n)), nq)
    else:
        q = random_fp(rng, nq, str(rng.choice(["flat", "noise", "smooth"])))
    out = search(q, index, lambda v: lib.get(v), MatchParams(), exclude=[0] if rng.random() < 0.2 else [])
    keys = [m.key for m in out]
    assert len(keys) == len(set(keys))
    for m in out:
        check_match(m, q, lib[int(m.key[1:])][1])
    sims = [round(m.similarity, 2) for m in out]
    assert sims == sorted(sims, reverse=True)


@SETTINGS
@given(matrices(), st.floats(-5, 60), st.floats(0.0, 30), st.floats(0.3, 3.0), st.booleans())
def test_segment_symmetry_is_total_and_a_share(m: tuple[np.ndarray, ...], q0: float, length: float, slope: float,
                                               backwards: bool) -> None:
    sim, tq, tr, qv, rv = m
    desc = RegionDescriptors(np.zeros((tq.size, 1), np.float32), np.zeros((tr.size, 1), np.float32), qv, rv)
    s = Segment(q0, q0 + length, q0 * slope, (q0 + length) * slope, 0.9, slope, reversed=backwards)
    v = segment_symmetry(s, sim, desc, tq, tr, 0.1)
    assert 0.0 <= v <= 1.0


@SETTINGS
@given(st.integers(0, 2**31), st.floats(0.5, 2.0), st.booleans())
def test_a_planted_copy_is_symmetric_and_a_look_alike_is_not(seed: int, speed: float, backwards: bool) -> None:
    """Along a planted copy line every library sample is best matched on the line (1.0); when those
    library samples match other query moments better (look-alike footage), the share drops."""
    rng = np.random.default_rng(seed)
    tq = np.arange(0, 12, 0.25)
    tr = np.arange(0, 40, 0.25)
    sim = rng.uniform(-0.2, 0.3, (tq.size, tr.size)).astype(np.float32)
    r0 = float(rng.uniform(0, 40 - 12 * speed - 0.5))
    for i, t in enumerate(tq):  # the line, nearest library sample per query sample ...
        rt = r0 + ((12.0 - t) if backwards else t) * speed
        sim[i, int(np.argmin(np.abs(tr - rt)))] = 0.8
    for j in np.nonzero((tr >= r0) & (tr <= r0 + tq[-1] * speed))[0]:  # ... and nearest query sample per library sample
        qt = (tr[j] - r0) / speed
        sim[int(np.argmin(np.abs(tq - ((12.0 - qt) if backwards else qt)))), j] = 0.8
    ones = np.ones(tq.size, bool), np.ones(tr.size, bool)
    desc = RegionDescriptors(np.zeros((tq.size, 1), np.float32), np.zeros((tr.size, 1), np.float32), *ones)
    s = Segment(0.0, 12.0, r0, r0 + 12 * speed, 0.95, speed, reversed=backwards)
    assert segment_symmetry(s, sim, desc, tq, tr, 0.1) > 0.9
    cols = np.nonzero((tr >= r0) & (tr <= r0 + 12 * speed))[0]
    sim[int(rng.integers(0, tq.size)), cols] = 1.0  # one query moment matches every library moment much better
    assert segment_symmetry(s, sim, desc, tq, tr, 0.1) < 0.5


def test_verify_ignores_hits_on_code_rows_a_fingerprint_does_not_have() -> None:
    """An index older than the stored fingerprint can name code rows that no longer exist (the 10k
    latency benchmark's synthetic rows did exactly that): verify finishes, it does not raise."""
    rng = np.random.default_rng(3)
    q, r = random_fp(rng, 40, "noise"), random_fp(rng, 60, "noise")
    bad = np.array([[0, 0, r.codes.shape[0] + 5], [q.codes.shape[0] + 2, 0, 0], [-1, 1, 0]], np.int64)
    good = np.stack([np.arange(min(q.codes.shape[0], r.codes.shape[0])), np.zeros(min(q.codes.shape[0], r.codes.shape[0]), np.int64),
                     np.arange(min(q.codes.shape[0], r.codes.shape[0]))], axis=1).astype(np.int64)
    for hits in (bad, np.concatenate([good, bad])):
        m = verify(q, r, hits, MatchParams())
        assert m is None or all(0.0 <= s.q0 <= s.q1 for s in m.segments)


@SETTINGS
@given(st.integers(0, 2**31), st.integers(1, 30), st.integers(1, 30), st.integers(1, 12), st.booleans(), st.sampled_from([None, COARSE]))
def test_refinement_scores_a_batch_as_it_scores_each_candidate(seed: int, nq: int, nr: int, m: int, flip: bool,
                                                               level: tuple[int, int, float, int] | None) -> None:
    """``refine._scores`` reads each distinct box of a batch once; every candidate still gets the score it
    gets alone (repeated, shared-side and inadmissible candidates included)."""
    rng = np.random.default_rng(seed)
    q, r = random_fp(rng, nq, "smooth"), random_fp(rng, nr, "noise")
    qf, rf = rng.integers(0, nq, m), rng.integers(0, nr, m)
    base = [Transform(flip, s, s, float(x), float(y)) for s, x, y in zip(rng.choice([0.5, 0.7, 1.0, 1.3, 3.0], 4),
                                                                          rng.uniform(-0.4, 0.5, 4), rng.uniform(-0.4, 0.5, 4), strict=True)]
    cands = [*base, base[0], *(c for t in base[:2] for c in _neighbours(t, 0.03))]
    batch = _scores(q, r, cands, qf, rf, P, level)
    alone = np.array([_scores(q, r, [c], qf, rf, P, level)[0] for c in cands])
    np.testing.assert_allclose(batch, alone, rtol=0, atol=1e-6)
