"""xval suite generator: python generate.py OUTDIR [--seed 2612]. Writes OUTDIR/lib/*.mp4, OUTDIR/q/*.mp4,
OUTDIR/manifest.json (same manifest format as bench/dna so bench/dna/score.py can score it)."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import av
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

sys.path.insert(0, str(Path(__file__).parent))
import content as C  # noqa: E402

W, H, FPS = C.W, C.H, 25
SEED = 2612


@dataclass
class Video:
    shots: list[tuple[float, float, C.Frame, str]] = field(default_factory=list)  # start, dur, fn, tag

    @property
    def duration(self) -> float:
        return self.shots[-1][0] + self.shots[-1][1] if self.shots else 0.0

    def add(self, dur: float, fn: C.Frame, tag: str) -> None:
        self.shots.append((self.duration, dur, fn, tag))

    def frame(self, t: float) -> np.ndarray:
        t = min(max(t, 0.0), self.duration - 1e-3)
        for s, d, fn, _ in self.shots:
            if s <= t < s + d:
                return fn(t - s)
        return self.shots[-1][2](self.shots[-1][1] - 1e-3)


def encode(path: Path, frames, fps: float, size: tuple[int, int], bitrate: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=int(fps) if float(fps).is_integer() else fps)
        st.width, st.height = size
        st.pix_fmt = "yuv420p"
        if bitrate:
            st.bit_rate = bitrate
            st.options = {"preset": "veryfast"}
        else:
            st.options = {"preset": "veryfast", "crf": "23"}
        for arr in frames:
            for p in st.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)


def make_shot(kind: str, rng: np.random.Generator) -> C.Frame:
    if kind == "photo":
        return C.photo_pan(rng, C.PHOTOS[int(rng.integers(0, 2))])
    if kind == "scene":
        return C.scene_pan(rng)
    if kind == "fast":
        return C.fast_motion(rng)
    if kind == "plasma":
        return C.plasma(rng)
    if kind == "noise":
        return C.noise_flow(rng)
    if kind == "julia":
        return C.julia(rng)
    if kind == "code":
        return C.text_scroll(rng, "mono")
    if kind == "cjk":
        return C.text_scroll(rng, "cjk")
    if kind == "cjkserif":
        return C.text_scroll(rng, "cjkserif")
    if kind == "slide":
        return C.slide(rng, "serif", ["Quarterly Review", "Roadmap 2027", "Thank you", "Q & A"][int(rng.integers(0, 4))])
    raise ValueError(kind)


LIB_MIX = [  # per library video: shot kinds to draw from, target duration
    (["photo", "scene"], 32), (["fast"], 24), (["plasma", "noise"], 28), (["code"], 30), (["cjk", "cjkserif", "slide"], 26),
    (["julia", "plasma"], 24), (["scene", "fast", "noise"], 36), (["photo", "code", "fast"], 30),
    (["scene", "fast"], 22), (["plasma", "photo"], 22),
]
BUMPER = C.bumper("NOVA TV", (20, 30, 90), (250, 200, 40))
BUMPER_S = 3.0


def build_library(rng: np.random.Generator) -> list[Video]:
    lib = []
    for i, (kinds, dur) in enumerate(LIB_MIX):
        v = Video()
        if i >= 8:
            v.add(BUMPER_S, BUMPER, "bumper")
        end = dur - (BUMPER_S if i >= 8 else 0)
        while v.duration < end - 1.0:
            d = float(min(rng.uniform(2, 8), max(2.0, end - v.duration)))
            k = kinds[int(rng.integers(0, len(kinds)))]
            v.add(d, make_shot(k, rng), k)
        if i >= 8:
            v.add(BUMPER_S, BUMPER, "bumper")
        lib.append(v)
    return lib


# ---- spatial transforms: (frame, tq) -> frame ----
Spatial = Callable[[np.ndarray, float], np.ndarray]


def resize(a: np.ndarray, w: int, h: int) -> np.ndarray:
    return np.asarray(Image.fromarray(a).resize((w, h), Image.BILINEAR))


def crop_scale(fx: float, fy: float, cx: float, cy: float, out=(W, H)) -> Spatial:
    def f(a, t):
        w, h = int(W * fx), int(H * fy)
        x0, y0 = int((W - w) * cx), int((H - h) * cy)
        return resize(a[y0:y0 + h, x0:x0 + w], *out)
    return f


def letterbox(a, t):
    out = np.zeros((H, W, 3), np.uint8)
    out[30:150] = resize(a, W, 120)
    return out


def pillarbox(a, t):
    out = np.zeros((H, W, 3), np.uint8)
    out[:, 60:260] = resize(a, 200, H)
    return out


def vertical_blur(a, t):
    ow, oh = 180, 320
    bg = resize(a, int(W * oh / H), oh)
    x0 = (bg.shape[1] - ow) // 2
    bg = np.asarray(Image.fromarray(bg[:, x0:x0 + ow]).filter(ImageFilter.GaussianBlur(10)))
    fg = resize(a, ow, int(H * ow / W) // 2 * 2)
    out = bg.copy()
    y0 = (oh - fg.shape[0]) // 2
    out[y0:y0 + fg.shape[0]] = fg
    return out


def pip(background: C.Frame, area: float, corner: tuple[float, float]) -> Spatial:
    def f(a, t):
        out = background(t).copy()
        s = math.sqrt(area)
        w, h = int(W * s) // 2 * 2, int(H * s) // 2 * 2
        x0, y0 = int((W - w - 8) * corner[0]) + 4, int((H - h - 8) * corner[1]) + 4
        out[y0:y0 + h, x0:x0 + w] = resize(a, w, h)
        out[y0 - 2:y0, x0:x0 + w] = 255
        return out
    return f


def colour_grade(a, t):
    im = ImageEnhance.Contrast(Image.fromarray(a)).enhance(1.3)
    im = ImageEnhance.Color(im).enhance(0.6)
    arr = np.asarray(im).astype(np.float32)
    return np.clip(255 * (arr / 255) ** 0.8 + 10, 0, 255).astype(np.uint8)


def caption(text: str) -> Spatial:
    fnt = ImageFont.truetype(C.FONTS["cjk"], 16)

    def f(a, t):
        im = Image.fromarray(a)
        d = ImageDraw.Draw(im)
        d.rectangle([0, a.shape[0] - 26, a.shape[1], a.shape[0]], fill=(0, 0, 0))
        d.text((8, a.shape[0] - 24), text, font=fnt, fill=(255, 255, 0))
        d.text((a.shape[1] - 60, 6), "@xval", font=fnt, fill=(255, 255, 255))
        return np.asarray(im)
    return f


def chain(*fs: Spatial) -> Spatial:
    def f(a, t):
        for g in fs:
            a = g(a, t)
        return a
    return f


IDENT: Spatial = lambda a, t: a  # noqa: E731
HFLIP: Spatial = lambda a, t: a[:, ::-1]  # noqa: E731
VFLIP: Spatial = lambda a, t: a[::-1]  # noqa: E731
ROT90: Spatial = lambda a, t: np.rot90(a, 1)  # noqa: E731  (counter-clockwise)
ROT270: Spatial = lambda a, t: np.rot90(a, 3)  # noqa: E731


@dataclass
class Piece:
    dur_q: float  # seconds on the query timeline
    src: C.Frame  # source frame function
    ref: int | None = None  # library index or None (filler)
    r0: float = 0.0
    speed: float = 1.0
    rev: bool = False


def render_query(pieces: list[Piece], spatial: Spatial, fps: float):
    gt = []
    total = sum(p.dur_q for p in pieces)
    n = int(round(total * fps))
    bounds = np.cumsum([0.0] + [p.dur_q for p in pieces])

    def frames():
        for k in range(n):
            t = k / fps
            i = min(int(np.searchsorted(bounds, t, side="right")) - 1, len(pieces) - 1)
            p = pieces[i]
            u = t - bounds[i]
            rt = p.r0 + p.speed * ((p.dur_q - u) if p.rev else u)
            yield spatial(p.src(rt), t)
    for i, p in enumerate(pieces):
        if p.ref is not None:
            gt.append({"ref": p.ref, "q": [round(bounds[i], 3), round(bounds[i + 1], 3)],
                       "r": [round(p.r0, 3), round(p.r0 + p.speed * p.dur_q, 3)]})
    return frames(), gt, n


def main() -> int:
    out = Path(sys.argv[1])
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else SEED
    rng = np.random.default_rng(seed)
    lib = build_library(rng)
    lib_ids = [f"L{i:02d}" for i in range(len(lib))]
    manifest = {"seed": seed, "library": [], "queries": []}
    for i, v in enumerate(lib):
        f = out / "lib" / f"{lib_ids[i]}.mp4"
        if not f.exists():
            encode(f, (v.frame(k / FPS) for k in range(int(v.duration * FPS))), FPS, (W, H))
        manifest["library"].append({"id": lib_ids[i], "file": f"lib/{lib_ids[i]}.mp4", "duration": round(v.duration, 3),
                                    "shots": [[round(s, 2), round(d, 2), tag] for s, d, _, tag in v.shots]})
        print("lib", lib_ids[i], round(v.duration, 1), [tag for *_, tag in v.shots], flush=True)

    frng = np.random.default_rng(seed + 777)  # filler footage: never in the library

    def filler(kind: str | None = None) -> C.Frame:
        k = kind or ["scene", "fast", "noise", "photo"][int(frng.integers(0, 4))]
        return make_shot(k, frng)

    def lp(i: int, r0: float | None, dur: float, speed: float = 1.0, rev: bool = False) -> Piece:
        v = lib[i]
        dur = min(dur, v.duration / speed)
        span = dur * speed
        if r0 is None:
            r0 = float(rng.uniform(0, max(0.0, v.duration - span)))
        r0 = min(r0, v.duration - span)
        return Piece(dur, v.frame, i, r0, speed, rev)

    Q: list[tuple[str, list[Piece], Spatial, float, int | None, tuple[int, int]]] = []

    def q(cls, pieces, spatial=IDENT, fps=FPS, bitrate=None, size=(W, H)):
        Q.append((cls, pieces, spatial, fps, bitrate, size))

    L = len(lib)
    pick = lambda: int(rng.integers(0, 8))  # noqa: E731  (0..7: no bumper family unless asked)
    q("reencode_lowbr", [lp(pick(), None, 12)], bitrate=60_000)
    q("reencode_lowbr", [lp(8, 0.0, 14)], bitrate=45_000, spatial=lambda a, t: resize(a, 192, 108), size=(192, 108))
    q("crop_scale", [lp(pick(), None, 12)], crop_scale(0.7, 0.75, 0.3, 0.6))
    q("crop_scale", [lp(pick(), None, 10)], crop_scale(0.8, 0.8, 0.5, 0.5, out=(480, 270)), size=(480, 270))
    q("letterbox", [lp(pick(), None, 12)], letterbox)
    q("pillarbox", [lp(pick(), None, 12)], pillarbox)
    q("vertical_blur", [lp(pick(), None, 12)], vertical_blur, size=(180, 320))
    q("vertical_blur", [lp(pick(), None, 10)], vertical_blur, size=(180, 320))
    q("pip", [lp(pick(), None, 12)], pip(filler("fast"), 0.30, (0.95, 0.05)))
    q("pip", [lp(pick(), None, 12)], pip(filler("scene"), 0.38, (0.05, 0.9)))
    q("hflip", [lp(pick(), None, 12)], HFLIP)
    q("hflip", [lp(pick(), None, 12)], HFLIP)
    q("vflip", [lp(pick(), None, 12)], VFLIP)
    q("rotate90", [lp(pick(), None, 10)], ROT90, size=(H, W))
    q("rotate270", [lp(pick(), None, 10)], ROT270, size=(H, W))
    q("speed", [lp(pick(), None, 16, speed=0.5)])
    q("speed", [lp(pick(), None, 10, speed=1.5)])
    q("speed", [lp(pick(), None, 8, speed=2.0)])
    q("reversed", [lp(pick(), None, 12, rev=True)])
    q("reversed", [lp(pick(), None, 10, rev=True)])
    q("fps", [lp(pick(), None, 12)], fps=12)
    q("fps", [lp(pick(), None, 10)], fps=60)
    for dur in (3.0, 3.5, 4.0):
        a = float(rng.uniform(4, 26 - dur))
        q("embed_short", [Piece(a, filler()), lp(pick(), None, dur), Piece(30 - a - dur, filler())])
    q("whole_dup", [lp(pick(), 0.0, 1e9)])
    q("whole_dup", [lp(9, 0.0, 1e9)])
    i, j = rng.choice(8, 2, replace=False)
    q("splice", [lp(int(i), None, 7), lp(int(j), None, 8)])
    i, j = rng.choice(8, 2, replace=False)
    q("splice", [Piece(3, filler()), lp(int(i), None, 6), lp(int(j), None, 6, speed=1.25)])
    q("combo3", [lp(pick(), None, 12)], chain(crop_scale(0.85, 0.85, 0.4, 0.5), HFLIP, colour_grade))
    q("combo3", [lp(pick(), None, 10, speed=1.5)], letterbox, bitrate=70_000)
    q("combo3", [lp(pick(), None, 12)], chain(pillarbox, colour_grade, caption("字幕：这是转载视频")), fps=15)
    # negatives: look-alikes, never copies
    nrng = np.random.default_rng(seed + 999)
    neg = [
        ("same bumper template, other title/colours + other middle",
         [Piece(3, C.bumper("NOVA TV+", (90, 20, 30), (40, 200, 250))), Piece(10, make_shot("scene", nrng)),
          Piece(3, C.bumper("NOVA TV+", (90, 20, 30), (40, 200, 250)))]),
        ("julia fractal, other c", [Piece(12, C.julia(nrng, complex(-0.70, 0.27)))]),
        ("plasma family, other params", [Piece(6, C.plasma(nrng)), Piece(6, C.plasma(nrng))]),
        ("black + colour bars + black", [Piece(3, C.black(nrng)), Piece(6, C.colour_bars(nrng)), Piece(3, C.black(nrng))]),
        ("code scroll, same font/template, other text order", [Piece(12, C.text_scroll(nrng, "mono"))]),
        ("cjk scroll, other text order", [Piece(12, C.text_scroll(nrng, "cjk"))]),
        ("noise field family, other seed", [Piece(12, C.noise_flow(nrng))]),
        ("other pan over the same photograph", [Piece(12, C.photo_pan(nrng, C.PHOTOS[0]))]),
    ]
    for desc, pieces in neg:
        Q.append(("negative", pieces, IDENT, FPS, None, (W, H)))
        Q[-1] = Q[-1] + (desc,)  # type: ignore[assignment]

    # probes (added after a first look, own rng so the 40 above are unchanged): the same classes on
    # content that is neither smooth (noise/plasma) nor a pan over a photograph shared by several library videos
    prng = np.random.default_rng(seed + 555)
    rng = prng  # lp() draws r0 from rng
    q("rotate90", [lp(3, None, 10)], ROT90, size=(H, W))
    q("rotate90", [lp(1, None, 10)], ROT90, size=(H, W))
    q("vflip", [lp(1, None, 12)], VFLIP)
    q("vflip", [lp(3, None, 12)], VFLIP)
    q("speed", [lp(1, None, 16, speed=0.5)])
    q("speed", [lp(3, None, 16, speed=0.5)])
    q("crop_scale", [lp(1, None, 10)], crop_scale(0.8, 0.8, 0.5, 0.5, out=(480, 270)), size=(480, 270))
    q("crop_scale", [lp(4, None, 10)], crop_scale(0.8, 0.8, 0.5, 0.5, out=(480, 270)), size=(480, 270))
    for i in (1, 3):
        a = float(prng.uniform(4, 22))
        q("embed_short", [Piece(a, filler()), lp(i, None, 4.0), Piece(26 - a, filler())])
    for n, item in enumerate(Q):
        cls, pieces, spatial, fps, bitrate, size = item[:6]
        qid = f"Q{n:02d}-{cls}"
        frames, gt, nfr = render_query(pieces, spatial, fps)
        # shared bumper: the query copies pixels that exist identically in L08 and L09 -> both are ground truth
        extra = []
        for g in gt:
            for other in ((8, 9) if g["ref"] in (8, 9) else ()):
                for (bs, be), (os_, oe) in _bumper_pairs(lib[g["ref"]], lib[other]):
                    if other == g["ref"] and bs == os_:
                        continue
                    r0, r1 = sorted(g["r"])
                    lo, hi = max(r0, bs), min(r1, be)
                    if hi - lo > 0.5:
                        p = next(pp for pp in pieces if pp.ref == g["ref"])
                        q0 = g["q"][0] + (lo - p.r0) / p.speed
                        q1 = g["q"][0] + (hi - p.r0) / p.speed
                        extra.append({"ref": other, "q": [round(q0, 3), round(q1, 3)],
                                      "r": [round(os_ + lo - bs, 3), round(os_ + hi - bs, 3)], "shared_bumper": True})
        gt += extra
        for g in gt:
            g["ref"] = lib_ids[g["ref"]]
        f = out / "q" / f"{qid}.mp4"
        if not f.exists():
            encode(f, frames, fps, size, bitrate)
        entry = {"id": qid, "class": cls, "file": f"q/{qid}.mp4", "duration": round(nfr / fps, 3), "gt": gt,
                 "speed": [p.speed * (-1 if p.rev else 1) for p in pieces if p.ref is not None]}
        if len(item) > 6:
            entry["desc"] = item[6]
        manifest["queries"].append(entry)
        print(qid, entry["duration"], gt, flush=True)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return 0


def _bumper_pairs(a: Video, b: Video):
    ab = [(s, s + d) for s, d, _, tag in a.shots if tag == "bumper"]
    bb = [(s, s + d) for s, d, _, tag in b.shots if tag == "bumper"]
    return [(x, y) for x in ab for y in bb]


if __name__ == "__main__":
    raise SystemExit(main())
