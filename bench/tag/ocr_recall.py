"""OCR recall on hard captions (faint, 12 px, normal) against plain RapidOCR at 1 fps.

    .venv/bin/python -m bench.tag.ocr_recall --seed 1      # tuning seed
    .venv/bin/python -m bench.tag.ocr_recall --seed 2      # held-out seed

Each seed makes one 1280x720 video (``--seconds``, default 60) of shots over moving and still
backgrounds (photographs shipped in scikit-image, gradients); within a shot a caption comes every
2.5-4 s and goes 0.4 s before the next (no cut at a caption change), drawn with DejaVu Sans
(Latin) or Noto CJK: ``normal`` (white on a translucent box, 5 % of the height), ``faint`` (light
text at 30-45 % opacity, no box, no outline) and ``small`` (12 px text height, white with a thin
outline). A caption counts as read when some reading of openvod's OCR (``analyse(..., ["OCR"])``) or
of the baseline, during the caption's interval, matches it with character recall >= 0.8
(space- and case-insensitive). The baseline reads every full-resolution frame at 1 fps with RapidOCR's
default parameters. Reported: recall per kind for both, openvod's OCR CPU seconds per video second.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.tag.score import char_recall
from tests.media import VideoWriter

LATIN = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = ("market river station morning garden summer museum harbour council bridge festival orchard "
         "library weather kitchen island travel forest mountain concert airport village history").split()


def _font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(LATIN, px) if Path(LATIN).is_file() else ImageFont.load_default(px)


def _size_for_height(text: str, height: int) -> int:
    """The font size whose rendering of ``text`` is ``height`` pixels tall (ink box)."""
    for px in range(6, 200):
        b = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text, font=_font(px))
        if b[3] - b[1] >= height:
            return px
    return 200


def caption_layer(text: str, kind: str, w: int, h: int, rng: random.Random) -> np.ndarray:
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    if kind == "small":
        font = _font(_size_for_height(text, 12))
    else:
        font = _font(_size_for_height(text, int(0.05 * h)))
    x0, y0, x1, y1 = d.textbbox((0, 0), text, font=font)
    tw, th = x1 - x0, y1 - y0
    x = rng.randint(40, max(41, w - tw - 40))
    y = rng.choice([int(h * 0.85) - th, int(h * 0.08), int(h * 0.6)])
    if kind == "normal":
        pad = max(4, th // 4)
        d.rectangle((x - pad, y - pad, x + tw + pad, y + th + pad), fill=(0, 0, 0, 150))
        d.text((x - x0, y - y0), text, font=font, fill=(255, 255, 255, 255))
    elif kind == "faint":
        alpha = rng.randint(77, 115)  # 30-45 % opacity
        d.text((x - x0, y - y0), text, font=font, fill=(255, 255, 255, alpha))
    else:  # small
        d.text((x - x0, y - y0), text, font=font, fill=(255, 255, 255, 255), stroke_width=1,
               stroke_fill=(0, 0, 0, 255))
    return np.asarray(layer)


def backgrounds(w: int, h: int) -> list[np.ndarray]:
    import skimage.data as sd

    out = []
    for name in ("coffee", "chelsea", "rocket", "astronaut", "hubble_deep_field"):
        img = getattr(sd, name)()
        out.append(np.asarray(Image.fromarray(img[..., :3]).resize((w, h), Image.BILINEAR)))
    ramp = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    out.append(((np.array([40, 70, 120]) * (1 - ramp) + np.array([150, 120, 60]) * ramp) * np.ones((h, 1, 1))).astype(np.uint8))
    return out


def make(path: Path, seed: int, seconds: float, size: tuple[int, int] = (1280, 720), fps: int = 25) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    w, h = size
    bgs = backgrounds(w, h)
    caps = []
    t = 0.5
    kinds = ["faint", "small", "normal"]
    i = 0
    bg, moving = 0, False
    while t < seconds - 3:
        d = rng.uniform(2.5, 4.0)
        kind = kinds[i % 3]
        if i % 3 == 0:  # a new shot every three captions; the captions in between come and go on it
            bg, moving = rng.randrange(len(bgs)), rng.random() < 0.4
        text = " ".join(rng.sample(WORDS, rng.randint(2, 3))).capitalize()
        caps.append({"text": text, "kind": kind, "start": round(t, 2), "end": round(min(seconds, t + d - 0.4), 2),
                     "layer": caption_layer(text, kind, w, h, rng), "bg": bg, "moving": moving})
        t += d
        i += 1
    with VideoWriter(path, size, fps, preset="veryfast", crf=23) as out:
        for k in range(int(seconds * fps)):
            tt = k / fps
            c = next((c for c in caps if c["start"] <= tt < c["end"] + 0.4), None)
            bg = bgs[c["bg"] if c else 0]
            img = np.roll(bg, int(tt * 40), axis=1) if c and c["moving"] else bg.copy()  # a slow pan
            if c and c["start"] <= tt < c["end"]:
                a = c["layer"][..., 3:4].astype(np.float32) / 255.0
                img = (img * (1 - a) + c["layer"][..., :3] * a).astype(np.uint8)
            out.write(img)
    return [{k: v for k, v in c.items() if k != "layer"} for c in caps]


def baseline(path: Path) -> list[tuple[float, str]]:
    """Plain RapidOCR (default parameters) on every full-resolution frame at 1 fps."""
    import av
    from rapidocr import RapidOCR

    eng = RapidOCR(params={"Global.log_level": "error"})
    out: list[tuple[float, str]] = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        nxt = 0.0
        for f in c.decode(s):
            t = float(f.pts * s.time_base)
            if t + 1e-6 < nxt:
                continue
            nxt += 1.0
            r = eng(f.to_ndarray(format="bgr24"), use_cls=False)
            if r is not None and r.txts is not None:
                out += [(t, str(x)) for x in r.txts]
    return out


def recall(caps: list[dict[str, Any]], readings: list[tuple[float, float, str]]) -> dict[str, Any]:
    out: dict[str, list[int]] = {}
    missed = []
    for c in caps:
        ok = any(a <= c["end"] + 0.3 and b >= c["start"] - 0.3
                 and char_recall(c["text"].replace(" ", ""), [txt.replace(" ", "")]) >= 0.8
                 for a, b, txt in readings)
        out.setdefault(c["kind"], []).append(int(ok))
        if not ok:
            missed.append((c["kind"], c["text"], c["start"]))
    return {"recall": {k: round(sum(v) / len(v), 3) for k, v in out.items()},
            "n": {k: len(v) for k, v in out.items()}, "missed": missed}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--det-max-side", type=int, default=0, help="override OcrOptions.det_max_side (tuning)")
    ap.add_argument("--no-pan-reads", action="store_true", help="OcrOptions.pan_reads off (before/after)")
    args = ap.parse_args(argv)

    from openvod.analyzers.tag.engine import TagOptions, analyse
    from openvod.models.cache import ModelCache

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "captions.mp4"
        caps = make(path, args.seed, args.seconds)
        cache = ModelCache()
        opts = TagOptions()
        if args.det_max_side:
            from dataclasses import replace

            opts = replace(opts, ocr=replace(opts.ocr, det_max_side=args.det_max_side))
        if args.no_pan_reads:
            from dataclasses import replace

            opts = replace(opts, ocr=replace(opts.ocr, pan_reads=False))
        analyse(path, ["OCR"], opts, cache)  # load the models untimed
        c0, t0 = _cpu(), time.monotonic()
        res = analyse(path, ["OCR"], opts, cache)
        cpu = _cpu() - c0
        ours = recall(caps, [(t.start, t.end or t.start, t.text) for t in res.text_tracks])
        out: dict[str, Any] = {"seed": args.seed, "captions": len(caps), "openvod": ours,
                               "openvod_ocr_cpu_s_per_video_s": round(cpu / args.seconds, 3),
                               "openvod_wall_s": round(time.monotonic() - t0, 1), "ocr_stats": res.stats.get("ocr")}
        if not args.no_baseline:
            b = baseline(path)
            out["rapidocr_1fps"] = recall(caps, [(t, t + 1.0, txt) for t, txt in b])
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
