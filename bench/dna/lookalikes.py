"""Look-alike harness for DNA precision: scrolling credits and painted landscapes.

Credits in one layout and font (two columns of made-up names, a quarter CJK in Noto Sans CJK when installed)
over black or a dark gradient, scrolling at 0.08-0.15 frame heights per second, and painted landscapes (sky
gradient, hills, trees, sun; a Ken Burns pan). Library: 5 videos of other footage + credits, 3 with landscapes,
2 others; queries: real copies (credits re-encoded crf 30, scaled 0.6, cropped 8 %; a landscape video re-encoded)
and look-alikes (credits with other names in the library's layouts and speeds, other landscapes).

    python -m bench.dna.lookalikes OUT_DIR [name=value ...]   # DNASettings overrides; prints TP / FN / FP
"""

import json
import pickle
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from openvod.analyzers.dna.fingerprint import fingerprint_file
from openvod.analyzers.dna.index import CodeIndex
from openvod.analyzers.dna.search import search, single_threaded_blas
from openvod.config import DNASettings
from openvod.engine.analyzer_options import match_params
from tests.analyzers.test_dna_clips import draw_frames, encode

LAT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SYL = ["an","be","ca","do","el","fi","go","ha","is","jo","ka","li","mo","na","or","pe","qu","ra","si","to","ul","va","wi","xe","yo","za"]
HAN = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"

def name(rng):
    if rng.random() < 0.25:
        return "".join(rng.choice(list(HAN), size=rng.integers(2, 4))), True
    w = lambda: "".join(rng.choice(SYL, size=rng.integers(2, 4))).capitalize()
    return f"{w()} {w()}", False

def roll(seed, size, layout=0):
    rng = np.random.default_rng(seed)
    W, H = size
    fs = max(9, H // 18)
    lat = ImageFont.truetype(LAT, fs); cjk = ImageFont.truetype(CJK, fs); head = ImageFont.truetype(LAT, int(fs * 1.2))
    lines = []
    for sec in range(8):
        lines.append(("head", ["DIRECTED BY", "PRODUCERS", "CAST", "CAMERA", "EDITING", "SOUND", "MUSIC", "CREW"][(sec + layout) % 8], None))
        for _ in range(int(rng.integers(3, 7))):
            a, ca = name(rng); b, cb = name(rng)
            lines.append(("row", (a, ca), (b, cb)))
        lines.append(("gap", None, None))
    lh = int(fs * 1.6)
    img = Image.new("L", (W, H * 2 + lh * len(lines)), 0)
    dr = ImageDraw.Draw(img)
    y = H
    for kind, a, b in lines:
        if kind == "head":
            tw = dr.textlength(a, font=head); dr.text(((W - tw) / 2, y), a, fill=200, font=head)
        elif kind == "row":
            (ta, ca), (tb, cb) = a, b
            fa = cjk if ca else lat; fb = cjk if cb else lat
            dr.text((W / 2 - 8 - dr.textlength(ta, font=fa), y), ta, fill=235, font=fa)
            dr.text((W / 2 + 8, y), tb, fill=235, font=fb)
        y += lh
    return np.asarray(img)

def credits_frames(seed, seconds, fps, size, speed, bg="black", start=0.0, layout=0):
    W, H = size
    r = roll(seed, size, layout).astype(np.float32)
    yy = np.linspace(0, 1, H)[:, None]
    base = np.zeros((H, W), np.float32) if bg == "black" else (40 * (1 - yy) + 10 * yy) * np.ones((1, W))
    out = []
    for i in range(int(seconds * fps)):
        off = int(round((start + i / fps) * speed * H))
        off = min(off, r.shape[0] - H)
        txt = r[off:off + H]
        g = np.maximum(base, txt)
        tint = np.array([1.0, 0.97, 0.9]) if bg != "black" else np.ones(3)
        out.append(np.clip(g[..., None] * tint, 0, 255).astype(np.uint8))
    return out

def landscape_frames(seed, seconds, fps, size):
    rng = np.random.default_rng(seed)
    W, H = size
    BW, BH = int(W * 1.6), int(H * 1.6)
    img = Image.new("RGB", (BW, BH))
    dr = ImageDraw.Draw(img)
    top = rng.integers(60, 160, 3); bot = rng.integers(150, 255, 3)
    for y in range(BH):
        t = y / BH
        dr.line([(0, y), (BW, y)], fill=tuple(int(v) for v in top * (1 - t) + bot * t))
    for layer in range(3):
        col = tuple(int(v) for v in rng.integers(20, 140, 3))
        base = BH * (0.45 + 0.15 * layer)
        xs = np.linspace(0, BW, 12); ys = base + rng.normal(0, BH * 0.06, 12)
        dr.polygon([(0, BH)] + list(zip(xs.tolist(), ys.tolist())) + [(BW, BH)], fill=col)
    for _ in range(int(rng.integers(6, 14))):
        x = rng.uniform(0, BW); y = rng.uniform(BH * 0.55, BH * 0.95); s = rng.uniform(8, 25)
        dr.rectangle([x - s * 0.1, y, x + s * 0.1, y + s], fill=(70, 45, 20))
        dr.ellipse([x - s * 0.6, y - s * 1.2, x + s * 0.6, y + s * 0.2], fill=tuple(int(v) for v in rng.integers(20, 120, 3)))
    dr.ellipse([BW * 0.7, BH * 0.1, BW * 0.7 + 30, BH * 0.1 + 30], fill=(255, 240, 200))
    a = np.asarray(img)
    n = int(seconds * fps); out = []
    z0, z1 = 1.0, 1.3
    for i in range(n):
        t = i / max(n - 1, 1)
        z = z0 + (z1 - z0) * t
        cw, ch = int(BW / z / 1.05), int(BH / z / 1.05)
        x = int((BW - cw) * t); y = int((BH - ch) * 0.5)
        out.append(np.asarray(Image.fromarray(a[y:y + ch, x:x + cw]).resize(size, Image.BILINEAR)))
    return out

def generate(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    S, F = (480, 270), 15
    meta = {}
    def w(nm, frames, crf=23):
        encode(out / f"{nm}.mp4", frames, F, crf=crf)
    # library: 5 credits videos (other content + credits at end), 3 landscape videos, 2 others
    lib = {}
    for k in range(5):
        sp = [0.08, 0.1, 0.12, 0.1, 0.15][k]
        bg = "black" if k % 2 == 0 else "grad"
        fr = draw_frames(10, F, 100 + k, size=S) + credits_frames(200 + k, 20, F, S, sp, bg)
        w(f"lib_cred{k}", fr); lib[f"lib_cred{k}"] = dict(speed=sp, bg=bg, seed=200 + k)
    for k in range(3):
        w(f"lib_land{k}", draw_frames(6, F, 300 + k, size=S) + landscape_frames(400 + k, 12, F, S))
    for k in range(2):
        w(f"lib_other{k}", draw_frames(20, F, 500 + k, size=S))
    (out / "lib.json").write_text(json.dumps(lib))
    # queries: positives = copies of credits of lib_cred0/1 (re-encoded, scaled, cropped), full copies
    def scale(fr, s):
        return [np.asarray(Image.fromarray(f).resize((int(S[0] * s) // 2 * 2, int(S[1] * s) // 2 * 2))) for f in fr]
    def crop(fr, c):
        h, w_ = fr[0].shape[:2]; dy, dx = int(h * c), int(w_ * c)
        return [np.asarray(Image.fromarray(f[dy:h - dy, dx:w_ - dx]).resize(S)) for f in fr]
    c0 = credits_frames(200, 20, F, S, 0.08, "black")
    c1 = credits_frames(201, 20, F, S, 0.1, "grad")
    w("pos_c0_reenc", draw_frames(5, F, 900, size=S) + c0[30:180] + draw_frames(5, F, 901, size=S), crf=30)
    w("pos_c1_scale", scale(draw_frames(4, F, 902, size=S) + c1[60:240], 0.6))
    w("pos_c0_crop", crop(c0[0:150] + draw_frames(5, F, 903, size=S), 0.08))
    w("pos_land1_full", draw_frames(6, F, 301, size=S) + landscape_frames(401, 12, F, S), crf=30)
    # negatives: other credits, same layouts/speeds, other names; other landscapes
    for k, (sp, bg) in enumerate([(0.08, "black"), (0.1, "grad"), (0.12, "black"), (0.1, "black"), (0.15, "grad")]):
        w(f"neg_cred{k}", draw_frames(5, F, 950 + k, size=S) + credits_frames(700 + k, 15, F, S, sp, bg))
    for k in range(3):
        w(f"neg_land{k}", draw_frames(4, F, 960 + k, size=S) + landscape_frames(800 + k, 12, F, S))



def evaluate(d: Path, kw: dict) -> None:
    cache = d / "fps.pkl"
    if cache.exists():
        fps = pickle.loads(cache.read_bytes())
    else:
        fps = {p.stem: fingerprint_file(p) for p in sorted(d.glob("*.mp4"))}
        cache.write_bytes(pickle.dumps(fps))
    libn = [k for k in fps if k.startswith("lib_")]
    lib = {i: (k, fps[k]) for i, k in enumerate(libn)}
    index = CodeIndex()
    for i, (_, fp) in lib.items():
        index.add(i, fp.codes)
    params = match_params(DNASettings(**kw))
    good = {"pos_c0_reenc": "lib_cred0", "pos_c1_scale": "lib_cred1", "pos_c0_crop": "lib_cred0", "pos_land1_full": "lib_land1"}
    tp = fp_ = fn = 0
    for q in sorted(k for k in fps if not k.startswith("lib_")):
        with single_threaded_blas():
            ms = search(fps[q], index, lib.get, params)
        keys = {m.key for m in ms}
        exp = good.get(q)
        tp += exp in keys
        fn += exp is not None and exp not in keys
        fp_ += len(keys - {exp})
        print(q, "->", [(m.key, round(m.similarity, 3), [(round(s.q0, 1), round(s.q1, 1), round(s.r0, 1), round(s.r1, 1), round(s.speed, 2), round(s.correlation, 2)) for s in m.segments]) for m in ms])
    print(f"TP {tp} FN {fn} FP {fp_}")


if __name__ == "__main__":
    root = Path(sys.argv[1])
    if not (root / "lib_cred0.mp4").exists():
        generate(root)
    evaluate(root, {k: float(v) for k, v in (a.split("=") for a in sys.argv[2:])})
