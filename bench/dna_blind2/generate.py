"""Generate the second blind DNA suite (library + queries + manifest.json with VCSL ground-truth boxes).

    PYTHONPATH=src:. python bench/dna_blind2/generate.py OUT --seed 7101 [--library 16]

Written without reading bench/dna/{generate,content}.py or bench/dna_xval/{generate,content}.py."""

from __future__ import annotations

import argparse
import json
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.dna_blind2 import content as C  # noqa: E402
from bench.dna_blind2.edits import SPATIAL, resample, vfr_times  # noqa: E402

FPS = C.FPS
LIB_KINDS = ["photo"] * 7 + ["life", "cellauto", "mandelbrot", "sierpinski", "zoneplate", "gradients"] * 1 + ["landscape", "credits"]


def write(path: Path, frames: np.ndarray, fps: float = FPS, crf: int = 23, times: list[float] | None = None) -> float:
    """x264 mp4 via PyAV; ``times`` gives per-frame timestamps (variable frame rate). Returns the duration."""
    c = av.open(str(path), "w")
    s = c.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
    s.height, s.width = frames.shape[1] // 2 * 2, frames.shape[2] // 2 * 2
    s.pix_fmt = "yuv420p"
    s.options = {"crf": str(crf), "preset": "veryfast"}
    if times is not None:
        s.codec_context.time_base = Fraction(1, 1000)
    for i, a in enumerate(frames):
        f = av.VideoFrame.from_ndarray(np.ascontiguousarray(a[: s.height, : s.width]), format="rgb24")
        if times is not None:
            f.pts, f.time_base = int(round(times[i] * 1000)), Fraction(1, 1000)
        for p in s.encode(f):
            c.mux(p)
    for p in s.encode():
        c.mux(p)
    c.close()
    return len(frames) / fps if times is None else times[-1] + 0.04


def read(path: Path, t0: float = 0.0, t1: float = 1e9) -> np.ndarray:
    c = av.open(str(path))
    out = [f.to_ndarray(format="rgb24") for f in c.decode(video=0) if t0 - 1e-6 <= float(f.time) < t1 - 1e-6]
    c.close()
    return np.stack(out)


def shot(kind: str, n: int, rng: np.random.Generator, photos: list[str], **kw) -> tuple[np.ndarray, str]:
    if kind == "photo":
        name = photos.pop()
        return C.kenburns(C.photo(name), n, rng), f"photo:{name}"
    if kind == "landscape":
        return C.landscape(n, rng), kind
    if kind == "credits":
        return C.credits(n, rng), kind
    if kind == "slides":
        return C.slides(n, rng, template=kw["template"]), f"slides:{kw['template']}"
    if kind == "studio":
        return C.studio(n, rng, show=kw["show"]), f"studio:{kw['show']}"
    a = C.procedural(kind, n, rng, pt=kw.get("pt"))
    if len(a) < n:  # a source that ended early is held on its last frame
        a = np.concatenate([a, np.repeat(a[-1:], n - len(a), 0)])
    return a, kind


def join(parts: list[np.ndarray], fades: list[bool]) -> np.ndarray:
    """Hard cuts, or a 12-frame cross-dissolve where ``fades[i]`` (between parts i and i+1)."""
    out = parts[0]
    for p, fade in zip(parts[1:], fades):
        if fade:
            k = 12
            w = np.linspace(0, 1, k + 2)[1:-1, None, None, None]
            mix = (out[-k:] * (1 - w) + p[:k] * w).astype(np.uint8)
            out = np.concatenate([out[:-k], mix, p[k:]])
        else:
            out = np.concatenate([out, p])
    return out


def library(out: Path, rng: np.random.Generator, n_lib: int, photos: list[str]) -> list[dict]:
    items = []
    for v in range(n_lib):
        total = int(rng.uniform(30, 46) * FPS)
        forced = {0: ("mandelbrot", {"pt": 0}), 1: ("studio", {"show": 1}), 2: ("slides", {"template": 11}),
                  4: ("credits", {})}.get(v)
        parts, kinds, fades, n = [], [], [], 0
        if v == 3:  # broadcast leader: colour bars then black
            parts += [C.bars(3 * FPS), C.flat(FPS, (0, 0, 0))]
            kinds += ["bars", "black"]
            fades.append(False)
            n = 4 * FPS
        while n < total:
            m = min(int(rng.uniform(4, 11) * FPS), total - n)
            if m < 2 * FPS:
                break
            kind, kw = (forced if forced and not [k for k in kinds if k.split(":")[0] == forced[0]]
                        else (str(rng.choice(LIB_KINDS)), {}))
            if kind == "photo" and not photos:
                kind = "landscape"
            a, desc = shot(kind, m, rng, photos, **kw)
            if parts:
                fades.append(bool(rng.random() < 0.3))
            parts.append(a)
            kinds.append(desc)
            n += m
        frames = join(parts, fades)
        lid = f"L{v:02d}"
        dur = write(out / f"{lid}.mp4", frames)
        items.append({"id": lid, "file": f"{lid}.mp4", "duration": round(dur, 3), "shots": kinds, "fades": fades})
        print(lid, kinds, flush=True)
    return items


FILLER = ["life", "cellauto", "sierpinski", "zoneplate", "gradients", "testsrc2", "landscape", "photo", "credits"]


def filler(n: int, rng: np.random.Generator, fphotos: list[str]) -> np.ndarray:
    parts = []
    while sum(len(p) for p in parts) < n:
        kind = str(rng.choice(FILLER))
        if kind == "photo":
            a = C.kenburns(C.photo(str(rng.choice(fphotos))), int(rng.uniform(3, 7) * FPS), rng)
        else:
            a, _ = shot(kind, int(rng.uniform(3, 7) * FPS), rng, [])
        parts.append(a)
    return np.concatenate(parts)[:n]


def fit(frames: np.ndarray, w: int, h: int) -> np.ndarray:
    """Cover-crop + resize footage to w x h (for filler next to a transformed copy)."""
    fh, fw = frames.shape[1:3]
    s = max(w / fw, h / fh)
    cw, ch = int(w / s), int(h / s)
    x0, y0 = (fw - cw) // 2, (fh - ch) // 2
    return np.stack([cv2.resize(f[y0:y0 + ch, x0:x0 + cw], (w, h), interpolation=cv2.INTER_AREA) for f in frames])


class Q:
    """Builds one query: copied clips -> join -> temporal edit -> spatial edits -> optional embedding -> VFR -> encode."""

    def __init__(self, out: Path, lib: list[dict], rng: np.random.Generator, fphotos: list[str]):
        self.out, self.lib, self.rng, self.fphotos = out, {x["id"]: x for x in lib}, rng, fphotos

    def pick(self, lo: float, hi: float, exclude: tuple[str, ...] = ()) -> tuple[str, float, float]:
        ids = [i for i in self.lib if i not in exclude]
        lid = str(self.rng.choice(ids))
        d = self.lib[lid]["duration"]
        length = min(self.rng.uniform(lo, hi), d - 5.0)
        start0 = 4.0 if lid == "L03" else 0.0  # never copy the bars leader
        r0 = round(float(self.rng.uniform(start0, d - length)) * FPS) / FPS
        return lid, r0, round(r0 + length, 2)

    def fill(self, n: int, w: int, h: int) -> np.ndarray:
        return fit(filler(n, self.rng, self.fphotos), w, h)

    def build(self, qid: str, cls: str, clips: list[tuple[str, float, float]], spatial: list[str] = (), speed: float = 1.0,
              fps: float = FPS, reverse: bool = False, blend: bool = False, embed: tuple[float, float] | None = None,
              vfr: bool = False, crf: int = 23, fades: bool = False, size: tuple[int, int] | None = None) -> dict:
        rng = self.rng
        parts, boxes, t = [], [], 0
        for k, (lid, r0, r1) in enumerate(clips):
            a = read(self.out / self.lib[lid]["file"], r0, r1)
            fade = fades and k > 0
            q0 = t - (12 if fade else 0)
            boxes.append([lid, q0 / FPS, (q0 + len(a)) / FPS, r0, r0 + len(a) / FPS])
            parts.append(a)
            t = q0 + len(a)
        copy = join(parts, [fades] * (len(parts) - 1))
        D = len(copy) / FPS
        copy = resample(copy, speed, fps, reverse, blend)
        for b in boxes:
            q0, q1 = b[1] / speed, b[2] / speed
            b[1], b[2] = (D / speed - q1, D / speed - q0) if reverse else (q0, q1)
        info: dict = {}
        for name in spatial:
            h, w = copy.shape[1:3]
            copy, info[name] = SPATIAL[name](copy, rng, lambda n, w=w, h=h: self.fill(n, w, h))
        if size:
            copy = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in copy])
        off = 0.0
        if embed:
            h, w = copy.shape[1:3]
            pre, post = int(embed[0] * fps), int(embed[1] * fps)
            copy = np.concatenate([self.fill(pre, w, h), copy, self.fill(post, w, h)])
            off = pre / fps
        times = None
        if vfr:
            times = vfr_times(len(copy) / fps, rng)
            copy = copy[[min(int(x * fps), len(copy) - 1) for x in times]]
        dur = write(self.out / f"{qid}.mp4", copy, fps, crf, times)
        gt = [{"ref": b[0], "q": [round(b[1] + off, 3), round(b[2] + off, 3)], "r": [round(b[3], 3), round(b[4], 3)]} for b in boxes]
        q = {"id": qid, "file": f"{qid}.mp4", "class": cls, "gt": gt, "duration": round(dur, 3), "speed": speed,
             "edits": {"spatial": list(spatial), "params": info, "fps": fps, "reverse": reverse, "blend": blend, "vfr": vfr,
                       "crf": crf, "embedded": bool(embed), "fades": fades}}
        print(qid, cls, gt, q["edits"]["params"], flush=True)
        return q

    def negative(self, qid: str, kind: str) -> dict:
        rng, n = self.rng, int(self.rng.uniform(9, 13) * FPS)
        if kind == "fractal":
            a = C.procedural("mandelbrot", n, rng, pt=0)
        elif kind == "studio":
            a = C.studio(n, rng, show=1)
        elif kind == "slides":
            a = C.slides(n, rng, template=11)
        elif kind == "bars":
            a = np.concatenate([C.bars(3 * FPS), C.flat(2 * FPS, (0, 0, 0)), C.flat(2 * FPS, (128, 128, 128)),
                                C.flat(FPS, (16, 16, 16)), filler(5 * FPS, rng, self.fphotos)])
        elif kind == "photo":
            a = C.kenburns(C.photo(str(rng.choice(self.fphotos))), n, rng)
        else:
            a, _ = shot(kind, n, rng, [])
        dur = write(self.out / f"{qid}.mp4", a)
        print(qid, "negative", kind, flush=True)
        return {"id": qid, "file": f"{qid}.mp4", "class": "negative", "gt": [], "duration": round(dur, 3), "kind": kind}


CLASSES = {  # class -> build kwargs (callables get rng)
    "pip_small": dict(spatial=["pip_small"]), "vertical_crop916": dict(spatial=["vertical_crop916"]),
    "vertical_blur": dict(spatial=["vertical_blur"]), "pad_color": dict(spatial=["pad_color"]),
    "split_screen": dict(spatial=["split_screen"]), "mirror_crop": dict(spatial=["mirror_crop"]),
    "slowmo_blend": dict(speed=0.5, blend=True), "timelapse": dict(speed=lambda r: float(r.choice([3.0, 3.5, 4.0]))),
    "speed": dict(speed=lambda r: float(r.choice([0.67, 1.25, 1.5, 2.0]))), "vfr": dict(vfr=True),
    "lowres_crf": dict(spatial=["lowres"], crf=42), "gamma_sat": dict(spatial=["gamma_sat"]),
    "rotate": dict(spatial=["rotate"]), "vflip": dict(spatial=["vflip"]), "reversed": dict(reverse=True),
    "fps": dict(fps=lambda r: float(r.choice([12.0, 15.0, 50.0, 60.0]))), "text_overlay": dict(spatial=["text_overlay"]),
}
COMBO = ["pip_small", "vertical_blur", "pad_color", "mirror_crop", "gamma_sat", "rotate", "vflip", "hflip", "text_overlay",
         "speed", "reverse", "fps", "lowres"]
NEG = ["fractal", "studio", "slides", "bars", "credits", "life", "cellauto", "landscape", "zoneplate", "gradients", "photo"]


def queries(q: Q) -> list[dict]:
    rng, out, k = q.rng, [], 0

    def nid() -> str:
        nonlocal k
        k += 1
        return f"Q{k:03d}"
    for cls, kw in CLASSES.items():
        for emb in (False, True):
            kw2 = {a: (b(rng) if callable(b) else b) for a, b in kw.items()}
            sp = kw2.get("speed", 1.0)
            lo, hi = (16, 28) if sp > 2.5 else ((6, 12) if emb else (9, 20))
            em = (float(rng.uniform(4, 12)), float(rng.uniform(4, 12))) if emb else None
            out.append(q.build(nid(), cls, [q.pick(lo, hi)], embed=em, **kw2))
    for i in range(4):
        ops = list(rng.choice(COMBO, 3, replace=False))
        if "rotate" in ops and "pip_small" in ops:
            ops.remove("pip_small")
            ops.append("vflip" if "vflip" not in ops else "hflip")
        kw2: dict = {"spatial": [o for o in ops if o in ("pip_small", "vertical_blur", "pad_color", "mirror_crop", "gamma_sat",
                                                          "rotate", "vflip", "hflip", "text_overlay", "lowres")]}
        kw2["spatial"].sort(key=lambda o: o in ("pip_small", "vertical_blur", "pad_color", "rotate"))  # framing last
        if "speed" in ops:
            kw2["speed"] = float(rng.choice([0.67, 1.5, 2.0]))
        if "reverse" in ops:
            kw2["reverse"] = True
        if "fps" in ops:
            kw2["fps"] = float(rng.choice([12.0, 60.0]))
        if "lowres" in ops:
            kw2["crf"] = 40
        emb = (float(rng.uniform(4, 10)), float(rng.uniform(4, 10))) if i % 2 else None
        out.append(q.build(nid(), "combo3", [q.pick(8, 16)], embed=emb, **kw2))
    for i in range(2):
        out.append(q.build(nid(), "embed_short", [q.pick(3, 4)], embed=(float(rng.uniform(15, 35)), float(rng.uniform(10, 25)))))
    for i, lid in enumerate(rng.choice(sorted(q.lib), 2, replace=False)):
        lid = str(lid)
        out.append(q.build(nid(), "whole_dup", [(lid, 0.0, q.lib[lid]["duration"])], crf=30 if i else 23,
                           size=(640, 360) if i else None))
    for i in range(2):
        a = q.pick(6, 12)
        b = q.pick(6, 12, exclude=(a[0],))
        out.append(q.build(nid(), "splice2", [a, b], fades=bool(i == 0), embed=(5.0, 5.0) if i else None))
    for i in range(2):
        lid = str(rng.choice(sorted(q.lib)))
        d = q.lib[lid]["duration"]
        cuts = sorted(rng.uniform(4.5 if lid == "L03" else 0.5, d - 4, 3))
        segs = [(lid, round(c * FPS) / FPS, round(c * FPS) / FPS + float(rng.uniform(3, 5))) for c in cuts]
        segs = [s for s in segs if s[2] <= d]
        order = rng.permutation(len(segs))
        out.append(q.build(nid(), "reorder", [segs[j] for j in order], fades=bool(i == 1)))
    for kind in NEG:
        out.append(q.negative(nid(), kind))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=7101)
    ap.add_argument("--library", type=int, default=16)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    photos = list(rng.permutation(C.PHOTOS))
    fphotos, lphotos = photos[:5], photos[5:]
    lj = a.out / "library.json"  # resume: the library is kept, queries use their own random stream
    if lj.exists():
        lib = json.loads(lj.read_text())
    else:
        lib = library(a.out, rng, a.library, lphotos)
        lj.write_text(json.dumps(lib, indent=1))
    qs = queries(Q(a.out, lib, np.random.default_rng([a.seed, 2]), fphotos))
    man = {"suite": "dna_blind2", "seed": a.seed, "fps": FPS, "size": [C.W, C.H], "library": lib, "queries": qs}
    (a.out / "manifest.json").write_text(json.dumps(man, indent=1))
    print(f"{len(lib)} library videos, {len(qs)} queries", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
