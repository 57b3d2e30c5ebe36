"""Face benchmark: identities across hard cuts, within a video and across videos (face library).

    .venv/bin/python -m bench.tag.faces --videos 6 --seed 1        # tuning seed
    .venv/bin/python -m bench.tag.faces --videos 6 --seed 2        # held-out seed

Real faces, all shipped inside scikit-image (nothing downloaded): the astronaut photograph (Eileen
Collins) and five Labeled-Faces-in-the-Wild crops from ``skimage.data.lfw_subset()`` (25x25 grey,
upscaled; chosen once so that every pair is >= 0.72 apart in dlib's embedding space while copies of
one face at other sizes/brightness/mirrored stay <= 0.25 apart, see :data:`LFW_PEOPLE`).

Each generated video is a sequence of hard cuts (2-5 s shots, moving or still backgrounds); a shot
shows one or two faces, often a *different* person at the *same* screen position as the shot
before, sometimes nobody. Reported, over all sampled (person, time) points:

* purity / inverse purity of the Person clusters against the true identities, within each video and
  across videos (clusters named through a fresh in-memory face library, as a job does);
* Times coverage: share of the true on-screen time within ``step`` seconds after a listed Time of the
  person that identity was assigned to (the cloud's "Times list every sampled moment");
* box recall: share of true (face, second) samples with a detail box (within half a step) whose
  centre lies in the true face picture;
* face CPU seconds per video second.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.media import VideoWriter

# Indices into skimage.data.lfw_subset() (its first 100 entries are faces).
LFW_PEOPLE = (0, 46, 74, 99, 98)
IDENTITIES = ("astronaut",) + tuple(f"lfw{i}" for i in LFW_PEOPLE)


@functools.lru_cache(maxsize=16)
def face_image(name: str) -> np.ndarray:
    """An RGB portrait of ``name`` whose face fills most of the picture."""
    import skimage.data

    if name == "astronaut":
        return np.ascontiguousarray(skimage.data.astronaut()[20:260, 120:330])
    i = int(name[3:])
    g = (skimage.data.lfw_subset()[i] * 255).astype(np.uint8)
    return np.ascontiguousarray(np.dstack([g] * 3))


@dataclass
class Appearance:
    person: str
    start: float
    end: float
    x: int
    y: int
    size: int  # face picture height in pixels
    flip: bool = False
    gain: float = 1.0


def _layer(a: Appearance) -> np.ndarray:
    src = face_image(a.person)
    w = int(a.size * src.shape[1] / src.shape[0])
    img = np.asarray(Image.fromarray(src).resize((w, a.size), Image.BICUBIC)).astype(np.float32)
    if a.flip:
        img = img[:, ::-1]
    return np.clip(img * a.gain, 0, 255).astype(np.uint8)


def _background(seed: int, w: int, h: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c0, c1 = rng.integers(30, 200, 3), rng.integers(30, 200, 3)
    ramp = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    img = (c0 * (1 - ramp) + c1 * ramp) * np.ones((h, 1, 1), np.float32)
    for _ in range(8):
        x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(h // 20, h // 8))
        img[max(0, y - r):y + r, max(0, x - r):x + r] = rng.integers(0, 256, 3)
    return img.astype(np.uint8)


def render(path: Path, shots: list[tuple[float, float, int, bool]], faces: list[Appearance],
           size: tuple[int, int] = (640, 360), fps: int = 25) -> dict[str, Any]:
    """Write the video; shots are (start, end, background seed, moving). Returns the truth."""
    w, h = size
    layers = [(a, _layer(a)) for a in faces]
    bgs: dict[int, np.ndarray] = {}
    duration = max(e for _, e, _, _ in shots)
    with VideoWriter(path, size, fps, preset="veryfast", crf=23) as out:
        for i in range(int(round(duration * fps))):
            t = i / fps
            sh = next((s for s in shots if s[0] <= t < s[1]), shots[-1])
            if sh[2] not in bgs:
                bgs[sh[2]] = _background(sh[2], w, h)
            img = bgs[sh[2]].copy()
            if sh[3]:
                img = np.roll(img, int((t - sh[0]) * w / 8), axis=1)
            for a, lay in layers:
                if a.start <= t < a.end:
                    lh, lw = lay.shape[:2]
                    # a slow drift, as a speaker moves
                    dx = int(6 * np.sin(2 * np.pi * (t - a.start) / 3.0)) if sh[3] else 0
                    x0 = min(max(0, a.x + dx), w - lw)
                    img[a.y:a.y + lh, x0:x0 + lw] = lay
            out.write(img)
    return {"duration": duration, "size": list(size),
            "faces": [{"person": a.person, "start": a.start, "end": a.end,
                       "box": [a.x, a.y, a.x + int(a.size * face_image(a.person).shape[1] / face_image(a.person).shape[0]),
                               a.y + a.size]} for a in faces],
            "shots": [[s, e] for s, e, _, _ in shots]}


def two_people_same_place(path: Path) -> dict[str, Any]:
    """The test clip: astronaut, hard cut, another person at the same place and size, cut back."""
    shots = [(0.0, 3.0, 11, False), (3.0, 6.0, 12, False), (6.0, 8.0, 13, False)]
    faces = [Appearance("astronaut", 0.0, 3.0, 220, 40, 240),
             Appearance("lfw46", 3.0, 6.0, 220, 40, 240),
             Appearance("astronaut", 6.0, 8.0, 220, 40, 240)]
    return render(path, shots, faces)


def random_video(rng: np.random.Generator, people: list[str], duration: float) -> tuple[list[Any], list[Appearance]]:
    shots: list[tuple[float, float, int, bool]] = []
    faces: list[Appearance] = []
    t = 0.0
    prev: tuple[str, int, int, int] | None = None
    while t < duration - 1.5:
        d = float(min(duration - t, rng.uniform(2.0, 5.0)))
        shots.append((t, t + d, int(rng.integers(0, 10_000)), bool(rng.random() < 0.5)))
        r = rng.random()
        if r < 0.12:
            prev = None  # nobody on screen
        elif r < 0.3 and len(people) >= 2:
            a, b = rng.choice(people, 2, replace=False)
            size = int(rng.integers(130, 170))
            faces.append(Appearance(str(a), t, t + d, 40, 60, size, bool(rng.random() < 0.3)))
            faces.append(Appearance(str(b), t, t + d, 400, 60, size, bool(rng.random() < 0.3)))
            prev = None
        else:
            if prev is not None and rng.random() < 0.6:
                # a different person at the same place and size: the hard case of the issue
                person = str(rng.choice([p for p in people if p != prev[0]]))
                _, x, y, size = prev
            else:
                person = str(rng.choice(people))
                size = int(rng.integers(120, 260))
                x, y = int(rng.integers(0, 640 - size)), int(rng.integers(0, max(1, 360 - size)))
            faces.append(Appearance(person, t, t + d, x, y, size, bool(rng.random() < 0.3),
                                    float(rng.uniform(0.8, 1.15))))
            prev = (person, x, y, size)
        t += d
    return shots, faces


def _inside(box: list[float], pic: list[float]) -> bool:
    """The detected face box's centre lies in the true face picture (the picture is the face plus hair)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return pic[0] - 8 <= cx <= pic[2] + 8 and pic[1] - 8 <= cy <= pic[3] + 8


def purity(pairs: list[tuple[str, str]]) -> tuple[float, float]:
    """(purity, inverse purity) of (cluster, truth) labels."""
    if not pairs:
        return 0.0, 0.0
    from collections import Counter

    by_c: dict[str, Counter[str]] = {}
    by_t: dict[str, Counter[str]] = {}
    for c, t in pairs:
        by_c.setdefault(c, Counter())[t] += 1
        by_t.setdefault(t, Counter())[c] += 1
    n = len(pairs)
    return (sum(max(v.values()) for v in by_c.values()) / n, sum(max(v.values()) for v in by_t.values()) / n)


def score_video(truth: dict[str, Any], samples: list[tuple[str, float, list[float]]], step: float,
                tag: str = "") -> dict[str, Any]:
    """samples: (cluster label, time s, box x0 y0 x1 y1 px) of every listed Time of every person."""
    pairs: list[tuple[str, str]] = []
    for c, t, box in samples:
        hits = [f for f in truth["faces"] if f["start"] - 0.05 <= t < f["end"] and _inside(box, f["box"])]
        if hits:
            pairs.append((tag + c, tag + hits[0]["person"]))
        else:
            pairs.append((tag + c, tag + "<none>"))
    # Which cluster stands for each true person: the one holding most of its samples.
    from collections import Counter

    owner: dict[str, str] = {}
    for p in {f["person"] for f in truth["faces"]}:
        cnt = Counter(c for c, q in pairs if q == tag + p)
        if cnt:
            owner[p] = cnt.most_common(1)[0][0]
    times: dict[str, list[float]] = {}
    for c, t, _ in samples:
        times.setdefault(tag + c, []).append(t)
    on = cov = 0.0
    box_n = box_hit = 0
    grid = 0.1
    for f in truth["faces"]:
        ts = np.asarray(sorted(times.get(owner.get(f["person"], "?"), [])))
        for u in np.arange(f["start"], f["end"], grid):
            on += grid
            if len(ts) and ((ts <= u + 1e-6) & (ts > u - step)).any():
                cov += grid
        for u in np.arange(f["start"], f["end"], 1.0):
            box_n += 1
            box_hit += any(abs(t - u) <= step / 2 + 1e-6 and _inside(b, f["box"]) for _, t, b in samples)
    return {"pairs": pairs, "on_screen_s": on, "covered_s": cov, "box_n": box_n, "box_hit": box_hit}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    from sqlalchemy import create_engine

    from openvod.analyzers.tag.engine import TagOptions, analyse
    from openvod.services.faces import FaceLibrary
    from openvod.models.cache import ModelCache
    from openvod.store.tables import metadata

    rng = np.random.default_rng(args.seed)
    cache = ModelCache()
    opts = TagOptions()
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    lib = FaceLibrary(engine, "bench", "dlib")
    within: list[tuple[str, str]] = []
    across: list[tuple[str, str]] = []
    tot = {"on_screen_s": 0.0, "covered_s": 0.0, "box_n": 0, "box_hit": 0}
    cpu = media_s = 0.0
    per_video = []
    with tempfile.TemporaryDirectory() as tmp:
        for v in range(args.videos):
            people = list(rng.choice(IDENTITIES, int(rng.integers(2, 5)), replace=False))
            shots, faces = random_video(rng, people, args.duration)
            path = Path(tmp) / f"v{v}.mp4"
            truth = render(path, shots, faces)
            c0, t0 = _cpu(), time.monotonic()
            res = analyse(path, ["Face"], opts, cache)
            cpu += _cpu() - c0
            media_s += truth["duration"]
            step = getattr(opts.face, "times_step_s", 1.0)
            if hasattr(res.persons[0] if res.persons else None, "timeline"):
                samples = [(str(c.index), t, list(b)) for c in res.persons for t, b in c.timeline(step)]
            else:  # before commit "faces across cuts": one Time (the start) and one box per appearance
                samples = [(str(c.index), t.start, list(t.box)) for c in res.persons for t in c.tracks]
            s = score_video(truth, samples, step, tag=f"v{v}:")
            within += s["pairs"]
            matches = lib.identify([c.centroid for c in res.persons], 0.5)
            ids = {str(c.index): m.person_id for c, m in zip(res.persons, matches, strict=True)}
            across += [(ids[c.split(":", 1)[1]], q.split(":", 1)[1]) for c, q in s["pairs"]]
            for k in tot:
                tot[k] += s[k]
            wp = purity(s["pairs"])
            per_video.append({"video": v, "people": people, "appearances": len(faces), "persons": len(res.persons),
                              "purity": round(wp[0], 3), "inverse_purity": round(wp[1], 3),
                              "wall_s": round(time.monotonic() - t0, 2), "face_stats": res.stats.get("face")})
            print(json.dumps(per_video[-1]))
    pw, iw = purity(within)
    pa, ia = purity(across)
    out = {"seed": args.seed, "videos": args.videos, "media_s": round(media_s, 1),
           "appearances": sum(p["appearances"] for p in per_video),
           "within_video": {"purity": round(pw, 3), "inverse_purity": round(iw, 3)},
           "across_videos": {"purity": round(pa, 3), "inverse_purity": round(ia, 3)},
           "times_coverage": round(tot["covered_s"] / max(tot["on_screen_s"], 1e-9), 3),
           "box_recall": round(tot["box_hit"] / max(tot["box_n"], 1), 3),
           "false_samples": round(sum(1 for _, q in within if q.endswith("<none>")) / max(len(within), 1), 3),
           "face_cpu_s_per_video_s": round(cpu / max(media_s, 1e-9), 3)}
    print(json.dumps(out, indent=1))
    if args.out:
        args.out.write_text(json.dumps({"summary": out, "videos": per_video}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
