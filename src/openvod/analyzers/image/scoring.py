"""From measurements to criteria (each 0..1, 1 = best), a weighted quality and the 0..10 wire Score.

    Score = 10 * sum(weight[c] * criterion[c])        (weights sum to 1)

A frame that fails a hard gate (black, blank/washed out, inside a fade or dissolve, extremely
blurred) is *rejected*: it is never returned, and its score is reported multiplied by 0.1. The
mapping of every criterion is spelled out below and in docs/aiimage.md; constants were tuned on
generated frames (scikit-image sample pictures, blurred, darkened, faded, noised, JPEG-blocked and
subtitled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from openvod.analyzers.image.faces import Face
from openvod.analyzers.image.metrics import FrameMetrics

WEIGHTS: dict[str, float] = {
    "Sharpness": 0.22,
    "MotionBlur": 0.07,
    "Exposure": 0.14,
    "Contrast": 0.08,
    "Colourfulness": 0.05,
    "Noise": 0.12,
    "Blockiness": 0.05,
    "Text": 0.12,
    "Faces": 0.15,
}
REJECTED_FACTOR = 0.1

# Neutral values of the dear criteria while they are unknown, and for "no face in the frame".
NO_FACE = 0.4

# Defects: a criterion this low makes a frame a last resort (picked only when no frame is free of
# defects). Unlike gates they depend on the dear measures too, and they never empty a result.
DEFECTS: dict[str, tuple[str, float]] = {
    "Sharpness": ("blurry", 0.2),
    "MotionBlur": ("motion-blurred", 0.5),
    "Exposure": ("badly exposed", 0.25),  # reported as over-exposed / under-exposed
    "Contrast": ("faded", 0.35),
    "Text": ("covered by text", 0.35),
    "Noise": ("noisy", 0.4),
    "Blockiness": ("blocky", 0.4),
}
NOISE_FROM, NOISE_TO = 1.2, 5.0  # Immerkaer sigma (grey levels): no penalty .. full penalty
NOISE_SHARPNESS = 0.6  # share of the Sharpness credit that noise takes away (noise reads as detail)
# Same content, different quality: a candidate whose degradation index (see ``degradation``) is at
# least this much higher than a near-duplicate's never ranks above it.
CLEANER_BY = 0.15
BLURRY = 0.58  # blur effect above which a frame is "blurry" whatever the rest of the video looks like


def clip01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else float(x)


def ramp(x: float, lo: float, hi: float) -> float:
    """0 at ``lo`` .. 1 at ``hi`` (either order), clipped."""
    return clip01((x - lo) / (hi - lo))


@dataclass
class VideoContext:
    """Video-wide references that make some criteria relative (e.g. "sharp for this video")."""

    sharp_ref: float = 0.7  # 90th percentile of (1 - blur) over usable samples


@dataclass
class Assessment:
    """Criteria, gates and score of one frame."""

    criteria: dict[str, float]
    rejected: list[str] = field(default_factory=list)
    measures: dict[str, float] = field(default_factory=dict)

    @property
    def defects(self) -> list[str]:
        out = [name for key, (name, floor) in DEFECTS.items() if self.criteria.get(key, 1.0) < floor]
        if "badly exposed" in out:
            out[out.index("badly exposed")] = ("over-exposed" if self.measures.get("LumaMean", 0.0) > 115.0
                                               else "under-exposed")
        # Blurred in absolute terms even when it is the sharpest frame of an all-soft video.
        if "blurry" not in out and self.measures.get("Blur", 0.0) > BLURRY:
            out.insert(0, "blurry")
        return out

    @property
    def quality(self) -> float:
        return sum(WEIGHTS[k] * v for k, v in self.criteria.items() if k in WEIGHTS)

    @property
    def score(self) -> float:
        q = 10.0 * self.quality
        return q * REJECTED_FACTOR if self.rejected else q


# ---------------------------------------------------------------------- single criteria
def sharpness(m: FrameMetrics, ctx: VideoContext) -> float:
    """60% absolute (blur effect 0.30 -> 1, 0.65 -> 0), 40% relative to the video's sharpest frames."""
    absolute = ramp(m.blur, 0.65, 0.30)
    s = 1.0 - m.blur
    relative = ramp(s, ctx.sharp_ref - 0.2, ctx.sharp_ref)
    return 0.6 * absolute + 0.4 * relative


def motion_blur(m: FrameMetrics) -> float:
    """Directional blur: worse/better axis blur ratio 1.35 -> 1.9, only counted when the frame is blurred."""
    return 1.0 - ramp(m.blur_ratio, 1.35, 1.9) * ramp(m.blur, 0.25, 0.5)


def exposure(m: FrameMetrics) -> float:
    """Mean luma in 80..150 is ideal; crushed shadows / blown highlights beyond 5% of the frame cost."""
    mean_ok = 1.0 - ramp(abs(m.mean - 115.0), 35.0, 115.0)
    clipped = 1.0 - ramp(m.dark + m.bright, 0.05, 0.45)
    return mean_ok * clipped


def contrast(m: FrameMetrics) -> float:
    """RMS contrast (std 0 -> 55 grey levels) and 2-98% range (0 -> 170 grey levels), half each."""
    return 0.5 * ramp(m.std, 0.0, 55.0) + 0.5 * ramp(m.p98 - m.p02, 0.0, 170.0)


def colour(m: FrameMetrics) -> float:
    """Hasler-Suesstrunk M 0 -> 60 ("quite colourful")."""
    return ramp(m.colourfulness, 0.0, 60.0)


def blockiness(m: FrameMetrics) -> float:
    """Block-border ratio 1.15 -> 2.0."""
    return 1.0 - ramp(m.blockiness, 1.15, 2.0)


def noise(sigma: float) -> float:
    """Immerkaer sigma on the mid-size image, 1.2 -> 5 grey levels (Gaussian noise of std ~2 -> ~8)."""
    return 1.0 - ramp(sigma, NOISE_FROM, NOISE_TO)


def degradation(a: Assessment) -> float:
    """How degraded a frame is, whatever it shows: noise + blocking + bad exposure + blur (0 = clean).

    Used only between near-duplicates (the same content): the cleaner one ranks first.
    """
    c = a.criteria
    return ((1.0 - c.get("Noise", 1.0)) + (1.0 - c.get("Blockiness", 1.0)) + (1.0 - c.get("Exposure", 1.0))
            + max(0.0, a.measures.get("Blur", 0.0) - 0.45) * 2.0)


def text(coverage: float) -> float:
    """Share of the frame under text lines, 0.5% -> 6.5% (one subtitle line is ~3%)."""
    return 1.0 - ramp(coverage, 0.005, 0.065)


def faces(found: Sequence[Face], width: int, height: int) -> float:
    """No face: 0.4. Otherwise the largest face: 35% size, 20% placement, 45% open eyes.

    Size: 1% of the frame -> 0, 4%..35% -> 1, shrinking again to 0.5 at 80% (a crop of a face).
    Placement: 1 when the face centre is inside the middle 80% of the width and upper 75% of the
    height and the box does not touch the border. Eyes: two open eyes 1, one 0.6, none 0.1; when the
    face was too small to look for eyes, 0.6.
    """
    if not found:
        return NO_FACE
    f = found[0]
    area = (f.w * f.h) / float(width * height)
    size = ramp(area, 0.01, 0.04) if area < 0.35 else 1.0 - 0.5 * ramp(area, 0.35, 0.8)
    cx, cy = (f.x + f.w / 2) / width, (f.y + f.h / 2) / height
    inside = 0.1 <= cx <= 0.9 and cy <= 0.75
    touches = f.x <= 1 or f.y <= 1 or f.x + f.w >= width - 1 or f.y + f.h >= height - 1
    placement = (1.0 if inside else 0.5) * (0.6 if touches else 1.0)
    eyes = {2: 1.0, 1: 0.6, 0: 0.1}[min(2, f.eyes)] if f.eyes_checked else 0.6
    return 0.35 * size + 0.2 * placement + 0.45 * eyes


# ---------------------------------------------------------------------- gates
def gates(m: FrameMetrics, *, in_transition: bool = False) -> list[str]:
    """Hard rejections (reasons) from the cheap metrics."""
    out = []
    if m.mean < 22.0 and m.p98 < 50.0:
        out.append("black")
    elif m.std < 8.0 or m.p98 - m.p02 < 30.0:
        out.append("blank")  # uniform or washed-out frame (also a white flash)
    if m.blur > 0.8:
        out.append("blurred")
    if in_transition:
        out.append("transition")
    return out


def pre_assess(m: FrameMetrics, ctx: VideoContext, *, in_transition: bool = False) -> Assessment:
    """Cheap criteria; the dear ones are set to neutral values."""
    crit = {
        # Noise and grain read as fine detail; the Sharpness credit shrinks as the noise grows.
        "Sharpness": sharpness(m, ctx) * (1.0 - NOISE_SHARPNESS * ramp(m.noise, NOISE_FROM, NOISE_TO)),
        "MotionBlur": motion_blur(m),
        "Exposure": exposure(m),
        "Contrast": contrast(m),
        "Colourfulness": colour(m),
        "Noise": noise(m.noise),
        "Blockiness": blockiness(m),
        "Text": 1.0,
        "Faces": NO_FACE,
    }
    return Assessment(crit, gates(m, in_transition=in_transition),
                      {"LumaMean": round(m.mean, 2), "Blur": round(m.blur, 4), "NoiseSigma": round(m.noise, 3)})


def assess(
    m: FrameMetrics,
    ctx: VideoContext,
    *,
    noise_sigma: float | None = None,
    text_coverage: float,
    found_faces: Sequence[Face],
    face_image_size: tuple[int, int],
    in_transition: bool = False,
) -> Assessment:
    """All criteria of a candidate frame."""
    if noise_sigma is not None and noise_sigma != m.noise:
        from dataclasses import replace

        m = replace(m, noise=noise_sigma)
    a = pre_assess(m, ctx, in_transition=in_transition)
    a.criteria["Text"] = text(text_coverage)
    a.criteria["Faces"] = faces(found_faces, *face_image_size)
    a.measures = {
        "LumaMean": round(m.mean, 2),
        "LumaStd": round(m.std, 2),
        "Blur": round(m.blur, 4),
        "BlurAxisRatio": round(m.blur_ratio, 3),
        "Colourfulness": round(m.colourfulness, 2),
        "BlockRatio": round(m.blockiness, 3),
        "NoiseSigma": round(m.noise, 3),
        "TextCoverage": round(text_coverage, 4),
        "Faces": len(found_faces),
    }
    return a


def explain(a: Assessment) -> str:
    """A short human-readable reason for a pick: its strongest and weakest criteria."""
    if a.rejected:
        return "rejected: " + ", ".join(a.rejected)
    c = a.criteria
    if a.defects:
        return "best available, but " + ", ".join(a.defects)
    good = [k for k in ("Sharpness", "Exposure", "Contrast", "Colourfulness") if c[k] >= 0.75]
    parts = []
    if good:
        parts.append("good " + ", ".join(k.lower() for k in good))
    if c["Faces"] >= 0.8:
        parts.append("clear face")
    if c["Text"] >= 0.99:
        parts.append("no overlaid text")
    weak = [k for k, v in c.items() if v < 0.5 and k != "Faces"]
    if weak:
        parts.append("weaker " + ", ".join(k.lower() for k in weak))
    return "; ".join(parts) or "best available frame"
