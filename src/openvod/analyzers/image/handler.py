"""The AIImage job handler: smart PNG covers and GIF highlights (SubmitAIImageJob).

Options: ``AIImageOptions`` (the template's Format, SetDefaultCover, Count); the server's analysis
and rendering options arrive as ``ctx.analyzer_options`` (``AIImageJobOptions``).
"""

from __future__ import annotations

from openvod.analyzers.image.decode import DecodeError
from openvod.analyzers.image.images import make_images
from openvod.analyzers.image.options import AIImageJobOptions
from openvod.analyzers.image.picker import NoUsableFrame
from openvod.domain.contract import ImageOutput, JobContext, JobHandler, JobOutput
from openvod.domain.jobs import MediaDamaged, NoUsableFrame as NoUsableFrameFailure
from openvod.domain.options import AIImageOptions, parse_options

# Wire codes of explained failures.
NO_USABLE_FRAME = NoUsableFrameFailure.code
DAMAGED = MediaDamaged.code


class SmartCoverHandler(JobHandler):
    """Scores every shot's candidate frames and returns the best distinct ones as PNG or GIF."""

    job_type = "AIImage"
    name = "openvod-smartcover"
    version = "1.0"
    options_model = AIImageOptions

    def unavailable_reason(self) -> str | None:
        try:
            import cv2  # noqa: F401
        except ImportError:
            return "The AIImage analyzer needs opencv-python-headless (<5), which is not installed."
        return None

    def run(self, ctx: JobContext) -> JobOutput:
        opts = ctx.analyzer_options if isinstance(ctx.analyzer_options, AIImageJobOptions) else AIImageJobOptions()
        cfg = ctx.options if isinstance(ctx.options, AIImageOptions) else parse_options(AIImageOptions, ctx.config)
        try:
            images, analysis = make_images(ctx.media_path, cfg.Format, opts.count(cfg.Format, cfg.Count), opts.images,
                                           heartbeat=ctx.heartbeat)
        except NoUsableFrame as exc:
            raise NoUsableFrameFailure(str(exc)) from None
        except DecodeError as exc:
            raise MediaDamaged(f"The video cannot be decoded: {exc}") from None
        if not images:
            raise MediaDamaged("The chosen frames could not be decoded again for output.")
        return JobOutput(
            images=[ImageOutput(data=i.data, format=i.format, score=i.score, detail=i.detail) for i in images],
            detail={"Analyzer": f"{self.name}@{self.version}", **analysis.stats},
        )
