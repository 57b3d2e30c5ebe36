"""The frames AIVideoTag's visual analyzers (OCR, Face, Annotation) share, from the media pipeline.

One adaptive need (scan at ``scan_fps``, keep what changed: ``openvod.pipeline.sampling``) serves
all three; each selected frame is handed out once, upright, as RGB at the analysis size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from openvod.pipeline import DecodeStats, Media, SamplerOptions, SelectedFrame, VideoNeed
from openvod.pipeline.frames import fit_even


@dataclass(frozen=True)
class FrameOptions:
    """How video frames are scanned and handed out."""

    max_side: int = 960  # analysis frames are scaled so their longer side is at most this
    skip_nonref: bool = True  # skip non-reference frames: cheaper decode, every kept frame is whole
    skip_loop_filter: bool = True  # no deblocking (~15 % less decode CPU; analysis does not need it)
    sampler: SamplerOptions = field(default_factory=SamplerOptions)

    def need(self) -> VideoNeed:
        return VideoNeed(adaptive=self.sampler, skip="NONREF" if self.skip_nonref else "DEFAULT",
                         loop_filter=not self.skip_loop_filter)


def selected_frames(media: Media, options: FrameOptions | None = None, *,
                    stats: DecodeStats | None = None) -> Iterator[SelectedFrame]:
    """The frames the sampler selects, in time order, each with its RGB image at the analysis size."""
    opts = options or FrameOptions()
    size: tuple[int, int] | None = None
    for frame in media.video(opts.need(), stats=stats):
        if size is None:
            size = fit_even(*frame.size, opts.max_side)
        assert frame.selection is not None
        yield frame.selection.with_image(frame.rgb(*size))
