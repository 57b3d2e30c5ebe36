"""A generated, labelled set of videos with known good and bad cover moments.

Pictures are scikit-image's bundled sample images (astronaut has a face; no download). Every video is
a random sequence of segments, each labelled:

good       a sharp scene with a slow Ken Burns zoom/pan (``face`` when it is the astronaut)
dup        the same scene as an earlier good segment again (a near-duplicate moment)
closed     the astronaut with her eyes painted shut (a near-duplicate of ``face``, worse)
black      black frames
fade       a fade from a scene to black or from black to a scene (mid-transition frames)
dissolve   a cross-dissolve between two scenes
blur       a scene out of focus (Gaussian blur)
motion     a fast pan smeared by motion blur
subtitle   a scene covered by three lines of burned-in subtitles
washed     a washed-out, faded-looking scene (low contrast)
dark       a badly underexposed scene
noise      a good scene under heavy sensor noise / grain (fresh Gaussian noise every frame)
over       a good scene over-exposed (gain to a mean luma of 185-215, highlights clipped)
blocky     a good scene JPEG-compressed to visible 8x8 blocks (quality 3-7)

A returned image is *good* when its time is inside a ``good`` or ``dup`` segment and no earlier image
returned for the same video shows the same scene (scene ids of ``dup`` and ``closed`` segments are
those of their originals).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tests.media import VideoWriter

GOOD_KINDS = ("good", "dup")
# Degraded copies of a good scene: the same content, worse quality (the quality test).
DEGRADED_KINDS = ("noise", "over", "blocky", "blur", "dark", "washed")
DATASET_VERSION = 4  # bump when the generator changes, so cached videos are remade
SUBTITLES = [
    "I told you we would make it before sunset",
    "这就是我们的新家 - this is our new home",
    "Breaking: markets close higher for a third day",
    "Don't look back, just keep running!",
    "Next week on the show: the final challenge",
]


def _pictures() -> dict[str, np.ndarray]:
    from skimage import data

    out = {}
    for name in ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry",
                 "stereo_motorcycle", "retina", "camera", "brick"):
        img = getattr(data, name)()
        if isinstance(img, tuple):  # stereo_motorcycle: (left, right, disparity)
            img = img[0]
        if img.ndim == 2:
            img = np.stack([img] * 3, axis=-1)
        out[name] = np.ascontiguousarray(img[..., :3])
    return out


def closed_eyes(astronaut: np.ndarray) -> np.ndarray:
    """The astronaut with her eyes painted shut (skin-coloured lids and a lash line)."""
    a = astronaut.copy()
    for cx, cy in ((202, 100), (246, 103)):
        skin = np.median(a[cy + 12 : cy + 18, cx - 8 : cx + 8].reshape(-1, 3), axis=0)
        cv2.ellipse(a, (cx, cy), (13, 8), 0, 0, 360, tuple(int(v) for v in skin), -1)
        cv2.ellipse(a, (cx, cy - 1), (11, 4), 0, 10, 170, (60, 40, 35), 2)
    region = a[85:120, 185:265]
    a[85:120, 185:265] = cv2.GaussianBlur(region, (3, 3), 0)
    return a


@dataclass
class Scene:
    """A picture with a slow zoom and pan."""

    picture: str
    zoom0: float
    zoom1: float
    cx0: float
    cy0: float
    cx1: float
    cy1: float


def render(pic: np.ndarray, sc: Scene, u: float, size: tuple[int, int]) -> np.ndarray:
    """The scene at progress ``u`` (0..1): the picture cropped to 16:9 and zoomed around a moving centre."""
    w, h = size
    ph, pw = pic.shape[:2]
    base = max(w / pw, h / ph)  # fill the frame
    z = base * (sc.zoom0 + (sc.zoom1 - sc.zoom0) * u)
    cx = (sc.cx0 + (sc.cx1 - sc.cx0) * u) * pw
    cy = (sc.cy0 + (sc.cy1 - sc.cy0) * u) * ph
    # keep the crop inside the picture
    half_w, half_h = w / (2 * z), h / (2 * z)
    cx = min(max(cx, half_w), pw - half_w)
    cy = min(max(cy, half_h), ph - half_h)
    m = np.array([[z, 0, w / 2 - z * cx], [0, z, h / 2 - z * cy]], dtype=np.float32)
    return cv2.warpAffine(pic, m, (w, h), flags=cv2.INTER_AREA if z < 1 else cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REFLECT)


def subtitle(frame: np.ndarray, lines: list[str]) -> np.ndarray:
    h, w = frame.shape[:2]
    img = Image.fromarray(frame)
    d = ImageDraw.Draw(img)
    size = max(12, int(h * 0.075))
    font = ImageFont.load_default(size=size)
    y = h - int(size * 1.35) * len(lines) - int(h * 0.05)
    for line in lines:
        d.text((w // 2, y), line, font=font, fill=(255, 255, 255), anchor="ma", stroke_width=max(2, size // 12),
               stroke_fill=(0, 0, 0))
        y += int(size * 1.35)
    return np.asarray(img)


@dataclass
class Segment:
    """A labelled stretch of a video."""

    kind: str
    start: float
    end: float
    scene_id: int | None = None  # which good scene it shows (dup / closed point to the original)


@dataclass
class Video:
    """A generated video and its labels."""

    path: Path
    duration: float
    segments: list[Segment] = field(default_factory=list)

    def label_at(self, t: float) -> Segment | None:
        for s in self.segments:
            if s.start - 1e-6 <= t < s.end - 1e-6:
                return s
        return self.segments[-1] if self.segments and t >= self.segments[-1].start else None


def load_or_make(path: Path, seed: int, pictures: dict[str, np.ndarray] | None = None) -> Video:
    """Reuse a video generated earlier with the same seed and generator version, else make it."""
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        d = json.loads(meta.read_text())
        if d.get("version") == DATASET_VERSION and d.get("seed") == seed:
            return Video(path, d["duration"], [Segment(**s) for s in d["segments"]])
    v = make_video(path, seed, pictures=pictures)
    meta.write_text(json.dumps({"version": DATASET_VERSION, "seed": seed, "duration": v.duration,
                                "segments": [asdict(s) for s in v.segments]}))
    return v


def _plan(rng: random.Random, names: list[str]) -> list[tuple[str, float, dict]]:
    """A random timeline: 3-4 distinct good scenes (one is often the face) and 5-7 bad segments."""
    n_good = rng.choice([3, 4])
    pool = [n for n in names if n != "astronaut"]
    pics = rng.sample(pool, n_good)
    if rng.random() < 0.7:
        pics[rng.randrange(n_good)] = "astronaut"
    scenes = []
    for p in pics:
        z0 = rng.uniform(1.0, 1.15)
        # The astronaut's face is in the upper third of the picture: keep it in the frame.
        cy = (0.28, 0.32) if p == "astronaut" else (0.4, 0.6)
        scenes.append(Scene(p, z0, z0 + rng.uniform(0.04, 0.12), rng.uniform(0.4, 0.6), rng.uniform(*cy),
                            rng.uniform(0.4, 0.6), rng.uniform(*cy)))
    items: list[tuple[str, float, dict]] = [("good", rng.uniform(2.0, 3.5), {"scene": i}) for i in range(n_good)]
    bad_kinds = ["black", "blur", "motion", "subtitle", "washed", "dark", "dup", "fade", "dissolve",
                 "noise", "over", "blocky"]
    for kind in rng.sample(bad_kinds, rng.choice([6, 7, 8])):
        items.append((kind, rng.uniform(1.5, 3.0), {"scene": rng.randrange(n_good)}))
    if rng.random() < 0.5:  # a quality-test video: a noisy copy of the face (or first) scene, longer
        sid = pics.index("astronaut") if "astronaut" in pics else 0
        items.append(("noise", rng.uniform(2.5, 3.5), {"scene": sid}))
    if "astronaut" in pics and rng.random() < 0.6:
        items.append(("closed", rng.uniform(2.0, 3.0), {"scene": pics.index("astronaut")}))
    rng.shuffle(items)
    return [(k, d, {**o, "scenes": scenes}) for k, d, o in items]


def make_video(path: Path, seed: int, size: tuple[int, int] = (640, 360), fps: int = 25,
               pictures: dict[str, np.ndarray] | None = None) -> Video:
    """Write one labelled video."""
    rng = random.Random(seed)
    pics = pictures or _pictures()
    pics = {**pics, "astronaut_closed": closed_eyes(pics["astronaut"])}
    plan = _plan(rng, [n for n in pics if n != "astronaut_closed"])
    scenes: list[Scene] = plan[0][2]["scenes"]
    frames_out: list[tuple[str, int | None, np.ndarray]] = []

    def scene_frames(i: int, n: int, picture: str | None = None, speed: float = 1.0) -> list[np.ndarray]:
        sc = scenes[i]
        pic = pics[picture or sc.picture]
        return [render(pic, sc, min(1.0, speed * k / max(1, n - 1)), size) for k in range(n)]

    prev_scene = 0
    for kind, dur, opts in plan:
        n = max(2, int(round(dur * fps)))
        sid = opts["scene"]
        if kind in ("good", "dup"):
            frs = scene_frames(sid, n)
        elif kind == "closed":
            frs = scene_frames(sid, n, "astronaut_closed")
        elif kind == "black":
            frs = [np.zeros((size[1], size[0], 3), np.uint8) for _ in range(n)]
        elif kind == "blur":
            frs = [cv2.GaussianBlur(f, (0, 0), size[0] / 160) for f in scene_frames(sid, n)]
        elif kind == "motion":
            k = np.zeros((21, 21), np.float32)
            k[10, :] = 1.0 / 21
            fast = Scene(scenes[sid].picture, 1.3, 1.3, 0.3, 0.5, 0.7, 0.5)
            pic = pics[fast.picture]
            frs = [cv2.filter2D(render(pic, fast, j / max(1, n - 1), size), -1, k) for j in range(n)]
        elif kind == "subtitle":
            lines = rng.sample(SUBTITLES, 3)
            frs = [subtitle(f, lines) for f in scene_frames(sid, n)]
        elif kind == "washed":
            frs = [(0.3 * f + 0.7 * 190).astype(np.uint8) for f in scene_frames(sid, n)]
        elif kind == "dark":
            frs = [(0.12 * f).astype(np.uint8) for f in scene_frames(sid, n)]
        elif kind == "noise":
            sigma = rng.uniform(10.0, 25.0)
            nrng = np.random.default_rng(rng.randrange(1 << 30))
            frs = [np.clip(f + nrng.normal(0.0, sigma, f.shape), 0, 255).astype(np.uint8) for f in scene_frames(sid, n)]
        elif kind == "over":
            # Over-exposed: brightened until the mean luma is 185-215 with the highlights clipped (a
            # plain gain on a dark picture would only make it better exposed).
            base = scene_frames(sid, n)
            target = rng.uniform(185.0, 215.0)
            gain = max(1.5, target / max(1.0, float(np.mean(base[0]))))
            frs = [np.clip(f.astype(np.float32) * gain + 20.0, 0, 255).astype(np.uint8) for f in base]
        elif kind == "blocky":
            q = rng.randrange(3, 8)
            frs = [cv2.imdecode(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, q])[1], cv2.IMREAD_UNCHANGED)
                   for f in scene_frames(sid, n)]
        elif kind == "fade":
            base = scene_frames(sid, n)
            out = rng.random() < 0.5
            frs = [(f * ((n - 1 - j) / (n - 1) if out else j / (n - 1))).astype(np.uint8) for j, f in enumerate(base)]
        elif kind == "dissolve":
            # From the last scene shown (continuing its motion) into a different one.
            other = (prev_scene + 1 + rng.randrange(len(scenes) - 1)) % len(scenes)
            sc_a = scenes[prev_scene]
            a = [render(pics[sc_a.picture], sc_a, 1.0 + 0.3 * j / max(1, n - 1), size) for j in range(n)]
            b = scene_frames(other, n)
            frs = [((1 - j / (n - 1)) * fa + (j / (n - 1)) * fb).astype(np.uint8) for j, (fa, fb) in enumerate(zip(a, b, strict=True))]
        else:  # pragma: no cover
            raise ValueError(kind)
        if kind in ("good", "dup", "closed"):
            prev_scene = sid
        frames_out.extend((kind, sid if kind in ("good", "dup", "closed", "subtitle") + DEGRADED_KINDS else None, f)
                          for f in frs)

    video = Video(path, len(frames_out) / fps)
    cur: Segment | None = None
    with VideoWriter(path, size, fps, preset="veryfast", crf=20, gop=fps * 2) as out:
        for i, (kind, sid, img) in enumerate(frames_out):
            t = i / fps
            if cur is None or cur.kind != kind or cur.scene_id != sid:
                cur = Segment(kind, t, t, sid)
                video.segments.append(cur)
            cur.end = t + 1.0 / fps
            out.write(img)
    return video


def judge(video: Video, times: list[float]) -> list[tuple[float, str, bool]]:
    """(time, label, good?) for each returned image, in the order returned."""
    seen: set[int] = set()
    out = []
    for t in times:
        seg = video.label_at(t)
        kind = seg.kind if seg else "?"
        good = seg is not None and kind in GOOD_KINDS and seg.scene_id not in seen
        if seg is not None and seg.scene_id is not None and kind in ("good", "dup", "closed"):
            seen.add(seg.scene_id)
        out.append((t, kind if good or kind not in GOOD_KINDS else kind + "(duplicate)", good))
    return out


def degraded_top(video: Video, times: list[float]) -> bool | None:
    """Whether the top pick is a degraded copy of a scene that the video also shows clean.

    None when the video has no degraded copy of a scene it also shows clean (not a quality test).
    """
    clean = {s.scene_id for s in video.segments if s.kind in GOOD_KINDS}
    copies = {s.scene_id for s in video.segments if s.kind in DEGRADED_KINDS} & clean
    if not copies:
        return None
    if not times:
        return False
    seg = video.label_at(times[0])
    return seg is not None and seg.kind in DEGRADED_KINDS and seg.scene_id in copies


def make_timing_clip(path: Path, seconds: float = 60.0, size: tuple[int, int] = (1280, 720), fps: int = 25,
                     seed: int = 99) -> Path:
    """A 720p clip for the wall-time target: Ken Burns scenes, cuts and fades, light film grain."""
    rng = np.random.default_rng(seed)
    pics = _pictures()
    names = list(pics)
    n = int(seconds * fps)
    scene_len = 5 * fps
    with VideoWriter(path, size, fps, preset="veryfast", crf=21, gop=fps * 2) as out:
        grain = rng.normal(0, 3, (8, size[1], size[0], 1)).astype(np.int16)
        for i in range(n):
            k, j = divmod(i, scene_len)
            sc = Scene(names[k % len(names)], 1.0, 1.15, 0.45, 0.5, 0.55, 0.5)
            img = render(pics[sc.picture], sc, j / scene_len, size)
            if k % 3 == 2 and j >= scene_len - fps:  # fade to black at the end of every third scene
                img = (img * ((scene_len - j) / fps)).astype(np.uint8)
            out.write(np.clip(img.astype(np.int16) + grain[i % 8], 0, 255).astype(np.uint8))
    return path
