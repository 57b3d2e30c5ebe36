"""Video file in, finished cover images out: the one entry point the job handler and ``openvod cover`` share."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openvod.analyzers.image.cover import render_pngs
from openvod.analyzers.image.gif import GifOptions, render_gif
from openvod.analyzers.image.picker import Analysis, AnalysisOptions, analyze, pick_detail, shot_window
from openvod.pipeline import Media, open_media


@dataclass(frozen=True)
class ImageJobOptions:
    """Everything that shapes an AIImage job's output."""

    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    gif: GifOptions = field(default_factory=GifOptions)
    cover_width: int = 0  # 0 = source width
    cover_height: int = 0  # 0 = source height
    # A GIF job keeps away from the moments a PNG job would pick (its default count), so cover and
    # highlight differ whenever the video has more than one usable moment.
    gif_avoid_covers: int = 3


@dataclass
class MadeImage:
    """One finished image."""

    data: bytes
    format: str
    score: float
    detail: dict[str, Any]


def make_images(
    path: str | Path | Media,
    fmt: str,
    count: int,
    options: ImageJobOptions | None = None,
    *,
    heartbeat: Callable[[], None] | None = None,
) -> tuple[list[MadeImage], Analysis]:
    """Pick up to ``count`` moments and render them as PNG covers or GIF highlights (best first).

    Raises ``picker.NoUsableFrame`` when every frame is rejected and ``openvod.pipeline.DecodeError`` when the
    video cannot be decoded.
    """
    opts = options or ImageJobOptions()
    fmt = fmt.lower()
    if fmt not in ("png", "gif"):
        raise ValueError(f"unsupported format {fmt!r}")
    separation = opts.gif.duration_s if fmt == "gif" else 0.0
    media = path if isinstance(path, Media) else open_media(path)
    analysis = analyze(media, count, opts.analysis, min_separation_s=separation, heartbeat=heartbeat,
                       avoid_count=opts.gif_avoid_covers if fmt == "gif" else 0)
    t0 = time.perf_counter()
    out: list[MadeImage] = []
    if fmt == "png":
        rendered = render_pngs(media, [p.t for p in analysis.picks],
                               max_width=opts.cover_width, max_height=opts.cover_height,
                               skip=str(analysis.stats.get("SkipFrame", "DEFAULT")))
        for p in analysis.picks:
            img = rendered.get(p.t)
            if img is None:
                continue
            detail = pick_detail(analysis, p)
            detail.update({"Width": img.width, "Height": img.height})
            out.append(MadeImage(img.data, "png", round(p.score, 6), detail))
    else:
        for p in analysis.picks:
            start, end = shot_window(analysis, p, opts.gif.duration_s)
            try:
                img = render_gif(media, start, end, opts.gif)
            except ValueError:
                continue
            if heartbeat:
                heartbeat()
            detail = pick_detail(analysis, p)
            detail.update({"Width": img.width, "Height": img.height, **(img.extra or {})})
            out.append(MadeImage(img.data, "gif", round(p.score, 6), detail))
    analysis.stats["RenderSeconds"] = round(time.perf_counter() - t0, 3)
    return out, analysis
