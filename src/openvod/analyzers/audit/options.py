"""Typed options of an audit: scenes, ranges, thresholds and sampling (docs/audit.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCENES = ("porn", "terrorism", "ad", "live", "logo")  # the video scenes, in wire order
ITEMS = (*SCENES, "audio")  # AuditItem values
RANGES = ("video", "image-cover", "text-title")
# Default AuditItem when no template names any: the scenes an offline model or rule can decide.
# terrorism and logo are only on when a template asks for them (they then end at least in review).
DEFAULT_ITEMS = ("porn", "ad", "live", "audio")
DEFAULT_RANGES = ("video", "image-cover", "text-title")
TEXT_SCENE = "text"  # title, description (TextResult)


@dataclass(frozen=True)
class Thresholds:
    """Scores are 0-100. ``score >= block`` -> block, ``>= review`` -> review, else pass."""

    block: float
    review: float

    def suggestion(self, score: float) -> str:
        if score >= self.block:
            return "block"
        if score >= self.review:
            return "review"
        return "pass"


DEFAULT_THRESHOLDS: dict[str, Thresholds] = {
    "porn": Thresholds(80.0, 50.0),
    "terrorism": Thresholds(90.0, 60.0),
    "ad": Thresholds(90.0, 60.0),
    "live": Thresholds(90.0, 60.0),
    "logo": Thresholds(90.0, 60.0),
    "text": Thresholds(90.0, 60.0),
    "audio": Thresholds(90.0, 60.0),
}
THRESHOLD_KEYS = tuple(DEFAULT_THRESHOLDS)


class OptionsError(ValueError):
    """An invalid threshold or option in a template (the service turns it into InvalidParameter)."""


def parse_thresholds(raw: Any) -> dict[str, dict[str, float]]:
    """Validate a template's ``Thresholds`` extension: ``{"porn": {"Block": 80, "Review": 50}, ...}``."""
    if not isinstance(raw, dict):
        raise OptionsError("Thresholds must be an object keyed by scene.")
    out: dict[str, dict[str, float]] = {}
    for scene, v in raw.items():
        if scene not in DEFAULT_THRESHOLDS:
            raise OptionsError(f"Thresholds has unknown scene {scene!r}; allowed: {', '.join(THRESHOLD_KEYS)}.")
        if not isinstance(v, dict) or set(v) - {"Block", "Review"}:
            raise OptionsError(f"Thresholds.{scene} must be an object with Block and/or Review.")
        d = DEFAULT_THRESHOLDS[scene]
        vals = {"Block": v.get("Block", d.block), "Review": v.get("Review", d.review)}
        for k, x in vals.items():
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 <= x <= 100:
                raise OptionsError(f"Thresholds.{scene}.{k} must be a number from 0 to 100.")
        if vals["Review"] > vals["Block"]:
            raise OptionsError(f"Thresholds.{scene}.Review must not exceed Block.")
        out[scene] = {"Block": float(vals["Block"]), "Review": float(vals["Review"])}
    return out


@dataclass(frozen=True)
class SamplingOptions:
    """Adaptive frame sampling: a base rate everywhere, a higher rate around every porn hit."""

    base_fps: float = 1.0  # lowered on long videos so at most max_samples base frames are taken
    max_samples: int = 900
    confirm_fps: float = 4.0  # rate inside the confirmation window around a hit
    confirm_window_s: float = 1.0  # seconds either side of a hit
    confirm_min: int = 2  # further frames in the window that must agree before a hit may block
    max_side: int = 640  # analysis size (longer side)


@dataclass(frozen=True)
class LiveOptions:
    """Rules of the live scene (meaningless frames)."""

    black_luma: float = 24.0  # mean luma below this (0-255) ...
    flat_std: float = 3.0  # ... and luma std (of 4x4 block means) below this: a black / solid frame
    min_run_s: float = 2.0  # a meaningless run shorter than this is ignored (fades, cuts)
    frozen_min_s: float = 20.0  # identical frames for at least this long -> frozen
    frozen_mad: float = 0.8  # mean abs difference (0-255) under which two samples are identical
    pip_min_s: float = 3.0  # an inset rectangle must stay this long ...
    pip_change: float = 2.0  # ... while the luma inside it changes by more than this between samples


@dataclass(frozen=True)
class AuditOptions:
    """Everything one audit run needs to know besides its inputs."""

    items: tuple[str, ...] = DEFAULT_ITEMS
    ranges: tuple[str, ...] = DEFAULT_RANGES
    thresholds: dict[str, Thresholds] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    live: LiveOptions = field(default_factory=LiveOptions)
    top_n: int = 10  # TopList frames per scene

    def scenes(self) -> tuple[str, ...]:
        return tuple(s for s in SCENES if s in self.items)

    def threshold(self, scene: str) -> Thresholds:
        return self.thresholds.get(scene) or DEFAULT_THRESHOLDS[scene]


def options_from_template(cfg: dict[str, Any], sampling: SamplingOptions | None = None,
                          live: LiveOptions | None = None) -> AuditOptions:
    """AuditOptions from a normalised AIMediaAudit template config (or ``{}`` for the defaults)."""
    items = tuple(x for x in ITEMS if x in (cfg.get("AuditItem") or DEFAULT_ITEMS))
    ranges = tuple(x for x in RANGES if x in (cfg.get("AuditRange") or DEFAULT_RANGES))
    th = dict(DEFAULT_THRESHOLDS)
    for scene, v in parse_thresholds(cfg.get("Thresholds") or {}).items():
        th[scene] = Thresholds(v["Block"], v["Review"])
    return AuditOptions(items=items, ranges=ranges, thresholds=th, sampling=sampling or SamplingOptions(),
                        live=live or LiveOptions())


# Scenes no offline model decides, and why (docs/audit.md).
MISSING_MODEL = {
    "terrorism": "No offline model for terror imagery (weapons, flags, blood, explosions, crowds); only on-screen "
                 "and spoken text was checked.",
    "logo": "No offline logo detector; only TV-station names and custom logo words in on-screen text were checked.",
}
