"""AIMediaAudit benchmark: precision and recall per scene on a generated corpus with ground truth,
the real-time factor on top of an existing tag result, and the no-silent-pass check.

    .venv/bin/python -m bench.audit.run --split tune|heldout [--out bench/audit/results/<split>.json]
                                        [--real-ocr]

Corpus (bench.audit.media; seeds 0-4 = tuning, 100-104 = held-out; 8 s, 480x270,
random grain 0-6 and CRF 23-32; 14 clips per seed):

* ad positives: a QR code (random text, position, size 0.12-0.4 of the height, 2-4 s); a round
  mini-program code (``sun_code``, 0.35-0.55 of the height, 2-4 s: located, reported as review); a caption
  with a URL, a phone number or a WeChat / QQ id; a caption with a library word of another text label.
  ad negatives: clean captions, near misses (``大麻烦``, ``moonshiner``, version numbers, prices, times).
* live positives: a black run (2.5-5 s), a solid-colour run, a colour-bar test card (2.5-4 s), a
  picture in the picture (a moving inset with a 2-4 px white frame, 25-38 % wide, 4-6 s).
  live negatives: clean clips, dim textured scenes (mean luma ~25-40), a 1 s fade to black.
* porn: negatives only (photos from scikit-image incl. the astronaut's face, composited): the real
  NudeNet model's false-positive rate. No positive image is shipped, so porn recall is *not* measured
  here (tests check the mapping with a fake detector).
* text: 200 generated title sentences per split (half with a library word / contact pattern of a
  known label, half clean incl. near misses); precision/recall of "flagged" and label accuracy.

OCR input is the captions' ground truth, i.e. a perfect AIVideoTag OCR result ("on top of an existing
tag result"); ``--real-ocr`` runs the real OCR per clip instead (slow). A scene counts as flagged when
its Suggestion is review or block. RTF = CPU seconds of the audit (decode, visual checks, rules) /
video seconds, models loaded beforehand.
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

from bench.audit.media import QR, AuditClip, Inset, Sun, render
from bench.tag.media import Caption, Shot
from openvod.analyzers.audit.engine import TextInputs, TimedText, decide, scan_video
from openvod.analyzers.audit.options import options_from_template
from openvod.analyzers.audit.text import DEFAULT_WORDS, TextModerator

RESULTS = Path(__file__).resolve().parent / "results"
SPLITS = {"tune": [0, 1, 2, 3, 4], "heldout": [100, 101, 102, 103, 104]}
W, H, DUR = 480, 270, 8.0

CLEAN = ["Evening news", "Weather report for tomorrow", "Interview with the mayor", "城市新闻", "今日天气",
         "Match highlights", "Cooking with seasonal vegetables", "Price 199 yuan", "Version 2.1.3 released",
         "他遇到了大麻烦", "The moonshiner's tale", "Meeting at 10:30 in room 12", "Chapter 3", "谢谢观看"]
CONTACTS = ["Visit www.{w}.com now", "Call 138{d8} today", "加微信 {w}{d2} 领取", "QQ群: 5{d8}",
            "www.{w}-shop.top", "详询 0755-8{d7}", "wechat: {w}_{d2}"]
WORDS = [(w, lab) for lab, ws in DEFAULT_WORDS.items() if lab != "ad" for w in ws]
PHOTOS = ["astronaut", "coffee", "chelsea", "rocket"]


def _fill(rng: random.Random, s: str) -> str:
    word = "".join(rng.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(rng.randint(5, 9)))
    return s.format(w=word, d8="".join(rng.choice("0123456789") for _ in range(8)),
                    d7="".join(rng.choice("0123456789") for _ in range(7)), d2=rng.randint(10, 99))


def corpus(seed: int) -> list[dict[str, Any]]:
    """14 clips: spec + ground truth (scene -> True/False; None = not measured on this clip)."""
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []

    def bg(a: float, b: float) -> Shot:
        return Shot(a, b, rng.choice(["gradient", "motion"]), rng.randint(0, 10_000))

    def add(name: str, clip: AuditClip, ad: bool, live: bool, porn: bool | None = False) -> None:
        clip.grain = rng.choice([0, 0, 3, 6])
        clip.crf = rng.choice([23, 28, 32])
        items.append({"name": f"s{seed}-{name}", "clip": clip, "truth": {"ad": ad, "live": live, "porn": porn}})

    cap = lambda text, a, b: Caption(text, a, b, rng.choice(["bottom", "top", "middle"]), rng.uniform(0.06, 0.1))  # noqa: E731
    # ad positives
    a = rng.uniform(0.5, 4.0)
    add("qr", AuditClip(DUR, W, H, shots=[bg(0, DUR)], audio=False,
                        qrs=[QR(_fill(rng, "https://{w}.example.com/{d2}"), a, a + rng.uniform(2, 4),
                                rng.uniform(0.05, 0.6), rng.uniform(0.05, 0.5), rng.uniform(0.12, 0.4))]), True, False)
    a = rng.uniform(0.5, 5.0)
    add("contact", AuditClip(DUR, W, H, shots=[bg(0, DUR)], audio=False,
                             captions=[cap(_fill(rng, rng.choice(CONTACTS)), a, a + 2.5)]), True, False)
    w, _lab = rng.choice(WORDS)
    add("word", AuditClip(DUR, W, H, shots=[bg(0, DUR)], audio=False,
                          captions=[cap(f"{rng.choice(['看', 'see', '关于', 'about'])} {w}", 2, 5)]), True, False)
    # live positives
    a = rng.uniform(0.5, 3.0)
    add("black", AuditClip(DUR, W, H, shots=[bg(0, a), Shot(a, a + rng.uniform(2.5, 5), "black"), bg(a + 5, DUR)],
                           audio=False), False, True)
    a = rng.uniform(0.5, 3.0)
    add("solid", AuditClip(DUR, W, H, shots=[bg(0, a), Shot(a, a + rng.uniform(2.5, 4), "color", rng.randint(0, 99)),
                                             bg(a + 4, DUR)], audio=False), False, True)
    a = rng.uniform(0.5, 3.0)
    add("bars", AuditClip(DUR, W, H, shots=[bg(0, a), Shot(a, a + rng.uniform(2.5, 4), "bars"), bg(a + 4, DUR)],
                          audio=False), False, True)
    a = rng.uniform(0.5, 2.0)
    add("pip", AuditClip(DUR, W, H, shots=[bg(0, DUR)], audio=False, insets=[Inset(
        a, a + rng.uniform(4, 6), rng.uniform(0.04, 0.6), rng.uniform(0.04, 0.55), rng.uniform(0.25, 0.38),
        rng.uniform(0.25, 0.4), rng.randint(0, 999), border=rng.choice([2, 3, 4]))]), False, True)
    # negatives
    add("clean", AuditClip(DUR, W, H, shots=[bg(0, 4), bg(4, DUR)], audio=False,
                           captions=[cap(rng.choice(CLEAN), 1, 3), cap(rng.choice(CLEAN), 4, 7)]), False, False)
    add("nearmiss", AuditClip(DUR, W, H, shots=[bg(0, DUR)], audio=False,
                              captions=[cap(rng.choice(CLEAN[7:]), 1, 6)]), False, False)
    add("dim", AuditClip(DUR, W, H, shots=[Shot(0, DUR, "dim", rng.randint(0, 999))], audio=False), False, False)
    a = rng.uniform(2, 5)
    add("fade", AuditClip(DUR, W, H, shots=[bg(0, a), Shot(a, a + 1.0, "black"), bg(a + 1, DUR)], audio=False),
        False, False)
    for k in range(2):
        add(f"photo{k}", AuditClip(DUR, W, H, shots=[Shot(0, DUR, f"photo:{rng.choice(PHOTOS)}", k)], audio=False),
            False, False, False)
    # added last, so that the 13 clips above keep their random draws (comparable with earlier runs)
    a = rng.uniform(0.5, 4.0)
    add("suncode", AuditClip(DUR, W, H, shots=[bg(0, DUR)], audio=False,
                             suns=[Sun(a, a + rng.uniform(2, 4), rng.uniform(0.05, 0.5), rng.uniform(0.05, 0.4),
                                       rng.uniform(0.35, 0.55), rng.randint(0, 999))]), True, False)
    return items


def _patch_backgrounds() -> None:
    """Extra shot kinds for the corpus: dim textured scenes and scikit-image photos."""
    import bench.audit.media as am
    import bench.tag.media as tm

    orig = tm._background

    def bg(shot: Shot, t: float, w: int, h: int, cache: dict[Any, np.ndarray]) -> np.ndarray:
        if shot.kind == "dim":
            img = orig(Shot(shot.start, shot.end, "gradient", shot.seed), t, w, h, cache).astype(np.float32)
            return (img * 0.25 + 5).astype(np.uint8)
        if shot.kind.startswith("photo:"):
            key = (shot.kind, w, h)
            if key not in cache:
                import skimage.data as sd
                from PIL import Image

                src = getattr(sd, shot.kind.split(":", 1)[1])()
                if src.ndim == 2:
                    src = np.stack([src] * 3, -1)
                cache[key] = np.asarray(Image.fromarray(src[..., :3]).resize((w, h)))
            return cache[key].copy()
        return orig(shot, t, w, h, cache)

    am._background = bg  # type: ignore[attr-defined]


def text_corpus(seed: int, n: int = 200) -> list[tuple[str, str]]:
    """(sentence, label) pairs: half flagged (a default-list word or a contact pattern), half clean."""
    rng = random.Random(seed * 7919 + 1)
    frames = ["今天我们聊聊{x}的事情", "Here is something about {x} for you", "{x}", "关于{x}，请看下面",
              "Breaking: {x} in the city", "大家好，{x}"]
    clean = CLEAN + ["我们去公园散步", "The quick brown fox jumps over the lazy dog", "明天会下雨吗",
                     "Please subscribe to the channel", "比赛结果三比二", "Our team won the match"]
    out = []
    for i in range(n):
        if i % 2 == 0:
            if rng.random() < 0.3:
                out.append((rng.choice(frames).format(x=_fill(rng, rng.choice(CONTACTS))), "ad"))
            else:
                lab = rng.choice([k for k in DEFAULT_WORDS])
                out.append((rng.choice(frames).format(x=rng.choice(DEFAULT_WORDS[lab])), lab))
        else:
            out.append((rng.choice(frames).format(x=rng.choice(clean)), "normal"))
    return out


def _pr(tp: int, fp: int, fn: int) -> dict[str, Any]:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    return {"precision": None if p is None else round(p, 3), "recall": None if r is None else round(r, 3),
            "tp": tp, "fp": fp, "fn": fn}


def run(split: str, real_ocr: bool) -> dict[str, Any]:
    from openvod.analyzers.audit.visual import NudeNetDetector, nudenet_model_path

    _patch_backgrounds()
    det = NudeNetDetector(nudenet_model_path())  # type: ignore[arg-type]
    mod = TextModerator()
    mod.classify("预热 jieba")  # load jieba before timing
    opts = options_from_template({"AuditItem": ["porn", "ad", "live", "terrorism", "logo"], "AuditRange": ["video"]})
    counts = {s: {"tp": 0, "fp": 0, "fn": 0, "tn": 0} for s in ("ad", "live", "porn")}
    cpu = media_s = 0.0
    unchecked_pass = 0
    rows = []
    ocr_models = None
    with tempfile.TemporaryDirectory() as tmp:
        for seed in SPLITS[split]:
            for it in corpus(seed):
                p = Path(tmp) / f"{it['name']}.mp4"
                truth = render(it["clip"], p)
                if real_ocr:
                    from openvod.analyzers.tag.engine import TagOptions, analyse
                    from openvod.models.cache import ModelCache

                    ocr_models = ocr_models or ModelCache()
                    res = analyse(p, ["OCR"], TagOptions(), ocr_models)
                    ocr = [TimedText(t.start, t.end or t.start, t.text, "ocr") for t in res.text_tracks]
                else:
                    ocr = [TimedText(c["start"], c["end"], c["text"], "ocr") for c in truth["captions"]]
                t0 = time.process_time()
                scan = scan_video(p, opts, det)
                rep = decide(scan, TextInputs(ocr=ocr), opts, mod)
                cpu += time.process_time() - t0
                media_s += scan.duration
                got = {}
                for scene in ("ad", "live", "porn"):
                    flagged = rep.scenes[scene].suggestion != "pass"
                    got[scene] = rep.scenes[scene].suggestion
                    want = it["truth"][scene]
                    if want is None:
                        continue
                    key = ("tp" if flagged else "fn") if want else ("fp" if flagged else "tn")
                    counts[scene][key] += 1
                unchecked_pass += sum(rep.scenes[s].suggestion == "pass" for s in ("terrorism", "logo"))
                rows.append({"clip": it["name"], "truth": it["truth"], "got": got})
    text_counts: dict[str, dict[str, int]] = {}
    flag = {"tp": 0, "fp": 0, "fn": 0}
    label_ok = label_n = 0
    for seed in SPLITS[split]:
        for sent, lab in text_corpus(seed):
            v = mod.classify(sent)
            flagged = not v.normal and v.score >= 60
            if lab != "normal":
                flag["tp" if flagged else "fn"] += 1
                label_n += 1
                label_ok += int(v.label == lab)
            elif flagged:
                flag["fp"] += 1
            tc = text_counts.setdefault(lab, {"n": 0, "flagged": 0})
            tc["n"] += 1
            tc["flagged"] += int(flagged)
    return {
        "split": split, "seeds": SPLITS[split], "clips": len(rows), "ocr": "real" if real_ocr else "ground truth",
        "scenes": {s: {**_pr(c["tp"], c["fp"], c["fn"]), "tn": c["tn"]} for s, c in counts.items()},
        "porn_false_positive_rate": round(counts["porn"]["fp"] / max(1, counts["porn"]["fp"] + counts["porn"]["tn"]), 3),
        "text": {**_pr(flag["tp"], flag["fp"], flag["fn"]), "label_accuracy": round(label_ok / max(1, label_n), 3),
                 "per_label": text_counts},
        "unchecked_scene_passes": unchecked_pass,
        "rtf_cpu": round(cpu / max(media_s, 1e-6), 4), "cpu_s": round(cpu, 2), "media_s": round(media_s, 1),
        "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "errors": [r for r in rows if any((r["got"][s] != "pass") != bool(r["truth"][s])
                                          for s in ("ad", "live", "porn") if r["truth"][s] is not None)],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=sorted(SPLITS), default="tune")
    ap.add_argument("--real-ocr", action="store_true")
    ap.add_argument("--out")
    a = ap.parse_args()
    res = run(a.split, a.real_ocr)
    out = Path(a.out) if a.out else RESULTS / f"{a.split}{'-realocr' if a.real_ocr else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, ensure_ascii=False, indent=1))
    print(json.dumps({k: v for k, v in res.items() if k != "errors"}, ensure_ascii=False, indent=1))
    for e in res["errors"]:
        print("ERR", e)


if __name__ == "__main__":
    main()
