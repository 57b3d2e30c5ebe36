"""The AIImage job handler: smart PNG covers and GIF highlights (SubmitAIImageJob)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openvod.domain.jobs import JobFailed
from openvod.engine.registry import ImageOutput, JobContext, JobHandler, JobOutput
from openvod.errors import InvalidParameter

if TYPE_CHECKING:
    from openvod.analyzers.image.images import ImageJobOptions
    from openvod.config import AIImageSettings

# Wire codes of explained failures.
NO_USABLE_FRAME = "InvalidVideo.NoUsableFrame"
DAMAGED = "InvalidVideo.Damaged"


def options_from_settings(s: AIImageSettings) -> ImageJobOptions:
    """Analysis and rendering options from ``Settings.aiimage``."""
    from openvod.analyzers.image.gif import GifOptions
    from openvod.analyzers.image.images import ImageJobOptions
    from openvod.analyzers.image.picker import AnalysisOptions

    return ImageJobOptions(
        analysis=AnalysisOptions(fps=s.analysis_fps, max_samples=s.max_samples, faces=s.faces),
        gif=GifOptions(fps=s.gif_fps, duration_s=s.gif_duration_s, max_width=s.gif_max_width,
                       max_bytes=s.gif_max_bytes, colors=s.gif_colors, dither=s.gif_dither),
        cover_width=s.cover_width,
        cover_height=s.cover_height,
        gif_avoid_covers=s.images_per_job,
    )


def image_count(config: dict[str, Any], s: AIImageSettings) -> int:
    """The template's Count, else the configured default for the format."""
    if "Count" in config:
        return int(config["Count"])
    return s.gif_images_per_job if str(config.get("Format", "png")).lower() == "gif" else s.images_per_job


class SmartCoverHandler(JobHandler):
    """Scores every shot's candidate frames and returns the best distinct ones as PNG or GIF."""

    job_type = "AIImage"
    name = "openvod-smartcover"
    version = "1.0"

    def unavailable_reason(self) -> str | None:
        try:
            import cv2  # noqa: F401
        except ImportError:
            return "The AIImage analyzer needs opencv-python-headless (<5), which is not installed."
        return None

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        fmt = str(config.get("Format", "")).lower()
        if fmt not in ("png", "gif"):
            raise InvalidParameter("TemplateConfig", "Format must be gif or png.")
        out = dict(config)
        out["Format"] = fmt
        if "Count" in out:
            try:
                count = int(out["Count"])
            except (TypeError, ValueError):
                raise InvalidParameter("TemplateConfig", "Count must be an integer from 1 to 10.") from None
            if not 1 <= count <= 10:
                raise InvalidParameter("TemplateConfig", "Count must be an integer from 1 to 10.")
            out["Count"] = count
        return out

    def run(self, ctx: JobContext) -> JobOutput:
        from openvod.analyzers.image.decode import DecodeError
        from openvod.analyzers.image.images import make_images
        from openvod.analyzers.image.picker import NoUsableFrame

        settings = ctx.runtime.settings.aiimage
        fmt = str(ctx.config.get("Format", "png")).lower()
        ctx.progress(0.02)
        try:
            images, analysis = make_images(ctx.media_path, fmt, image_count(ctx.config, settings),
                                           options_from_settings(settings), heartbeat=ctx.heartbeat)
        except NoUsableFrame as exc:
            raise JobFailed(NO_USABLE_FRAME, str(exc)) from None
        except DecodeError as exc:
            raise JobFailed(DAMAGED, f"The video cannot be decoded: {exc}") from None
        if not images:
            raise JobFailed(DAMAGED, "The chosen frames could not be decoded again for output.")
        ctx.progress(0.95)
        return JobOutput(
            images=[ImageOutput(data=i.data, format=i.format, score=i.score, detail=i.detail) for i in images],
            detail={"Analyzer": f"{self.name}@{self.version}", **analysis.stats},
        )
